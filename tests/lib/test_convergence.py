"""bayesbook.convergence: the loss and parameter checks on synthetic histories, and on small SVI runs.

Synthetic histories have a known answer (stationary noise has converged, a trend has
not); the SVI runs are toy targets written here, whose optimum is known, fitted once
at a sensible learning rate (the check passes) and once at a tiny one (it must not).
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesbook import convergence
from bayesbook.svi import SVISettings, run_svi


class FakeRun:
    """Anything with ``losses`` and ``history`` is a run for the checks."""

    def __init__(self, losses, history):
        self.losses, self.history = losses, history


# --- check_convergence on synthetic loss histories ----------------------------------------

@pytest.mark.parametrize("seed", range(10))
def test_stationary_noise_counts_as_converged(seed):
    losses = 100 + np.random.default_rng(seed).normal(0, 1.0, 2000)
    report = convergence.check_convergence(losses, window=200)
    assert report.converged, report
    assert report.final_loss == pytest.approx(100, abs=0.3)
    assert report.window == 200
    assert report.tolerance == pytest.approx(max(3 * report.standard_error, 1e-6 * (1 + abs(report.final_loss))))
    # the standard error of the difference of two 200-step means of unit noise: sqrt(2 / 200)
    assert report.standard_error == pytest.approx(0.1, rel=0.5)


def test_every_field_of_the_report_against_a_hand_computation():
    rng = np.random.default_rng(42)
    losses = 5.0 + rng.normal(0, 0.2, 600)
    report = convergence.check_convergence(losses, window=150)
    earlier, last = losses[300:450], losses[450:]
    assert report.drop == pytest.approx(earlier.mean() - last.mean())
    assert report.final_loss == pytest.approx(last.mean())

    def batch_variance(values):  # ten batch means around their least-squares line
        means = values.reshape(10, -1).mean(axis=1)
        residuals = means - np.polyval(np.polyfit(np.arange(10), means, 1), np.arange(10))
        return np.sum(residuals**2) / 8 / 10

    assert report.standard_error == pytest.approx(np.sqrt(batch_variance(earlier) + batch_variance(last)))
    assert report.converged == (abs(report.drop) <= report.tolerance)
    assert "converged" in str(report) and f"{report.window}" in str(report)


def test_the_default_window_is_a_fifth_of_the_run():
    losses = np.random.default_rng(31).normal(0, 1, 750)
    assert convergence.check_convergence(losses).window == 150


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


# --- check_parameters and check_svi on synthetic histories -------------------------------

def test_parameter_check_flags_a_drifting_parameter_and_passes_jitter():
    rng = np.random.default_rng(0)
    history = {"loc": rng.normal(0, 0.05, (1000, 3)), "log_scale": np.cumsum(np.full(1000, 0.001))}
    report = convergence.check_parameters(history)
    assert not report.converged and report.worst == "log_scale"
    assert report.window == 200
    assert report.table.loc["log_scale", "drift"] == pytest.approx(0.2)  # 0.001 per step, 200-step windows
    assert report.table.loc[["loc[0]", "loc[1]", "loc[2]"], "converged"].all()
    assert list(report.table.columns) == ["drift", "standard error", "drift / SE", "converged"]
    assert "NOT converged: log_scale" in str(report)
    history["log_scale"] = np.full(1000, 2.0)
    steady = convergence.check_parameters(history)
    assert steady.converged and "every parameter is stable" in str(steady)


def test_a_drift_below_atol_counts_as_settled():
    """A steady drift of 0.005 over a window is below the default atol of 0.01, however many SEs."""
    history = {"a": np.linspace(0.0, 0.025, 1000)}  # 0.005 per 200-step window
    report = convergence.check_parameters(history)
    assert report.converged
    assert report.table.loc["a", "drift / SE"] > 10
    assert not convergence.check_parameters(history, atol=0.001).converged


def test_parameter_check_rejects_bad_histories():
    with pytest.raises(ValueError, match="history"):
        convergence.check_parameters({})
    with pytest.raises(ValueError, match="history"):
        convergence.check_parameters([np.zeros(100)])
    with pytest.raises(ValueError, match="at least"):
        convergence.check_parameters({"a": np.zeros(30)}, window=20)
    with pytest.raises(ValueError, match="finite"):
        convergence.check_parameters({"a": np.r_[np.zeros(99), np.inf]})
    with pytest.raises(ValueError, match="z"):
        convergence.check_parameters({"a": np.zeros(100)}, z=-1)


def test_check_svi_combines_both_checks():
    rng = np.random.default_rng(33)
    noise = 10 + rng.normal(0, 1, 1000)
    settled = FakeRun(noise, {"loc": rng.normal(0, 0.01, 1000)})
    drifting = FakeRun(noise, {"loc": np.linspace(0, 1, 1000)})  # the loss cannot see it, the parameter can
    assert convergence.check_svi(settled).converged
    report = convergence.check_svi(drifting)
    assert report.loss.converged and not report.parameters.converged and not report.converged
    assert str(report).startswith("loss: ") and "\nparameters: " in str(report)
    assert convergence.check_svi(drifting, window=100).loss.window == 100
    with pytest.raises(TypeError, match="run"):
        convergence.check_svi(np.zeros(100))


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
    with pytest.raises(ValueError, match="divide"):
        convergence.steps_to_convergence(FakeRun(losses[:1001], {"loc": parameter[9::10]}))
    with pytest.raises(TypeError, match="run"):
        convergence.steps_to_convergence(losses)


# --- the checks on small SVI runs of toy targets written here -------------------------------

def normal_target():
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("x", dist.Normal(-1.5, 0.4))


def correlated_target():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("z", dist.MultivariateNormal(jnp.array([0.5, 2.0]), jnp.array([[2.0, -0.9], [-0.9, 1.0]])))


def two_component_target():
    """Equal-weight mixture of Normal(-3, 0.7) and Normal(3, 0.7): a one-dimensional two-mode target."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    mixture = dist.MixtureSameFamily(dist.Categorical(probs=jnp.array([0.5, 0.5])),
                                     dist.Normal(jnp.array([-3.0, 3.0]), 0.7))
    numpyro.sample("x", mixture)


