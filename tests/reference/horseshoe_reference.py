"""Build the reference posterior of chapter 8's horseshoe regression (its ground truth).

NUTS on the model with the coefficients integrated out
(:func:`bayesbook.models.numpyro_horseshoe_marginal`: only the 102 scales ``tau``,
``lambda_1..100`` and ``sigma`` are sampled), then one exact draw of ``beta`` from its
Gaussian conditional per draw of the scales (:func:`bayesbook.exact.conditional_coefficients`).
Double precision, 4 chains of 1,000 warm-up and 2,000 kept draws, target acceptance 0.9.
The data are chapter 8's (``data.simulate_sparse`` with the settings below, which the
page checks against its own). The summary of every latent site (means, sds, quantiles,
Monte Carlo standard errors, bulk and tail ESS, R-hat), the divergences and the tree
depths are written to lib/bayesbook/reference/horseshoe.json, which the chapter and the
tests read, so neither reruns it. Run from the repository root:

    .venv/bin/python tests/reference/horseshoe_reference.py

(several minutes on 2 CPU cores).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import arviz as az
import jax
import numpy as np

from bayesbook import data, exact, mcmc, models

OUTPUT = Path(__file__).resolve().parents[2] / "lib" / "bayesbook" / "reference" / "horseshoe.json"
DATA = {"num_coefficients": 100, "num_observations": 100, "noise_sd": 0.5, "seed": 0}
NOISE_PRIOR_SD = 1.0
SETTINGS = {"num_chains": 4, "num_warmup": 1000, "num_samples": 2000, "seed": 20_261_201, "target_accept_prob": 0.9}
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def site_summary(table, name: str, values: np.ndarray) -> dict:
    row = table.loc[name]
    return {
        "mean": float(row["mean"]), "sd": float(row["sd"]),
        "mcse_mean": float(row["mcse_mean"]), "mcse_sd": float(row["mcse_sd"]),
        "ess_bulk": float(row["ess_bulk"]), "ess_tail": float(row["ess_tail"]), "r_hat": float(row["r_hat"]),
        "quantiles": {str(q): float(np.quantile(values, q)) for q in QUANTILES},
    }


def main() -> None:
    jax.config.update("jax_enable_x64", True)  # only for this run, never on import
    sparse = data.simulate_sparse(**DATA)
    run = mcmc.run_nuts(models.numpyro_horseshoe_marginal, sparse["X"], sparse["y"],
                        model_kwargs={"noise_prior_sd": NOISE_PRIOR_SD}, **SETTINGS)
    tau, lam, sigma = run.posterior["tau"], run.posterior["lambda"], run.posterior["sigma"]
    chains, draws = tau.shape
    beta = exact.conditional_coefficients(
        sparse["X"], sparse["y"], ((tau[..., None] * lam) ** 2).reshape(chains * draws, -1),
        sigma.reshape(-1), seed=SETTINGS["seed"]).reshape(chains, draws, -1)
    posterior = {"tau": tau, "sigma": sigma}
    for j in range(lam.shape[-1]):
        posterior[f"lambda_{j + 1}"] = lam[..., j]
        posterior[f"beta_{j + 1}"] = beta[..., j]
    table = az.summary(az.from_dict({"posterior": posterior}), round_to="none")
    summary = {name: site_summary(table, name, values) for name, values in posterior.items()}
    n_steps = run.sample_stats["n_steps"]
    result = {
        "description": "Horseshoe regression of chapter 8: tau ~ HalfCauchy(1), lambda_j ~ HalfCauchy(1), "
                       "beta_j ~ Normal(0, tau lambda_j), sigma ~ HalfNormal(1), y ~ Normal(X beta, sigma); "
                       "NUTS on the scales with beta integrated out, beta drawn from its exact conditional",
        "command": ".venv/bin/python tests/reference/horseshoe_reference.py",
        "data": DATA, "noise_prior_sd": NOISE_PRIOR_SD, "settings": SETTINGS,
        "divergences": run.divergences,
        "leapfrog_steps": {"mean": float(n_steps.mean()), "max": int(n_steps.max()),
                           "max_tree_depth_reached": int((n_steps >= 2**10 - 1).sum())},
        "seconds": {"compile": run.compile_seconds, "sampling": run.sampling_seconds},
        "versions": {"python": platform.python_version(),
                     **{name: metadata.version(name) for name in ("jax", "numpyro", "arviz")}},
        "summary": summary,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=1) + "\n")
    worst = max(summary.values(), key=lambda row: row["r_hat"])
    print(f"wrote {OUTPUT}: {run.divergences} divergences, largest R-hat {worst['r_hat']:.4f}, "
          f"smallest bulk ESS {min(row['ess_bulk'] for row in summary.values()):.0f}, "
          f"compile {run.compile_seconds:.1f} s, sampling {run.sampling_seconds:.1f} s")


if __name__ == "__main__":
    main()
