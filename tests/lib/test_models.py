"""bayesbook.models: every model's log density against one written out by hand, and its documented properties.

On small data sets of the tests' own: the eight schools models (chapter 6) against the
joint log density written out with SciPy from their documented priors, the Jacobian
between the centred and non-centred forms, the swept centring, simulation, and their
exact posterior (quadrature over tau) against the stored reference; the regression,
outlier, hierarchical, horseshoe and sparse models (chapters 7 and 8), the Pyro
regression module against the NumPyro model, the non-centred hierarchical model against
the centred one through the change of variables, and the outlier probabilities against
Bayes' rule written without logarithms.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesbook import data, models

# --- chapter 6: the eight schools ---------------------------------------------------------

SCHOOLS_Y, SCHOOLS_SIGMA = data.eight_schools()
MU_SD, TAU_SCALE = 5.0, 5.0  # the models' priors, as their docstrings state them
REFERENCE = data.eight_schools_reference()["summary"]


def schools_log_density_by_hand(mu, tau, theta):
    """The centred joint log density ``log p(mu, tau, theta, y)``, written out."""
    return (stats.norm(0, MU_SD).logpdf(mu) + stats.halfcauchy(scale=TAU_SCALE).logpdf(tau)
            + stats.norm(mu, tau).logpdf(theta).sum() + stats.norm(theta, SCHOOLS_SIGMA).logpdf(SCHOOLS_Y).sum())


def schools_points(count, seed):
    rng = np.random.default_rng(seed)
    return [(rng.normal(0, 5), np.exp(rng.normal()), rng.normal(size=8)) for _ in range(count)]


def numpyro_log_joint(model, values, **model_kwargs):
    from numpyro.infer.util import log_density

    value, _ = log_density(model, (SCHOOLS_SIGMA,), {"y": SCHOOLS_Y, **model_kwargs}, values)
    return float(value)


# --- log densities ------------------------------------------------------------------------

@pytest.mark.parametrize("mu, tau, eta", schools_points(6, seed=11))
def test_centred_and_noncentred_log_densities_differ_by_the_jacobian(mu, tau, eta):
    theta = mu + tau * eta
    centred = numpyro_log_joint(models.numpyro_eight_schools_centred, {"mu": mu, "tau": tau, "theta": theta})
    noncentred = numpyro_log_joint(models.numpyro_eight_schools_noncentred, {"mu": mu, "tau": tau, "eta": eta})
    assert centred == pytest.approx(schools_log_density_by_hand(mu, tau, theta), abs=1e-3)
    # p(theta | mu, tau) = p(eta) / tau for each of the eight schools
    assert noncentred - 8 * np.log(tau) == pytest.approx(centred, abs=1e-3)


def test_the_swept_model_is_centred_at_one_and_non_centred_at_zero():
    """models.numpyro_eight_schools with a traced centring equals the centred model's density at 1
    and the hand-written non-centred model's at 0."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import log_density

    def swept(centered, mu, tau, latent):
        return log_density(models.numpyro_eight_schools, (SCHOOLS_SIGMA,), {"y": SCHOOLS_Y, "centered": centered},
                           {"mu": mu, "tau": tau, "theta_decentered": latent})[0]

    swept = jax.jit(swept)
    for mu, tau, eta in schools_points(10, seed=13):
        theta = mu + tau * eta
        at_one = float(swept(jnp.asarray(1.0), mu, tau, theta))
        at_zero = float(swept(jnp.asarray(0.0), mu, tau, eta))
        assert at_one == pytest.approx(schools_log_density_by_hand(mu, tau, theta), abs=1e-3)
        noncentred = numpyro_log_joint(models.numpyro_eight_schools_noncentred, {"mu": mu, "tau": tau, "eta": eta})
        assert at_zero == pytest.approx(noncentred, abs=1e-4)


