"""bayesbook.vi: SVI in NumPyro and Pyro, on small cases of the tests' own, scored exactly.

The fits here are short and use settings of their own; each is checked against an
exact answer: the closed-form KL between Beta distributions, the best KL a family
can reach (``vi_scoring.best_guide``), the Beta-Binomial evidence. Chapter 4's own fits
are checked by tests/book/test_variational_inference.py, from the numbers the executed
page glued.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesbook import exact, priors, vi, vi_scoring

#: Settings of these tests (not the chapter's): a decaying learning rate, averaging,
#: a few particles, a few hundred steps.
SETTINGS = vi.SVISettings(learning_rate=0.2, final_learning_rate=0.004, average_last=0.4, num_steps=400,
                          num_particles=4)
PYRO_SETTINGS = vi.SVISettings(learning_rate=0.2, final_learning_rate=0.004, average_last=0.4, num_steps=150,
                               num_particles=6)
#: A tiny grid: a conjugate prior and a bounded one, two data sets far apart.
GRID_PRIORS = [priors.Beta(2.0, 3.0), priors.Uniform(0.2, 0.7)]
GRID_COUNTS = [(3, 8), (31, 40)]


def beta_closed_form_kl(params, prior, k, n):
    """KL(q || p) from a Beta guide on [0, 1] to the Beta posterior of a Beta prior."""
    return exact.beta_kl(params["alpha"], params["beta"], prior.params["alpha"] + k, prior.params["beta"] + n - k)


@pytest.fixture(scope="module")
def beta_grid():
    return vi.fit_coin_grid(GRID_PRIORS, GRID_COUNTS, "beta", settings=SETTINGS, seed=3, fast_compile=True)


def test_grid_fields_and_shapes(beta_grid):
    assert beta_grid.family == "beta"
    assert beta_grid.priors == tuple(GRID_PRIORS) and beta_grid.counts == tuple(GRID_COUNTS)
    assert beta_grid.compile_seconds > 0 and beta_grid.run_seconds > 0
    for prior in GRID_PRIORS:
        for k, n in GRID_COUNTS:
            fit = beta_grid[prior, n]
            assert fit.family == "beta" and fit.backend == "numpyro" and fit.settings == SETTINGS
            assert set(fit.params) == {"alpha", "beta"}
            assert fit.losses.shape == (SETTINGS.num_steps,) and np.all(np.isfinite(fit.losses))
            assert fit.support == prior.support
            assert fit.reference == vi.default_init("beta", prior.support, k, n)
            assert fit.compile_seconds == pytest.approx(beta_grid.compile_seconds / 4)
            assert fit.run_seconds == pytest.approx(beta_grid.run_seconds / 4)
            assert set(fit.unconstrained) == set(vi.PARAMETERS["beta"])
    with pytest.raises(KeyError):
        beta_grid[GRID_PRIORS[0], 99]


@pytest.mark.parametrize("prior", GRID_PRIORS, ids=lambda prior: prior.label)
@pytest.mark.parametrize("k, n", GRID_COUNTS)
def test_each_grid_fit_reaches_the_best_kl_of_its_own_posterior(beta_grid, prior, k, n):
    posterior = prior.posterior(k, n)
    fit = beta_grid[prior, n]
    kl = vi_scoring.guide_kl("beta", fit.params, posterior)
    _, best_kl = vi_scoring.best_guide("beta", posterior)
    assert kl >= best_kl - 1e-9, "SVI cannot beat the family's optimum"
    assert kl - best_kl <= 0.01
    if isinstance(prior, priors.Beta):
        assert beta_closed_form_kl(fit.params, prior, k, n) <= 0.01


def test_elbo_equals_log_evidence_minus_kl(beta_grid):
    """Both ELBO estimates, ``vi.elbos`` (fresh particles) and the loss history, against the exact identity."""
    prior = GRID_PRIORS[0]
    fits = [beta_grid[prior, n] for _, n in GRID_COUNTS]
    fresh = vi.elbos(fits, prior, GRID_COUNTS, num_particles=4000, seed=13)
    assert fresh.shape == (len(fits),)
    for (k, n), fit, elbo in zip(GRID_COUNTS, fits, fresh):
        log_evidence = exact.beta_binomial_log_evidence(prior.params["alpha"], prior.params["beta"], k, n)
        kl = beta_closed_form_kl(fit.params, prior, k, n)
        assert abs(log_evidence - elbo - kl) <= 0.01
        from_losses = -fit.losses[-150:].mean()  # averaging many steps' particles
        assert abs(log_evidence - from_losses - kl) <= 0.02


def test_numpyro_truncated_normal_fit_and_its_reproducibility():
    prior, (k, n) = priors.ShiftedVonMises(10.0), (11, 17)
    options = dict(settings=SETTINGS, fast_compile=True)
    first = vi.fit_coin(prior, k, n, "truncated_normal", seed=7, **options)
    again = vi.fit_coin(prior, k, n, "truncated_normal", seed=7, **options)
    other = vi.fit_coin(prior, k, n, "truncated_normal", seed=8, **options)
    assert first.params == again.params
    assert first.params != other.params
    assert set(first.params) == {"loc", "scale"} and first.losses.shape == (SETTINGS.num_steps,)
    assert first.compile_seconds > 0 and first.run_seconds > 0
    posterior = prior.posterior(k, n)
    _, best_kl = vi_scoring.best_guide("truncated_normal", posterior)
    assert vi_scoring.guide_kl("truncated_normal", first.params, posterior) - best_kl <= 0.01


def test_pyro_beta_guide_on_a_beta_prior():
    import torch

    prior, (k, n) = priors.Beta(2.0, 3.0), (13, 18)
    state = torch.random.get_rng_state()
    fit = vi.fit_coin(prior, k, n, "beta", backend="pyro", settings=PYRO_SETTINGS, seed=14)
    assert torch.equal(torch.random.get_rng_state(), state), "the fit must not reseed PyTorch's generator"
    assert fit.backend == "pyro" and fit.family == "beta" and set(fit.params) == {"alpha", "beta"}
    assert fit.losses.shape == (PYRO_SETTINGS.num_steps,)
    assert fit.compile_seconds > 0 and fit.run_seconds > 0
    assert beta_closed_form_kl(fit.params, prior, k, n) <= 0.01
    again = vi.fit_coin(prior, k, n, "beta", backend="pyro", settings=PYRO_SETTINGS, seed=14)
    assert again.params == fit.params


def test_pyro_truncated_normal_guide_reaches_its_best():
    prior, (k, n) = priors.TruncatedVonMises(20.0), (22, 35)
    posterior = prior.posterior(k, n)
    fit = vi.fit_coin(prior, k, n, "truncated_normal", backend="pyro", settings=PYRO_SETTINGS, seed=14)
    _, best_kl = vi_scoring.best_guide("truncated_normal", posterior)
    assert vi_scoring.guide_kl("truncated_normal", fit.params, posterior) - best_kl <= 0.01


# -- the package's guides are the guides a page writes by hand ----------------------------------------

#: (family, natural parameters, support) of the guides compared.
GUIDES = [
    ("beta", {"alpha": 3.5, "beta": 1.7}, (0.0, 1.0)),
    ("beta", {"alpha": 20.0, "beta": 6.0}, (0.2, 0.7)),
    ("truncated_normal", {"loc": 0.62, "scale": 0.09}, (0.0, 1.0)),
    ("truncated_normal", {"loc": 0.76, "scale": 0.03}, (0.2, 0.7)),  # loc beyond the support
]


def hand_written_numpyro_guide(family, params, low, high):
    """The tests' own NumPyro guide: natural parameters declared with constraints, then one sample site."""
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    def guide(*args):
        if family == "beta":
            alpha = numpyro.param("alpha", params["alpha"], constraint=constraints.positive)
            beta = numpyro.param("beta", params["beta"], constraint=constraints.positive)
            shift = dist.transforms.AffineTransform(low, high - low)
            return numpyro.sample("theta", dist.TransformedDistribution(dist.Beta(alpha, beta), shift))
        loc = numpyro.param("loc", params["loc"])
        scale = numpyro.param("scale", params["scale"], constraint=constraints.positive)
        return numpyro.sample("theta", dist.TruncatedNormal(loc, scale, low=low, high=high))

    return guide


