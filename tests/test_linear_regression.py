"""Chapter 7: regression data, the exact Gaussian posterior, and every method of the chapter.

Ground truth: with known noise and a Gaussian prior the posterior of (intercept, slope)
is Gaussian; `exact.regression_posterior` is checked against Gaussian conditioning
written the other way round (the joint of coefficients and data) and against
quadrature on a grid. Every fit of the chapter is then run with the chapter's settings
and scored against it; the outlier model and the Pyro model are scored against NUTS.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from bayesbook import data, exact, mcmc, models, svi
from bayesbook.vi import SVISettings

# --- the chapter's data and settings (lectures/linear_regression.md) ------------------
TRUE = {"intercept": 2.0, "slope": 0.6, "sigma": 1.0}
X, Y = data.simulate_regression(25, intercept=TRUE["intercept"], slope=TRUE["slope"], noise_sd=TRUE["sigma"], seed=1)
PRIOR_SD = (5.0, 2.0)
NUTS = {"num_warmup": 500, "num_samples": 1000, "seed": 0, "chain_method": "sequential"}
VI = SVISettings(learning_rate=0.05, final_learning_rate=0.002, average_last=0.3, num_steps=2000, num_particles=8)
OUT_TRUE = {"intercept": 0.5, "slope": 1.0}
OUTLIERS = data.simulate_outliers(20, intercept=0.5, slope=1.0, noise_sd=0.2, outlier_fraction=0.25,
                                  background_mean=0.0, background_sd=1.0, seed=4)
OUT_ARGS = (OUTLIERS["x"], OUTLIERS["y_err"])
PARAMETERS = ("intercept", "slope", "background_mean", "background_sd", "Q")


def known_noise_model():
    import numpyro

    return numpyro.handlers.condition(models.numpyro_linear_regression, {"sigma": TRUE["sigma"]})


# --- data -----------------------------------------------------------------------------

def test_simulated_regression_is_reproducible_and_follows_the_line():
    x, y = data.simulate_regression(2000, intercept=1.0, slope=-0.5, noise_sd=0.3, seed=7)
    again = data.simulate_regression(2000, intercept=1.0, slope=-0.5, noise_sd=0.3, seed=7)
    assert np.array_equal(x, again[0]) and np.array_equal(y, again[1])
    assert np.all(np.diff(x) >= 0) and x.min() >= 0 and x.max() <= 10
    slope, intercept = np.polyfit(x, y, 1)
    residual_sd = np.std(y - (intercept + slope * x))
    assert abs(slope + 0.5) < 0.01 and abs(intercept - 1.0) < 0.05 and abs(residual_sd - 0.3) < 0.02
    assert not np.array_equal(y, data.simulate_regression(2000, intercept=1.0, slope=-0.5, noise_sd=0.3, seed=8)[1])


def test_simulated_outliers_replace_the_given_fraction_by_background_draws():
    sample = data.simulate_outliers(4000, intercept=0.0, slope=1.0, noise_sd=0.1, outlier_fraction=0.3,
                                    background_mean=5.0, background_sd=2.0, seed=0)
    outlier = sample["is_outlier"]
    assert abs(outlier.mean() - 0.3) < 0.025
    inliers = sample["y"][~outlier] - sample["x"][~outlier]
    assert abs(inliers.std() - 0.1) < 0.01
    background = sample["y"][outlier]
    assert abs(background.mean() - 5.0) < 0.15 and abs(background.std() - np.hypot(2.0, 0.1)) < 0.15
    assert np.all(sample["y_err"] == 0.1)


@pytest.mark.parametrize("kwargs, error", [
    ({"n": 1}, ValueError), ({"n": 2.5}, TypeError), ({"noise_sd": 0.0}, ValueError),
    ({"seed": -1}, ValueError), ({"x_range": (1.0, 1.0)}, ValueError), ({"x_range": 3}, TypeError),
    ({"slope": "steep"}, TypeError),
])
def test_simulate_regression_rejects_bad_arguments(kwargs, error):
    arguments = {"n": 10, "intercept": 0.0, "slope": 1.0, "noise_sd": 1.0, "seed": 0} | kwargs
    name = next(iter(kwargs)) if "x_range" not in kwargs else "x_range"
    with pytest.raises(error, match=name):
        data.simulate_regression(**arguments)


def test_simulate_outliers_rejects_a_fraction_outside_the_unit_interval():
    with pytest.raises(ValueError, match="outlier_fraction"):
        data.simulate_outliers(10, intercept=0.0, slope=1.0, noise_sd=0.1, outlier_fraction=1.5,
                               background_mean=0.0, background_sd=1.0, seed=0)


# --- the exact posterior ----------------------------------------------------------------

def test_regression_posterior_equals_gaussian_conditioning_of_the_joint():
    """Condition the joint Gaussian of (beta, y) on y: m0 + S0 X^T (X S0 X^T + s^2 I)^-1 (y - X m0)."""
    prior_mean, prior_sd, noise = np.array([1.0, -0.5]), np.array([3.0, 0.7]), 1.3
    mean, cov = exact.regression_posterior(X, Y, noise_sd=noise, prior_mean=tuple(prior_mean), prior_sd=tuple(prior_sd))
    design = np.column_stack([np.ones_like(X), X])
    prior_cov = np.diag(prior_sd**2)
    data_cov = design @ prior_cov @ design.T + noise**2 * np.eye(X.size)
    gain = prior_cov @ design.T @ np.linalg.inv(data_cov)
    np.testing.assert_allclose(mean, prior_mean + gain @ (Y - design @ prior_mean), rtol=1e-9)
    np.testing.assert_allclose(cov, prior_cov - gain @ design @ prior_cov, rtol=1e-8, atol=1e-12)


def test_regression_posterior_agrees_with_quadrature_on_a_grid():
    mean, cov = exact.regression_posterior(X, Y, noise_sd=TRUE["sigma"], prior_sd=PRIOR_SD)
    sd = np.sqrt(np.diag(cov))
    intercepts = np.linspace(mean[0] - 8 * sd[0], mean[0] + 8 * sd[0], 401)
    slopes = np.linspace(mean[1] - 8 * sd[1], mean[1] + 8 * sd[1], 401)
    a, b = np.meshgrid(intercepts, slopes, indexing="ij")
    log_post = (stats.norm.logpdf(a, 0, PRIOR_SD[0]) + stats.norm.logpdf(b, 0, PRIOR_SD[1])
                + stats.norm.logpdf(Y[None, None, :], a[..., None] + b[..., None] * X, TRUE["sigma"]).sum(-1))
    weight = np.exp(log_post - log_post.max())

    def integral(values):
        return integrate.simpson(integrate.simpson(values, x=slopes, axis=1), x=intercepts)

    norm = integral(weight)
    grid_mean = np.array([integral(weight * a), integral(weight * b)]) / norm
    grid_cov = np.array([[integral(weight * (u - grid_mean[i]) * (v - grid_mean[j])) / norm
                          for j, v in enumerate((a, b))] for i, u in enumerate((a, b))])
    np.testing.assert_allclose(mean, grid_mean, rtol=1e-6)
    np.testing.assert_allclose(cov, grid_cov, rtol=1e-5)


def test_regression_posterior_rejects_bad_input():
    with pytest.raises(ValueError, match="noise_sd"):
        exact.regression_posterior(X, Y, noise_sd=-1.0)
    with pytest.raises(ValueError, match="same length"):
        exact.regression_posterior(X, Y[:-1], noise_sd=1.0)
    with pytest.raises(TypeError, match="prior_sd"):
        exact.regression_posterior(X, Y, noise_sd=1.0, prior_sd=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="prior_sd"):
        exact.regression_posterior(X, Y, noise_sd=1.0, prior_sd=(1.0, 0.0))


def test_gaussian_kl_against_the_univariate_formula_and_monte_carlo():
    # one dimension: log(s_p/s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2
    univariate = np.log(2.0 / 0.5) + (0.5**2 + 1.0**2) / (2 * 2.0**2) - 0.5
    assert exact.gaussian_kl([1.0], [[0.25]], [0.0], [[4.0]]) == pytest.approx(univariate, rel=1e-12)
    mean_q, cov_q = np.array([0.3, -1.0]), np.array([[1.0, 0.4], [0.4, 0.5]])
    mean_p, cov_p = np.array([0.0, -0.8]), np.array([[2.0, -0.3], [-0.3, 0.8]])
    draws = stats.multivariate_normal(mean_q, cov_q).rvs(400_000, random_state=1)
    monte_carlo = np.mean(stats.multivariate_normal(mean_q, cov_q).logpdf(draws)
                          - stats.multivariate_normal(mean_p, cov_p).logpdf(draws))
    assert exact.gaussian_kl(mean_q, cov_q, mean_p, cov_p) == pytest.approx(monte_carlo, abs=0.005)
    assert exact.gaussian_kl(mean_p, cov_p, mean_p, cov_p) == pytest.approx(0.0, abs=1e-12)


# --- the models -------------------------------------------------------------------------

def test_models_simulate_when_y_is_none():
    import jax
    import torch
    from numpyro.infer import Predictive

    draws = Predictive(models.numpyro_linear_regression, num_samples=3)(jax.random.PRNGKey(0), X)
    assert draws["y"].shape == (3, X.size) and set(draws) == {"intercept", "slope", "sigma", "y"}
    draws = Predictive(models.numpyro_outlier_regression, num_samples=3)(jax.random.PRNGKey(0), *OUT_ARGS)
    assert draws["y"].shape == (3, OUT_ARGS[0].size)
    simulated = models.pyro_linear_regression()(torch.tensor(X, dtype=torch.float32))
    assert simulated.shape == (X.size,)


def test_pyro_module_has_the_numpyro_models_log_density():
    """Same parameters, same data: the two libraries' models give the same log joint density."""
    import pyro
    import torch
    from numpyro.infer.util import log_density

    values = {"intercept": 1.3, "slope": 0.4, "sigma": 0.8}
    numpyro_value, _ = log_density(models.numpyro_linear_regression, (X,), {"y": Y}, values)
    module = models.pyro_linear_regression()
    conditioned = pyro.condition(module, data={"linear.bias": torch.tensor([1.3]),
                                               "linear.weight": torch.tensor([[0.4]]),
                                               "sigma": torch.tensor(0.8)})
    trace = pyro.poutine.trace(conditioned).get_trace(torch.tensor(X, dtype=torch.float32),
                                                      torch.tensor(Y, dtype=torch.float32))
    assert float(trace.log_prob_sum()) == pytest.approx(float(numpyro_value), rel=1e-5)
    by_hand = (stats.norm.logpdf(1.3, 0, 5) + stats.norm.logpdf(0.4, 0, 2) + stats.expon.logpdf(0.8)
               + stats.norm.logpdf(Y, 1.3 + 0.4 * X, 0.8).sum())
    assert float(numpyro_value) == pytest.approx(by_hand, rel=1e-5)


