"""bayesbook.svi: the settings, the NumPyro runner and the Pyro runner, on small cases of their own.

* The settings: the learning-rate decay and the averaged steps.
* ``run_svi`` (NumPyro) on a conjugate problem whose posterior and evidence are known
  (``mu ~ Normal(0, PRIOR_SD)``, ``y_i ~ Normal(mu, 1)``), with a Normal guide written
  here: a converged fit recovers the posterior and its loss settles on minus the log
  evidence; every returned field, seeds, batches of starts, thinned histories.
* Both runners on a point-mass guide, whose loss is deterministic: they take the same
  Adam path step by step.
* ``run_pyro_svi`` on a conjugate problem of its own; its history, averaging, seeding
  (the global generators left alone) and parameter store.
* ``run_pyro_svi`` on the Pyro models of chapters 7 and 8 with the noise known, where
  the posterior is Gaussian in closed form (``exact.regression_posterior``, ridge).
* A flow guide's nested parameters flattened for the convergence check.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from bayesbook import convergence, data, exact, models, svi
from bayesbook.svi import SVISettings, run_svi

# --- the settings ----------------------------------------------------------------------


def test_the_decay_reaches_the_final_learning_rate_after_num_steps():
    settings = svi.SVISettings(learning_rate=0.2, final_learning_rate=0.002, num_steps=500)
    assert settings.decay_per_step ** 500 == pytest.approx(0.01, rel=1e-12)
    steps = np.arange(0, 501, 50)
    np.testing.assert_allclose(settings.learning_rate_at(steps), 0.2 * 0.01 ** (steps / 500), rtol=1e-12)
    assert settings.learning_rate_at(0) == pytest.approx(0.2)
    constant = svi.SVISettings(learning_rate=0.05)
    assert constant.decay_per_step == 1.0
    np.testing.assert_allclose(constant.learning_rate_at(np.arange(3)), 0.05)


@pytest.mark.parametrize("average_last, first", [(0.0, 99), (0.5, 50), (0.3, 70), (0.001, 99)])
def test_the_averaged_steps_are_the_last_fraction(average_last, first):
    assert svi.SVISettings(num_steps=100, average_last=average_last).first_averaged_step == first


@pytest.mark.parametrize("kwargs, name", [
    ({"learning_rate": 0.0}, "learning_rate"), ({"final_learning_rate": -1.0}, "final_learning_rate"),
    ({"average_last": 1.0}, "average_last"), ({"num_steps": 0}, "num_steps"), ({"num_particles": 0}, "num_particles"),
])
def test_bad_settings_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        svi.SVISettings(**kwargs)


# --- the NumPyro runner on a conjugate problem ------------------------------------------

PRIOR_SD = 2.0
Y = np.array([0.3, 1.9, 1.1, 2.4, 0.8, 1.6])
POSTERIOR_PRECISION = 1 / PRIOR_SD**2 + len(Y)
POSTERIOR_MEAN = Y.sum() / POSTERIOR_PRECISION
POSTERIOR_SD = POSTERIOR_PRECISION**-0.5
# y ~ Normal(0, I + PRIOR_SD^2 11'), mu integrated out
LOG_EVIDENCE = stats.multivariate_normal(np.zeros(len(Y)), np.eye(len(Y)) + PRIOR_SD**2).logpdf(Y)

SETTINGS = SVISettings(learning_rate=0.1, final_learning_rate=0.003, average_last=0.4, num_steps=600, num_particles=3)
SHORT = SVISettings(learning_rate=0.03, num_steps=120, num_particles=2)


def model(y=None):
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, PRIOR_SD))
    with numpyro.plate("data", len(Y)):
        numpyro.sample("y", dist.Normal(mu, 1.0), obs=None if y is None else jnp.asarray(y))


def guide(y=None):
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    loc = numpyro.param("loc", -1.0)
    scale = numpyro.param("scale", 1.5, constraint=constraints.positive)
    numpyro.sample("mu", dist.Normal(loc, scale))


@pytest.fixture(scope="module")
def fit():
    return run_svi(model, guide, settings=SETTINGS, seed=13, model_kwargs={"y": Y})


def test_the_fit_recovers_the_exact_posterior_and_its_loss_the_evidence(fit):
    assert float(fit.params["loc"]) == pytest.approx(POSTERIOR_MEAN, abs=0.02 * POSTERIOR_SD + 1e-3)
    assert float(fit.params["scale"]) == pytest.approx(POSTERIOR_SD, rel=0.03)
    last = fit.losses[-100:]
    # -ELBO = -log p(y) + KL, and the KL of the fitted guide is all but zero
    assert last.mean() == pytest.approx(-LOG_EVIDENCE, abs=4 * last.std() / np.sqrt(len(last)) + 0.01)


def test_every_returned_field(fit):
    assert set(fit.params) == {"loc", "scale"}
    assert all(isinstance(value, np.ndarray) for value in fit.params.values())
    assert fit.losses.shape == (SETTINGS.num_steps,) and fit.losses.dtype == float
    assert set(fit.history) == {"loc", "scale"}
    assert all(value.shape == (SETTINGS.num_steps,) for value in fit.history.values())
    assert fit.settings is SETTINGS
    assert fit.compile_seconds > 0 and fit.run_seconds > 0
    # the history is unconstrained: the scale is recorded as its logarithm
    assert np.exp(fit.history["scale"][-1]) == pytest.approx(POSTERIOR_SD, rel=0.05)
    assert fit.history["loc"][-1] == pytest.approx(POSTERIOR_MEAN, abs=0.15 * POSTERIOR_SD)  # the last iterate jitters


def test_the_params_are_the_average_of_the_last_iterates_constrained(fit):
    first = SETTINGS.first_averaged_step
    assert first == SETTINGS.num_steps - round(SETTINGS.average_last * SETTINGS.num_steps)
    assert float(fit.params["loc"]) == pytest.approx(fit.history["loc"][first:].mean(), rel=1e-5)
    assert float(fit.params["scale"]) == pytest.approx(np.exp(fit.history["scale"][first:].mean()), rel=1e-5)


def test_without_averaging_the_params_are_the_last_iterate():
    run = run_svi(model, guide, settings=SHORT, seed=14, model_kwargs={"y": Y})
    assert float(run.params["loc"]) == pytest.approx(run.history["loc"][-1], rel=1e-6)
    assert float(run.params["scale"]) == pytest.approx(np.exp(run.history["scale"][-1]), rel=1e-6)
    # the first loss is the loss at the guide's own starting values, far from the optimum
    assert run.losses[0] > -LOG_EVIDENCE + 1


def test_the_same_seed_gives_the_same_fit_and_another_seed_another():
    first = run_svi(model, guide, settings=SHORT, seed=15, model_kwargs={"y": Y})
    again = run_svi(model, guide, settings=SHORT, seed=15, model_kwargs={"y": Y})
    other = run_svi(model, guide, settings=SHORT, seed=16, model_kwargs={"y": Y})
    np.testing.assert_array_equal(first.losses, again.losses)
    np.testing.assert_array_equal(first.params["loc"], again.params["loc"])
    assert not np.allclose(first.losses, other.losses)


def test_a_batch_of_starts_equals_separate_runs():
    starts = [{"loc": -1.0, "scale": 1.5}, {"loc": 3.0, "scale": 0.2}, {"loc": POSTERIOR_MEAN, "scale": POSTERIOR_SD}]
    batch = run_svi(model, guide, settings=SHORT, seed=17, init_params=starts, model_kwargs={"y": Y})
    assert isinstance(batch, list) and len(batch) == len(starts)
    for start, run in zip(starts, batch):
        alone = run_svi(model, guide, settings=SHORT, seed=17, init_params=start, model_kwargs={"y": Y})
        np.testing.assert_allclose(run.losses, alone.losses, rtol=1e-4)
        np.testing.assert_allclose(run.params["loc"], alone.params["loc"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(run.history["scale"], alone.history["scale"], rtol=1e-4, atol=1e-6)
        assert run.settings is SHORT
    # each fit started from its own point: the first step's parameters are about one step from it
    for start, run in zip(starts, batch):
        assert run.history["loc"][0] == pytest.approx(start["loc"], abs=2 * SHORT.learning_rate)
    # the run started at the exact posterior has the lowest first loss; the shares of the times are equal
    assert np.argmin([run.losses[0] for run in batch]) == 2
    assert len({run.compile_seconds for run in batch}) == 1


def test_history_every_keeps_every_kth_record():
    full = run_svi(model, guide, settings=SHORT, seed=18, model_kwargs={"y": Y})
    sparse = run_svi(model, guide, settings=SHORT, seed=18, model_kwargs={"y": Y}, history_every=6)
    assert sparse.history["loc"].shape == (SHORT.num_steps // 6,)
    np.testing.assert_allclose(sparse.history["loc"], full.history["loc"][5::6], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sparse.losses, full.losses, rtol=1e-5)


def test_timing_repeats_report_the_fastest_run_of_the_same_result(monkeypatch):
    once = run_svi(model, guide, settings=SHORT, seed=18, model_kwargs={"y": Y})
    # a clock that makes each later run of the program faster than the one before
    ticks = iter([0.0, 1.0, 11.0, 12.0, 18.0, 19.0, 23.0, 30.0])
    monkeypatch.setattr(svi, "perf_counter", lambda: next(ticks))
    repeated = run_svi(model, guide, settings=SHORT, seed=18, model_kwargs={"y": Y}, timing_repeats=3)
    assert repeated.compile_seconds == 1.0 and repeated.run_seconds == 4.0  # runs of 10, 6 and 4 s
    np.testing.assert_array_equal(repeated.losses, once.losses)
    with pytest.raises(ValueError, match="timing_repeats"):
        run_svi(model, guide, settings=SHORT, model_kwargs={"y": Y}, timing_repeats=0)


def test_tracegraph_equals_trace_for_a_reparameterised_guide():
    """TraceGraph_ELBO only adds score-function terms for sites that cannot be reparameterised."""
    trace = run_svi(model, guide, settings=SHORT, seed=19, model_kwargs={"y": Y})
    graph = run_svi(model, guide, settings=SHORT, seed=19, model_kwargs={"y": Y}, loss="tracegraph")
    np.testing.assert_allclose(graph.losses, trace.losses, rtol=1e-5)
    np.testing.assert_allclose(graph.params["loc"], trace.params["loc"], rtol=1e-5)


def test_model_args_reach_the_model_positionally():
    positional = run_svi(model, guide, Y, settings=SHORT, seed=20)
    keyword = run_svi(model, guide, settings=SHORT, seed=20, model_kwargs={"y": Y})
    np.testing.assert_allclose(positional.losses, keyword.losses, rtol=1e-6)


def test_n_particle_gradient_is_the_mean_of_one_particle_gradients():
    """Trace_ELBO(num_particles=N) at key K averages one-particle estimates at the keys random.split(K, N),
    so one-particle estimates averaged in groups are estimates with more particles (chapter 5's study)."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer import Trace_ELBO

    params = {"loc": jnp.asarray(0.5), "scale": jnp.asarray(0.8)}

    def gradient(elbo):
        return jax.jit(lambda key: jax.grad(lambda p: elbo.loss(key, p, model, guide, Y))(params)["loc"])

    key = jax.random.PRNGKey(31)
    for count in (3, 5):
        many = gradient(Trace_ELBO(num_particles=count))(key)
        singles = jax.vmap(gradient(Trace_ELBO(num_particles=1)))(jax.random.split(key, count))
        assert float(many) == pytest.approx(float(np.mean(singles)), rel=1e-4, abs=1e-6)


def test_the_one_particle_gradient_is_unbiased():
    """The mean of many one-particle gradients of the loss in loc is the exact one, (loc - mean) * precision."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer import Trace_ELBO

    params = {"loc": jnp.asarray(0.5), "scale": jnp.asarray(0.8)}
    elbo = Trace_ELBO(num_particles=1)
    gradient = jax.jit(jax.vmap(lambda key: jax.grad(lambda p: elbo.loss(key, p, model, guide, Y))(params)["loc"]))
    draws = np.asarray(gradient(jax.random.split(jax.random.PRNGKey(32), 5000)))
    exact = (0.5 - POSTERIOR_MEAN) * POSTERIOR_PRECISION  # d/d loc of E_q[-log p(mu, y)] + const
    assert draws.mean() == pytest.approx(exact, abs=4 * draws.std() / np.sqrt(draws.size))


def test_run_svi_rejects_bad_arguments():
    from numpyro.infer.autoguide import AutoNormal

    kwargs = {"model_kwargs": {"y": Y}}
    with pytest.raises(ValueError, match="loss"):
        run_svi(model, guide, loss="renyi", **kwargs)
    with pytest.raises(TypeError, match="settings"):
        run_svi(model, guide, settings={"learning_rate": 0.1}, **kwargs)
    with pytest.raises(TypeError, match="guide"):
        run_svi(model, "normal", **kwargs)
    with pytest.raises(TypeError, match="model"):
        run_svi(None, guide, **kwargs)
    with pytest.raises(ValueError, match="seed"):
        run_svi(model, guide, seed=-1, **kwargs)
    with pytest.raises(ValueError, match="init_params"):
        run_svi(model, guide, init_params=[{"loc": 1.0}, {"scale": 1.0}], **kwargs)
    with pytest.raises(ValueError, match="init_params"):
        run_svi(model, guide, init_params=[], **kwargs)
    with pytest.raises(TypeError, match="init_params"):
        run_svi(model, guide, init_params=[1.0, 2.0], **kwargs)
    with pytest.raises(ValueError, match="history_every"):
        run_svi(model, guide, settings=SHORT, history_every=7, **kwargs)
    autoguide = AutoNormal(model)
    run_svi(model, autoguide, settings=SVISettings(num_steps=20, num_particles=2), **kwargs)
    with pytest.raises(ValueError, match="already been fitted"):
        run_svi(model, autoguide, settings=SVISettings(num_steps=20, num_particles=2), **kwargs)


# --- both runners on a deterministic problem --------------------------------------------

def numpyro_point_model():
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("mu", dist.Normal(3.0, 1.0))


def numpyro_point_guide():
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("mu", dist.Delta(numpyro.param("loc", 0.0)))


def pyro_point_model():
    import pyro
    import pyro.distributions as dist

    pyro.sample("mu", dist.Normal(3.0, 1.0))


def pyro_point_guide():
    import pyro
    import pyro.distributions as dist
    import torch

    pyro.sample("mu", dist.Delta(pyro.param("loc", torch.tensor(0.0))))


def test_the_two_runners_take_the_same_adam_path_with_the_same_decay():
    """A point-mass guide makes the loss deterministic (-log N(loc; 3, 1)): NumPyro's Adam and
    Pyro's ClippedAdam then follow one path step by step, which they do only if step t takes
    the step size learning_rate_at(t) in both (ClippedAdam decays before its step)."""
    settings = svi.SVISettings(learning_rate=0.1, final_learning_rate=0.01, num_steps=200, num_particles=1)
    numpyro_run = svi.run_svi(numpyro_point_model, numpyro_point_guide, settings=settings)
    pyro_run = svi.run_pyro_svi(pyro_point_model, pyro_point_guide, settings=settings, max_plate_nesting=0)
    # Adam's first step moves by the step size itself, whatever the gradient
    assert pyro_run.history["loc"][0] == pytest.approx(0.1, rel=1e-5)
    np.testing.assert_allclose(pyro_run.history["loc"], numpyro_run.history["loc"], atol=1e-4)
    # the loss is 0.5 (loc - 3)^2 + log sqrt(2 pi): minimised at 3
    assert float(pyro_run.params["loc"]) == pytest.approx(3.0, abs=0.01)
    np.testing.assert_allclose(pyro_run.losses, 0.5 * (np.r_[0.0, pyro_run.history["loc"][:-1]] - 3) ** 2
                               + 0.5 * np.log(2 * np.pi), rtol=1e-5)


# --- the Pyro runner on a conjugate model ------------------------------------------------

PYRO_Y = np.random.default_rng(7).normal(1.5, 1.0, size=12)
PYRO_PRIOR_SD = 3.0
PYRO_POSTERIOR_PRECISION = 1 / PYRO_PRIOR_SD**2 + PYRO_Y.size
PYRO_POSTERIOR_MEAN, PYRO_POSTERIOR_SD = PYRO_Y.sum() / PYRO_POSTERIOR_PRECISION, PYRO_POSTERIOR_PRECISION**-0.5


def pyro_normal_mean(y):
    import pyro
    import pyro.distributions as dist

    mu = pyro.sample("mu", dist.Normal(0.0, PYRO_PRIOR_SD))
    with pyro.plate("data", y.shape[-1]):
        pyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def fit_pyro(seed=0, **settings):
    import torch
    from pyro.infer.autoguide import AutoNormal

    options = dict(learning_rate=0.05, final_learning_rate=0.005, average_last=0.4, num_steps=800, num_particles=4)
    options.update(settings)
    return svi.run_pyro_svi(pyro_normal_mean, AutoNormal(pyro_normal_mean), torch.tensor(PYRO_Y, dtype=torch.float32),
                            settings=svi.SVISettings(**options), seed=seed)


def test_pyro_runner_recovers_the_conjugate_posterior_and_converges():
    run = fit_pyro()
    assert float(run.params["AutoNormal.locs.mu"]) == pytest.approx(PYRO_POSTERIOR_MEAN, abs=0.05)
    assert float(run.params["AutoNormal.scales.mu"]) == pytest.approx(PYRO_POSTERIOR_SD, rel=0.1)
    assert convergence.check_svi(run).converged
    assert run.losses.shape == (800,) and run.compile_seconds > 0 and run.run_seconds > 0


def test_pyro_runner_history_and_averaging():
    run = fit_pyro(average_last=0.5, num_steps=400)
    assert set(run.history) == {"AutoNormal.locs.mu", "AutoNormal.scales.mu"}
    assert run.history["AutoNormal.locs.mu"].shape == (400,)
    # the parameters are the average of the last half of the unconstrained iterates, constrained
    np.testing.assert_allclose(run.params["AutoNormal.locs.mu"], run.history["AutoNormal.locs.mu"][200:].mean(), rtol=1e-5)
    # AutoNormal's scales are positive through softplus: log(1 + exp(unconstrained))
    np.testing.assert_allclose(run.params["AutoNormal.scales.mu"],
                               np.log1p(np.exp(run.history["AutoNormal.scales.mu"][200:].mean())), rtol=1e-5)
    sparse = svi.run_pyro_svi(pyro_point_model, pyro_point_guide, max_plate_nesting=0, history_every=20,
                              settings=svi.SVISettings(learning_rate=0.1, num_steps=200))
    full = svi.run_pyro_svi(pyro_point_model, pyro_point_guide, max_plate_nesting=0,
                            settings=svi.SVISettings(learning_rate=0.1, num_steps=200))
    np.testing.assert_array_equal(sparse.history["loc"], full.history["loc"][19::20])


def test_pyro_runner_same_seed_same_fit_and_leaves_the_global_generators_alone():
    import torch

    torch_state, numpy_state, python_state = torch.random.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    first, again, other = fit_pyro(seed=3, num_steps=100), fit_pyro(seed=3, num_steps=100), fit_pyro(seed=4, num_steps=100)
    np.testing.assert_array_equal(first.losses, again.losses)
    assert not np.array_equal(first.losses, other.losses)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert random.getstate() == python_state


def test_pyro_runner_leaves_the_fitted_parameters_in_pyros_store():
    import pyro

    run = fit_pyro(num_steps=100)
    assert float(pyro.param("AutoNormal.locs.mu").detach()) == pytest.approx(float(run.params["AutoNormal.locs.mu"]))


@pytest.mark.parametrize("kwargs, error, name", [
    ({"settings": "fast"}, TypeError, "settings"), ({"seed": -1}, ValueError, "seed"),
    ({"max_plate_nesting": -1}, ValueError, "max_plate_nesting"), ({"history_every": 7}, ValueError, "history_every"),
])
def test_pyro_runner_rejects_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        svi.run_pyro_svi(pyro_point_model, pyro_point_guide, **kwargs)
    with pytest.raises(TypeError, match="guide"):
        svi.run_pyro_svi(pyro_point_model, "guide")


# --- the Pyro runner on the chapters' models, noise known ----------------------------------

MODEL_SETTINGS = svi.SVISettings(learning_rate=0.05, final_learning_rate=0.005, average_last=0.3, num_steps=600,
                           num_particles=8)


def guide_moments(guide, sites, *args, num_samples=20000):
    """Mean and covariance of draws from the fitted guide, the sites' values side by side."""
    import pyro
    import torch

    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        draws = pyro.infer.Predictive(guide, num_samples=num_samples, parallel=True)(*args)
    values = np.column_stack([draws[site].reshape(num_samples, -1).numpy() for site in sites])
    return values.mean(axis=0), np.cov(values.T)


def test_the_regression_module_with_vectorised_particles_recovers_the_exact_posterior():
    import pyro
    import torch

    noise_sd = 0.6
    x, y = data.simulate_regression(10, intercept=1.0, slope=-0.5, noise_sd=noise_sd, x_range=(-2.0, 4.0), seed=3)
    mean, cov = exact.regression_posterior(x, y, noise_sd=noise_sd, prior_sd=(1.5, 0.8))
    module = models.pyro_linear_regression(intercept_sd=1.5, slope_sd=0.8)
    known_noise = pyro.condition(module, data={"sigma": torch.tensor(noise_sd)})
    guide = pyro.infer.autoguide.AutoMultivariateNormal(known_noise)
    x_torch, y_torch = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    run = svi.run_pyro_svi(known_noise, guide, x_torch, y_torch, settings=MODEL_SETTINGS, seed=0)
    assert run.losses.shape == (MODEL_SETTINGS.num_steps,) and np.all(np.isfinite(run.losses))
    guide_mean, guide_cov = guide_moments(guide, ("linear.bias", "linear.weight"), x_torch, y_torch)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(guide_mean - mean) < 0.1 * sd), (guide_mean, mean)
    np.testing.assert_allclose(np.sqrt(np.diag(guide_cov)), sd, rtol=0.1)
    correlation = cov[0, 1] / np.prod(sd)
    assert guide_cov[0, 1] / np.sqrt(np.prod(np.diag(guide_cov))) == pytest.approx(correlation, abs=0.1)