def hand_written_pyro_beta_guide(params, low, high):
    """The tests' own Pyro Beta guide (Pyro has no truncated normal to write one with)."""
    import pyro
    import pyro.distributions as dist
    import torch

    def guide(*args):
        alpha = pyro.param("alpha", torch.tensor(params["alpha"]), constraint=dist.constraints.positive)
        beta = pyro.param("beta", torch.tensor(params["beta"]), constraint=dist.constraints.positive)
        shift = dist.transforms.AffineTransform(low, high - low)
        return pyro.sample("theta", dist.TransformedDistribution(dist.Beta(alpha, beta), shift))

    return guide


def numpyro_site(guide, key=0):
    import numpyro

    trace = numpyro.handlers.trace(numpyro.handlers.seed(guide, key)).get_trace(None, 10.0, 7.0)
    return trace


@pytest.mark.parametrize("family, params, support", GUIDES)
def test_the_numpyro_guide_builder_is_the_hand_written_guide(family, params, support):
    low, high = support
    built = numpyro_site(vi.numpyro_guide(family, low, high, params))
    hand = numpyro_site(hand_written_numpyro_guide(family, params, low, high))
    # the builder declares the unconstrained parameters, starting at params
    start = {name: float(built[name]["value"]) for name in vi.PARAMETERS[family]}
    assert vi.to_natural(family, start, params) == pytest.approx(params)
    assert {name: float(hand[name]["value"]) for name in params} == pytest.approx(params)
    theta = np.linspace(low, high, 9)[1:-1]
    built_log_q = np.asarray(built["theta"]["fn"].log_prob(theta))
    hand_log_q = np.asarray(hand["theta"]["fn"].log_prob(theta))
    np.testing.assert_allclose(built_log_q, hand_log_q, rtol=1e-5, atol=1e-5)
    exact_log_q = vi_scoring.guide_log_density(family, params, support)(theta)
    np.testing.assert_allclose(built_log_q, exact_log_q, rtol=1e-4, atol=1e-4)
    # the same key gives the same draw: the two guides are one distribution, sampled one way
    assert float(built["theta"]["value"]) == pytest.approx(float(hand["theta"]["value"]), rel=1e-5)


