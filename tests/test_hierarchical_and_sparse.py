"""Chapter 8's building blocks: grouped and sparse data, the hierarchical and sparse models,
the SVI plumbing for guides with many parameters, and Pyro's SVI loop.

Every model's log density is compared with one written out by hand with scipy; the
non-centred hierarchical model with the centred one through the change of variables;
the Pyro loop's fit with a closed-form posterior.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesbook import convergence, data, exact, mcmc, models, svi
from bayesbook.vi import SVISettings


# --- data -----------------------------------------------------------------------------

def test_grouped_data_are_reproducible_nested_and_follow_each_groups_line():
    big = data.simulate_groups(400, points_per_group=6, seed=3)
    again = data.simulate_groups(400, points_per_group=6, seed=3)
    assert all(np.array_equal(big[name], again[name]) for name in big)
    small = data.simulate_groups(5, points_per_group=6, seed=3)
    # the first five groups of the larger data set are the smaller one
    for name in ("x", "y", "y_err", "group"):
        assert np.array_equal(small[name], big[name][:30])
    assert np.array_equal(small["slope"], big["slope"][:5])
    assert big["x"].shape == (2400,) and np.array_equal(np.bincount(big["group"]), np.full(400, 6))
    # population: slopes Normal(0.5, 0.2), intercepts Normal(10, 1)
    assert abs(big["slope"].mean() - 0.5) < 0.03 and abs(big["slope"].std() - 0.2) < 0.02
    assert abs(big["intercept"].mean() - 10.0) < 0.15 and abs(big["intercept"].std() - 1.0) < 0.1
    # each point: y = intercept + slope * x + y_err * standard normal
    g = big["group"]
    standardised = (big["y"] - big["intercept"][g] - big["slope"][g] * big["x"]) / big["y_err"]
    assert abs(standardised.mean()) < 0.06 and abs(standardised.std() - 1.0) < 0.04
    assert big["x"].min() >= -10 and big["x"].max() <= 10
    assert big["y_err"].min() >= 2 and big["y_err"].max() <= 4
    assert not np.array_equal(big["y"], data.simulate_groups(400, points_per_group=6, seed=4)["y"])


def test_sparse_data_have_half_their_coefficients_zero_and_the_given_noise():
    sample = data.simulate_sparse(200, 5000, noise_sd=0.5, seed=1)
    beta, X, y = sample["beta"], sample["X"], sample["y"]
    assert X.shape == (5000, 200) and y.shape == (5000,)
    assert np.all(beta[100:] == 0) and np.all(beta[:100] != 0)
    magnitudes = np.abs(beta[:100])
    assert abs(magnitudes.mean() - 5.0) < 0.3 and 0.7 < np.std(magnitudes) < 1.3
    assert 30 < np.sum(beta[:100] > 0) < 70
    assert abs(X.std() - 1.0) < 0.01
    assert abs(np.std(y - X @ beta) - 0.5) < 0.02
    assert np.array_equal(y, data.simulate_sparse(200, 5000, noise_sd=0.5, seed=1)["y"])


@pytest.mark.parametrize("call, argument", [
    (lambda: data.simulate_groups(0, seed=0), "num_groups"),
    (lambda: data.simulate_groups(3, seed=0, slope_sd=-1.0), "slope_sd"),
    (lambda: data.simulate_groups(3, seed=0, error_range=(3.0, 2.0)), "error_range"),
    (lambda: data.simulate_groups(3, seed=0, x_range=5), "x_range"),
    (lambda: data.simulate_sparse(100, 2.5, seed=0), "num_observations"),
    (lambda: data.simulate_sparse(100, 100, noise_sd=0.0, seed=0), "noise_sd"),
])
def test_bad_data_arguments_are_named(call, argument):
    with pytest.raises((TypeError, ValueError), match=argument):
        call()


# --- models ---------------------------------------------------------------------------

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


SPARSE = data.simulate_sparse(6, 5, seed=2)
HORSESHOE = {"tau": 0.7, "lambda": np.array([0.5, 2.0, 1.0, 0.1, 3.0, 0.8]),
             "beta": np.array([1.0, -2.0, 0.5, 0.0, 4.0, -0.3]), "sigma": 0.6}


def horseshoe_log_density_by_hand():
    h = HORSESHOE
    return (stats.halfcauchy.logpdf(h["tau"]) + stats.halfcauchy.logpdf(h["lambda"]).sum()
            + stats.norm.logpdf(h["beta"], 0, h["tau"] * h["lambda"]).sum() + stats.halfnorm.logpdf(h["sigma"])
            + stats.norm.logpdf(SPARSE["y"], SPARSE["X"] @ h["beta"], h["sigma"]).sum())


def test_numpyro_horseshoe_log_density():
    from numpyro.infer.util import log_density

    value, _ = log_density(models.numpyro_horseshoe_regression, (SPARSE["X"], SPARSE["y"]), {}, HORSESHOE)
    assert float(value) == pytest.approx(horseshoe_log_density_by_hand(), rel=1e-5)


def pyro_log_density(prior, values, particles=None):
    import pyro
    import torch

    X, y = torch.tensor(SPARSE["X"]), torch.tensor(SPARSE["y"])
    conditioned = pyro.poutine.condition(models.pyro_sparse_regression,
                                         {name: torch.as_tensor(value) for name, value in values.items()})
    if particles is None:
        trace = pyro.poutine.trace(conditioned).get_trace(X, y, prior=prior)
        return float(trace.log_prob_sum())

    def batched(X, y, prior):  # what vectorize_particles does: a plate of particles left of the model's plates
        with pyro.plate("particles", particles, dim=-2):
            return conditioned(X, y, prior=prior)

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
    # three particles at once, each with its own values: each gets its own log density
    scale = np.array([1.0, 0.5, 2.0])
    batched = {"tau": HORSESHOE["tau"] * scale[:, None], "lambda": HORSESHOE["lambda"] * scale[:, None],
               "beta": HORSESHOE["beta"] * scale[:, None], "sigma": HORSESHOE["sigma"] * scale[:, None]}
    together = pyro_log_density("horseshoe", batched, particles=3)
    one_by_one = [pyro_log_density("horseshoe", {name: value[i, ...] if value.shape[-1] > 1 else value[i, 0]
                                                 for name, value in batched.items()}) for i in range(3)]
    np.testing.assert_allclose(together, one_by_one, rtol=1e-6)


def test_bad_sparse_prior_is_named():
    import torch

    with pytest.raises(ValueError, match="prior"):
        models.pyro_sparse_regression(torch.zeros(3, 2), prior="laplace")


# --- SVI plumbing for guides with many parameters --------------------------------------

def normal_mean_model(y=None):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0).expand([3]).to_event(1))
    with numpyro.plate("data", 4):
        numpyro.sample("y", dist.Normal(mu, 1.0).to_event(1), obs=y)


Y = np.array([[0.5, 1.0, -1.0], [1.5, 0.0, -2.0], [1.0, 2.0, -1.5], [0.0, 1.0, -0.5]])


def test_thinned_history_is_every_kth_entry_of_the_full_one():
    from numpyro.infer.autoguide import AutoMultivariateNormal

    settings = SVISettings(learning_rate=0.05, num_steps=200, num_particles=2)
    full = svi.run_svi(normal_mean_model, AutoMultivariateNormal(normal_mean_model), settings=settings, seed=1,
                       model_kwargs={"y": Y})
    thinned = svi.run_svi(normal_mean_model, AutoMultivariateNormal(normal_mean_model), settings=settings, seed=1,
                          model_kwargs={"y": Y}, history_every=20)
    np.testing.assert_allclose(thinned.losses, full.losses, rtol=1e-5)
    for name in full.history:
        assert thinned.history[name].shape[0] == 10
        np.testing.assert_allclose(thinned.history[name], full.history[name][19::20], rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="history_every"):
        svi.run_svi(normal_mean_model, AutoMultivariateNormal(normal_mean_model), settings=settings,
                    model_kwargs={"y": Y}, history_every=30)


def test_a_flow_guide_runs_and_its_nested_parameters_are_flattened_for_the_convergence_check():
    from numpyro.infer.autoguide import AutoIAFNormal

    settings = SVISettings(learning_rate=0.01, num_steps=400, num_particles=4, average_last=0.25)
    run = svi.run_svi(normal_mean_model, AutoIAFNormal(normal_mean_model, hidden_dims=[6, 6]), settings=settings,
                      seed=0, model_kwargs={"y": Y}, history_every=10)
    assert all(isinstance(value, np.ndarray) for value in run.history.values())
    assert any(name.startswith("auto_arn__0$params.") for name in run.history)
    assert len(convergence.check_svi(run).parameters.table) == sum(value[0].size for value in run.history.values())


class FakeRun:
    def __init__(self, losses, history):
        self.losses, self.history = losses, history


def test_steps_to_convergence_finds_where_a_run_stops_moving():
    rng = np.random.default_rng(0)
    steps = np.arange(4000)
    # a parameter that decays to its optimum with time constant 200 steps, plus small noise
    parameter = 3.0 * np.exp(-steps / 200) + 0.001 * rng.normal(size=steps.size)
    losses = 10 + 50 * np.exp(-steps / 200) + 0.1 * rng.normal(size=steps.size)
    run = FakeRun(losses, {"loc": parameter[9::10]})
    found = convergence.steps_to_convergence(run, checks=40)
    # converged once the drift over a window is within 0.01: only after several time constants
    assert found is not None and 1000 <= found <= 3000
    assert convergence.check_svi(FakeRun(losses[:found], {"loc": parameter[9:found:10]})).converged
    assert not convergence.check_svi(FakeRun(losses[:found - 100], {"loc": parameter[9:found - 100:10]})).converged
    # a run that drifts throughout never converges
    drifting = FakeRun(losses - steps * 0.01, {"loc": parameter[9::10] + steps[9::10] * 0.001})
    assert convergence.steps_to_convergence(drifting) is None


def test_vectorised_parameter_check_matches_column_by_column():
    rng = np.random.default_rng(1)
    history = {"a": np.cumsum(rng.normal(size=(300, 3)), axis=0) * 0.001 + np.linspace(0, 1, 300)[:, None] * [0, 1, 0.001]}
    report = convergence.check_parameters(history, window=60)
    for index in range(3):
        alone = convergence.check_parameters({"a": history["a"][:, index]}, window=60)
        row = report.table.loc[f"a[{index}]"]
        assert alone.table.loc["a", "drift"] == pytest.approx(row["drift"])
        assert alone.table.loc["a", "standard error"] == pytest.approx(row["standard error"])
        assert bool(alone.converged) == bool(row["converged"])
    assert not report.table.loc["a[1]", "converged"]


# --- Pyro's SVI loop ----------------------------------------------------------------------

def pyro_normal_mean(y):
    import pyro
    import pyro.distributions as dist

    mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
    with pyro.plate("data", y.shape[0]):
        pyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def test_pyro_svi_loop_recovers_a_conjugate_posterior_and_is_reproducible():
    import pyro
    import torch

    y = torch.tensor([0.3, 1.2, 0.8, 2.0, 1.1])
    pyro.param("left_over", torch.tensor(1.0))  # from an earlier fit: the loop must clear it
    runs = []
    for _ in range(2):
        guide = pyro.infer.autoguide.AutoNormal(pyro_normal_mean)
        run = svi.run_pyro_svi(pyro_normal_mean, guide, y, num_steps=1500, learning_rate=0.05,
                               final_learning_rate=0.002, num_particles=16, seed=0)
        runs.append((run.losses.copy(), pyro.param("AutoNormal.locs.mu").item(), pyro.param("AutoNormal.scales.mu").item()))
    assert "left_over" not in pyro.get_param_store()
    # exact posterior of mu: Normal(sum(y) / (n + 1), 1 / sqrt(n + 1))
    assert runs[0][1] == pytest.approx(float(y.sum()) / 6, abs=0.03)
    assert runs[0][2] == pytest.approx(1 / np.sqrt(6), rel=0.05)
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][0].shape == (1500,)
    with pytest.raises(ValueError, match="learning_rate"):
        svi.run_pyro_svi(pyro_normal_mean, guide, y, num_steps=10, learning_rate=-1.0)


# --- the exact posterior under a Gaussian prior with unknown noise ---------------------

def test_gaussian_prior_posterior_with_unknown_noise_matches_importance_sampling():
    """Quadrature over sigma against self-normalised importance sampling from the prior."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    y = X @ np.array([1.0, -0.5]) + 0.7 * rng.standard_normal(6)
    posterior = exact.gaussian_prior_regression_posterior(X, y, prior_sd=1.5, noise_prior_sd=1.0)
    draws = 2_000_000
    sigma = np.abs(rng.standard_normal(draws))                  # HalfNormal(1)
    beta = 1.5 * rng.standard_normal((draws, 2))               # Normal(0, 1.5)
    residuals = y[None, :] - beta @ X.T
    log_weights = -6 * np.log(sigma) - 0.5 * np.sum(residuals**2, axis=1) / sigma**2
    weights = np.exp(log_weights - log_weights.max())
    weights /= weights.sum()
    assert 1 / np.sum(weights**2) > 100_000                    # enough effective draws for 3 digits
    mean = weights @ beta
    np.testing.assert_allclose(posterior.beta_mean, mean, atol=0.005)
    np.testing.assert_allclose(posterior.beta_sd, np.sqrt(weights @ beta**2 - mean**2), rtol=0.005)
    assert posterior.sigma_mean == pytest.approx(weights @ sigma, rel=0.005)
    assert posterior.sigma_sd == pytest.approx(np.sqrt(weights @ sigma**2 - (weights @ sigma) ** 2), rel=0.01)