def test_outlier_model_log_likelihood_is_the_two_component_mixture():
    from numpyro.infer.util import log_likelihood

    values = {"intercept": 0.4, "slope": 0.9, "background_mean": -0.2, "background_sd": 1.5, "Q": 0.3}
    x, y_err = OUT_ARGS
    per_point = log_likelihood(models.numpyro_outlier_regression, values, x, y_err, y=OUTLIERS["y"],
                               batch_ndims=0)["y"]
    mixture = (0.7 * stats.norm.pdf(OUTLIERS["y"], 0.4 + 0.9 * x, y_err)
               + 0.3 * stats.norm.pdf(OUTLIERS["y"], -0.2, np.sqrt(1.5**2 + y_err**2)))
    np.testing.assert_allclose(np.asarray(per_point), np.log(mixture), rtol=1e-5)


def test_outlier_probabilities_follow_bayes_rule():
    x, y_err = OUT_ARGS
    y = OUTLIERS["y"]
    draws = {"intercept": np.array([0.5, 0.2]), "slope": np.array([1.0, 1.1]), "background_mean": np.array([0.0, 0.3]),
             "background_sd": np.array([1.0, 2.0]), "Q": np.array([0.25, 0.4])}
    by_draw = []
    for i in range(2):
        line = (1 - draws["Q"][i]) * stats.norm.pdf(y, draws["intercept"][i] + draws["slope"][i] * x, y_err)
        background = draws["Q"][i] * stats.norm.pdf(y, draws["background_mean"][i],
                                                    np.sqrt(draws["background_sd"][i]**2 + y_err**2))
        by_draw.append(background / (background + line))
    np.testing.assert_allclose(models.outlier_probabilities(draws, x, y, y_err), np.mean(by_draw, axis=0), rtol=1e-9)