def test_the_sparse_model_with_a_low_rank_guide_recovers_the_ridge_posterior():
    """d = 3 coefficients, rank 2 plus a diagonal: a family that holds every 3 x 3 covariance."""
    import pyro
    import torch

    noise_sd, prior_sd = 0.5, 2.0
    sample = data.simulate_sparse(3, 8, noise_sd=noise_sd, seed=4)
    X, y = sample["X"], sample["y"]
    precision = X.T @ X / noise_sd**2 + np.eye(3) / prior_sd**2
    cov = np.linalg.inv(precision)
    mean = cov @ X.T @ y / noise_sd**2

    def gaussian(X, y=None):
        return models.pyro_sparse_regression(X, y, prior="gaussian", prior_sd=prior_sd)

    known_noise = pyro.condition(gaussian, data={"sigma": torch.tensor(noise_sd)})
    guide = pyro.infer.autoguide.AutoLowRankMultivariateNormal(known_noise, rank=2)
    X_torch, y_torch = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    run = svi.run_pyro_svi(known_noise, guide, X_torch, y_torch, settings=MODEL_SETTINGS, seed=0)
    assert set(run.params) == {"AutoLowRankMultivariateNormal.loc", "AutoLowRankMultivariateNormal.cov_factor",
                               "AutoLowRankMultivariateNormal.scale"}
    guide_mean, guide_cov = guide_moments(guide, ("beta",), X_torch, y_torch)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(guide_mean - mean) < 0.1 * sd), (guide_mean, mean)
    np.testing.assert_allclose(np.sqrt(np.diag(guide_cov)), sd, rtol=0.15)