def test_gaussian_prior_posterior_with_a_sharp_noise_prior_is_the_known_noise_ridge():
    """A noise prior concentrated near sigma0 gives the Gaussian posterior with noise sigma0."""
    sparse = data.simulate_sparse(num_coefficients=8, num_observations=5, seed=2)
    X, y = sparse["X"], sparse["y"]
    # HalfNormal(0.01) is concentrated below 0.03; compare with the known-noise posterior
    # averaged over sigma's draws from that posterior (computed here from scratch)
    posterior = exact.gaussian_prior_regression_posterior(X, y, prior_sd=2.0, noise_prior_sd=0.01, grid_size=20000)
    assert posterior.sigma_mean < 0.03
    sigma0 = posterior.sigma_mean
    precision = X.T @ X / sigma0**2 + np.eye(8) / 4.0
    ridge_mean = np.linalg.solve(precision, X.T @ y / sigma0**2)
    np.testing.assert_allclose(posterior.beta_mean, ridge_mean, atol=0.02 * np.abs(ridge_mean).max())


@pytest.mark.parametrize("call, argument", [
    (lambda: exact.gaussian_prior_regression_posterior(np.ones(3), np.ones(3), prior_sd=1, noise_prior_sd=1), "X must be a matrix"),
    (lambda: exact.gaussian_prior_regression_posterior(np.ones((3, 2)), np.ones(3), prior_sd=0, noise_prior_sd=1), "prior_sd"),
    (lambda: exact.gaussian_prior_regression_posterior(np.ones((3, 2)), np.ones(3), prior_sd=1, noise_prior_sd=-1), "noise_prior_sd"),
    (lambda: exact.gaussian_prior_regression_posterior(np.ones((3, 2)), np.ones(3), prior_sd=1, noise_prior_sd=1, grid_size=5), "grid_size"),
])
def test_bad_arguments_of_the_gaussian_prior_posterior_are_named(call, argument):
    with pytest.raises((ValueError, TypeError), match=argument):
        call()