def test_the_python_number_one_leaves_the_model_unchanged_and_a_jax_value_adds_the_decentred_site():
    import jax
    import jax.numpy as jnp
    from numpyro import handlers

    def sites(**kwargs):
        trace = handlers.trace(handlers.seed(models.numpyro_eight_schools, jax.random.PRNGKey(0))).get_trace(
            SCHOOLS_SIGMA, SCHOOLS_Y, **kwargs)
        return {name for name, site in trace.items() if site["type"] == "sample" and not site["is_observed"]}

    assert sites() == {"mu", "tau", "theta"}
    assert sites(centered=1) == {"mu", "tau", "theta"}
    assert sites(centered=jnp.asarray(1.0)) == {"mu", "tau", "theta_decentered"}
    assert sites(centered=0.0) == {"mu", "tau", "theta_decentered"}


@pytest.mark.parametrize("centered", [0.0, 0.3, 1.0])
def test_theta_is_the_documented_function_of_the_decentred_site(centered):
    """theta = mu + tau**(1 - c) * (theta_decentered - c * mu), recorded as a deterministic site."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer import Predictive

    draws = Predictive(models.numpyro_eight_schools, num_samples=200)(
        jax.random.PRNGKey(15), SCHOOLS_SIGMA, centered=jnp.asarray(centered))
    mu, tau = np.asarray(draws["mu"])[:, None], np.asarray(draws["tau"])[:, None]
    expected = mu + tau ** (1 - centered) * (np.asarray(draws["theta_decentered"]) - centered * mu)
    np.testing.assert_allclose(draws["theta"], expected, rtol=1e-4, atol=1e-4)


def test_the_noncentred_model_records_theta_as_mu_plus_tau_eta():
    import jax
    from numpyro.infer import Predictive

    draws = Predictive(models.numpyro_eight_schools_noncentred, num_samples=200)(jax.random.PRNGKey(16), SCHOOLS_SIGMA)
    np.testing.assert_allclose(draws["theta"], draws["mu"][:, None] + draws["tau"][:, None] * draws["eta"],
                               rtol=1e-5, atol=1e-5)


# --- simulation -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["numpyro_eight_schools_centred", "numpyro_eight_schools_noncentred",
                                  "numpyro_eight_schools"])
def test_numpyro_models_simulate_when_y_is_none(name):
    import jax
    from numpyro.infer import Predictive

    draws = Predictive(getattr(models, name), num_samples=3000)(jax.random.PRNGKey(17), SCHOOLS_SIGMA)
    assert draws["y"].shape == (3000, 8) and draws["theta"].shape == (3000, 8)
    assert np.std(draws["mu"]) == pytest.approx(MU_SD, rel=0.05)
    assert np.median(draws["tau"]) == pytest.approx(stats.halfcauchy(scale=TAU_SCALE).median(), rel=0.08)
    # y_j - theta_j ~ Normal(0, sigma_j)
    np.testing.assert_allclose(np.std(draws["y"] - draws["theta"], axis=0), SCHOOLS_SIGMA, rtol=0.06)


# --- the Pyro model -----------------------------------------------------------------------------

def pyro_trace(values):
    import pyro
    import torch

    conditioned = pyro.poutine.condition(models.pyro_eight_schools_noncentred,
                                         data={name: torch.tensor(value, dtype=torch.float64) for name, value in values.items()})
    return pyro.poutine.trace(conditioned).get_trace(torch.tensor(SCHOOLS_SIGMA), torch.tensor(SCHOOLS_Y))


@pytest.mark.parametrize("mu, tau, eta", schools_points(4, seed=18))
def test_pyro_model_is_the_noncentred_model(mu, tau, eta):
    trace = pyro_trace({"mu": mu, "tau": tau, "eta": eta})
    noncentred = numpyro_log_joint(models.numpyro_eight_schools_noncentred, {"mu": mu, "tau": tau, "eta": eta})
    assert float(trace.log_prob_sum()) == pytest.approx(noncentred, abs=1e-3)
    np.testing.assert_allclose(trace.nodes["theta"]["value"].numpy(), mu + tau * eta, rtol=1e-10)


def test_pyro_model_simulates_when_y_is_none():
    import pyro
    import torch

    pyro.set_rng_seed(19)
    draws = pyro.infer.Predictive(models.pyro_eight_schools_noncentred, num_samples=2000)(torch.tensor(SCHOOLS_SIGMA))
    assert draws["y"].shape == (2000, 8)
    assert float(draws["mu"].std()) == pytest.approx(MU_SD, rel=0.07)
    np.testing.assert_allclose((draws["y"] - draws["theta"]).std(dim=0).numpy(), SCHOOLS_SIGMA, rtol=0.08)


# --- the exact posterior, by quadrature over tau ----------------------------------------------

def schools_exact_moments(u=np.linspace(-25.0, 12.0, 60_001)):
    """Posterior means and sds by quadrature over ``u = log tau`` (a uniform grid), mu and theta integrated out exactly.

    Given tau, y ~ Normal(0, diag(sigma^2 + tau^2) + MU_SD^2 11') (mu integrated out, its
    determinant and inverse by the matrix determinant lemma and Sherman-Morrison),
    p(mu | tau, y) is normal, and p(theta_j | mu, tau, y) is normal with a mean linear in mu.
    """
    tau = np.exp(u)[:, None]
    total = SCHOOLS_SIGMA**2 + tau**2  # (grid, schools)
    inverse_sum = np.sum(1 / total, axis=1)
    log_det = np.sum(np.log(total), axis=1) + np.log1p(MU_SD**2 * inverse_sum)
    quadratic = (np.sum(SCHOOLS_Y**2 / total, axis=1)
                 - MU_SD**2 * np.sum(SCHOOLS_Y / total, axis=1) ** 2 / (1 + MU_SD**2 * inverse_sum))
    log_evidence = -0.5 * (len(SCHOOLS_Y) * np.log(2 * np.pi) + log_det + quadratic)
    log_weight = stats.halfcauchy(scale=TAU_SCALE).logpdf(tau[:, 0]) + u + log_evidence  # d tau = tau du
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    precision_mu = 1 / MU_SD**2 + inverse_sum
    mean_mu, var_mu = np.sum(SCHOOLS_Y / total, axis=1) / precision_mu, 1 / precision_mu
    shrink = SCHOOLS_SIGMA**2 / total  # the weight of mu in E[theta_j | mu, tau, y]
    mean_theta = (1 - shrink) * SCHOOLS_Y + shrink * mean_mu[:, None]
    var_theta = SCHOOLS_SIGMA**2 * tau**2 / total + shrink**2 * var_mu[:, None]

    def moments(mean, second):
        first = weight @ mean
        return first, np.sqrt(weight @ second - first**2)

    result = {"tau": moments(tau[:, 0], tau[:, 0] ** 2), "log_tau": moments(u, u**2),
              "mu": moments(mean_mu, var_mu + mean_mu**2)}
    means, sds = moments(mean_theta, var_theta + mean_theta**2)
    result.update({f"theta_{j + 1}": (means[j], sds[j]) for j in range(8)})
    return result


@pytest.fixture(scope="module")
def schools_exact():
    return schools_exact_moments()


def test_the_quadrature_is_converged(schools_exact):
    """A grid a quarter as fine over a narrower range gives the same moments."""
    coarse = schools_exact_moments(np.linspace(-22.0, 10.0, 15_001))
    for name, (mean, sd) in schools_exact.items():
        assert coarse[name][0] == pytest.approx(mean, rel=1e-6, abs=1e-8), name
        assert coarse[name][1] == pytest.approx(sd, rel=1e-6), name


def test_reference_posterior_agrees_with_quadrature(schools_exact):
    """The stored long run: every mean within 4 of its MCSEs of the exact value, every sd within 1 %."""
    for name, (mean, sd) in schools_exact.items():
        row = REFERENCE[name]
        assert abs(row["mean"] - mean) < 4 * row["mcse_mean"], (name, row["mean"], mean)
        assert row["sd"] == pytest.approx(sd, rel=0.01), (name, row["sd"], sd)
        assert row["r_hat"] < 1.001


def test_known_values_of_the_eight_schools_posterior(schools_exact):
    """The textbook numbers (e.g. BDA3 ch. 5, with this prior): mu about 4.4, tau about 3.6."""
    assert schools_exact["mu"][0] == pytest.approx(4.4, abs=0.05)
    assert schools_exact["tau"][0] == pytest.approx(3.6, abs=0.05)


def test_each_school_is_shrunk_towards_the_population_mean(schools_exact):
    """E[theta_j | y] lies between y_j and E[mu | y], in the reference and in the exact posterior."""
    for posterior_mean, mu in ((lambda j: REFERENCE[f"theta_{j}"]["mean"], REFERENCE["mu"]["mean"]),
                               (lambda j: schools_exact[f"theta_{j}"][0], schools_exact["mu"][0])):
        for j in range(1, 9):
            y_j = SCHOOLS_Y[j - 1]
            assert min(y_j, mu) < posterior_mean(j) < max(y_j, mu), (j, y_j, posterior_mean(j), mu)


# --- chapter 7: a line, and a line with outliers ---------------------------------------

X, Y = data.simulate_regression(8, intercept=-1.0, slope=0.3, noise_sd=0.5, seed=11)
OUTLIERS = data.simulate_outliers(12, intercept=0.2, slope=-0.8, noise_sd=0.3, outlier_fraction=0.3,
                                  background_mean=1.0, background_sd=2.0, seed=5)
LINE = {"intercept": 1.3, "slope": 0.4, "sigma": 0.8}


def line_log_density_by_hand(values, intercept_sd=5.0, slope_sd=2.0, noise_rate=1.0):
    return (stats.norm.logpdf(values["intercept"], 0, intercept_sd) + stats.norm.logpdf(values["slope"], 0, slope_sd)
            + stats.expon.logpdf(values["sigma"], scale=1 / noise_rate)
            + stats.norm.logpdf(Y, values["intercept"] + values["slope"] * X, values["sigma"]).sum())


@pytest.mark.parametrize("scales", [{}, {"intercept_sd": 1.5, "slope_sd": 0.7, "noise_rate": 2.5}])
def test_linear_regression_log_density_is_the_one_written_by_hand(scales):
    from numpyro.infer.util import log_density

    value, _ = log_density(models.numpyro_linear_regression, (X,), {"y": Y, **scales}, LINE)
    assert float(value) == pytest.approx(line_log_density_by_hand(LINE, **scales), rel=1e-5)


@pytest.mark.parametrize("scales", [{}, {"intercept_sd": 1.5, "slope_sd": 0.7, "noise_rate": 2.5}])
def test_pyro_module_has_the_numpyro_models_log_density(scales):
    """Same parameters, same data: the Pyro module's log joint density is the hand-written one."""
    import pyro
    import torch

    module = models.pyro_linear_regression(**scales)
    conditioned = pyro.condition(module, data={"linear.bias": torch.tensor([LINE["intercept"]]),
                                               "linear.weight": torch.tensor([[LINE["slope"]]]),
                                               "sigma": torch.tensor(LINE["sigma"])})
    trace = pyro.poutine.trace(conditioned).get_trace(torch.tensor(X, dtype=torch.float32),
                                                      torch.tensor(Y, dtype=torch.float32))
    assert float(trace.log_prob_sum()) == pytest.approx(line_log_density_by_hand(LINE, **scales), rel=1e-5)
    assert {"linear.weight", "linear.bias", "sigma", "y"} <= set(trace.nodes)


