"""Chapter 7 (lectures/linear_regression.md): the page's numbers against independent computations.

The page glues its data, the truth it simulated them from, and every fit's results. With
the noise sd known and a Gaussian prior, the posterior of (intercept, slope) is the
Gaussian of ``exact.regression_posterior``; with the noise sd unknown it is a mixture
of those Gaussians over sigma, whose weights this test computes by quadrature. Least
squares and ridge regression have closed forms, the outlier probabilities follow from
Bayes' rule, and the prior predictive spread from the priors. Nothing here re-runs the
page's samplers or optimisers, and no setting of the page is written here: the data,
the prior sds and the truth come from the glue.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from bayesbook import exact, models

pytestmark = pytest.mark.book

COEFFICIENTS = ("intercept", "slope")


def model_defaults() -> dict:
    """The prior scales of the regression model (the page's model is the package's: tests/book/test_saved_code.py)."""
    return {name: parameter.default for name, parameter in
            inspect.signature(models.numpyro_linear_regression).parameters.items()
            if parameter.default is not inspect.Parameter.empty and name != "y"}


def line_data(glued):
    return np.asarray(glued["lr_data"]["x"]), np.asarray(glued["lr_data"]["y"])


def unknown_noise_posterior(x, y, *, intercept_sd, slope_sd, noise_rate, grid_size=4000):
    """The exact posterior of the model with sigma ~ Exponential(noise_rate), by quadrature over sigma.

    Given sigma, (intercept, slope) is Gaussian (``exact.regression_posterior``) and y is
    Normal(0, sigma^2 I + X S0 X^T); the marginal posterior of sigma is tabulated on a
    log grid, and the moments of the coefficients are mixtures over it.
    """
    design = np.column_stack([np.ones_like(x), x])
    prior_cov = np.diag([intercept_sd**2, slope_sd**2])
    eigenvalues, vectors = np.linalg.eigh(design @ prior_cov @ design.T)
    rotated = vectors.T @ y
    sigma = np.logspace(-3, 1.5, grid_size)
    variance = sigma[:, None] ** 2 + np.clip(eigenvalues, 0, None)
    log_weight = (-0.5 * np.sum(np.log(variance) + rotated**2 / variance, axis=1)
                  + stats.expon.logpdf(sigma, scale=1 / noise_rate) + np.log(np.gradient(sigma)))
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    assert weight[0] < 1e-12 and weight[-1] < 1e-12, "the sigma grid must hold the whole posterior"
    means, covariances = zip(*(exact.regression_posterior(x, y, noise_sd=s, prior_sd=(intercept_sd, slope_sd))
                               for s in sigma))
    means, covariances = np.array(means), np.array(covariances)
    mean = weight @ means
    second = np.einsum("g,gij->ij", weight, covariances + means[:, :, None] * means[:, None, :])
    sigma_mean = weight @ sigma
    return {"mean": mean, "cov": second - np.outer(mean, mean),
            "sigma_mean": sigma_mean, "sigma_sd": np.sqrt(weight @ sigma**2 - sigma_mean**2),
            "sigma": sigma, "weight": weight}


@pytest.fixture(scope="module")
def known_noise(glued):
    """The exact posterior with the noise sd known: (mean, covariance)."""
    x, y = line_data(glued)
    return exact.regression_posterior(x, y, noise_sd=glued["lr_true"]["sigma"], prior_sd=tuple(glued["lr_prior_sd"]))


@pytest.fixture(scope="module")
def unknown_noise(glued):
    x, y = line_data(glued)
    return unknown_noise_posterior(x, y, **model_defaults())


# --- the data and the prior ------------------------------------------------------------

def test_the_glued_data_and_truth_are_the_ones_the_prose_shows(glued, known_noise):
    x, y = line_data(glued)
    assert x.shape == y.shape == (glued["lr_n"],)
    for name, value in glued["lr_true"].items():
        assert glued[f"lr_true_{name}"] == value
    assert glued["lr_y_range"] == pytest.approx(np.ptp(y))
    # the page's known-noise model uses the model's own prior sds, the ones of its formula
    assert tuple(glued["lr_prior_sd"]) == (model_defaults()["intercept_sd"], model_defaults()["slope_sd"])
    # the data were simulated from the truth: it lies well inside the exact posterior
    mean, cov = known_noise
    truth = np.array([glued["lr_true"][name] for name in COEFFICIENTS])
    assert np.all(np.abs(mean - truth) < 4 * np.sqrt(np.diag(cov)))


@pytest.mark.parametrize("label", ["weak", "vague"])
def test_prior_predictive_spread_at_the_last_x_is_the_priors(glued, label):
    """y = intercept + slope x + sigma e: variance intercept_sd^2 + (x slope_sd)^2 + E[sigma^2] = ... + 2 / rate^2."""
    setting = glued["lr_prior_predictive"]
    intercept_sd, slope_sd = setting["scales"][label]
    rate, draws, x = model_defaults()["noise_rate"], setting["draws"], setting["x"]
    line_var = intercept_sd**2 + (x * slope_sd) ** 2
    sd = np.sqrt(line_var + 2 / rate**2)
    # the sd of a sample of `draws` near-normal values: relative standard error 1/sqrt(2 draws)
    assert glued[f"lr_prior_{label}_sd_at_10"] == pytest.approx(sd, rel=5 / np.sqrt(2 * draws))
    # P(|y| > far): a normal of variance line_var + sigma^2, averaged over sigma's prior
    beyond, _ = integrate.quad(lambda s: 2 * stats.norm.sf(setting["far"], scale=np.sqrt(line_var + s**2))
                               * stats.expon.pdf(s, scale=1 / rate), 0, np.inf)
    percent = glued[f"lr_prior_{label}_beyond_50"]
    assert percent / 100 == pytest.approx(beyond, abs=4 * np.sqrt(beyond * (1 - beyond) / draws) + 1 / draws)
    assert glued["lr_far"] == setting["far"]


def test_the_weak_prior_spread_is_a_few_data_ranges(glued):
    """The prose's ratio is the glued sd over the glued range, and the exact prior sd is under three ranges."""
    _, y = line_data(glued)
    assert glued["lr_prior_weak_sd_ratio"] == pytest.approx(glued["lr_prior_weak_sd_at_10"] / np.ptp(y), rel=1e-6)
    setting = glued["lr_prior_predictive"]
    intercept_sd, slope_sd = setting["scales"]["weak"]
    exact_sd = np.sqrt(intercept_sd**2 + (setting["x"] * slope_sd) ** 2 + 2 / model_defaults()["noise_rate"] ** 2)
    assert exact_sd < 3 * np.ptp(y)
    assert glued["lr_vague_sd"] == setting["scales"]["vague"][0] == setting["scales"]["vague"][1]