# --- the chapter's fits (lectures/hierarchical_and_sparse.md), with its settings ---------

NUM_GROUPS = 20
PAGE_NUTS = {"num_chains": 4, "num_warmup": 500, "num_samples": 1000, "target_accept_prob": 0.95,
             "chain_method": "sequential"}
PAGE_SVI = SVISettings(learning_rate=0.02, num_steps=4000, num_particles=4, average_last=0.25)
PAGE_PYRO = {"num_steps": 2000, "learning_rate": 0.1, "final_learning_rate": 0.001, "num_particles": 4}


@pytest.mark.slow
def test_hierarchical_nuts_mixes_and_the_full_covariance_guide_matches_a_long_run():
    """Issue 12: R-hat <= 1.01 and no divergences (non-centred, J = 20); the full-covariance
    guide's group means within 0.3 posterior sd of a long NUTS run's."""
    import jax
    from numpyro.infer import Predictive, init_to_median
    from numpyro.infer.autoguide import AutoMultivariateNormal

    groups = data.simulate_groups(NUM_GROUPS, seed=0)
    observed = (groups["group"], groups["x"], groups["y_err"], groups["y"])
    model = models.numpyro_hierarchical_regression_noncentred
    sizes = {"num_groups": NUM_GROUPS}
    page = mcmc.run_nuts(model, *observed, model_kwargs=sizes, seed=0, **PAGE_NUTS)
    assert page.diagnostics()["r_hat"] <= 1.01
    assert page.divergences == 0
    long_run = mcmc.run_nuts(model, *observed, model_kwargs=sizes, seed=1, **{**PAGE_NUTS, "num_samples": 5000})
    assert long_run.diagnostics()["r_hat"] <= 1.01
    guide = AutoMultivariateNormal(model, init_loc_fn=init_to_median)
    run = svi.run_svi(model, guide, *observed, model_kwargs=sizes, settings=PAGE_SVI, seed=0, history_every=10)
    draws = Predictive(model, guide=guide, params=run.params, num_samples=4000,
                       return_sites=["slope", "intercept"])(jax.random.PRNGKey(1), *observed[:3], **sizes)
    for site in ("slope", "intercept"):
        truth_mean, truth_sd = long_run.draws(site).mean(axis=0), long_run.draws(site).std(axis=0)
        guide_error = np.abs(np.asarray(draws[site]).mean(axis=0) - truth_mean) / truth_sd
        assert guide_error.max() <= 0.3, (site, guide_error.max())
        # the page's shorter NUTS run, which the page uses as its reference, agrees too
        page_error = np.abs(page.draws(site).mean(axis=0) - truth_mean) / truth_sd
        assert page_error.max() <= 0.15, (site, page_error.max())
    # and the guide's sds are close but, as the page says, a little too small
    sd_ratio = np.asarray(draws["slope"]).std(axis=0) / long_run.draws("slope").std(axis=0)
    assert 0.7 <= np.median(sd_ratio) < 1.0