def test_regression_models_simulate_when_y_is_none():
    import jax
    import torch
    from numpyro.infer import Predictive

    draws = Predictive(models.numpyro_linear_regression, num_samples=3)(jax.random.PRNGKey(0), X)
    assert draws["y"].shape == (3, X.size) and set(draws) == {"intercept", "slope", "sigma", "y"}
    draws = Predictive(models.numpyro_outlier_regression, num_samples=3)(jax.random.PRNGKey(0), OUTLIERS["x"],
                                                                          OUTLIERS["y_err"])
    assert draws["y"].shape == (3, OUTLIERS["x"].size)
    assert set(draws) == {"intercept", "slope", "background_mean", "background_sd", "Q", "y"}
    simulated = models.pyro_linear_regression()(torch.tensor(X, dtype=torch.float32))
    assert simulated.shape == (X.size,)


def test_the_prior_scales_reach_the_linear_models_prior():
    import jax
    from numpyro.infer import Predictive

    draws = Predictive(models.numpyro_linear_regression, num_samples=20000)(
        jax.random.PRNGKey(1), X, intercept_sd=3.0, slope_sd=0.1, noise_rate=4.0)
    assert np.std(draws["intercept"]) == pytest.approx(3.0, rel=0.03)
    assert np.std(draws["slope"]) == pytest.approx(0.1, rel=0.03)
    assert np.mean(draws["sigma"]) == pytest.approx(0.25, rel=0.03)


