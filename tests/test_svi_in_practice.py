"""Chapter 5: the convergence check, the SVI runner, and the chapter's accuracy targets.

Ground truth: the exact Beta posterior of the coin; the known mean and covariance of
the 2-D Gaussian target (and the mean-field optimum 1/Lambda_ii derived from it); the
known weights and mode locations of the two-mode target.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesbook import convergence, data, exact, models, plotting, priors
from bayesbook.svi import run_svi
from bayesbook.vi import SVISettings

# --- the chapter's models and settings (lectures/svi_in_practice.md) ------------------

GOOD = SVISettings(learning_rate=0.3, final_learning_rate=0.002, average_last=0.5, num_steps=1000, num_particles=4)
SOURCE = SVISettings(learning_rate=0.0005, num_steps=5000, num_particles=1)
AUTO = SVISettings(learning_rate=0.05, final_learning_rate=0.001, average_last=0.5, num_steps=2000, num_particles=8)
MIXTURE = SVISettings(learning_rate=0.05, final_learning_rate=0.001, average_last=0.3, num_steps=3000,
                      num_particles=32)
TINY = SVISettings(learning_rate=0.0005, num_steps=400, num_particles=4)  # few steps, tiny learning rate
TARGET_MEAN = np.array([1.0, -2.0])
TARGET_COV = np.array([[1.0, 1.6], [1.6, 4.0]])  # sds 1 and 2, correlation 0.8
MODE_WEIGHT, MODE_DISTANCE, MODE_SD, TAIL_SCALE = 0.35, 5.0, 0.5, 2.0


def coin(n_flips=100):
    flips = data.simulate_bernoulli(0.8, n=1000, seed=20261122)
    k, n = data.count_successes(flips[:n_flips])
    return k, n, (priors.Beta(5, 5).numpyro(), *models.coin_data("numpyro", k, n))


def beta_guide(prior, n, k=None):
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    alpha = numpyro.param("alpha", 10.0, constraint=constraints.positive)
    beta = numpyro.param("beta", 10.0, constraint=constraints.positive)
    numpyro.sample("theta", dist.Beta(alpha, beta))


def correlated_target():
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("z", dist.MultivariateNormal(TARGET_MEAN, TARGET_COV))


def bimodal_target():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    z = numpyro.sample("z", dist.ImproperUniform(constraints.real_vector, (), event_shape=(2,)))
    u1 = (z[..., 0] + z[..., 1]) / jnp.sqrt(2.0)
    u2 = (z[..., 1] - z[..., 0]) / jnp.sqrt(2.0)
    modes = dist.MixtureSameFamily(dist.Categorical(probs=jnp.array([MODE_WEIGHT, 1 - MODE_WEIGHT])),
                                   dist.Normal(jnp.array([-MODE_DISTANCE, MODE_DISTANCE]), MODE_SD))
    numpyro.factor("log_density", modes.log_prob(u1) + dist.Cauchy(0.0, TAIL_SCALE).log_prob(u2))


def mixture_guide():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    weight = numpyro.param("weight", 0.5, constraint=constraints.unit_interval)
    means = numpyro.param("means", jnp.array([-1.0, 1.0]))
    sds = numpyro.param("sds", jnp.ones(2), constraint=constraints.positive)
    cross_sd = numpyro.param("cross_sd", 1.0, constraint=constraints.positive)
    angle = numpyro.param("angle", 0.3, constraint=constraints.interval(-jnp.pi / 2, jnp.pi / 2))
    components = dist.Categorical(probs=jnp.stack([weight, 1 - weight]))
    u1 = numpyro.sample("u1", dist.MixtureGeneral(components, [dist.Normal(means[0], sds[0]),
                                                               dist.Normal(means[1], sds[1])]),
                        infer={"is_auxiliary": True})
    u2 = numpyro.sample("u2", dist.Normal(0.0, cross_sd), infer={"is_auxiliary": True})
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    numpyro.sample("z", dist.Delta(jnp.stack([cos * u1 - sin * u2, sin * u1 + cos * u2], axis=-1), event_dim=1))


# --- the convergence check on synthetic histories --------------------------------------

@pytest.mark.parametrize("seed", range(10))
def test_stationary_noise_counts_as_converged(seed):
    losses = 100 + np.random.default_rng(seed).normal(0, 1.0, 2000)
    report = convergence.check_convergence(losses, window=200)
    assert report.converged, report
    assert report.final_loss == pytest.approx(100, abs=0.3)


def test_correlated_stationary_noise_counts_as_converged():
    """Batch means absorb the correlation of neighbouring losses (AR(1), phi = 0.8)."""
    verdicts = []
    for seed in range(40):
        noise = np.random.default_rng(seed).normal(0, 1.0, 2000)
        losses = np.empty_like(noise)
        losses[0] = noise[0]
        for step in range(1, len(noise)):
            losses[step] = 0.8 * losses[step - 1] + noise[step]
        verdicts.append(convergence.check_convergence(losses, window=200).converged)
    assert np.mean(verdicts) >= 0.9


@pytest.mark.parametrize("seed", range(5))
def test_a_slow_descent_hidden_in_noise_is_flagged(seed):
    steps = np.arange(2000)
    losses = 100 - 0.005 * steps + np.random.default_rng(seed).normal(0, 1.0, 2000)
    report = convergence.check_convergence(losses, window=200)
    assert not report.converged, report
    assert report.drop == pytest.approx(0.005 * 200, abs=0.4)  # the mean fell by slope * window


def test_a_rising_loss_is_not_converged():
    losses = 10 + 0.01 * np.arange(1000) + np.random.default_rng(0).normal(0, 0.1, 1000)
    report = convergence.check_convergence(losses, window=100)
    assert not report.converged and report.drop < 0


def test_noise_free_losses_use_the_relative_tolerance():
    assert convergence.check_convergence(np.full(400, 3.0), window=100).converged
    assert not convergence.check_convergence(3.0 - 1e-3 * np.arange(400), window=100).converged
    assert "NOT converged" in str(convergence.check_convergence(3.0 - 1e-3 * np.arange(400), window=100))


@pytest.mark.parametrize("losses, options, error, match", [
    (np.zeros(100), {"window": 100}, ValueError, "at least 2 \\* window"),
    (np.zeros((20, 20)), {"window": 10}, ValueError, "one-dimensional"),
    (np.r_[np.zeros(399), np.nan], {"window": 100}, ValueError, "finite"),
    (["a"] * 400, {"window": 100}, ValueError, "losses"),
    (np.zeros(400), {"window": 5}, ValueError, "window"),
    (np.zeros(400), {"window": 100.5}, TypeError, "window"),
    (np.zeros(400), {"z": 0}, ValueError, "z"),
    (np.zeros(400), {"rtol": -1}, ValueError, "rtol"),
])
def test_check_convergence_rejects_bad_arguments(losses, options, error, match):
    with pytest.raises(error, match=match):
        convergence.check_convergence(losses, **options)


def test_parameter_check_flags_a_drifting_parameter_and_passes_jitter():
    rng = np.random.default_rng(0)
    history = {"loc": rng.normal(0, 0.05, (1000, 3)), "log_scale": np.cumsum(np.full(1000, 0.001))}
    report = convergence.check_parameters(history)
    assert not report.converged and report.worst == "log_scale"
    assert report.table.loc["log_scale", "drift"] == pytest.approx(0.2)  # 0.001 per step, 200-step windows
    assert report.table.loc[["loc[0]", "loc[1]", "loc[2]"], "converged"].all()
    history["log_scale"] = np.full(1000, 2.0)
    assert convergence.check_parameters(history).converged
    with pytest.raises(ValueError, match="history"):
        convergence.check_parameters({})
    with pytest.raises(ValueError, match="at least"):
        convergence.check_parameters({"a": np.zeros(30)}, window=20)
    with pytest.raises(TypeError, match="run"):
        convergence.check_svi(np.zeros(100))


# --- the runner ------------------------------------------------------------------------

def test_run_svi_is_reproducible_and_a_batch_of_starts_equals_separate_runs():
    k, n, args = coin()
    starts = [{"alpha": 10.0, "beta": 10.0}, {"alpha": 50.0, "beta": 20.0}]
    settings = SVISettings(learning_rate=0.05, num_steps=200, num_particles=2)
    batch = run_svi(models.numpyro_coin_model, beta_guide, *args, settings=settings, seed=3, init_params=starts)
    for start, fit in zip(starts, batch):
        alone = run_svi(models.numpyro_coin_model, beta_guide, *args, settings=settings, seed=3, init_params=start)
        np.testing.assert_allclose(fit.losses, alone.losses, rtol=1e-4)
        np.testing.assert_allclose(fit.params["alpha"], alone.params["alpha"], rtol=1e-4)
    # the second fit really started from its own point
    assert batch[1].losses[0] != pytest.approx(batch[0].losses[0], rel=0.01)


def test_run_svi_rejects_bad_arguments():
    from numpyro.infer.autoguide import AutoNormal

    _, _, args = coin()
    with pytest.raises(ValueError, match="loss"):
        run_svi(models.numpyro_coin_model, beta_guide, *args, loss="renyi")
    with pytest.raises(TypeError, match="settings"):
        run_svi(models.numpyro_coin_model, beta_guide, *args, settings={"learning_rate": 0.1})
    with pytest.raises(TypeError, match="guide"):
        run_svi(models.numpyro_coin_model, "beta", *args)
    with pytest.raises(ValueError, match="init_params"):
        run_svi(models.numpyro_coin_model, beta_guide, *args, init_params=[{"alpha": 1.0}, {"beta": 1.0}])
    guide = AutoNormal(correlated_target)
    run_svi(correlated_target, guide, settings=SVISettings(num_steps=20))
    with pytest.raises(ValueError, match="already been fitted"):
        run_svi(correlated_target, guide, settings=SVISettings(num_steps=20))


def test_n_particle_gradient_is_the_mean_of_one_particle_gradients():
    """The chapter's particle study rests on this: Trace_ELBO(num_particles=N) at key K averages
    one-particle estimates at the keys random.split(K, N)."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer import Trace_ELBO

    _, _, args = coin()
    params = {"alpha": jnp.asarray(10.0), "beta": jnp.asarray(10.0)}

    def gradient(elbo):
        return jax.jit(lambda key: jax.grad(
            lambda p: elbo.loss(key, p, models.numpyro_coin_model, beta_guide, *args))(params)["alpha"])

    key = jax.random.PRNGKey(11)
    four = gradient(Trace_ELBO(num_particles=4))(key)
    singles = jax.vmap(gradient(Trace_ELBO(num_particles=1)))(jax.random.split(key, 4))
    assert float(four) == pytest.approx(float(np.mean(singles)), rel=1e-4)