# --- NUTS chain methods -----------------------------------------------------------------

def test_sequential_and_vectorised_chains_sample_the_same_posterior(exact_posterior):
    """Both chain methods agree with the exact posterior (their draws differ: rounding, amplified by NUTS)."""
    mean, _ = exact_posterior
    runs = {method: mcmc.run_nuts(known_noise_model(), X, model_kwargs={"y": Y}, num_warmup=200, num_samples=500,
                                  num_chains=2, seed=3, chain_method=method)
            for method in ("vectorized", "sequential")}
    for run in runs.values():
        table = run.summary(["intercept", "slope"])
        errors = (table["mean"].to_numpy() - mean) / table["mcse_mean"].to_numpy()
        assert np.all(np.abs(errors) < 4), errors
    again = mcmc.run_nuts(known_noise_model(), X, model_kwargs={"y": Y}, num_warmup=200, num_samples=500,
                          num_chains=2, seed=3, chain_method="sequential")
    assert np.array_equal(again.posterior["slope"], runs["sequential"].posterior["slope"])


def test_run_nuts_rejects_an_unknown_chain_method():
    with pytest.raises(ValueError, match="chain_method"):
        mcmc.run_nuts(models.numpyro_linear_regression, X, model_kwargs={"y": Y}, chain_method="parallel")