def test_outlier_model_log_likelihood_is_the_two_component_mixture():
    from numpyro.infer.util import log_likelihood

    values = {"intercept": 0.4, "slope": 0.9, "background_mean": -0.2, "background_sd": 1.5, "Q": 0.3}
    x, y, y_err = OUTLIERS["x"], OUTLIERS["y"], OUTLIERS["y_err"]
    per_point = log_likelihood(models.numpyro_outlier_regression, values, x, y_err, y=y, batch_ndims=0)["y"]
    mixture = (0.7 * stats.norm.pdf(y, 0.4 + 0.9 * x, y_err)
               + 0.3 * stats.norm.pdf(y, -0.2, np.sqrt(1.5**2 + y_err**2)))
    np.testing.assert_allclose(np.asarray(per_point), np.log(mixture), rtol=1e-5)


def test_outlier_model_log_density_adds_the_priors():
    from numpyro.infer.util import log_density

    values = {"intercept": 0.4, "slope": 0.9, "background_mean": -0.2, "background_sd": 1.5, "Q": 0.3}
    x, y, y_err = OUTLIERS["x"], OUTLIERS["y"], OUTLIERS["y_err"]
    value, _ = log_density(models.numpyro_outlier_regression, (x, y_err), {"y": y, "slope_sd": 0.5}, values)
    mixture = (0.7 * stats.norm.pdf(y, 0.4 + 0.9 * x, y_err)
               + 0.3 * stats.norm.pdf(y, -0.2, np.sqrt(1.5**2 + y_err**2)))
    priors = (stats.norm.logpdf(0.4, 0, 5) + stats.norm.logpdf(0.9, 0, 0.5) + stats.norm.logpdf(-0.2, 0, 2)
              + stats.halfnorm.logpdf(1.5, scale=3) + stats.uniform.logpdf(0.3))
    assert float(value) == pytest.approx(priors + np.log(mixture).sum(), rel=1e-5)