# --- the chapter's targets -------------------------------------------------------------

@pytest.fixture(scope="module")
def coin_fits():
    k, n, args = coin()
    good = run_svi(models.numpyro_coin_model, beta_guide, *args, settings=GOOD, seed=1)
    source = run_svi(models.numpyro_coin_model, beta_guide, *args, settings=SOURCE, seed=1)
    return k, n, good, source


def test_coin_fit_matches_the_exact_posterior_and_the_check_tells_good_from_slow(coin_fits):
    k, n, good, source = coin_fits
    alpha, beta = 5 + k, 5 + n - k
    assert exact.beta_kl(float(good.params["alpha"]), float(good.params["beta"]), alpha, beta) < 1e-3
    assert exact.beta_kl(float(source.params["alpha"]), float(source.params["beta"]), alpha, beta) > 0.5
    assert convergence.check_svi(good).converged
    # what the chapter says of the source set-up: the loss cannot see its drift through
    # one-particle noise, the parameters can
    report = convergence.check_svi(source)
    assert report.loss.converged
    assert not report.parameters.converged and not report.converged
    # the loss floor: -ELBO >= -log p(Y), reached to within the noise
    floor = -exact.beta_binomial_log_evidence(5, 5, k, n)
    assert good.losses[-200:].mean() == pytest.approx(floor, abs=0.05)