def test_the_vague_prior_barely_moves_the_known_noise_posterior(glued):
    """Conjugate update written out: Lambda = S0^-1 + X^T X / sigma^2, m = Lambda^-1 X^T y / sigma^2."""
    x, y = line_data(glued)
    sigma = glued["lr_true"]["sigma"]
    design = np.column_stack([np.ones_like(x), x])

    def posterior(scales):
        precision = np.diag(np.asarray(scales, float) ** -2) + design.T @ design / sigma**2
        cov = np.linalg.inv(precision)
        return cov @ design.T @ y / sigma**2, cov

    scales = glued["lr_prior_predictive"]["scales"]
    (weak_mean, weak_cov), (vague_mean, vague_cov) = posterior(scales["weak"]), posterior(scales["vague"])
    weak_sd, vague_sd = np.sqrt(np.diag(weak_cov)), np.sqrt(np.diag(vague_cov))
    shift = np.max(np.abs(vague_mean - weak_mean) / weak_sd)
    change = 100 * np.max(np.abs(vague_sd / weak_sd - 1))
    assert glued["lr_vague_mean_shift"] == pytest.approx(shift, rel=1e-6) and shift < 0.05
    assert glued["lr_vague_sd_change"] == pytest.approx(change, rel=1e-6) and change < 2


# --- NUTS ------------------------------------------------------------------------------

def test_nuts_with_unknown_noise_matches_the_exact_posterior_by_quadrature(glued, unknown_noise):
    summary = glued["lr_nuts_summary"]
    exact_sd = np.sqrt(np.diag(unknown_noise["cov"]))
    for index, name in enumerate(COEFFICIENTS):
        row = summary[name]
        assert abs(row["mean"] - unknown_noise["mean"][index]) < 4 * row["mcse_mean"], name
        assert row["sd"] == pytest.approx(exact_sd[index], rel=0.1), name
    sigma = summary["sigma"]
    assert abs(sigma["mean"] - unknown_noise["sigma_mean"]) < 4 * sigma["mcse_mean"]
    assert sigma["sd"] == pytest.approx(unknown_noise["sigma_sd"], rel=0.1)
    assert max(row["r_hat"] for row in summary.values()) == glued["lr_nuts_rhat"] < 1.01
    assert glued["lr_nuts_divergences"] == 0
    assert glued["lr_nuts_chains"] >= 4
    # the intercept-slope correlation of the draws against the quadrature's
    exact_corr = unknown_noise["cov"][0, 1] / np.prod(exact_sd)
    assert glued["lr_nuts_corr"] == pytest.approx(exact_corr, abs=0.03)


def test_the_predictive_band_covers_the_observed_points_as_often_as_its_probability_says(glued):
    n, band = glued["lr_n"], glued["lr_band"]
    assert glued["lr_band_percent"] == pytest.approx(100 * band, rel=1e-12)
    assert glued["lr_band_coverage"] / 100 == pytest.approx(band, abs=4 * np.sqrt(band * (1 - band) / n))


def test_known_noise_nuts_matches_the_exact_posterior(glued, known_noise):
    mean, cov = known_noise
    run = glued["lr_known_nuts"]
    assert run["divergences"] == 0 and run["r_hat"] < 1.01
    errors_in_mcse = (np.asarray(run["mean"]) - mean) / np.asarray(run["mcse_mean"])
    assert np.all(np.abs(errors_in_mcse) < 4), errors_in_mcse
    np.testing.assert_allclose(run["cov"], cov, rtol=0.10)
    assert glued["lr_nuts_mcse_error"] == pytest.approx(np.max(np.abs(errors_in_mcse)), rel=1e-6)
    assert glued["lr_exact_corr"] == pytest.approx(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]), rel=1e-9)