def outlier_probabilities_by_hand(draws, x, y, y_err):
    """Bayes' rule, draw by draw, without logarithms: Q b_i / (Q b_i + (1 - Q) l_i), then the average."""
    by_draw = []
    for i in range(len(draws["Q"])):
        line = (1 - draws["Q"][i]) * stats.norm.pdf(y, draws["intercept"][i] + draws["slope"][i] * x, y_err)
        background = draws["Q"][i] * stats.norm.pdf(y, draws["background_mean"][i],
                                                    np.sqrt(draws["background_sd"][i] ** 2 + y_err**2))
        by_draw.append(background / (background + line))
    return np.mean(by_draw, axis=0)


def test_outlier_probabilities_follow_bayes_rule():
    x, y, y_err = OUTLIERS["x"], OUTLIERS["y"], OUTLIERS["y_err"]
    rng = np.random.default_rng(3)
    draws = {"intercept": rng.normal(0.2, 0.1, 6), "slope": rng.normal(-0.8, 0.1, 6),
             "background_mean": rng.normal(1.0, 0.3, 6), "background_sd": rng.uniform(1.0, 3.0, 6),
             "Q": rng.uniform(0.1, 0.5, 6)}
    expected = outlier_probabilities_by_hand(draws, x, y, y_err)
    probability = models.outlier_probabilities(draws, x, y, y_err)
    assert probability.shape == (x.size,)
    np.testing.assert_allclose(probability, expected, rtol=1e-9)
    # draws shaped (chains, draws) give the same average as the flat draws
    shaped = {name: value.reshape(2, 3) for name, value in draws.items()}
    np.testing.assert_allclose(models.outlier_probabilities(shaped, x, y, y_err), expected, rtol=1e-12)
    # with draws near the simulated line, the points far from it are the outliers (an outlier
    # that fell near the line cannot be told apart from it)
    far = np.abs(y - (0.2 - 0.8 * x)) > 4 * y_err
    assert far.sum() >= 2 and np.all(probability[far] > 0.99) and np.all(probability[~far] < 0.5)


