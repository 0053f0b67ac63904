"""bayesbook.vi: SVI in NumPyro and Pyro, scored exactly against the posterior.

The grids here are the ones chapter 4 shows (same priors, flips, settings, seeds).
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesbook import data, exact, priors, vi, vi_scoring

SAMPLE_SIZES = [5, 10, 50, 100, 1000]
FLIPS = data.simulate_bernoulli(0.8, n=1000, seed=20261122)
COUNTS = [data.count_successes(FLIPS[:n]) for n in SAMPLE_SIZES]
BOOK_PRIORS = priors.book_priors()
SETTINGS = {
    "beta": vi.SVISettings(learning_rate=0.3, final_learning_rate=0.002, average_last=0.5, num_steps=1000, num_particles=3),
    "truncated_normal": vi.SVISettings(learning_rate=0.3, final_learning_rate=0.002, average_last=0.5, num_steps=1000,
                                       num_particles=10),
}
PYRO_SETTINGS = vi.SVISettings(learning_rate=0.3, final_learning_rate=0.002, average_last=0.5, num_steps=200, num_particles=10)


@pytest.fixture(scope="module")
def grids():
    # the chapter's calls (lectures/variational_inference.md)
    return {
        family: vi.fit_coin_grid(BOOK_PRIORS, COUNTS, family, settings=SETTINGS[family], seed=1, fast_compile=True)
        for family in vi.FAMILIES
    }


CASES = [
    pytest.param(family, prior, k, n, id=f"{family}-{prior.label}-n{n}")
    for family in vi.FAMILIES
    for prior in BOOK_PRIORS
    for k, n in COUNTS
]


@pytest.mark.parametrize("family, prior, k, n", CASES)
def test_svi_reaches_the_family_best_kl(grids, family, prior, k, n):
    posterior = prior.posterior(k, n, panels=100)
    fit = grids[family][prior, n]
    kl = vi_scoring.guide_kl(family, fit.params, posterior)
    _, best_kl = vi_scoring.best_guide(family, posterior)
    assert kl >= best_kl - 1e-9, "SVI cannot beat the family's optimum"
    assert kl - best_kl <= 0.01


@pytest.mark.parametrize("k, n", COUNTS)
def test_beta_guide_on_beta_prior_matches_the_closed_form(grids, k, n):
    fit = grids["beta"][priors.Beta(5.0, 5.0), n]
    kl = exact.beta_kl(fit.params["alpha"], fit.params["beta"], 5.0 + k, 5.0 + n - k)
    assert kl <= 0.01


@pytest.mark.parametrize("k, n", COUNTS)
def test_pyro_beta_guide_on_beta_prior(k, n):
    fit = vi.fit_coin(priors.Beta(5.0, 5.0), k, n, "beta", backend="pyro", settings=PYRO_SETTINGS, seed=4)
    assert exact.beta_kl(fit.params["alpha"], fit.params["beta"], 5.0 + k, 5.0 + n - k) <= 0.01
    assert fit.losses.shape == (200,)


def test_pyro_truncated_normal_guide_reaches_its_best():
    prior = priors.TruncatedLaplace(0.5, 0.07)
    k, n = COUNTS[3]
    posterior = prior.posterior(k, n, panels=100)
    fit = vi.fit_coin(prior, k, n, "truncated_normal", backend="pyro", settings=PYRO_SETTINGS, seed=4)
    _, best_kl = vi_scoring.best_guide("truncated_normal", posterior)
    assert vi_scoring.guide_kl("truncated_normal", fit.params, posterior) - best_kl <= 0.01


def test_elbo_equals_log_evidence_minus_kl(grids):
    prior = priors.Beta(5.0, 5.0)
    fits = [grids["beta"][prior, n] for n in SAMPLE_SIZES]
    elbos = vi.elbos(fits, prior, COUNTS, num_particles=5000, seed=3)
    for (k, n), fit, elbo in zip(COUNTS, fits, elbos):
        kl = vi_scoring.guide_kl("beta", fit.params, prior.posterior(k, n))
        assert abs(exact.beta_binomial_log_evidence(5.0, 5.0, k, n) - elbo - kl) <= 0.01


def test_the_source_set_up_is_slow_and_ours_is_not(grids):
    k, n = COUNTS[-1]
    source = vi.fit_coin(priors.Beta(5.0, 5.0), k, n, "beta", seed=5, fast_compile=True,
                         settings=vi.SVISettings(learning_rate=0.0005, num_steps=5000, num_particles=1),
                         init={"alpha": 10.0, "beta": 10.0})
    source_kl = exact.beta_kl(source.params["alpha"], source.params["beta"], 5.0 + k, 5.0 + n - k)
    ours = grids["beta"][priors.Beta(5.0, 5.0), n]
    assert source_kl > 1.0
    assert exact.beta_kl(ours.params["alpha"], ours.params["beta"], 5.0 + k, 5.0 + n - k) < 0.01
    # Adam moves log(alpha) by about the learning rate per step at most
    assert abs(np.log(source.params["alpha"] / 10.0)) <= 1.1 * 0.0005 * 5000


def test_fits_are_reproducible_for_a_seed():
    prior, (k, n) = priors.ShiftedVonMises(10.0), COUNTS[1]
    short = vi.SVISettings(num_steps=50)
    first = vi.fit_coin(prior, k, n, "truncated_normal", settings=short, seed=7, fast_compile=True)
    again = vi.fit_coin(prior, k, n, "truncated_normal", settings=short, seed=7, fast_compile=True)
    other = vi.fit_coin(prior, k, n, "truncated_normal", settings=short, seed=8, fast_compile=True)
    assert first.params == again.params
    assert first.params != other.params
    pyro_first = vi.fit_coin(prior, k, n, "beta", backend="pyro", settings=short, seed=7)
    pyro_again = vi.fit_coin(prior, k, n, "beta", backend="pyro", settings=short, seed=7)
    assert pyro_first.params == pyro_again.params


def test_learning_rate_schedule():
    settings = vi.SVISettings(learning_rate=0.3, final_learning_rate=0.003, num_steps=100)
    assert settings.learning_rate_at(0) == pytest.approx(0.3)
    assert settings.learning_rate_at(50) == pytest.approx(0.03)
    assert settings.learning_rate_at(100) == pytest.approx(0.003)
    assert vi.SVISettings(learning_rate=0.1).learning_rate_at(500) == pytest.approx(0.1)


def test_default_init_matches_the_truncated_flat_posterior():
    from scipy import stats

    init = vi.default_init("truncated_normal", (0.2, 0.7), 783, 1000)
    flat = stats.beta(784, 218)
    mass = flat.cdf(0.7) - flat.cdf(0.2)
    mean = flat.expect(lambda t: t, lb=0.2, ub=0.7) / mass
    assert init["loc"] == pytest.approx(mean, rel=1e-6)
    assert 0.2 < init["loc"] < 0.7


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"family": "gaussian"}, "family"),
        ({"backend": "stan"}, "backend"),
        ({"k": 11}, "k"),
        ({"k": 2.5}, "k"),
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


def test_bad_grid_arguments():
    with pytest.raises(ValueError, match="family"):
        vi.fit_coin_grid([priors.Beta(1.0, 1.0)], [(1, 2)], "normal")
    with pytest.raises(ValueError, match="counts"):
        vi.fit_coin_grid([priors.Beta(1.0, 1.0)], [], "beta")
    with pytest.raises(TypeError, match="settings"):
        vi.fit_coin(priors.Beta(1.0, 1.0), 1, 2, "beta", settings={"num_steps": 10})


@pytest.mark.parametrize("k, n", COUNTS)
def test_elbo_from_the_loss_history_equals_log_evidence_minus_kl(grids, k, n):
    """The chapter's check: NumPyro's own loss over the last 100 steps is minus the ELBO."""
    prior = priors.Beta(5.0, 5.0)
    fit = grids["beta"][prior, n]
    kl = vi_scoring.guide_kl("beta", fit.params, prior.posterior(k, n))
    elbo = -fit.losses[-100:].mean()
    assert abs(exact.beta_binomial_log_evidence(5.0, 5.0, k, n) - elbo - kl) <= 0.01