# --- the chapter's fits against the exact posterior --------------------------------------

@pytest.fixture(scope="module")
def exact_posterior():
    return exact.regression_posterior(X, Y, noise_sd=TRUE["sigma"], prior_sd=PRIOR_SD)


@pytest.fixture(scope="module")
def known_nuts():
    return mcmc.run_nuts(known_noise_model(), X, model_kwargs={"y": Y}, **NUTS)


def test_known_noise_nuts_matches_the_exact_posterior(known_nuts, exact_posterior):
    mean, cov = exact_posterior
    table = known_nuts.summary(["intercept", "slope"])
    draws = np.column_stack([known_nuts.draws("intercept"), known_nuts.draws("slope")])
    assert known_nuts.divergences == 0 and table["r_hat"].max() < 1.01
    errors_in_mcse = (draws.mean(axis=0) - mean) / table["mcse_mean"].to_numpy()
    assert np.all(np.abs(errors_in_mcse) < 3), errors_in_mcse
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.10)


@pytest.fixture(scope="module")
def autoguide_fits():
    from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal

    model = known_noise_model()
    return {name: svi.run_svi(model, guide(model), X, model_kwargs={"y": Y}, settings=VI, seed=0)
            for name, guide in (("normal", AutoNormal), ("multivariate", AutoMultivariateNormal))}


def test_multivariate_guide_matches_the_exact_posterior(autoguide_fits, exact_posterior):
    mean, cov = exact_posterior
    params = autoguide_fits["multivariate"].params
    guide_cov = params["auto_scale_tril"] @ params["auto_scale_tril"].T
    assert np.all(np.abs(params["auto_loc"] - mean) < 0.02 * np.sqrt(np.diag(cov)))
    np.testing.assert_allclose(guide_cov, cov, rtol=0.10)


def test_mean_field_guide_recovers_the_means_but_not_the_correlation(autoguide_fits, exact_posterior):
    """AutoNormal: the exact means, no correlation (the exact one is strong), variances 1/Lambda_jj."""
    mean, cov = exact_posterior
    params = autoguide_fits["normal"].params
    sd = np.sqrt(np.diag(cov))
    guide_mean = np.array([params["intercept_auto_loc"], params["slope_auto_loc"]])
    guide_sd = np.array([params["intercept_auto_scale"], params["slope_auto_scale"]])
    assert np.all(np.abs(guide_mean - mean) < 0.02 * sd)
    exact_correlation = cov[0, 1] / np.prod(sd)
    assert exact_correlation < -0.8  # strong, and the mean-field guide has none by construction
    np.testing.assert_allclose(guide_sd, 1 / np.sqrt(np.diag(np.linalg.inv(cov))), rtol=0.05)
    assert np.all(guide_sd < 0.6 * sd)  # so it understates each marginal sd


def _maximise(log_target):
    import jax

    value_and_grad = jax.jit(jax.value_and_grad(lambda beta: -log_target({"intercept": beta[0], "slope": beta[1]})))
    fit = optimize.minimize(lambda beta: [np.asarray(v, float) for v in value_and_grad(beta)], np.zeros(2),
                            jac=True, method="BFGS", options={"gtol": 1e-10})
    return fit.x