@pytest.mark.parametrize("family, params, support", GUIDES)
def test_the_pyro_guide_builder_has_the_exact_density(family, params, support):
    import pyro
    import torch

    low, high = support
    pyro.clear_param_store()
    trace = pyro.poutine.trace(vi.pyro_guide(family, low, high, params)).get_trace()
    start = {name: float(pyro.param(name).detach()) for name in vi.PARAMETERS[family]}
    assert vi.to_natural(family, start, params) == pytest.approx(params)
    theta = torch.linspace(low, high, 9, dtype=torch.float32)[1:-1]
    built_log_q = trace.nodes["theta"]["fn"].log_prob(theta).detach().numpy()
    exact_log_q = vi_scoring.guide_log_density(family, params, support)(theta.numpy().astype(float))
    np.testing.assert_allclose(built_log_q, exact_log_q, rtol=1e-4, atol=1e-4)
    if family == "beta":
        pyro.clear_param_store()
        hand = pyro.poutine.trace(hand_written_pyro_beta_guide(params, low, high)).get_trace()
        hand_log_q = hand.nodes["theta"]["fn"].log_prob(theta).detach().numpy()
        np.testing.assert_allclose(built_log_q, hand_log_q, rtol=1e-5, atol=1e-5)
    pyro.clear_param_store()


def test_learning_rate_schedule():
    settings = vi.SVISettings(learning_rate=0.4, final_learning_rate=0.004, num_steps=100)
    assert settings.learning_rate_at(0) == pytest.approx(0.4)
    assert settings.learning_rate_at(50) == pytest.approx(0.04)
    assert settings.learning_rate_at(100) == pytest.approx(0.004)
    assert vi.SVISettings(learning_rate=0.07).learning_rate_at(321) == pytest.approx(0.07)
    assert vi.SVISettings(average_last=0.25, num_steps=100).first_averaged_step == 75
    assert vi.SVISettings(num_steps=100).first_averaged_step == 99  # no averaging: the last iterate


