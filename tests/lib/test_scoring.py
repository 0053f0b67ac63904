"""bayesbook.scoring: W1, KS and the mean error in MCSE, against independent computations."""

import numpy as np
import pytest
from scipy import stats

from bayesbook import priors, scoring

EXACT = stats.beta(45.0, 15.0)


def test_wasserstein1_matches_scipy_quantile_coupling():
    draws = EXACT.rvs(2000, random_state=1)
    # scipy computes W1 between two samples by sorting; a fine quantile grid stands in for the exact law
    reference = stats.wasserstein_distance(draws, EXACT.ppf((np.arange(400_000) + 0.5) / 400_000))
    assert scoring.wasserstein1(draws, EXACT.cdf, (0.0, 1.0)) == pytest.approx(reference, rel=1e-3, abs=1e-6)


@pytest.mark.parametrize("shift", [0.002, 0.01, -0.03])
def test_wasserstein1_of_a_shifted_distribution_is_the_shift(shift):
    # the quantiles of Beta(45, 15), shifted: W1 between a law and its translate is |shift|
    levels = (np.arange(100_000) + 0.5) / 100_000
    draws = EXACT.ppf(levels) + shift
    assert scoring.wasserstein1(draws, EXACT.cdf, (-0.1, 1.1)) == pytest.approx(abs(shift), rel=2e-3)


def test_wasserstein1_of_a_scaled_distribution():
    # X ~ N(0, 1) against 2X: W1 = E|2Z - Z| = E|Z| = sqrt(2 / pi)
    levels = (np.arange(200_000) + 0.5) / 200_000
    draws = 2.0 * stats.norm.ppf(levels)
    assert scoring.wasserstein1(draws, stats.norm.cdf, (-12.0, 12.0)) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-3)


def test_ks_distance_matches_scipy():
    draws = EXACT.rvs(3000, random_state=2)
    assert scoring.ks_distance(draws, EXACT.cdf) == pytest.approx(stats.kstest(draws, EXACT.cdf).statistic, abs=1e-12)


@pytest.mark.parametrize("draws, distance", [
    ([0.9], 0.9), ([0.1], 0.9), ([0.25, 0.5], 0.5), ([0.2, 0.3, 0.95], 2 / 3 - 0.3), ([0.6, 0.7], 0.6),
])
def test_ks_distance_of_a_few_uniform_draws_by_hand(draws, distance):
    """sup |F_n - F| is reached just below a draw (F(x) - (i - 1)/n) or at it (i/n - F(x))."""
    assert scoring.ks_distance(draws, stats.uniform.cdf) == pytest.approx(distance, abs=1e-12)
    assert scoring.ks_distance(draws, stats.uniform.cdf) == pytest.approx(stats.kstest(draws, "uniform").statistic, abs=1e-12)


def test_mean_error_uses_the_mcse_of_independent_draws():
    rng = np.random.default_rng(3)
    draws = rng.normal(0.3, 2.0, size=(4, 5000))
    naive = (draws.mean() - 0.0) / (draws.std() / np.sqrt(draws.size))
    assert scoring.mean_error_in_mcse(draws, 0.0) == pytest.approx(naive, rel=0.1)


def test_mean_error_accounts_for_autocorrelation():
    # AR(1) chains with rho = 0.9: the MCSE is sqrt((1 + rho) / (1 - rho)) ~ 4.36 times the iid one
    rng = np.random.default_rng(4)
    rho, chains, length = 0.9, 4, 20_000
    noise = rng.normal(size=(chains, length)) * np.sqrt(1 - rho**2)
    draws = np.empty_like(noise)
    draws[:, 0] = rng.normal(size=chains)
    for t in range(1, length):
        draws[:, t] = rho * draws[:, t - 1] + noise[:, t]
    offset = 0.05  # a known error of the mean, large compared with the MCSE
    z = scoring.mean_error_in_mcse(draws, draws.mean() - offset)
    iid_mcse = draws.std() / np.sqrt(draws.size)
    expected = offset / (iid_mcse * np.sqrt((1 + rho) / (1 - rho)))
    assert z == pytest.approx(expected, rel=0.2)


def test_score_draws_against_a_quadrature_posterior():
    prior = priors.Beta(5.0, 5.0)
    posterior = prior.posterior(40, 50)
    draws = stats.beta(45, 15).rvs((4, 2500), random_state=5)
    score = scoring.score_draws(draws, posterior)
    assert score["w1_over_sd"] == pytest.approx(score["w1"] / stats.beta(45, 15).std(), rel=1e-6)
    # independent exact draws: W1 is sampling noise, about 1.2 / sqrt(10000) sd
    assert 0.003 < score["w1_over_sd"] < 0.03
    assert abs(score["mean_error_mcse"]) < 4


@pytest.mark.parametrize(
    "draws, message",
    [([], "at least one"), ([0.1, np.nan], "finite"), ([0.1, 1.2], "inside support")],
)
def test_bad_draws_raise(draws, message):
    with pytest.raises(ValueError, match=message):
        scoring.wasserstein1(draws, EXACT.cdf, (0.0, 1.0))


def test_mean_error_needs_chains():
    with pytest.raises(ValueError, match="draws_by_chain"):
        scoring.mean_error_in_mcse(np.zeros(10), 0.0)