def test_in_sample_coverage_sd_is_the_binomial_one(glued):
    n, band = glued["lr_n"], glued["lr_band"]
    assert glued["lr_band_coverage_sd"] == pytest.approx(100 * np.sqrt(band * (1 - band) / n), rel=1e-9)


# --- point estimates ---------------------------------------------------------------------

def test_the_ridge_penalties_are_the_priors_and_small_beside_the_data(glued):
    """sigma^2 / s_j^2 on each coefficient, the intercept included; X^T X's diagonal is (n, sum x^2)."""
    x, _ = line_data(glued)
    defaults, sigma = model_defaults(), glued["lr_true"]["sigma"]
    assert glued["lr_penalty_intercept"] == pytest.approx(sigma**2 / defaults["intercept_sd"] ** 2, rel=1e-12)
    assert glued["lr_penalty_slope"] == pytest.approx(sigma**2 / defaults["slope_sd"] ** 2, rel=1e-12)
    assert glued["lr_xtx_intercept"] == x.size
    assert glued["lr_xtx_slope"] == pytest.approx(np.sum(x**2), rel=1e-12)
    assert glued["lr_penalty_intercept"] < 0.01 * x.size and glued["lr_penalty_slope"] < 0.01 * np.sum(x**2)


def test_modes_move_under_the_log_map_quantiles_do_not_means_do(glued, unknown_noise):
    """Against the quadrature over sigma: on its log grid the weights are the density of log sigma."""
    sigma, weight = unknown_noise["sigma"], unknown_noise["weight"]
    density_sigma = weight / np.gradient(sigma)
    resolution = 0.004  # the test grid's spacing near sigma = 1 is 0.0026
    assert glued["lr_sigma_mode"] == pytest.approx(sigma[np.argmax(density_sigma)], abs=resolution)
    assert glued["lr_exp_log_sigma_mode"] == pytest.approx(sigma[np.argmax(weight)], abs=resolution)
    assert glued["lr_exp_log_sigma_mode"] - glued["lr_sigma_mode"] > 0.01
    # the draws' median is one draw, whose log is the median of the logs
    assert glued["lr_sigma_median"] == pytest.approx(glued["lr_exp_median_log_sigma"], rel=1e-9)
    mcse = glued["lr_nuts_summary"]["sigma"]["mcse_mean"]
    median = sigma[np.searchsorted(np.cumsum(weight), 0.5)]
    assert abs(glued["lr_sigma_median"] - median) < 5 * mcse + 0.003
    assert abs(glued["lr_sigma_mean"] - unknown_noise["sigma_mean"]) < 4 * mcse
    exp_mean_log = np.exp(weight @ np.log(sigma))
    assert abs(glued["lr_exp_mean_log_sigma"] - exp_mean_log) < 4 * mcse
    # Jensen's gap, E[sigma] - exp E[log sigma], is positive and the draws' gap is near the exact one
    gap = unknown_noise["sigma_mean"] - exp_mean_log
    assert gap > 0.005
    assert glued["lr_sigma_mean"] - glued["lr_exp_mean_log_sigma"] == pytest.approx(gap, rel=0.3)


def test_mle_is_least_squares_and_map_is_ridge(glued, known_noise):
    x, y = line_data(glued)
    design = np.column_stack([np.ones_like(x), x])
    least_squares = np.linalg.lstsq(design, y, rcond=None)[0]
    penalty = glued["lr_true"]["sigma"] ** 2 * np.diag(np.asarray(glued["lr_prior_sd"], float) ** -2)
    ridge = np.linalg.solve(design.T @ design + penalty, design.T @ y)
    estimates = glued["lr_point_estimates"]
    np.testing.assert_allclose(estimates["mle"], least_squares, rtol=0, atol=1e-6)
    np.testing.assert_allclose(estimates["map"], ridge, rtol=0, atol=1e-4)
    assert np.max(np.abs(ridge - least_squares)) > 1e-4  # the prior does move the estimate
    # a Gaussian posterior's mode is its mean
    np.testing.assert_allclose(estimates["map"], known_noise[0], rtol=0, atol=1e-4)
    assert glued["lr_map_shift_slope"] == pytest.approx(estimates["map"][1] - estimates["mle"][1], rel=1e-9)
    mean, cov = known_noise
    sd = np.sqrt(np.diag(cov))
    assert glued["lr_map_shift_slope_sd"] == pytest.approx(abs(ridge[1] - least_squares[1]) / sd[1], rel=1e-4)
    assert glued["lr_mle_mean_error"] == pytest.approx(np.max(np.abs(least_squares - mean) / sd), rel=1e-4)
    assert glued["lr_mle_mean_error"] < 0.1
    # the MAP slope lies further from the prior's 0 than the MLE: each penalty alone, in closed form
    only_intercept = np.linalg.solve(design.T @ design + np.diag([penalty[0, 0], 0.0]), design.T @ y)[1]
    only_slope = np.linalg.solve(design.T @ design + np.diag([0.0, penalty[1, 1]]), design.T @ y)[1]
    assert glued["lr_map_shift_intercept_only"] == pytest.approx(only_intercept - least_squares[1], rel=1e-6)
    assert glued["lr_map_shift_slope_only"] == pytest.approx(only_slope - least_squares[1], rel=1e-6)
    assert only_intercept - least_squares[1] > least_squares[1] - only_slope > 0
    assert ridge[1] > least_squares[1] > 0 and ridge[0] < least_squares[0]


