"""Chapter 6: the eight schools data, models, reference posterior and the chapter's runs.

Ground truth is the stored reference posterior (a long NUTS run), and the reference
itself is checked against an independent computation: integrating out mu and theta in
closed form leaves a one-dimensional posterior of tau, which quadrature handles to
any accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from bayesbook import data, mcmc, models

Y, SIGMA = data.eight_schools()
REFERENCE = data.eight_schools_reference()["summary"]
# The chapter's sweep (lectures/eight_schools.md): three centred runs, then the non-centred one.
TARGETS = [0.8, 0.9, 0.95, 0.9]
CENTRING = [1.0, 1.0, 1.0, 0.0]
CHAPTER = {"num_warmup": 500, "num_samples": 1000, "seed": 9}


# --- exact posterior by quadrature over tau ------------------------------------------

def tau_posterior_moments():
    """Posterior expectations by quadrature over tau, mu and theta integrated out exactly.

    Given tau, y ~ Normal(mu 1, diag(sigma^2 + tau^2)) and mu ~ Normal(0, 5^2), so
    p(y | tau) is a multivariate normal, p(mu | tau, y) is normal, and
    p(theta_j | mu, tau, y) is normal with a mean linear in mu.
    """
    variance_y = SIGMA**2

    def conditional(tau):
        total = variance_y + tau**2
        covariance = np.diag(total) + 25.0
        log_evidence = stats.multivariate_normal(np.zeros(8), covariance).logpdf(Y)
        precision_mu = 1 / 25 + np.sum(1 / total)
        mean_mu = np.sum(Y / total) / precision_mu
        shrink = (1 / tau**2) / (1 / variance_y + 1 / tau**2)  # weight of mu in E[theta_j | mu, tau, y]
        mean_theta = (1 - shrink) * Y + shrink * mean_mu
        var_theta = 1 / (1 / variance_y + 1 / tau**2) + shrink**2 / precision_mu
        return log_evidence, mean_mu, 1 / precision_mu, mean_theta, var_theta

    def log_unnormalised(tau):
        return stats.halfcauchy(scale=5).logpdf(tau) + conditional(tau)[0]

    shift = log_unnormalised(3.0)

    def expect(function):
        def integrand(tau):
            return np.exp(log_unnormalised(tau) - shift) * function(tau)
        pieces = [(0, 1), (1, 10), (10, 100), (100, np.inf)]
        return sum(integrate.quad(integrand, a, b, limit=400, epsabs=0, epsrel=1e-11)[0] for a, b in pieces)

    norm = expect(lambda tau: 1.0)
    moments = {
        "tau": expect(lambda tau: tau) / norm,
        "tau2": expect(lambda tau: tau**2) / norm,
        "log_tau": expect(np.log) / norm,
        "log_tau2": expect(lambda tau: np.log(tau) ** 2) / norm,
        "mu": expect(lambda tau: conditional(tau)[1]) / norm,
        "mu2": expect(lambda tau: conditional(tau)[2] + conditional(tau)[1] ** 2) / norm,
    }
    for j in range(8):
        moments[f"theta_{j + 1}"] = expect(lambda tau: conditional(tau)[3][j]) / norm
        moments[f"theta_{j + 1}_2"] = expect(lambda tau: conditional(tau)[4][j] + conditional(tau)[3][j] ** 2) / norm
    return moments


@pytest.fixture(scope="module")
def exact():
    moments = tau_posterior_moments()
    result = {}
    for name in ["mu", "tau", "log_tau", *[f"theta_{j}" for j in range(1, 9)]]:
        second = moments.get(f"{name}2", moments.get(f"{name}_2"))
        result[name] = (moments[name], np.sqrt(second - moments[name] ** 2))
    return result


def test_reference_posterior_agrees_with_quadrature(exact):
    """The stored long run: every mean within 4 of its MCSEs of the exact value, every sd within 1 %."""
    for name, (mean, sd) in exact.items():
        row = REFERENCE[name]
        assert abs(row["mean"] - mean) < 4 * row["mcse_mean"], (name, row["mean"], mean)
        assert row["sd"] == pytest.approx(sd, rel=0.01), (name, row["sd"], sd)
        assert row["r_hat"] < 1.001


def test_each_school_is_shrunk_towards_the_population_mean():
    """What the chapter says of the reference: E[theta_j | y] lies between y_j and E[mu | y]."""
    mu = REFERENCE["mu"]["mean"]
    for j in range(8):
        mean = REFERENCE[f"theta_{j + 1}"]["mean"]
        assert min(Y[j], mu) < mean < max(Y[j], mu), (j + 1, Y[j], mean, mu)


def test_known_values_of_the_eight_schools_posterior(exact):
    """The textbook numbers (e.g. BDA3 ch. 5, with this prior): mu about 4.4, tau about 3.6."""
    assert exact["mu"][0] == pytest.approx(4.4, abs=0.05)
    assert exact["tau"][0] == pytest.approx(3.6, abs=0.05)


# --- the models ------------------------------------------------------------------------

def test_models_simulate_when_y_is_none():
    import jax
    from numpyro.infer import Predictive

    for model in (models.numpyro_eight_schools_centred, models.numpyro_eight_schools_noncentred,
                  models.numpyro_eight_schools):
        draws = Predictive(model, num_samples=4000)(jax.random.PRNGKey(0), SIGMA)
        assert draws["y"].shape == (4000, 8)
        # mu ~ Normal(0, 5), tau ~ HalfCauchy(5): the median of tau is 5
        assert np.std(draws["mu"]) == pytest.approx(5, rel=0.05)
        assert np.median(draws["tau"]) == pytest.approx(5, rel=0.08)
        # y_j - theta_j ~ Normal(0, sigma_j)
        np.testing.assert_allclose(np.std(draws["y"] - draws["theta"], axis=0), SIGMA, rtol=0.06)


def test_centred_and_noncentred_log_densities_differ_by_the_jacobian():
    import jax
    from numpyro.infer.util import log_density

    key_mu, key_tau, key_eta = jax.random.split(jax.random.PRNGKey(1), 3)
    for mu, tau, eta in zip(5 * jax.random.normal(key_mu, (5,)), np.exp(jax.random.normal(key_tau, (5,))),
                            jax.random.normal(key_eta, (5, 8))):
        centred, _ = log_density(models.numpyro_eight_schools_centred, (SIGMA,), {"y": Y},
                                 {"mu": mu, "tau": tau, "theta": mu + tau * eta})
        noncentred, _ = log_density(models.numpyro_eight_schools_noncentred, (SIGMA,), {"y": Y},
                                    {"mu": mu, "tau": tau, "eta": eta})
        # independent formula for the centred joint density
        theta = np.asarray(mu + tau * eta, float)
        by_hand = (stats.norm(0, 5).logpdf(float(mu)) + stats.halfcauchy(scale=5).logpdf(float(tau))
                   + stats.norm(float(mu), float(tau)).logpdf(theta).sum() + stats.norm(theta, SIGMA).logpdf(Y).sum())
        assert float(centred) == pytest.approx(by_hand, abs=1e-3)
        assert float(noncentred) - 8 * np.log(float(tau)) == pytest.approx(float(centred), abs=1e-3)


# --- the sweep runner ---------------------------------------------------------------------

def _normal_model(scale, loc=0.0):
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("x", dist.Normal(loc, scale))


def test_sweep_run_at_one_target_equals_run_nuts():
    options = {"num_chains": 2, "num_warmup": 100, "num_samples": 100, "seed": 4}
    sweep = mcmc.run_nuts_sweep(_normal_model, 2.0, target_accept_probs=[0.6, 0.95], **options)
    single = mcmc.run_nuts(_normal_model, 2.0, target_accept_prob=0.95, **options)
    np.testing.assert_allclose(sweep[1].posterior["x"], single.posterior["x"], rtol=1e-5, atol=1e-5)
    # a higher target adapts a smaller step
    assert sweep[1].step_size < sweep[0].step_size
    assert [run.num_chains for run in sweep] == [2, 2]


def test_sweep_kwargs_reach_the_model_as_numbers():
    """A swept keyword gives each run its own value, and the run equals run_nuts with that value."""
    import jax.numpy as jnp

    options = {"num_chains": 2, "num_warmup": 200, "num_samples": 300, "seed": 5}
    sweep = mcmc.run_nuts_sweep(_normal_model, 1.0, target_accept_probs=[0.8, 0.8],
                                sweep_kwargs={"loc": [0.0, 10.0]}, **options)
    single = mcmc.run_nuts(_normal_model, 1.0, model_kwargs={"loc": jnp.asarray(10.0, jnp.float32)}, **options)
    np.testing.assert_allclose(sweep[1].posterior["x"], single.posterior["x"], rtol=1e-5, atol=1e-5)
    assert abs(sweep[0].posterior["x"].mean()) < 0.3
    assert abs(sweep[1].posterior["x"].mean() - 10.0) < 0.3


@pytest.mark.parametrize("sweep_kwargs, error", [
    ({"loc": [0.0]}, ValueError),                 # one value for two runs
    ({"loc": [0.0, "a"]}, TypeError),
    ({"loc": [0.0, float("nan")]}, ValueError),
    ({"scale": [1.0, 2.0]}, ValueError),          # also in model_kwargs
    ([("loc", [0.0, 1.0])], TypeError),
])
def test_sweep_rejects_bad_sweep_kwargs(sweep_kwargs, error):
    with pytest.raises(error, match="sweep_kwargs"):
        mcmc.run_nuts_sweep(_normal_model, model_kwargs={"scale": 1.0}, target_accept_probs=[0.8, 0.9],
                            sweep_kwargs=sweep_kwargs)


def test_the_swept_model_is_centred_at_one_and_non_centred_at_zero():
    """models.numpyro_eight_schools with a traced centring equals the centred model's density at 1
    (up to rounding) and the hand-written non-centred model's at 0."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import log_density

    rng = np.random.default_rng(3)
    for _ in range(20):
        mu, tau, eta = rng.normal(0, 5), np.exp(rng.normal()), rng.normal(size=8)
        theta = mu + tau * eta

        def swept(centered, latent):
            return log_density(models.numpyro_eight_schools, (SIGMA,), {"y": Y, "centered": centered},
                               {"mu": mu, "tau": tau, "theta_decentered": latent})[0]

        at_one = jax.jit(swept)(jnp.asarray(1.0), theta)
        centred, _ = log_density(models.numpyro_eight_schools_centred, (SIGMA,), {"y": Y},
                                 {"mu": mu, "tau": tau, "theta": theta})
        at_zero = jax.jit(swept)(jnp.asarray(0.0), eta)
        noncentred, _ = log_density(models.numpyro_eight_schools_noncentred, (SIGMA,), {"y": Y},
                                    {"mu": mu, "tau": tau, "eta": eta})
        assert float(at_one) == pytest.approx(float(centred), abs=1e-4)
        assert float(at_zero) == pytest.approx(float(noncentred), abs=1e-4)
        # the two parameterisations really differ: by the Jacobian, 8 log tau
        assert float(noncentred) - float(centred) == pytest.approx(8 * np.log(tau), abs=1e-3)


