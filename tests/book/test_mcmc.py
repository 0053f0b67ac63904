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

from bayesbook import data, exact, priors, scoring

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
        # each quantile of the draws, placed on the exact distribution function
        for level, ess in [(0.05, row["ess_tail"]), (0.5, row["ess_bulk"]), (0.95, row["ess_tail"])]:
            probability = float(exact_posterior.cdf(row[f"q{round(100 * level):02d}"]))
            if abs(probability - level) > 5 * np.sqrt(level * (1 - level) / ess):
                problems.append(f"the {level:.0%} quantile of the draws is the exact {probability:.3f} quantile")
        if row["r_hat"] > 1.01:
            problems.append(f"R-hat {row['r_hat']}")
        if row["ess_bulk"] < 0.1 * row["num_chains"] * row["num_samples"]:
            problems.append(f"bulk ESS {row['ess_bulk']}")
        if row["divergences"] != 0:
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
    assert glued["mc_total_divergences"] == sum(row["divergences"] for row in rows) == 0
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


def test_a_wrong_support_shows_up_as_divergences_and_the_right_one_fixes_them(glued):
    runs = glued["mc_broken"]
    exact_posterior = posterior(runs["prior"], runs["k"], runs["n"])
    broken, fixed = runs["broken"], runs["fixed"]
    transitions = broken["num_chains"] * broken["num_samples"]
    assert broken["divergences"] >= 0.1 * transitions
    draws = np.asarray(broken["draws"])
    assert draws.shape == (broken["num_chains"], broken["num_samples"])
    assert np.all((draws > 0) & (draws <= 1)), "a divergent step is never accepted"
    assert glued["mc_broken_w1_sd"] == pytest.approx(scoring.score_draws(draws, exact_posterior)["w1_over_sd"])
    assert fixed["divergences"] == 0
    assert abs(fixed["mean"] - exact_posterior.mean) <= 4 * fixed["mcse_mean"]
    fixed_draws = np.asarray(fixed["draws"])
    assert np.all((fixed_draws > 0) & (fixed_draws < 1))
    assert glued["mc_broken_divergences"] == broken["divergences"]
    assert glued["mc_broken_transitions"] == transitions
    assert glued["mc_fixed_divergences"] == 0


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