# --- variational inference ------------------------------------------------------------------

def test_the_multivariate_guide_matches_the_exact_posterior(glued, known_noise):
    mean, cov = known_noise
    guide = glued["lr_vi"]["AutoMultivariateNormal"]
    assert np.all(np.abs(np.asarray(guide["mean"]) - mean) < 0.02 * np.sqrt(np.diag(cov)))
    np.testing.assert_allclose(guide["cov"], cov, rtol=0.10)
    kl = exact.gaussian_kl(guide["mean"], guide["cov"], mean, cov)
    assert glued["lr_full_kl"] == pytest.approx(kl, rel=1e-6) and kl < 0.01
    sd = np.sqrt(np.diag(cov))
    mean_error = np.max(np.abs(np.asarray(guide["mean"]) - mean) / sd)
    sd_error = 100 * np.max(np.abs(np.sqrt(np.diag(guide["cov"])) / sd - 1))
    assert glued["lr_full_mean_error"] == pytest.approx(mean_error, rel=1e-5) and mean_error < 0.05
    assert glued["lr_full_sd_error"] == pytest.approx(sd_error, rel=1e-5) and sd_error < 5
    # the yardstick: NUTS's Monte Carlo standard error, in exact posterior sds, from the known-noise run
    run = glued["lr_known_nuts"]
    mcse_in_sd = np.min(np.asarray(run["mcse_mean"]) / sd)
    assert glued["lr_nuts_mcse_sd"] == pytest.approx(mcse_in_sd, rel=1e-5)
    assert mean_error < mcse_in_sd
    nuts_mean_error = np.max(np.abs(np.asarray(run["mean"]) - mean) / sd)
    assert glued["lr_nuts_mean_error"] == pytest.approx(nuts_mean_error, rel=1e-4)
    assert nuts_mean_error < mean_error
    nuts_sd_error = 100 * np.max(np.abs(np.sqrt(np.diag(run["cov"])) / sd - 1))
    assert glued["lr_nuts_sd_error"] == pytest.approx(nuts_sd_error, rel=1e-4)


def test_the_mean_field_guide_recovers_the_means_but_not_the_correlation(glued, known_noise):
    """AutoNormal: the exact means, no correlation (the exact one is strong), variances 1/Lambda_jj."""
    mean, cov = known_noise
    guide = glued["lr_vi"]["AutoNormal"]
    sd = np.sqrt(np.diag(cov))
    guide_cov = np.asarray(guide["cov"])
    guide_sd = np.sqrt(np.diag(guide_cov))
    assert np.all(np.abs(np.asarray(guide["mean"]) - mean) < 0.02 * sd)
    assert glued["lr_mf_mean_error"] == pytest.approx(np.max(np.abs(np.asarray(guide["mean"]) - mean) / sd), rel=1e-5)
    assert guide_cov[0, 1] == 0
    correlation = cov[0, 1] / np.prod(sd)
    assert correlation < -0.8  # strong, and the mean-field guide has none by construction
    best_sd = 1 / np.sqrt(np.diag(np.linalg.inv(cov)))
    np.testing.assert_allclose(guide_sd, best_sd, rtol=0.05)
    assert glued["lr_mf_vs_best"] == pytest.approx(100 * np.max(np.abs(guide_sd / best_sd - 1)), rel=1e-6)
    assert np.all(guide_sd < 0.6 * sd)  # so it understates each marginal sd
    assert glued["lr_mf_sd_ratio_intercept"] == pytest.approx(guide_sd[0] / sd[0], rel=1e-6)
    assert glued["lr_mf_kl"] == pytest.approx(exact.gaussian_kl(guide["mean"], guide_cov, mean, cov), rel=1e-6)
    # the best mean-field normal of a bivariate normal is -log(1 - rho^2) / 2 nats from it
    best_kl = -0.5 * np.log1p(-correlation**2)
    assert glued["lr_uncentred_mf_kl"] == pytest.approx(best_kl, rel=1e-6)
    assert glued["lr_best_mf_kl"] == pytest.approx(best_kl, rel=1e-6)
    kl = exact.gaussian_kl(guide["mean"], guide_cov, mean, cov)
    assert glued["lr_mf_kl_excess"] == pytest.approx(100 * (kl / best_kl - 1), rel=1e-3, abs=1e-4)
    assert best_kl <= kl < 1.01 * best_kl


def test_centring_the_predictor_removes_the_correlation(glued):
    assert abs(glued["lr_centred_corr"]) < 1e-9


# --- outliers ---------------------------------------------------------------------------------

OUTLIER_SITES = ("intercept", "slope", "background_mean", "background_sd", "Q")


def outlier_data(glued):
    data = glued["lr_out_data"]
    return (np.asarray(data["x"]), np.asarray(data["y"]), np.asarray(data["y_err"]),
            np.asarray(data["is_outlier"], dtype=bool))