@pytest.mark.parametrize("targets, error", [([], ValueError), ([0.8, 1.0], ValueError), ("0.8", TypeError),
                                            (0.8, TypeError)])
def test_sweep_rejects_bad_targets(targets, error):
    with pytest.raises(error, match="target_accept_prob"):
        mcmc.run_nuts_sweep(_normal_model, 1.0, target_accept_probs=targets)


# --- the chapter's runs against the reference ------------------------------------------------

@pytest.fixture(scope="module")
def chapter_sweep():
    return mcmc.run_nuts_sweep(models.numpyro_eight_schools, SIGMA, model_kwargs={"y": Y}, target_accept_probs=TARGETS,
                               sweep_kwargs={"centered": CENTRING}, **CHAPTER)


@pytest.fixture(scope="module")
def noncentred(chapter_sweep):
    return chapter_sweep[3]


@pytest.fixture(scope="module")
def centred_sweep(chapter_sweep):
    return chapter_sweep[:3]


def _posterior(run):
    posterior = {"mu": run.posterior["mu"], "tau": run.posterior["tau"], "log_tau": np.log(run.posterior["tau"])}
    for j in range(8):
        posterior[f"theta_{j + 1}"] = run.posterior["theta"][..., j]
    return posterior


def test_noncentred_run_matches_the_reference(noncentred):
    import arviz as az

    assert noncentred.divergences == 0
    table = az.summary(az.from_dict({"posterior": _posterior(noncentred)}), round_to="none")
    assert table["r_hat"].max() <= 1.01
    assert table.loc["tau", "ess_bulk"] >= 1000
    for name, row in table.iterrows():
        reference = REFERENCE[name]
        combined = np.hypot(row["mcse_mean"], reference["mcse_mean"])
        assert abs(row["mean"] - reference["mean"]) < 4 * combined, (name, row["mean"], reference["mean"])
        assert row["sd"] == pytest.approx(reference["sd"], rel=0.10), (name, row["sd"], reference["sd"])
    # theta is recorded as the deterministic mu + tau * eta
    np.testing.assert_allclose(noncentred.posterior["theta"],
                               noncentred.posterior["mu"][..., None] + noncentred.posterior["tau"][..., None]
                               * noncentred.posterior["theta_decentered"], rtol=1e-5, atol=1e-5)