def test_warm_start_reaches_the_converged_loss_in_fewer_steps(coin_fits):
    _, _, good, _ = coin_fits
    _, _, args_200 = coin(200)
    settings = SVISettings(learning_rate=0.05, num_steps=600, num_particles=4)
    cold, warm = run_svi(models.numpyro_coin_model, beta_guide, *args_200, settings=settings, seed=2,
                         init_params=[{"alpha": 10.0, "beta": 10.0}, good.params])
    level = cold.losses[-200:].mean()

    def steps_to_reach(losses, smoothing=25):
        running = np.convolve(losses, np.ones(smoothing) / smoothing, mode="valid")
        return int(np.argmax(running <= level + 0.1)) + smoothing

    assert steps_to_reach(warm.losses) < steps_to_reach(cold.losses) / 2


@pytest.fixture(scope="module")
def autoguide_fits():
    from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal

    return {guide_type.__name__: (guide_type, run_svi(correlated_target, guide_type(correlated_target),
                                                        settings=AUTO, seed=3))
            for guide_type in (AutoNormal, AutoMultivariateNormal)}


def test_multivariate_normal_autoguide_recovers_the_covariance(autoguide_fits):
    _, fit = autoguide_fits["AutoMultivariateNormal"]
    scale_tril = fit.params["auto_scale_tril"]
    covariance = scale_tril @ scale_tril.T
    np.testing.assert_allclose(covariance, TARGET_COV, rtol=0.10)
    np.testing.assert_allclose(fit.params["auto_loc"], TARGET_MEAN, atol=0.1)
    assert convergence.check_svi(fit).converged


def test_mean_field_autoguide_has_no_correlation_and_too_small_variances(autoguide_fits):
    """The optimum of KL(q || p) over independent normals has variances 1/Lambda_ii."""
    guide_type, fit = autoguide_fits["AutoNormal"]
    variances = fit.params["z_auto_scale"] ** 2
    optimum = 1 / np.diag(np.linalg.inv(TARGET_COV))
    np.testing.assert_allclose(variances, optimum, rtol=0.10)
    assert np.all(variances < 0.5 * np.diag(TARGET_COV))
    assert convergence.check_svi(fit).converged
    # off-diagonal zero: a location and a scale per coordinate, nothing that could correlate them
    assert set(fit.params) == {"z_auto_loc", "z_auto_scale"}
    assert fit.params["z_auto_scale"].shape == (2,)