def test_default_init_starts_where_the_flat_posterior_is():
    from scipy import stats

    # the truncated normal: the flat posterior's own mean and sd, before the support cuts it
    init = vi.default_init("truncated_normal", (0.2, 0.7), 640, 800)
    flat = stats.beta(641, 161)
    assert init["loc"] == pytest.approx(flat.mean(), rel=1e-9) and init["loc"] > 0.7
    assert init["scale"] == pytest.approx(flat.std(), rel=1e-9)
    # the Beta guide: the moments of the flat posterior restricted to the support
    beta = vi.default_init("beta", (0.2, 0.7), 60, 100)
    flat = stats.beta(61, 41)
    mass = flat.cdf(0.7) - flat.cdf(0.2)
    mean = flat.expect(lambda t: t, lb=0.2, ub=0.7) / mass
    variance = flat.expect(lambda t: t**2, lb=0.2, ub=0.7) / mass - mean**2
    fitted = stats.beta(beta["alpha"], beta["beta"], loc=0.2, scale=0.5)
    assert fitted.mean() == pytest.approx(mean, rel=1e-6) and fitted.var() == pytest.approx(variance, rel=1e-5)
    beta = vi.default_init("beta", (0.0, 1.0), 6, 20)  # untruncated: the flat posterior's own moments
    assert beta["alpha"] == pytest.approx(7.0) and beta["beta"] == pytest.approx(15.0)


def test_unconstrained_parameters_round_trip():
    reference = {"loc": 0.4, "scale": 0.05}
    params = {"loc": 0.43, "scale": 0.02}
    unconstrained = vi.to_unconstrained("truncated_normal", params, reference)
    assert unconstrained["loc_shift"] == pytest.approx(0.6)  # (0.43 - 0.4) / 0.05
    assert vi.to_natural("truncated_normal", unconstrained, reference) == pytest.approx(params)
    beta = {"alpha": 2.5, "beta": 40.0}
    assert vi.to_natural("beta", vi.to_unconstrained("beta", beta, beta), beta) == pytest.approx(beta)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"family": "gaussian"}, "family"),
        ({"backend": "stan"}, "backend"),
        ({"k": 11}, "k"),
        ({"k": 2.5}, "k"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_fit_arguments_raise_value_error(kwargs, name):
    arguments = {"prior": priors.Beta(1.0, 1.0), "k": 3, "n": 10, "family": "beta"} | kwargs
    with pytest.raises(ValueError, match=name):
        vi.fit_coin(**arguments)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"num_steps": 0}, "num_steps"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"num_particles": 0}, "num_particles"),
        ({"final_learning_rate": 0.0}, "final_learning_rate"),
        ({"average_last": 1.0}, "average_last"),
    ],
)
def test_bad_settings_raise_value_error(kwargs, name):
    with pytest.raises(ValueError, match=name):
        vi.SVISettings(**kwargs)


def test_bad_grid_and_elbo_arguments(beta_grid):
    with pytest.raises(ValueError, match="family"):
        vi.fit_coin_grid([priors.Beta(1.0, 1.0)], [(1, 2)], "normal")
    with pytest.raises(ValueError, match="counts"):
        vi.fit_coin_grid([priors.Beta(1.0, 1.0)], [], "beta")
    with pytest.raises(TypeError, match="settings"):
        vi.fit_coin(priors.Beta(1.0, 1.0), 1, 2, "beta", settings={"num_steps": 10})
    with pytest.raises(TypeError, match="prior"):
        vi.fit_coin("beta", 1, 2, "beta")
    fits = [beta_grid[GRID_PRIORS[0], n] for _, n in GRID_COUNTS]
    with pytest.raises(TypeError, match="fits"):
        vi.elbos([], GRID_PRIORS[0], [])
    with pytest.raises(ValueError, match="counts"):
        vi.elbos(fits, GRID_PRIORS[0], GRID_COUNTS[:1])
    with pytest.raises(ValueError, match="support"):
        vi.elbos([fits[0], beta_grid[GRID_PRIORS[1], GRID_COUNTS[0][1]]], GRID_PRIORS[0], GRID_COUNTS)