def test_the_outlier_data_are_what_the_prose_says(glued):
    x, y, y_err, is_outlier = outlier_data(glued)
    truth = glued["lr_out_true"]
    assert x.size == y.size == glued["lr_out_n"]
    assert np.all(y_err == truth["noise_sd"]) and glued["lr_out_err"] == truth["noise_sd"]
    assert int(is_outlier.sum()) == glued["lr_out_count"]
    assert (glued["lr_out_intercept"], glued["lr_out_slope"], glued["lr_out_fraction"]) == (
        truth["intercept"], truth["slope"], truth["outlier_fraction"])
    # the points on the line are on it, within their measurement error
    residual = (y - truth["intercept"] - truth["slope"] * x)[~is_outlier]
    assert np.all(np.abs(residual) < 4 * truth["noise_sd"])


def test_the_outlier_fraction_is_as_uncertain_as_a_counted_fraction(glued):
    """Q's posterior sd against sqrt(q (1 - q) / n), the sd of a fraction counted from n labelled points."""
    q = glued["lr_out_nuts"]["summary"]["Q"]
    n = glued["lr_out_n"]
    assert glued["lr_out_labelled_sd"] == pytest.approx(np.sqrt(q["mean"] * (1 - q["mean"]) / n), rel=1e-6)
    assert glued["lr_out_nuts_Q_sd"] == pytest.approx(q["sd"], rel=1e-3)
    assert q["sd"] > glued["lr_out_labelled_sd"]


def test_outlier_nuts_recovers_the_true_line(glued):
    nuts = glued["lr_out_nuts"]
    truth = glued["lr_out_true"]
    assert nuts["divergences"] == glued["lr_out_divergences"] == 0
    assert max(row["r_hat"] for row in nuts["summary"].values()) < 1.01
    assert glued["lr_out_ess"] == pytest.approx(min(row["ess_bulk"] for row in nuts["summary"].values()), rel=1e-9)
    assert glued["lr_out_ess"] > 400 and glued["lr_out_chains"] >= 4
    for name in COEFFICIENTS:
        low, high = nuts["interval95"][name]
        assert low < truth[name] < high, (name, low, high)
    # ordinary least squares on the same data misses the true slope by far more
    x, y, _, _ = outlier_data(glued)
    slope_ls = np.polyfit(x, y, 1)[0]
    nuts_slope = nuts["summary"]["slope"]["mean"]
    assert abs(slope_ls - truth["slope"]) > 3 * abs(nuts_slope - truth["slope"])
    # the outlier fraction's 95 % interval holds the simulated fraction
    low, high = nuts["interval95"]["Q"]
    assert low < truth["outlier_fraction"] < high


def test_outlier_probabilities_are_bayes_rule_averaged_over_the_posterior(glued):
    """Bayes' rule on every 10th NUTS draw, written without logarithms, against the page's average over all draws."""
    x, y, y_err, is_outlier = outlier_data(glued)
    draws = {site: np.asarray(values) for site, values in glued["lr_out_nuts_draws"].items()}
    line = (1 - draws["Q"][:, None]) * stats.norm.pdf(y, draws["intercept"][:, None] + draws["slope"][:, None] * x,
                                                      y_err)
    background = draws["Q"][:, None] * stats.norm.pdf(y, draws["background_mean"][:, None],
                                                      np.sqrt(draws["background_sd"][:, None] ** 2 + y_err**2))
    by_draw = background / (background + line)
    standard_error = by_draw.std(axis=0) / np.sqrt(by_draw.shape[0])
    probability = np.asarray(glued["lr_out_probability"]["NUTS"])
    assert np.all(np.abs(probability - by_draw.mean(axis=0)) <= 5 * standard_error + 0.01)
    # and they single out the outliers: no point on the line above the threshold, all outliers but at most one
    threshold = glued["lr_out_flag"]
    assert 0 < threshold < 1
    assert probability[~is_outlier].max() < threshold
    assert np.sum(probability[is_outlier] > threshold) >= is_outlier.sum() - 1
    flagged = probability > threshold
    assert glued["lr_out_flagged_true"] == np.sum(flagged & is_outlier)
    assert glued["lr_out_flagged_false"] == np.sum(flagged & ~is_outlier)
    guide = np.asarray(glued["lr_out_probability"]["AutoMultivariateNormal"])
    assert glued["lr_out_prob_difference"] == pytest.approx(np.max(np.abs(probability - guide)), rel=1e-9)
    # the outliers the model misses lie near the true line, in units of the measurement error
    truth = glued["lr_out_true"]
    missed = is_outlier & ~flagged
    distance = np.abs(y - truth["intercept"] - truth["slope"] * x) / y_err
    assert glued["lr_out_missed_distance"] == pytest.approx(distance[missed].max() if missed.any() else 0.0, rel=1e-9)
    assert glued["lr_out_missed_distance"] < 3


