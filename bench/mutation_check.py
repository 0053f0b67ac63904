"""Do the unit tests catch realistic bugs? Inject them one at a time and run the module's tests.

``make mutation`` copies the repository (without ``.venv``, ``_build`` and ``.git``) to a
temporary folder, and for each mutant below replaces one snippet of one module of
``lib/bayesbook`` by a plausible mistake (an off-by-one, a swapped argument, a wrong
constant, a dropped term), runs that module's unit tests and doctests
(``tests/lib/test_<module>*.py``, no book build) against the mutated copy, and records
whether they failed. The table goes to ``bench/mutation_results.json`` and to stdout.

A mutant the tests do not catch is either a missing test or an equivalent change; the
results name each one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (module, the bug in words, snippet, replacement)
MUTANTS = [
    # mcmc
    ('mcmc', "divergences miss each chain's first draw",
     'return int(np.sum(self.sample_stats["diverging"]))',
     'return int(np.sum(self.sample_stats["diverging"][:, 1:]))'),
    ('mcmc', 'step size read before adaptation ends',
     'return float(np.mean(self.sample_stats["step_size"][:, -1]))',
     'return float(np.mean(self.sample_stats["step_size"][:, 0]))'),
    ('mcmc', 'draws interleave the chains',
     'return value.reshape((-1, *value.shape[2:]))',
     'return value.swapaxes(0, 1).reshape((-1, *value.shape[2:]))'),
    ('mcmc', "the grid pairs each n with another n's k",
     'ks = np.broadcast_to(np.array([k for k, _ in counts], float)[None, :, None], shape).ravel()',
     'ks = np.broadcast_to(np.array([k for k, _ in counts][::-1], float)[None, :, None], shape).ravel()'),
    ('mcmc', 'every chain gets the same key',
     'keys = jax.random.split(jax.random.PRNGKey(seed), num_chains)\n    # The model',
     'keys = jax.random.split(jax.random.PRNGKey(seed), num_chains)[:1].repeat(num_chains, axis=0)\n    # The model'),
    # scoring
    ('scoring', 'KS misses the jump below each draw',
     'below = exact - np.arange(values.size) / values.size',
     'below = exact - np.arange(1, values.size + 1) / values.size'),
    ('scoring', 'W1 scaled by the variance',
     '"w1_over_sd": w1 / posterior.sd,',
     '"w1_over_sd": w1 / posterior.sd**2,'),
    ('scoring', 'trapezoid with a minus sign',
     'width * np.abs(left + right) / 2,',
     'width * np.abs(left - right) / 2,'),
    ('scoring', 'MCSE of the sd instead of the mean',
     'mcse = float(az.mcse(values, method="mean"))',
     'mcse = float(az.mcse(values, method="sd"))'),
    # vi
    ('vi', 'default Beta start mirrors alpha',
     '"beta": max((1 - x_mean) * common, 0.1)}',
     '"beta": max(x_mean * common, 0.1)}'),
    ('vi', 'loc shift not in units of the start scale',
     'return {"loc": reference["loc"] + reference["scale"] * unconstrained["loc_shift"],',
     'return {"loc": reference["loc"] + unconstrained["loc_shift"],'),
    ('vi', 'flat-prior posterior forgets to subtract k',
     'a, b = 1.0 + k, 1.0 + n - k',
     'a, b = 1.0 + k, 1.0 + n'),
    # vi_scoring
    ('vi_scoring', 'KL with the sign flipped',
     'integrand = np.where(q > 0, q * (log_q - log_p), 0.0)',
     'integrand = np.where(q > 0, q * (log_p - log_q), 0.0)'),
    ('vi_scoring', 'moment start uses the variance as scale',
     'return {"loc": posterior.mean, "scale": posterior.sd}',
     'return {"loc": posterior.mean, "scale": posterior.sd**2}'),
    ('vi_scoring', 'guide draws with alpha and beta swapped',
     'return low + (high - low) * rng.beta(params["alpha"], params["beta"], size=num_draws)',
     'return low + (high - low) * rng.beta(params["beta"], params["alpha"], size=num_draws)'),
    # svi
    ('svi', 'decay one step too fast',
     'return (self.final_learning_rate / self.learning_rate) ** (1.0 / self.num_steps)',
     'return (self.final_learning_rate / self.learning_rate) ** (1.0 / (self.num_steps - 1))'),
    ('svi', 'NumPyro average divides by one too many',
     'count = settings.num_steps - first_averaged\n    return jax.tree.map(lambda t: t / count, total)',
     'count = settings.num_steps - first_averaged + 1\n    return jax.tree.map(lambda t: t / count, total)'),
    ('svi', 'Pyro average skips its first step',
     '            if step >= first_averaged:\n',
     '            if step > first_averaged:\n'),
    ('svi', "Pyro's schedule one step ahead",
     'optimiser = pyro.optim.ClippedAdam({"lr": settings.learning_rate / decay, "lrd": decay})',
     'optimiser = pyro.optim.ClippedAdam({"lr": settings.learning_rate, "lrd": decay})'),
    # convergence
    ('convergence', 'variance of a batch, not of the mean',
     'variance = np.sum(residuals**2, axis=0) / (BATCHES - 2) / BATCHES',
     'variance = np.sum(residuals**2, axis=0) / (BATCHES - 2)'),
    ('convergence', 'compares windows a window apart',
     'earlier, last = values[-2 * window:-window], values[-window:]',
     'earlier, last = values[-3 * window:-2 * window], values[-window:]'),
    ('convergence', 'a rising loss counts as converged',
     'return bool(abs(drop) <= tolerance), float(drop)',
     'return bool(drop <= tolerance), float(drop)'),
    ('convergence', 'default window half the run',
     'return max(10, steps // 5) if window is None else window',
     'return max(10, steps // 2) if window is None else window'),
    # models
    ('models', "eight schools: tau's prior scale 1 instead of 5",
     'tau = numpyro.sample("tau", dist.HalfCauchy(5.0))\n    with numpyro.plate("school", len(sigma)):\n        theta =',
     'tau = numpyro.sample("tau", dist.HalfCauchy(1.0))\n    with numpyro.plate("school", len(sigma)):\n        theta ='),
    ('models', 'non-centred theta scaled by the variance',
     'theta = numpyro.deterministic("theta", mu + tau * eta)',
     'theta = numpyro.deterministic("theta", mu + tau**2 * eta)'),
    ('models', "noise prior's rate inverted",
     'sigma = numpyro.sample("sigma", dist.Exponential(noise_rate))',
     'sigma = numpyro.sample("sigma", dist.Exponential(1.0 / noise_rate))'),
    ('models', 'hierarchical: variance as sd',
     'numpyro.sample("y", dist.Normal(intercept[group] + slope[group] * x, y_err), obs=y)',
     'numpyro.sample("y", dist.Normal(intercept[group] + slope[group] * x, y_err**2), obs=y)'),
    ('models', 'outlier odds inverted',
     'log_odds = np.log(flat["Q"]) + log_background - np.log1p(-flat["Q"]) - log_line',
     'log_odds = np.log(flat["Q"]) + log_line - np.log1p(-flat["Q"]) - log_background'),
    # data
    ('data', "the book's flips from another seed",
     'return simulate_bernoulli(BOOK_THETA, n=1000, seed=BOOK_FLIPS_SEED)',
     'return simulate_bernoulli(BOOK_THETA, n=1000, seed=BOOK_FLIPS_SEED + 1)'),
    ('data', 'outliers without the measurement error',
     'spread = np.hypot(background_sd, noise_sd)',
     'spread = background_sd'),
    ('data', "groups' streams overlap across seeds",
     'rng = np.random.default_rng([seed, j])',
     'rng = np.random.default_rng(seed + j)'),
    ('data', 'outlier fraction inverted',
     'is_outlier = rng.random(x.size) < outlier_fraction',
     'is_outlier = rng.random(x.size) > outlier_fraction'),
]


def tests_of(module: str, root: Path) -> list[str]:
    files = sorted(str(path) for path in (root / "tests" / "lib").glob(f"test_{module}*.py"))
    return [*files, str(root / "lib" / "bayesbook" / f"{module}.py")]


def main() -> int:
    results = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as folder:
        copy = Path(folder) / "book"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__"))
        env = {**os.environ, "PYTHONPATH": str(copy / "lib")}
        for module, bug, snippet, replacement in MUTANTS:
            path = copy / "lib" / "bayesbook" / f"{module}.py"
            original = path.read_text()
            if original.count(snippet) != 1:
                results.append({"module": module, "bug": bug, "outcome": "stale (snippet not found once)"})
                continue
            path.write_text(original.replace(snippet, replacement))
            start = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                  "-m", "not book and not slow", *tests_of(module, copy)],
                                 cwd=copy, env=env, capture_output=True, text=True, timeout=900)
            path.write_text(original)
            outcome = "caught" if run.returncode == 1 else ("missed" if run.returncode == 0 else f"error {run.returncode}")
            results.append({"module": module, "bug": bug, "outcome": outcome,
                            "seconds": round(time.perf_counter() - start, 1)})
            print(f"{outcome:8s} {module:12s} {bug}", flush=True)
    caught = sum(result["outcome"] == "caught" for result in results)
    summary = {"mutants": len(results), "caught": caught, "results": results}
    (ROOT / "bench" / "mutation_results.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{caught} of {len(results)} mutants caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