def test_low_rank_covariance_as_the_chapter_reads_it_from_the_parameters():
    """The chapter's diag(s) (W W' + I) diag(s) against NumPyro's own LowRankMultivariateNormal."""
    from numpyro.infer.autoguide import AutoLowRankMultivariateNormal

    guide = AutoLowRankMultivariateNormal(correlated_target)
    fit = run_svi(correlated_target, guide, settings=AUTO, seed=3)
    scale, cov_factor = fit.params["auto_scale"], fit.params["auto_cov_factor"]
    factor = scale[:, None] * cov_factor
    chapter = factor @ factor.T + np.diag(scale**2)
    np.testing.assert_allclose(np.asarray(guide.get_posterior(fit.params).covariance_matrix), chapter, rtol=1e-5)
    np.testing.assert_allclose(chapter, TARGET_COV, rtol=0.10)  # rank one plus a diagonal suffices in 2-D


@pytest.mark.parametrize("guide_name", ["AutoNormal", "AutoMultivariateNormal"])
def test_the_check_flags_a_tiny_learning_rate_on_the_gaussian_target(guide_name):
    from numpyro.infer import autoguide

    guide = getattr(autoguide, guide_name)(correlated_target)
    fit = run_svi(correlated_target, guide, settings=TINY, seed=3)
    assert not convergence.check_svi(fit).converged


def test_the_check_flags_a_tiny_learning_rate_on_the_coin():
    _, _, args = coin()
    fit = run_svi(models.numpyro_coin_model, beta_guide, *args, settings=TINY, seed=1)
    assert not convergence.check_svi(fit).converged


@pytest.fixture(scope="module")
def mixture_fit():
    return run_svi(bimodal_target, mixture_guide, settings=MIXTURE, seed=5, loss="tracegraph")


def test_mixture_guide_recovers_the_weights_and_the_modes(mixture_fit):
    params = mixture_fit.params
    means, weight = np.asarray(params["means"]), float(params["weight"])
    # components may come out in either order; match them to the target's modes
    if means[0] > means[1]:
        means, weight = means[::-1], 1 - weight
    assert weight == pytest.approx(MODE_WEIGHT, rel=0.10)
    np.testing.assert_allclose(means, [-MODE_DISTANCE, MODE_DISTANCE], rtol=0.10)
    np.testing.assert_allclose(params["sds"], MODE_SD, rtol=0.10)
    assert float(params["angle"]) == pytest.approx(np.pi / 4, rel=0.05)
    assert convergence.check_svi(mixture_fit).converged


def test_the_check_flags_a_tiny_learning_rate_on_the_mixture_guide():
    fit = run_svi(bimodal_target, mixture_guide, settings=TINY, seed=5, loss="tracegraph")
    assert not convergence.check_svi(fit).converged


def test_a_single_gaussian_seeks_one_mode(mixture_fit):
    """KL(q || p) is mode-seeking: AutoMultivariateNormal sits on the heavier mode, and its
    loss exceeds the mixture guide's by about the KL of missing the other mode."""
    from numpyro.infer.autoguide import AutoMultivariateNormal

    fit = run_svi(bimodal_target, AutoMultivariateNormal(bimodal_target), settings=AUTO, seed=5)
    u1 = float(np.sum(fit.params["auto_loc"])) / np.sqrt(2)
    assert abs(u1) == pytest.approx(MODE_DISTANCE, abs=0.5)  # on one mode, not between them
    mode_weight = 1 - MODE_WEIGHT if u1 > 0 else MODE_WEIGHT
    assert fit.losses[-300:].mean() > mixture_fit.losses[-300:].mean() + 0.2
    assert fit.losses[-300:].mean() > -np.log(mode_weight) - 0.05  # at least the cost of the missed mass


# --- the plotting helper ---------------------------------------------------------------

def test_covariance_ellipse_lies_on_the_chi_square_contour():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plotting.covariance_ellipse(ax, TARGET_MEAN, TARGET_COV, probability=0.9)
    x, y = ax.lines[0].get_data()
    offsets = np.stack([x, y], axis=1) - TARGET_MEAN
    quadratic = np.einsum("ij,jk,ik->i", offsets, np.linalg.inv(TARGET_COV), offsets)
    np.testing.assert_allclose(quadratic, 2 * np.log(10), rtol=1e-6)  # chi-square(2) 90 % quantile
    with pytest.raises(ValueError, match="positive definite"):
        plotting.covariance_ellipse(ax, TARGET_MEAN, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="probability"):
        plotting.covariance_ellipse(ax, TARGET_MEAN, TARGET_COV, probability=1.0)
    plt.close(fig)