def test_the_guides_find_the_line_and_only_the_full_covariance_one_its_spread(glued):
    methods = glued["lr_out_methods"]
    nuts = methods["NUTS"]
    for name in ("hand-written", "AutoDiagonalNormal", "AutoMultivariateNormal"):
        errors = [abs(methods[name][site]["mean"] - nuts[site]["mean"]) / nuts[site]["sd"] for site in OUTLIER_SITES]
        assert glued[f"lr_out_error_{name}"] == pytest.approx(max(errors), rel=1e-6)
        assert max(errors) < 0.3, name
        ratio = methods[name]["intercept"]["sd"] / nuts["intercept"]["sd"]
        assert glued[f"lr_out_sd_ratio_{name}"] == pytest.approx(ratio, rel=1e-6)
    assert max(abs(methods["AutoMultivariateNormal"][site]["mean"] - nuts[site]["mean"]) / nuts[site]["sd"]
               for site in OUTLIER_SITES) < 0.25
    assert glued["lr_out_sd_ratio_AutoMultivariateNormal"] > 0.85
    assert max(glued["lr_out_sd_ratio_AutoDiagonalNormal"], glued["lr_out_sd_ratio_hand-written"]) < 0.85
    # the mean-field ratios are near sqrt(1 - rho^2), rho from every 10th NUTS draw
    draws = glued["lr_out_nuts_draws"]
    rho = np.corrcoef(np.asarray(draws["intercept"]), np.asarray(draws["slope"]))[0, 1]
    assert glued["lr_out_nuts_corr"] == pytest.approx(rho, abs=0.1)
    assert glued["lr_out_conditional_ratio"] == pytest.approx(np.sqrt(1 - glued["lr_out_nuts_corr"] ** 2), rel=1e-9)
    for name in ("AutoDiagonalNormal", "hand-written"):
        assert glued[f"lr_out_sd_ratio_{name}"] == pytest.approx(np.sqrt(1 - rho**2), rel=0.1), name


def test_the_hand_written_guide_and_autodiagonalnormal_reach_one_fit(glued):
    """One family (normals in the unconstrained space): their means and sds agree."""
    methods = glued["lr_out_methods"]
    hand, diagonal, nuts = methods["hand-written"], methods["AutoDiagonalNormal"], methods["NUTS"]
    mean_gap = max(abs(hand[site]["mean"] - diagonal[site]["mean"]) / nuts[site]["sd"] for site in OUTLIER_SITES)
    sd_gap = max(abs(hand[site]["sd"] / diagonal[site]["sd"] - 1) for site in OUTLIER_SITES)
    assert glued["lr_out_family_mean"] == pytest.approx(mean_gap, rel=1e-4) and mean_gap < 0.1
    assert glued["lr_out_family_sd"] == pytest.approx(100 * sd_gap, rel=1e-4) and sd_gap < 0.05


def test_the_background_mean_spreads_with_the_background_sd(glued):
    """From every 10th NUTS draw: the split sds and the heavy tail the page reports, and the guides' sds."""
    draws = {site: np.asarray(values, dtype=float) for site, values in glued["lr_out_nuts_draws"].items()}
    mean, sd = draws["background_mean"], draws["background_sd"]
    low = sd < np.median(sd)
    low_sd, high_sd = mean[low].std(), mean[~low].std()
    assert glued["lr_out_bm_sd_low"] == pytest.approx(low_sd, rel=0.3)
    assert glued["lr_out_bm_sd_high"] == pytest.approx(high_sd, rel=0.3)
    assert high_sd > 1.3 * low_sd
    assert stats.kurtosis(mean) > 0.5  # heavier tails than a normal's
    assert stats.skew(np.log(sd)) == pytest.approx(glued["lr_out_log_bsd_skew"], abs=0.5)
    # a normal's conditional spread is the same in both halves
    assert glued["lr_out_guide_bm_sd_high"] == pytest.approx(glued["lr_out_guide_bm_sd_low"], rel=0.1)
    methods = glued["lr_out_methods"]
    assert glued["lr_out_guide_bm_sd"] == pytest.approx(methods["AutoMultivariateNormal"]["background_mean"]["sd"], rel=1e-5)
    assert glued["lr_out_nuts_bm_sd"] == pytest.approx(methods["NUTS"]["background_mean"]["sd"], rel=1e-5)
    assert glued["lr_out_nuts_bm_sd"] == pytest.approx(mean.std(), rel=0.25)
    assert glued["lr_out_guide_bm_sd"] < 0.8 * glued["lr_out_nuts_bm_sd"]
    guide_bsd = max(methods[name]["background_sd"]["sd"] for name in ("hand-written", "AutoDiagonalNormal",
                                                                        "AutoMultivariateNormal"))
    assert glued["lr_out_guide_bsd_sd"] == pytest.approx(guide_bsd, rel=1e-5)
    assert glued["lr_out_nuts_bsd_sd"] == pytest.approx(sd.std(), rel=0.25)
    assert guide_bsd < 0.85 * glued["lr_out_nuts_bsd_sd"]
    # every guide is log-normal in sigma_b, so its sd of log sigma_b follows from its mean and sd of sigma_b:
    # s^2 = log(1 + (sd / mean)^2)
    log_sds = [np.sqrt(np.log1p((methods[name]["background_sd"]["sd"] / methods[name]["background_sd"]["mean"]) ** 2))
               for name in ("hand-written", "AutoDiagonalNormal", "AutoMultivariateNormal")]
    assert glued["lr_out_guide_log_bsd_sd"] == pytest.approx(max(log_sds), rel=0.05)
    assert glued["lr_out_nuts_log_bsd_sd"] == pytest.approx(np.log(sd).std(), rel=0.15)
    assert max(log_sds) < 0.9 * glued["lr_out_nuts_log_bsd_sd"]
    assert glued["lr_out_log_bsd_skew"] < 0
    # sigma_b's sd under a log-normal with the NUTS draws' log moments: exp(m + s^2/2) sqrt(exp(s^2) - 1)
    m, v = np.log(sd).mean(), np.log(sd).var()
    assert glued["lr_out_lognormal_bsd_sd"] == pytest.approx(np.exp(m + v / 2) * np.sqrt(np.expm1(v)), rel=0.15)
    assert glued["lr_out_lognormal_bsd_sd"] > glued["lr_out_nuts_bsd_sd"]


