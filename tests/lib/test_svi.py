"""bayesbook.svi: the settings, and the NumPyro and Pyro runners, on small cases of their own."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bayesbook import convergence, svi

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

Y = np.random.default_rng(7).normal(1.5, 1.0, size=12)
PRIOR_SD = 3.0
POSTERIOR_PRECISION = 1 / PRIOR_SD**2 + Y.size
POSTERIOR_MEAN, POSTERIOR_SD = Y.sum() / POSTERIOR_PRECISION, POSTERIOR_PRECISION**-0.5


def pyro_normal_mean(y):
    import pyro
    import pyro.distributions as dist

    mu = pyro.sample("mu", dist.Normal(0.0, PRIOR_SD))
    with pyro.plate("data", y.shape[-1]):
        pyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def fit_pyro(seed=0, **settings):
    import torch
    from pyro.infer.autoguide import AutoNormal

    options = dict(learning_rate=0.05, final_learning_rate=0.005, average_last=0.4, num_steps=800, num_particles=4)
    options.update(settings)
    return svi.run_pyro_svi(pyro_normal_mean, AutoNormal(pyro_normal_mean), torch.tensor(Y, dtype=torch.float32),
                            settings=svi.SVISettings(**options), seed=seed)


def test_pyro_runner_recovers_the_conjugate_posterior_and_converges():
    run = fit_pyro()
    assert float(run.params["AutoNormal.locs.mu"]) == pytest.approx(POSTERIOR_MEAN, abs=0.05)
    assert float(run.params["AutoNormal.scales.mu"]) == pytest.approx(POSTERIOR_SD, rel=0.1)
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