def test_a_parameter_left_from_an_earlier_fit_is_cleared_before_the_loop():
    import pyro
    import torch

    def model(y):
        mu = pyro.sample("mu", pyro.distributions.Normal(0.0, 1.0))
        with pyro.plate("data", y.shape[0]):
            pyro.sample("y", pyro.distributions.Normal(mu, 1.0), obs=y)

    pyro.param("left_over", torch.tensor(1.0))
    guide = pyro.infer.autoguide.AutoNormal(model)
    run = svi.run_pyro_svi(model, guide, torch.tensor([0.3, 1.2, 0.8]),
                           settings=svi.SVISettings(learning_rate=0.05, num_steps=20, num_particles=2))
    assert "left_over" not in pyro.get_param_store()
    assert set(run.params) == set(pyro.get_param_store().keys()) == {"AutoNormal.locs.mu", "AutoNormal.scales.mu"}


# --- a flow guide --------------------------------------------------------------------------

def normal_mean_model(y=None):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0).expand([3]).to_event(1))
    with numpyro.plate("data", 4):
        numpyro.sample("y", dist.Normal(mu, 1.0).to_event(1), obs=y)


FLOW_Y = np.array([[0.5, 1.0, -1.0], [1.5, 0.0, -2.0], [1.0, 2.0, -1.5], [0.0, 1.0, -0.5]])


def test_a_flow_guide_runs_and_its_nested_parameters_are_flattened_for_the_convergence_check():
    from numpyro.infer.autoguide import AutoIAFNormal

    settings = svi.SVISettings(learning_rate=0.01, num_steps=400, num_particles=4, average_last=0.25)
    run = svi.run_svi(normal_mean_model, AutoIAFNormal(normal_mean_model, hidden_dims=[6, 6]), settings=settings,
                      seed=0, model_kwargs={"y": FLOW_Y}, history_every=10)
    assert all(isinstance(value, np.ndarray) for value in run.history.values())
    assert any(name.startswith("auto_arn__0$params.") for name in run.history)
    assert len(convergence.check_svi(run).parameters.table) == sum(value[0].size for value in run.history.values())
