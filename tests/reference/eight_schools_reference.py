"""Build the reference posterior of the eight schools model (chapter 6's ground truth).

A long run of the non-centred model: 32 chains of 50,000 draws each after 2,000 warm-up
iterations, NUTS with target acceptance 0.95, in double precision. Its summary (means,
sds, quantiles, Monte Carlo standard errors, ESS, R-hat of mu, tau, log tau and
theta_1..theta_8) is written to lib/bayesbook/reference/eight_schools.json, which the
chapter and the tests read, so neither reruns it. Run from the repository root:

    .venv/bin/python tests/reference/eight_schools_reference.py

(about a minute on 2 CPU cores).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import arviz as az
import jax
import numpy as np

from bayesbook import data, mcmc, models

OUTPUT = Path(__file__).resolve().parents[2] / "lib" / "bayesbook" / "reference" / "eight_schools.json"
SETTINGS = {"num_chains": 32, "num_warmup": 2000, "num_samples": 50_000, "seed": 20_261_122, "target_accept_prob": 0.95}
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def main() -> None:
    jax.config.update("jax_enable_x64", True)  # only for this run, never on import
    y, sigma = data.eight_schools()
    run = mcmc.run_nuts(models.numpyro_eight_schools_noncentred, sigma, model_kwargs={"y": y}, **SETTINGS)
    posterior = {"mu": run.posterior["mu"], "tau": run.posterior["tau"], "log_tau": np.log(run.posterior["tau"])}
    for school in range(8):
        posterior[f"theta_{school + 1}"] = run.posterior["theta"][..., school]
    table = az.summary(az.from_dict({"posterior": posterior}), round_to="none")
    summary = {}
    for name, values in posterior.items():
        row = table.loc[name]
        summary[name] = {
            "mean": float(row["mean"]), "sd": float(row["sd"]),
            "mcse_mean": float(row["mcse_mean"]), "mcse_sd": float(row["mcse_sd"]),
            "ess_bulk": float(row["ess_bulk"]), "ess_tail": float(row["ess_tail"]), "r_hat": float(row["r_hat"]),
            "quantiles": {str(q): float(np.quantile(values, q)) for q in QUANTILES},
        }
    result = {
        "description": "Eight schools posterior (non-centred NUTS, long run): mu ~ Normal(0, 5), "
                       "tau ~ HalfCauchy(5), theta_j ~ Normal(mu, tau), y_j ~ Normal(theta_j, sigma_j)",
        "command": ".venv/bin/python tests/reference/eight_schools_reference.py",
        "settings": SETTINGS,
        "divergences": run.divergences,
        "seconds": {"compile": run.compile_seconds, "sampling": run.sampling_seconds},
        "versions": {"python": platform.python_version(),
                     **{name: metadata.version(name) for name in ("jax", "numpyro", "arviz")}},
        "summary": summary,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {OUTPUT}: {run.divergences} divergences, "
          f"compile {run.compile_seconds:.1f} s, sampling {run.sampling_seconds:.1f} s")


if __name__ == "__main__":
    main()