@pytest.fixture(scope="module")
def horseshoe_fit():
    """The page's Pyro fit of the horseshoe model: 2000 draws of beta from the guide."""
    import pyro
    import torch

    sparse = data.simulate_sparse(num_coefficients=100, num_observations=100, noise_sd=0.5, seed=0)
    X, y = torch.tensor(sparse["X"], dtype=torch.float32), torch.tensor(sparse["y"], dtype=torch.float32)

    def horseshoe(X, y=None):
        return models.pyro_sparse_regression(X, y, prior="horseshoe")

    guide = pyro.infer.autoguide.AutoLowRankMultivariateNormal(horseshoe, rank=10)
    svi.run_pyro_svi(horseshoe, guide, X, y, seed=0, **PAGE_PYRO)
    with torch.no_grad():
        draws = pyro.infer.Predictive(horseshoe, guide=guide, num_samples=2000, parallel=True,
                                      return_sites=["beta"])(X)
    return sparse, draws["beta"].reshape(2000, -1).numpy()


@pytest.mark.slow
def test_horseshoe_beats_the_exact_gaussian_prior_posterior_on_the_zeros_and_keeps_the_signals(horseshoe_fit):
    """Issue 12: the horseshoe's error on the zero coefficients at least 3 times smaller than
    the Gaussian prior's, and on the non-zero ones no worse than 1.5 times."""
    sparse, beta_draws = horseshoe_fit
    truth = sparse["beta"]
    zero = truth == 0
    gaussian = exact.gaussian_prior_regression_posterior(sparse["X"], sparse["y"], prior_sd=10.0, noise_prior_sd=1.0)

    def rms(mean, mask):
        return np.sqrt(np.mean((mean - truth)[mask] ** 2))

    horseshoe_mean = beta_draws.mean(axis=0)
    assert rms(horseshoe_mean, zero) * 3 <= rms(gaussian.beta_mean, zero)
    assert rms(horseshoe_mean, ~zero) <= 1.5 * rms(gaussian.beta_mean, ~zero)
    # every true signal is kept: its 90 % interval excludes zero
    low, high = np.quantile(beta_draws, [0.05, 0.95], axis=0)
    assert np.all(((low > 0) | (high < 0))[~zero])


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 12's target is not met: the Pyro fit's means are within 0.5 NUTS sd "
                                       "for about half the coefficients, and NUTS itself does not mix on this "
                                       "posterior (R-hat about 1.05 on the page's run)")
def test_horseshoe_pyro_fit_within_half_a_nuts_sd_for_nine_coefficients_in_ten(horseshoe_fit):
    sparse, beta_draws = horseshoe_fit
    nuts = mcmc.run_nuts(models.numpyro_horseshoe_regression, sparse["X"], sparse["y"], num_chains=2,
                         num_warmup=500, num_samples=500, seed=0, target_accept_prob=0.95, chain_method="sequential")
    reference = nuts.draws("beta")
    distance = np.abs(beta_draws.mean(axis=0) - reference.mean(axis=0)) / reference.std(axis=0)
    assert np.mean(distance < 0.5) >= 0.9