# --- Pyro -------------------------------------------------------------------------------------

def test_the_pyro_module_fit_matches_the_exact_posterior(glued, unknown_noise):
    exact_sd = np.sqrt(np.diag(unknown_noise["cov"]))
    for index, name in enumerate(COEFFICIENTS):
        fit = glued["lr_pyro"][name]
        assert abs(fit["mean"] - unknown_noise["mean"][index]) < 0.1 * exact_sd[index], name
        assert fit["sd"] < 0.9 * exact_sd[index]  # as the page says, the short run's sds are too small
    nuts = glued["lr_nuts_summary"]
    for name in COEFFICIENTS:
        assert glued[f"lr_pyro_sd_ratio_{name}"] == pytest.approx(glued["lr_pyro"][name]["sd"] / nuts[name]["sd"], rel=1e-3)
    # the page's diagnosis: the loss settled, the parameters did not
    assert glued["lr_pyro_converged"] is False and glued["lr_pyro_loss_converged"] is True
    assert glued["lr_pyro_worst_drift"] > 10
    assert glued["lr_pyro_error"] == pytest.approx(
        max(abs(glued["lr_pyro"][name]["mean"] - nuts[name]["mean"]) / nuts[name]["sd"] for name in COEFFICIENTS),
        rel=1e-3)
    # the guide's correlation is weaker than the exact one (by quadrature)
    exact_corr = unknown_noise["cov"][0, 1] / np.prod(exact_sd)
    assert abs(glued["lr_pyro_corr"]) < abs(exact_corr) - 0.05
    from importlib.metadata import version
    assert glued["lr_torch_version"] == version("torch").split("+")[0]


def test_the_exercise_settings_the_prose_names(glued):
    x, _ = line_data(glued)
    assert glued["lr_ex_x0"] > x.max()
    assert 0 < glued["lr_ex_s_min"] < 1 < glued["lr_ex_s_max"]


# --- the exercises' answers (what exercises.check compares a student's answer with) ------------

def recorded_answer(glued, label):
    """The value a solution recorded for ``exercises.check("<label>", ...)``, as an array, and its whole entry."""
    entry = glued[f"answer:{label}"]
    return np.atleast_1d(np.asarray(entry["value"], dtype=float)), entry


def accepts(entry, value, candidate):
    """Whether ``exercises.check`` would call ``candidate`` right against the recorded ``value``."""
    return bool(np.all(np.abs(np.atleast_1d(candidate) - value) <= entry["atol"] + entry["rtol"] * np.abs(value)))


def test_the_centred_sd_answer_is_the_centred_posteriors(glued, known_noise):
    x, y = line_data(glued)
    sigma, prior_sd = glued["lr_true"]["sigma"], tuple(glued["lr_prior_sd"])
    _, centred_cov = exact.regression_posterior(x - x.mean(), y, noise_sd=sigma, prior_sd=prior_sd)
    value, entry = recorded_answer(glued, "lr-ex-centred-sd")
    np.testing.assert_allclose(value, np.sqrt(np.diag(centred_cov)), rtol=1e-9)
    # the slips are graded wrong, beyond three times the tolerance: forgetting to centre (the uncentred model's
    # sds), and leaving out the priors (sigma over the root of the data's precision alone)
    tolerance = entry["atol"] + entry["rtol"] * np.abs(value)
    uncentred = np.sqrt(np.diag(known_noise[1]))
    without_priors = sigma / np.sqrt([x.size, np.sum((x - x.mean()) ** 2)])
    for mistake in (uncentred, without_priors):
        assert np.max(np.abs(mistake - value) / tolerance) > 3
    assert np.max(np.abs(uncentred - value)[1:] / tolerance[1:]) > 3  # the slope's sd alone tells them apart too


def test_the_predictive_answer_is_the_conditional_of_the_joint_gaussian(glued, known_noise):
    """Under the prior (y, y_new) is jointly normal with covariance sigma^2 I + X S0 X^T, X with a row for x0 added:
    y_new given y is that normal's conditional, and its variance less sigma^2 is the parameters' part."""
    x, y = line_data(glued)
    sigma, prior_sd, x0 = glued["lr_true"]["sigma"], np.asarray(glued["lr_prior_sd"]), glued["lr_ex_x0"]
    design = np.column_stack([np.ones(x.size + 1), np.r_[x, x0]])
    joint = sigma**2 * np.eye(x.size + 1) + design @ np.diag(prior_sd**2) @ design.T
    observed, cross = joint[:-1, :-1], joint[:-1, -1]
    mean = cross @ np.linalg.solve(observed, y)
    variance = joint[-1, -1] - cross @ np.linalg.solve(observed, cross)
    value, entry = recorded_answer(glued, "lr-ex-predictive")
    probability = stats.norm.sf(glued["lr_ex_threshold"], mean, np.sqrt(variance))
    np.testing.assert_allclose(value, [probability, variance - sigma**2], rtol=1e-8)
    # without the noise variance the tail is another number
    assert not accepts(entry, value[:1], stats.norm.sf(glued["lr_ex_threshold"], mean, np.sqrt(variance - sigma**2)))