def test_outlier_probabilities_of_a_point_far_from_the_line_do_not_underflow():
    draws = {"intercept": np.array([0.0]), "slope": np.array([0.0]), "background_mean": np.array([0.0]),
             "background_sd": np.array([1.0]), "Q": np.array([0.1])}
    far = models.outlier_probabilities(draws, np.zeros(2), np.array([0.0, 60.0]), np.array([0.1, 0.1]))
    assert far[1] == pytest.approx(1.0) and 0 < far[0] < 0.1 and np.all(np.isfinite(far))


# --- chapter 8: a hierarchical regression --------------------------------------------------

GROUPS = data.simulate_groups(4, points_per_group=3, seed=0)
HYPER = {"slope_mean": 0.4, "slope_sd": 0.3, "intercept_mean": 9.0, "intercept_sd": 1.5}


def hierarchical_log_density_by_hand(slope, intercept):
    g = GROUPS["group"]
    return (stats.norm.logpdf(HYPER["slope_mean"], 0, 5) + stats.halfnorm.logpdf(HYPER["slope_sd"], scale=1)
            + stats.norm.logpdf(HYPER["intercept_mean"], 0, 25) + stats.halfnorm.logpdf(HYPER["intercept_sd"], scale=5)
            + stats.norm.logpdf(slope, HYPER["slope_mean"], HYPER["slope_sd"]).sum()
            + stats.norm.logpdf(intercept, HYPER["intercept_mean"], HYPER["intercept_sd"]).sum()
            + stats.norm.logpdf(GROUPS["y"], intercept[g] + slope[g] * GROUPS["x"], GROUPS["y_err"]).sum())