def test_centred_run_diverges_and_overestimates_log_tau(centred_sweep, noncentred):
    """What the chapter says of the centred run at the default target 0.8."""
    import arviz as az

    centred = centred_sweep[0]
    assert centred.divergences >= 20 * max(noncentred.divergences, 1)
    log_tau = np.log(centred.posterior["tau"])
    mcse = float(az.mcse(log_tau, method="mean"))
    assert log_tau.mean() - REFERENCE["log_tau"]["mean"] > 2 * mcse  # too high: the neck is under-sampled


def test_raising_target_acceptance_shrinks_the_step_but_leaves_divergences(centred_sweep):
    step_sizes = [run.step_size for run in centred_sweep]
    assert step_sizes[-1] < step_sizes[0] / 1.3
    assert all(run.divergences > 0 for run in centred_sweep)


@pytest.mark.slow
def test_pyro_noncentred_run_matches_the_reference():
    """The chapter's Pyro run: means of mu and tau within 4 combined MCSE of the reference."""
    import torch

    run = mcmc.run_nuts(models.pyro_eight_schools_noncentred, torch.tensor(SIGMA, dtype=torch.float32),
                        backend="pyro", model_kwargs={"y": torch.tensor(Y, dtype=torch.float32)},
                        num_chains=2, num_warmup=60, num_samples=100, seed=4)
    summary = run.summary(["mu", "tau"])
    for name in ["mu", "tau"]:
        combined = np.hypot(summary.loc[name, "mcse_mean"], REFERENCE[name]["mcse_mean"])
        assert abs(summary.loc[name, "mean"] - REFERENCE[name]["mean"]) < 4 * combined
    np.testing.assert_allclose(run.posterior["theta"],
                               run.posterior["mu"][..., None] + run.posterior["tau"][..., None] * run.posterior["eta"],
                               rtol=1e-5, atol=1e-4)
