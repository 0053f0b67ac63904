"""Chapter 3's grid of NUTS posteriors, the tutorial way against the chapter's way, in one run.

NumPyro, all 7 priors x 5 sample sizes, 4 chains of 1,000 warm-up and 2,500 kept draws:

* tutorial way: a fresh ``MCMC(NUTS(model))`` for every prior and n, the flips passed
  as a data array of length n with a Bernoulli likelihood (no progress bar, which
  would only make it slower);
* chapter's way: :func:`bayesbook.mcmc.run_coin_grid`, one compiled program.

Pyro, the 7 priors at n = 100 (Pyro is too slow for the whole grid in a benchmark
that people rerun), 2 chains of 300 warm-up and 700 kept draws:

* tutorial way: a fresh ``NUTS`` without compilation, the flips as a data array;
* chapter's way: :func:`bayesbook.mcmc.run_coin` (``jit_compile=True``, (k, n) as numbers).

Accuracy is the largest W1 / posterior sd over the runs (:mod:`bayesbook.scoring`).
Run with ``make bench-mcmc``; writes ``bench/mcmc_results.json``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bayesbook import data, mcmc, priors, scoring

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SIZES = list(data.BOOK_SAMPLE_SIZES)
FLIPS = data.book_flips()
NUMPYRO_SETTINGS = dict(num_chains=4, num_warmup=1000, num_samples=2500)
PYRO_SETTINGS = dict(num_chains=2, num_warmup=300, num_samples=700)


def numpyro_tutorial(prior, flips, seed):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    prior_distribution = prior.numpyro()

    def model(flips):
        theta = numpyro.sample("theta", prior_distribution)
        with numpyro.plate("flips", flips.shape[0]):
            numpyro.sample("y", dist.Bernoulli(probs=theta), obs=flips)

    sampler = MCMC(
        NUTS(model),
        num_warmup=NUMPYRO_SETTINGS["num_warmup"],
        num_samples=NUMPYRO_SETTINGS["num_samples"],
        num_chains=NUMPYRO_SETTINGS["num_chains"],
        chain_method="vectorized",
        progress_bar=False,
    )
    sampler.run(jax.random.PRNGKey(seed), jnp.asarray(flips, dtype=jnp.float32))
    return np.asarray(sampler.get_samples(group_by_chain=True)["theta"])


def pyro_tutorial(prior, flips, seed):
    import pyro
    import pyro.distributions as dist
    import torch
    from pyro.infer import MCMC, NUTS

    prior_distribution = prior.pyro()

    def model(flips):
        theta = pyro.sample("theta", prior_distribution)
        with pyro.plate("flips", flips.shape[0]):
            pyro.sample("y", dist.Bernoulli(probs=theta), obs=flips)

    chains = []
    with torch.random.fork_rng(devices=[]):
        for chain in range(PYRO_SETTINGS["num_chains"]):
            torch.manual_seed(seed + chain)
            sampler = MCMC(NUTS(model), num_samples=PYRO_SETTINGS["num_samples"],
                           warmup_steps=PYRO_SETTINGS["num_warmup"], disable_progbar=True)
            sampler.run(torch.as_tensor(flips, dtype=torch.float32))
            chains.append(sampler.get_samples()["theta"].numpy())
    return np.stack(chains)


def worst_w1(draws_by_case, truths):
    return max(scoring.score_draws(draws, truths[case])["w1_over_sd"] for case, draws in draws_by_case.items())


def main() -> None:
    book_priors = priors.book_priors()
    counts = {n: data.count_successes(FLIPS[:n]) for n in SAMPLE_SIZES}
    truths = {(prior, n): prior.posterior(*counts[n]) for prior in book_priors for n in SAMPLE_SIZES}
    results = {}

    start = time.perf_counter()
    tutorial = {}
    for seed, (prior, n) in enumerate(truths):
        tutorial[prior, n] = numpyro_tutorial(prior, FLIPS[:n], seed)
    tutorial_seconds = time.perf_counter() - start

    start = time.perf_counter()
    grid = mcmc.run_coin_grid(book_priors, [counts[n] for n in SAMPLE_SIZES], seed=3, **NUMPYRO_SETTINGS)
    chapter_seconds = time.perf_counter() - start
    chapter = {case: grid[case].posterior["theta"] for case in truths}
    results["numpyro"] = {
        "posteriors": len(truths),
        "settings": NUMPYRO_SETTINGS,
        "tutorial_seconds": round(tutorial_seconds, 1),
        "chapter_seconds": round(chapter_seconds, 1),
        "chapter_compile_seconds": round(grid.compile_seconds, 1),
        "speed_ratio": round(tutorial_seconds / chapter_seconds, 1),
        "tutorial_worst_w1_over_sd": round(worst_w1(tutorial, truths), 4),
        "chapter_worst_w1_over_sd": round(worst_w1(chapter, truths), 4),
    }
    print(json.dumps(results["numpyro"], indent=2), flush=True)

    pyro_cases = [(prior, 100) for prior in book_priors]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tutorial way's own warnings are not what is measured
        start = time.perf_counter()
        pyro_tutorial_draws = {
            case: pyro_tutorial(case[0], FLIPS[:100], 100 * seed) for seed, case in enumerate(pyro_cases)
        }
        pyro_tutorial_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pyro_chapter_draws = {
        case: mcmc.run_coin(case[0], *counts[100], backend="pyro", seed=seed, **PYRO_SETTINGS).posterior["theta"]
        for seed, case in enumerate(pyro_cases)
    }
    pyro_chapter_seconds = time.perf_counter() - start
    results["pyro"] = {
        "posteriors": len(pyro_cases),
        "settings": PYRO_SETTINGS,
        "tutorial_seconds": round(pyro_tutorial_seconds, 1),
        "chapter_seconds": round(pyro_chapter_seconds, 1),
        "speed_ratio": round(pyro_tutorial_seconds / pyro_chapter_seconds, 2),
        "tutorial_worst_w1_over_sd": round(worst_w1(pyro_tutorial_draws, truths), 4),
        "chapter_worst_w1_over_sd": round(worst_w1(pyro_chapter_draws, truths), 4),
    }
    print(json.dumps(results["pyro"], indent=2), flush=True)

    results["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["machine"] = {"cores": __import__("os").cpu_count(), "python": platform.python_version()}
    out = ROOT / "bench" / "mcmc_results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