def test_hierarchical_model_log_density_and_its_non_centred_form():
    from numpyro.infer.util import log_density

    rng = np.random.default_rng(0)
    z_slope, z_intercept = rng.normal(size=4), rng.normal(size=4)
    slope = HYPER["slope_mean"] + HYPER["slope_sd"] * z_slope
    intercept = HYPER["intercept_mean"] + HYPER["intercept_sd"] * z_intercept
    args = (GROUPS["group"], GROUPS["x"], GROUPS["y_err"], GROUPS["y"])
    expected = hierarchical_log_density_by_hand(slope, intercept)
    centred, _ = log_density(models.numpyro_hierarchical_regression, args, {"num_groups": 4},
                             {**HYPER, "slope": slope, "intercept": intercept})
    assert float(centred) == pytest.approx(expected, rel=1e-5)
    # non-centred: the density of the standardised variables is the centred one times
    # the Jacobian |d slope / d z| = slope_sd per group (and intercept_sd)
    noncentred, trace = log_density(models.numpyro_hierarchical_regression_noncentred, args, {"num_groups": 4},
                                    {**HYPER, "slope_decentered": z_slope, "intercept_decentered": z_intercept})
    jacobian = 4 * (np.log(HYPER["slope_sd"]) + np.log(HYPER["intercept_sd"]))
    assert float(noncentred) == pytest.approx(expected + jacobian, rel=1e-5)
    np.testing.assert_allclose(trace["slope"]["value"], slope, rtol=1e-5)
    np.testing.assert_allclose(trace["intercept"]["value"], intercept, rtol=1e-5)


def test_hierarchical_model_simulates_when_y_is_none():
    import jax
    from numpyro.infer import Predictive

    draws = Predictive(models.numpyro_hierarchical_regression, num_samples=4000)(
        jax.random.PRNGKey(0), GROUPS["group"], GROUPS["x"], GROUPS["y_err"], num_groups=4)
    assert draws["y"].shape == (4000, 12) and draws["slope"].shape == (4000, 4)
    assert abs(float(np.std(draws["slope_mean"])) - 5.0) < 0.2
    noncentred = Predictive(models.numpyro_hierarchical_regression_noncentred, num_samples=10)(
        jax.random.PRNGKey(0), GROUPS["group"], GROUPS["x"], GROUPS["y_err"], num_groups=4)
    assert {"slope_decentered", "intercept_decentered", "slope", "intercept", "y"} <= set(noncentred)
    assert noncentred["slope"].shape == (10, 4)


# --- chapter 8: sparse regression ------------------------------------------------------------

SPARSE = data.simulate_sparse(6, 5, seed=2)
HORSESHOE = {"tau": 0.7, "lambda": np.array([0.5, 2.0, 1.0, 0.1, 3.0, 0.8]),
             "beta": np.array([1.0, -2.0, 0.5, 0.0, 4.0, -0.3]), "sigma": 0.6}


def horseshoe_log_density_by_hand(noise_prior_sd=1.0):
    h = HORSESHOE
    return (stats.halfcauchy.logpdf(h["tau"]) + stats.halfcauchy.logpdf(h["lambda"]).sum()
            + stats.norm.logpdf(h["beta"], 0, h["tau"] * h["lambda"]).sum()
            + stats.halfnorm.logpdf(h["sigma"], scale=noise_prior_sd)
            + stats.norm.logpdf(SPARSE["y"], SPARSE["X"] @ h["beta"], h["sigma"]).sum())


@pytest.mark.parametrize("noise_prior_sd", [1.0, 0.3])
def test_numpyro_horseshoe_log_density(noise_prior_sd):
    from numpyro.infer.util import log_density

    value, _ = log_density(models.numpyro_horseshoe_regression, (SPARSE["X"], SPARSE["y"]),
                           {"noise_prior_sd": noise_prior_sd}, HORSESHOE)
    assert float(value) == pytest.approx(horseshoe_log_density_by_hand(noise_prior_sd), rel=1e-5)


