"""Chapter 3 (lectures/mcmc.md): the page's NUTS runs against the exact posteriors.

Every run's numbers come from the executed page (``glued``): its summary (mean, sd,
their Monte Carlo standard errors, R-hat, ESS, divergences) and the range and
quantiles of its draws, with the prior's label and the data ``(k, n)`` it ran on.
The truth is computed here, independently: the quadrature posterior of the book's
prior with that label (``prior.posterior(k, n)``) and, for the Beta prior, the closed
form (``bayesbook.exact``). Nothing the page set (seeds, chains, draws) is written here.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from bayesbook import data, exact, priors

pytestmark = pytest.mark.book

#: The book's priors by label: the page's rows name their prior by its label.
PRIORS = {prior.label: prior for prior in priors.book_priors()}


@cache
def posterior(label: str, k: int, n: int):
    return PRIORS[label].posterior(k, n)


def truth(row):
    return posterior(row["prior"], row["k"], row["n"])


def check_rows(rows, check) -> None:
    """Run ``check(row)`` (a list of failure messages) on every row; fail once, naming every bad row."""
    failures = [f"{row['prior']}, n = {row['n']}: {message}" for row in rows for message in check(row)]
    assert not failures, "\n".join(failures)


def within_support(row) -> list[str]:
    low, high = PRIORS[row["prior"]].support
    return [] if low <= row["min"] and row["max"] <= high else [f"draws {row['min']}..{row['max']} outside [{low}, {high}]"]


def quantile_problems(run, exact_posterior) -> list[str]:
    """Each of a run's 5 %, 50 % and 95 % quantiles, placed on the exact distribution function,
    must lie within 5 binomial sds (of its tail or bulk ESS) of its level."""
    problems = []
    for level, ess in [(0.05, run["ess_tail"]), (0.5, run["ess_bulk"]), (0.95, run["ess_tail"])]:
        probability = float(exact_posterior.cdf(run[f"q{round(100 * level):02d}"]))
        if abs(probability - level) > 5 * np.sqrt(level * (1 - level) / ess):
            problems.append(f"the {level:.0%} quantile of the draws is the exact {probability:.3f} quantile")
    return problems


def test_the_grid_runs_every_prior_on_the_books_data(glued):
    rows = glued["mc_runs"]
    assert len(rows) == glued["mc_num_runs"]
    assert {row["prior"] for row in rows} == set(PRIORS)
    book_counts = set(data.book_counts())
    assert all((row["k"], row["n"]) in book_counts for row in rows)
    assert len({(row["prior"], row["n"]) for row in rows}) == len(rows)
    assert all(row["num_chains"] * row["num_samples"] == glued["mc_num_draws"] for row in rows)


def test_every_numpyro_run_matches_quadrature_and_is_healthy(glued):
    def check(row):
        exact_posterior = truth(row)
        problems = within_support(row)
        if abs(row["mean"] - exact_posterior.mean) > 4 * row["mcse_mean"]:
            problems.append(f"mean {row['mean']} is more than 4 MCSE from {exact_posterior.mean}")
        if abs(row["sd"] - exact_posterior.sd) > 5 * row["mcse_sd"]:
            problems.append(f"sd {row['sd']} is more than 5 MCSE from {exact_posterior.sd}")
        problems += quantile_problems(row, exact_posterior)
        if row["r_hat"] > 1.01:
            problems.append(f"R-hat {row['r_hat']}")
        if row["ess_bulk"] < 0.1 * row["num_chains"] * row["num_samples"]:
            problems.append(f"bulk ESS {row['ess_bulk']}")
        # a run piled against a bound may diverge on a few trajectories far out in u, never more than 1 in 1000
        bounded = PRIORS[row["prior"]].support[1] < data.BOOK_THETA
        if row["divergences"] > (0.001 * row["num_chains"] * row["num_samples"] if bounded else 0):
            problems.append(f"{row['divergences']} divergences")
        if row["w1_over_sd"] > 0.05:
            problems.append(f"W1 of {row['w1_over_sd']} posterior sds")
        return problems

    check_rows(glued["mc_runs"], check)


def test_beta_prior_runs_match_the_closed_form(glued):
    rows = [row for row in glued["mc_runs"] if isinstance(PRIORS[row["prior"]], priors.Beta)]
    assert rows

    def check(row):
        params = PRIORS[row["prior"]].params
        closed_form = exact.beta_posterior(params["alpha"], params["beta"], row["k"], row["n"])
        problems = []
        if abs(row["mean"] - closed_form.mean()) > 4 * row["mcse_mean"]:
            problems.append(f"mean {row['mean']} against {closed_form.mean()}")
        if abs(row["sd"] / closed_form.std() - 1) > 0.05:
            problems.append(f"sd {row['sd']} against {closed_form.std()}")
        return problems

    check_rows(rows, check)


def test_the_prose_quotes_the_grid(glued):
    rows = glued["mc_runs"]
    assert glued["mc_max_rhat"] == pytest.approx(max(row["r_hat"] for row in rows))
    assert glued["mc_min_ess"] == pytest.approx(min(row["ess_bulk"] for row in rows))
    assert glued["mc_total_divergences"] == sum(row["divergences"] for row in rows)
    assert glued["mc_max_w1_sd"] == pytest.approx(max(row["w1_over_sd"] for row in rows))
    bound = [row for row in rows if PRIORS[row["prior"]].support[1] < data.BOOK_THETA]
    assert bound, "a prior that rules out the coin's true value"
    largest = max(bound, key=lambda row: row["n"])
    assert glued["mc_bound_exact_mean"] == pytest.approx(truth(largest).mean, rel=1e-6)
    assert glued["mc_bound_mean"] == pytest.approx(largest["mean"], rel=1e-5)


def test_the_plain_numpyro_run(glued):
    run = glued["mc_plain"]
    params = PRIORS[run["prior"]].params
    closed_form = exact.beta_posterior(params["alpha"], params["beta"], run["k"], run["n"])
    mcse = run["sd"] / np.sqrt(run["n_eff"])
    assert abs(run["mean"] - closed_form.mean()) <= 4 * mcse
    assert run["sd"] == pytest.approx(closed_form.std(), rel=0.1)
    assert run["r_hat"] <= 1.01 and run["divergences"] == 0
    assert 0 <= run["min"] and run["max"] <= 1
    assert glued["mc_plain_exact_mean"] == pytest.approx(closed_form.mean(), rel=1e-6)


def test_the_reused_sampler_samples_each_data_set(glued):
    rows = glued["mc_reuse"]
    plain = (glued["mc_plain"]["k"], glued["mc_plain"]["n"])
    assert rows and all((row["k"], row["n"]) != plain for row in rows), "the reused sampler ran on new data"

    def check(row):
        params = PRIORS[row["prior"]].params
        closed_form = exact.beta_posterior(params["alpha"], params["beta"], row["k"], row["n"])
        problems = []
        if abs(row["mean"] - closed_form.mean()) > 4 * row["sd"] / np.sqrt(row["n_eff"]):
            problems.append(f"mean {row['mean']} against {closed_form.mean()}")
        if row["exact mean"] != pytest.approx(closed_form.mean(), rel=1e-6):
            problems.append(f"the table's exact mean {row['exact mean']} against {closed_form.mean()}")
        return problems

    check_rows(rows, check)


def test_a_wrong_support_costs_divergences_and_efficiency_but_not_accuracy_here(glued):
    """The naive truncated log-normal (support: all positive numbers) against the book's.

    Its density is right wherever it is finite, so every run of either construction must
    match the exact posterior (mean and quantiles); the naive runs must show the
    divergences and the lower ESS the page describes, and the fixed runs none.
    """
    runs = glued["mc_support_runs"]
    exact_posterior = posterior(runs["prior"], runs["k"], runs["n"])
    naive, fixed = runs["wrong support"], runs["support [0, 1]"]
    assert len(naive) == len(fixed) >= 3, "several independent runs of each construction"

    def check(run):
        problems = []
        if not (0 < run["min"] and run["max"] <= 1):
            problems.append(f"draws {run['min']}..{run['max']} outside (0, 1]")
        if abs(run["mean"] - exact_posterior.mean) > 4 * run["mcse_mean"]:
            problems.append(f"mean {run['mean']} is more than 4 MCSE from {exact_posterior.mean}")
        problems += quantile_problems(run, exact_posterior)
        return problems

    failures = [f"{name} run {i}: {problem}" for name, group in [("naive", naive), ("fixed", fixed)]
                for i, run in enumerate(group) for problem in check(run)]
    assert not failures, "\n".join(failures)
    assert all(run["divergences"] >= 0.05 * run["num_chains"] * run["num_samples"] for run in naive)
    assert all(run["divergences"] == 0 for run in fixed)
    assert max(run["ess_bulk"] for run in naive) < min(run["ess_bulk"] for run in fixed)
    # the prose's figures are the runs' own
    assert glued["mc_naive_max_ess"] == pytest.approx(max(run["ess_bulk"] for run in naive))
    assert glued["mc_fixed_min_ess"] == pytest.approx(min(run["ess_bulk"] for run in fixed))
    assert glued["mc_naive_ess_ratio"] == pytest.approx(
        np.mean([run["ess_bulk"] for run in naive]) / np.mean([run["ess_bulk"] for run in fixed]))


def test_the_w1_noise_constant(glued):
    """c = E[W1 / sd] * sqrt(m) for m independent normal draws, against a simulation."""
    rng = np.random.default_rng(12)
    m, replicates = 2000, 400
    draws = np.sort(rng.standard_normal((replicates, m)), axis=1)
    grid = np.linspace(-6, 6, 6001)
    empirical = np.stack([np.searchsorted(row, grid, side="right") / m for row in draws])
    from scipy import stats
    w1 = np.trapezoid(np.abs(empirical - stats.norm.cdf(grid)), grid, axis=1)
    assert glued["mc_w1_constant"] == pytest.approx(np.mean(w1) * np.sqrt(m), rel=0.03)


def test_the_pyro_runs_agree_with_quadrature_and_with_numpyro(glued):
    numpyro_runs = {(row["prior"], row["n"]): row for row in glued["mc_runs"]}

    def check(row):
        exact_posterior = truth(row)
        problems = within_support(row)
        if abs(row["mean"] - exact_posterior.mean) > 4 * row["mcse_mean"]:
            problems.append(f"mean {row['mean']} is more than 4 MCSE from {exact_posterior.mean}")
        numpyro = numpyro_runs[row["prior"], row["n"]]
        if abs(row["mean"] - numpyro["mean"]) > 4 * np.hypot(row["mcse_mean"], numpyro["mcse_mean"]):
            problems.append(f"mean {row['mean']} against NumPyro's {numpyro['mean']}")
        if row["divergences"] != 0:
            problems.append(f"{row['divergences']} divergences")
        return problems

    rows = glued["mc_pyro_runs"]
    assert rows
    check_rows(rows, check)


def test_the_plain_pyro_run(glued):
    run = glued["mc_pyro_plain"]
    params = PRIORS[run["prior"]].params
    closed_form = exact.beta_posterior(params["alpha"], params["beta"], run["k"], run["n"])
    assert abs(run["mean"] - closed_form.mean()) <= 4 * run["sd"] / np.sqrt(run["n_eff"])
    assert run["divergences"] == 0
    assert 0 <= run["min"] and run["max"] <= 1
    assert glued["mc_pyro_plain_exact_mean"] == pytest.approx(closed_form.mean(), rel=1e-6)


def test_w1_shrinks_like_one_over_the_root_of_the_ess(glued):
    assert -0.75 <= glued["mc_w1_slope"] <= -0.25


# The exercises: each numeric answer the page's solution records (``answer:<label>``)
# against what theory or an independent computation gives.


def answer(glued, label):
    return glued[f"answer:{label}"]


def test_the_logit_of_a_uniform_is_logistic(glued):
    entry = answer(glued, "mc-ex-jacobian")
    (value,) = entry["value"]
    assert abs(value - np.pi / np.sqrt(3)) < entry["atol"]  # the sd of the standard logistic distribution


def test_the_leapfrog_stability_limit(glued):
    """The largest step with every eigenvalue of the leapfrog map of U(u) = u^2 / 2 on the unit circle."""

    def radius(epsilon):
        kick = np.array([[1.0, 0.0], [-epsilon / 2, 1.0]])
        drift = np.array([[1.0, epsilon], [0.0, 1.0]])
        return np.abs(np.linalg.eigvals(kick @ drift @ kick)).max()

    epsilons = np.arange(1, 40_001) * 1e-4  # steps from 0.0001 to 4
    stable = np.array([radius(epsilon) < 1 + 1e-9 for epsilon in epsilons])
    limit = epsilons[np.argmin(stable)]  # the first unstable step
    assert stable[:np.argmin(stable)].all()
    (value,) = answer(glued, "mc-ex-leapfrog")["value"]
    assert value == pytest.approx(limit, abs=2e-4)
    assert value == pytest.approx(2.0, abs=1e-4)


def test_the_w1_scaling_answer_accepts_one_over_the_root(glued):
    entry = answer(glued, "mc-ex-w1-scaling")
    (value,) = entry["value"]
    assert value == pytest.approx(glued["mc_w1_slope"])
    assert abs(value + 0.5) < entry["atol"]


def test_reweighting_the_beta_prior_draws(glued):
    """Posterior means after the first 100 flips under the Uniform(0, 1) and truncated log-normal(0, 2) priors."""
    from scipy import integrate, stats

    n = 100
    k = int(data.book_flips()[:n].sum())
    uniform_mean = (1 + k) / (2 + n)  # the Beta(1 + k, 1 + n - k) posterior of a flat prior
    lognormal = stats.lognorm(s=2.0)  # exp(Z), Z ~ N(0, 2^2); truncation at 1 only rescales it

    def moment(power):
        peak = k * np.log(k / n) + (n - k) * np.log1p(-k / n)
        return integrate.quad(lambda t: t**power * np.exp(k * np.log(t) + (n - k) * np.log1p(-t) - peak)
                              * lognormal.pdf(t), 0, 1, points=[k / n], epsabs=0.0, epsrel=1e-11)[0]

    lognormal_mean = moment(1) / moment(0)
    entry = answer(glued, "mc-ex-reweight")
    assert np.all(np.abs(np.array(entry["value"]) - [uniform_mean, lognormal_mean]) < entry["atol"])
    # the unweighted mean of the Beta(5, 5) draws, a plausible wrong answer, must be rejected
    assert abs((5 + k) / (10 + n) - uniform_mean) > 3 * entry["atol"]


def test_the_von_mises_priors_the_reweighting_exercise_tries(glued):
    """The exact posterior means under the shifted von Mises priors of kappa 10 and 40, by quadrature of
    likelihood x VonMises(0, kappa) density of 2 pi (theta - 1/2); the prose's kappa = 40 lies further out."""
    from scipy import integrate, stats

    n = 100
    k = int(data.book_flips()[:n].sum())

    def posterior_mean(kappa):
        peak = k * np.log(k / n) + (n - k) * np.log1p(-k / n)

        def density(t):
            return np.exp(k * np.log(t) + (n - k) * np.log1p(-t) - peak) * stats.vonmises(kappa).pdf(2 * np.pi * (t - 0.5))

        mass = integrate.quad(density, 0, 1, epsabs=0.0, epsrel=1e-11, limit=200)[0]
        return integrate.quad(lambda t: t * density(t), 0, 1, epsabs=0.0, epsrel=1e-11, limit=200)[0] / mass

    assert glued["mc_reweight_vm_exact_mean"] == pytest.approx(posterior_mean(10.0), abs=1e-6)
    assert glued["mc_reweight_far_exact_mean"] == pytest.approx(posterior_mean(40.0), abs=1e-6)
    # the weights' concentration grows as the new posterior moves away from the Beta(5, 5) one
    assert glued["mc_reweight_min_ess"] > glued["mc_reweight_vm_ess"] > glued["mc_reweight_far_ess"]
    assert glued["mc_reweight_vm_half"] > glued["mc_reweight_far_half"] >= 1