def two_component_guide():
    """A two-component mixture guide (its choice of component needs TraceGraph_ELBO)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    weight = numpyro.param("weight", 0.4, constraint=constraints.unit_interval)
    means = numpyro.param("means", jnp.array([-0.5, 0.5]))
    sds = numpyro.param("sds", jnp.ones(2), constraint=constraints.positive)
    components = dist.Categorical(probs=jnp.stack([weight, 1 - weight]))
    numpyro.sample("x", dist.MixtureGeneral(components, [dist.Normal(means[0], sds[0]), dist.Normal(means[1], sds[1])]))


SENSIBLE = SVISettings(learning_rate=0.08, final_learning_rate=0.004, average_last=0.4, num_steps=800, num_particles=6)
# Adam moves each parameter by about the learning rate per step: 3e-4 over a 100-step window is
# 0.03, above the 0.01 that check_parameters lets pass, and far from the optimum after 500 steps
TINY_RATE = SVISettings(learning_rate=3e-4, num_steps=500, num_particles=3)


def autoguide(name, model):
    from numpyro.infer import autoguide

    return getattr(autoguide, name)(model)


@pytest.mark.parametrize("guide_name", ["AutoNormal", "AutoMultivariateNormal"])
def test_the_check_passes_a_sensible_fit_and_flags_a_tiny_learning_rate(guide_name):
    model = normal_target if guide_name == "AutoNormal" else correlated_target
    good = run_svi(model, autoguide(guide_name, model), settings=SENSIBLE, seed=21)
    assert convergence.check_svi(good).converged, convergence.check_svi(good)
    slow = run_svi(model, autoguide(guide_name, model), settings=TINY_RATE, seed=21)
    report = convergence.check_svi(slow)
    assert not report.converged, report
    assert not report.parameters.converged  # the parameters are still on their way


def test_the_sensible_fit_is_at_the_known_optimum():
    """The positive control is a real optimum: AutoNormal on Normal(-1.5, 0.4) recovers both numbers."""
    fit = run_svi(normal_target, autoguide("AutoNormal", normal_target), settings=SENSIBLE, seed=22)
    assert float(fit.params["x_auto_loc"]) == pytest.approx(-1.5, abs=0.05)
    assert float(fit.params["x_auto_scale"]) == pytest.approx(0.4, rel=0.05)


def test_the_check_flags_a_tiny_learning_rate_on_a_mixture_guide():
    fit = run_svi(two_component_target, two_component_guide, settings=TINY_RATE, seed=23, loss="tracegraph")
    assert not convergence.check_svi(fit).converged


def test_vectorised_parameter_check_matches_column_by_column():
    rng = np.random.default_rng(1)
    history = {"a": np.cumsum(rng.normal(size=(300, 3)), axis=0) * 0.001
               + np.linspace(0, 1, 300)[:, None] * [0, 1, 0.001]}
    report = convergence.check_parameters(history, window=60)
    for index in range(3):
        alone = convergence.check_parameters({"a": history["a"][:, index]}, window=60)
        row = report.table.loc[f"a[{index}]"]
        assert alone.table.loc["a", "drift"] == pytest.approx(row["drift"])
        assert alone.table.loc["a", "standard error"] == pytest.approx(row["standard error"])
        assert bool(alone.converged) == bool(row["converged"])
    assert not report.table.loc["a[1]", "converged"]