def test_the_ridge_answer_halves_the_least_squares_slope(glued):
    """MAP is least squares on the data plus one pseudo-observation 0 per coefficient, of weight sigma / s_j."""
    x, y = line_data(glued)
    sigma, prior_sd = glued["lr_true"]["sigma"], tuple(glued["lr_prior_sd"])
    design = np.column_stack([np.ones_like(x), x])
    least_squares = np.linalg.lstsq(design, y, rcond=None)[0]

    def map_slope(s):
        rows = np.vstack([design, np.diag([sigma / prior_sd[0], sigma / s])])
        return np.linalg.lstsq(rows, np.r_[y, 0.0, 0.0], rcond=None)[0][1]

    value, entry = recorded_answer(glued, "lr-ex-ridge")
    assert map_slope(value[0]) == pytest.approx(least_squares[1] / 2, rel=1e-6)
    assert glued["lr_ex_s_min"] < value[0] < 1
    # halving the true slope instead of the fitted one gives an s that is not accepted
    true_half = optimize.brentq(lambda s: map_slope(s) - glued["lr_true"]["slope"] / 2, 1e-3, 10.0)
    assert not accepts(entry, value, true_half)


def test_the_loo_answer_by_the_gaussian_conditional_without_refits(glued, known_noise):
    """Under the prior y ~ Normal(0, K), K = sigma^2 I + X S0 X^T, and y_i given the other points is normal with
    mean y_i - [K^-1 y]_i / [K^-1]_ii and variance 1 / [K^-1]_ii: leave-one-out with no refit."""
    x, y = line_data(glued)
    sigma, prior_sd = glued["lr_true"]["sigma"], np.asarray(glued["lr_prior_sd"])
    design = np.column_stack([np.ones_like(x), x])
    inverse = np.linalg.inv(sigma**2 * np.eye(x.size) + design @ np.diag(prior_sd**2) @ design.T)
    mean, sd = y - inverse @ y / np.diag(inverse), 1 / np.sqrt(np.diag(inverse))
    half_width = stats.norm.ppf(0.5 + glued["lr_band"] / 2)
    value, entry = recorded_answer(glued, "lr-ex-loo")
    assert value[0] == np.sum(np.abs(y - mean) <= half_width * sd)
    assert value[1] == pytest.approx(np.sum(stats.norm.logpdf(y, mean, sd)), rel=1e-9)
    # the in-sample score, each point predicted from the posterior that saw it, is not accepted
    post_mean, post_cov = known_noise
    in_sd = np.sqrt(sigma**2 + np.einsum("ij,jk,ik->i", design, post_cov, design))
    in_sample = [np.sum(np.abs(y - design @ post_mean) <= half_width * in_sd),
                 np.sum(stats.norm.logpdf(y, design @ post_mean, in_sd))]
    assert not accepts(entry, value, in_sample)
    assert glued["lr_ex_in_sample_total"] == pytest.approx(in_sample[1], rel=1e-9)


def test_the_outlier_count_answer_and_the_identity_for_the_mean_of_q(glued):
    """E[Q | y] = (1 + sum_i P(z_i = 1 | y)) / (n + 2) under the Uniform prior; and the sum by Bayes' rule, written
    here with densities, on every 10th NUTS draw."""
    value, entry = recorded_answer(glued, "lr-ex-outlier-count")
    n = glued["lr_out_n"]
    assert value[0] == pytest.approx(np.sum(glued["lr_out_probability"]["NUTS"]), rel=1e-6)
    q_mean = glued["lr_out_nuts"]["summary"]["Q"]["mean"]
    assert value[0] == pytest.approx((n + 2) * q_mean - 1, abs=entry["atol"])
    draws, points = glued["lr_out_nuts_draws"], glued["lr_out_data"]
    x, y, y_err = (np.asarray(points[name], dtype=float) for name in ("x", "y", "y_err"))
    column = {name: np.asarray(values, dtype=float)[:, None] for name, values in draws.items()}
    line = stats.norm.pdf(y, column["intercept"] + column["slope"] * x, y_err)
    background = stats.norm.pdf(y, column["background_mean"], np.sqrt(column["background_sd"] ** 2 + y_err**2))
    counts = np.sum(column["Q"] * background / (column["Q"] * background + (1 - column["Q"]) * line), axis=1)
    assert value[0] == pytest.approx(counts.mean(), abs=4 * counts.std() / np.sqrt(counts.size))
    assert 0 < entry["atol"] < 0.25 * counts.std()  # a few Monte Carlo errors of the page's run, far below one draw's spread