def pyro_log_density(prior, values, particles=None, **scales):
    import pyro
    import torch

    X, y = torch.tensor(SPARSE["X"]), torch.tensor(SPARSE["y"])
    conditioned = pyro.poutine.condition(models.pyro_sparse_regression,
                                         {name: torch.as_tensor(value) for name, value in values.items()})
    if particles is None:
        trace = pyro.poutine.trace(conditioned).get_trace(X, y, prior=prior, **scales)
        return float(trace.log_prob_sum())

    def batched(X, y, prior):  # what vectorize_particles does: a plate of particles left of the model's plates
        with pyro.plate("particles", particles, dim=-2):
            return conditioned(X, y, prior=prior, **scales)

    trace = pyro.poutine.trace(batched).get_trace(X, y, prior=prior)
    trace.compute_log_prob()
    total = 0.0
    for site in trace.nodes.values():
        if site["type"] == "sample":
            log_prob = site["log_prob"]
            # per particle: sum everything but the particle dimension
            total = total + log_prob.reshape(particles, -1).sum(-1) if log_prob.dim() >= 2 else total + log_prob
    return total.numpy()


def test_pyro_sparse_regression_log_densities_agree_with_scipy_with_and_without_particles():
    horseshoe = pyro_log_density("horseshoe", HORSESHOE)
    assert horseshoe == pytest.approx(horseshoe_log_density_by_hand(), rel=1e-6)
    gaussian_values = {"beta": HORSESHOE["beta"], "sigma": HORSESHOE["sigma"]}
    by_hand = (stats.norm.logpdf(HORSESHOE["beta"], 0, 10).sum() + stats.halfnorm.logpdf(HORSESHOE["sigma"])
               + stats.norm.logpdf(SPARSE["y"], SPARSE["X"] @ HORSESHOE["beta"], HORSESHOE["sigma"]).sum())
    assert pyro_log_density("gaussian", gaussian_values) == pytest.approx(by_hand, rel=1e-6)
    # the scales reach the priors
    scaled = (stats.norm.logpdf(HORSESHOE["beta"], 0, 2.0).sum() + stats.halfnorm.logpdf(HORSESHOE["sigma"], scale=0.4)
              + stats.norm.logpdf(SPARSE["y"], SPARSE["X"] @ HORSESHOE["beta"], HORSESHOE["sigma"]).sum())
    assert pyro_log_density("gaussian", gaussian_values, prior_sd=2.0, noise_prior_sd=0.4) == pytest.approx(
        scaled, rel=1e-6)
    # three particles at once, each with its own values: each gets its own log density
    scale = np.array([1.0, 0.5, 2.0])
    batched = {"tau": HORSESHOE["tau"] * scale[:, None], "lambda": HORSESHOE["lambda"] * scale[:, None],
               "beta": HORSESHOE["beta"] * scale[:, None], "sigma": HORSESHOE["sigma"] * scale[:, None]}
    together = pyro_log_density("horseshoe", batched, particles=3)
    one_by_one = [pyro_log_density("horseshoe", {name: value[i, ...] if value.shape[-1] > 1 else value[i, 0]
                                                 for name, value in batched.items()}) for i in range(3)]
    np.testing.assert_allclose(together, one_by_one, rtol=1e-6)


def test_the_sparse_models_sites_and_their_shapes():
    import pyro
    import torch

    X = torch.tensor(SPARSE["X"], dtype=torch.float32)
    for prior, latent in (("gaussian", {"beta", "sigma"}), ("horseshoe", {"tau", "lambda", "beta", "sigma"})):
        trace = pyro.poutine.trace(models.pyro_sparse_regression).get_trace(X, prior=prior)
        sampled = {name for name, site in trace.nodes.items()
                   if site["type"] == "sample" and not pyro.poutine.util.site_is_subsample(site)}
        assert sampled == latent | {"y"}
        assert trace.nodes["beta"]["value"].shape == (6,) and trace.nodes["y"]["value"].shape == (5,)
    assert models.SPARSE_PRIORS == ("gaussian", "horseshoe")


@pytest.mark.parametrize("prior", ["laplace", "Horseshoe", None, 3])
def test_bad_sparse_prior_is_named(prior):
    import torch

    with pytest.raises(ValueError, match="prior must be one of 'gaussian', 'horseshoe'"):
        models.pyro_sparse_regression(torch.zeros(3, 2), prior=prior)