def test_mle_is_least_squares_and_map_is_ridge():
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import log_density, log_likelihood

    model = known_noise_model()
    with jax.enable_x64(True):
        x, y = jnp.asarray(X), jnp.asarray(Y)
        mle = _maximise(lambda p: log_likelihood(model, p, x, y=y, batch_ndims=0)["y"].sum())
        map_estimate = _maximise(lambda p: log_density(model, (x,), {"y": y}, p)[0])
    design = np.column_stack([np.ones_like(X), X])
    least_squares = np.linalg.lstsq(design, Y, rcond=None)[0]
    ridge = np.linalg.solve(design.T @ design + TRUE["sigma"] ** 2 * np.diag([PRIOR_SD[0] ** -2, PRIOR_SD[1] ** -2]),
                            design.T @ Y)
    np.testing.assert_allclose(mle, least_squares, rtol=0, atol=1e-6)
    np.testing.assert_allclose(map_estimate, ridge, rtol=0, atol=1e-4)
    assert np.max(np.abs(ridge - least_squares)) > 1e-4  # the prior does move the estimate


# --- outliers ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def outlier_nuts():
    return mcmc.run_nuts(models.numpyro_outlier_regression, *OUT_ARGS, model_kwargs={"y": OUTLIERS["y"]}, **NUTS)


def test_outlier_nuts_recovers_the_true_line(outlier_nuts):
    table = outlier_nuts.summary()
    assert outlier_nuts.divergences == 0 and table["r_hat"].max() < 1.01
    for name, truth in OUT_TRUE.items():
        low, high = np.quantile(outlier_nuts.draws(name), [0.025, 0.975])
        assert low < truth < high, (name, low, high)
    # ordinary least squares on the same data misses the true slope by far more
    slope_ls = np.polyfit(OUTLIERS["x"], OUTLIERS["y"], 1)[0]
    assert abs(slope_ls - OUT_TRUE["slope"]) > 3 * abs(outlier_nuts.draws("slope").mean() - OUT_TRUE["slope"])


def test_outlier_probabilities_single_out_the_outliers(outlier_nuts):
    draws = {name: outlier_nuts.draws(name) for name in PARAMETERS}
    probability = models.outlier_probabilities(draws, *OUT_ARGS[:1], OUTLIERS["y"], OUT_ARGS[1])
    truth = OUTLIERS["is_outlier"]
    assert probability[~truth].max() < 0.5
    assert np.sum(probability[truth] > 0.5) >= truth.sum() - 1


def test_outlier_multivariate_guide_matches_nuts(outlier_nuts):
    import jax
    from numpyro.infer import Predictive
    from numpyro.infer.autoguide import AutoMultivariateNormal

    settings = SVISettings(learning_rate=0.05, final_learning_rate=0.002, average_last=0.3, num_steps=2000,
                           num_particles=8)
    guide = AutoMultivariateNormal(models.numpyro_outlier_regression)
    fit = svi.run_svi(models.numpyro_outlier_regression, guide, *OUT_ARGS, model_kwargs={"y": OUTLIERS["y"]},
                      settings=settings, seed=0)
    draws = Predictive(guide, params=fit.params, num_samples=20000)(jax.random.PRNGKey(0), *OUT_ARGS,
                                                                    y=OUTLIERS["y"])
    for name in PARAMETERS:
        reference = outlier_nuts.draws(name)
        assert abs(np.mean(draws[name]) - reference.mean()) < 0.25 * reference.std(), name


# --- Pyro ---------------------------------------------------------------------------------

def test_pyro_module_fit_matches_numpyro_nuts():
    import pyro
    import torch

    reference = mcmc.run_nuts(models.numpyro_linear_regression, X, model_kwargs={"y": Y}, **NUTS)
    steps, particles = 500, 16  # the chapter's settings
    pyro.clear_param_store()
    with torch.random.fork_rng(devices=[]), mcmc.torch_jit_trace_allowed():
        pyro.set_rng_seed(0)
        module = models.pyro_linear_regression()
        guide = pyro.infer.autoguide.AutoMultivariateNormal(module)
        optimiser = pyro.optim.ClippedAdam({"lr": 0.05, "lrd": (0.001 / 0.05) ** (1 / steps)})
        elbo = pyro.infer.JitTrace_ELBO(num_particles=particles, vectorize_particles=True, max_plate_nesting=1,
                                        ignore_jit_warnings=True)
        fit = pyro.infer.SVI(module, guide, optimiser, elbo)
        x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
        for _ in range(steps):
            fit.step(x, y)
        median = guide.median()  # a normal in the unconstrained space: median = mean for these two
    pyro.clear_param_store()
    for site, name in (("linear.bias", "intercept"), ("linear.weight", "slope")):
        draws = reference.draws(name)
        assert abs(float(median[site].reshape(())) - draws.mean()) < 0.1 * draws.std(), name
