"""bayesbook.vi_scoring: guide densities, KL by quadrature, best KL, PSIS k-hat."""

import numpy as np
import pytest
from scipy import integrate, stats

from bayesbook import exact, priors, vi_scoring

GUIDES = [
    ("beta", {"alpha": 3.0, "beta": 7.5}, (0.0, 1.0)),
    ("beta", {"alpha": 40.0, "beta": 12.0}, (0.2, 0.7)),
    ("truncated_normal", {"loc": 0.6, "scale": 0.1}, (0.0, 1.0)),
    ("truncated_normal", {"loc": 0.75, "scale": 0.02}, (0.2, 0.7)),  # loc beyond the support
    ("truncated_normal", {"loc": -0.3, "scale": 0.05}, (0.0, 1.0)),  # far in the lower tail
]


@pytest.mark.parametrize("family, params, support", GUIDES)
def test_guide_density_matches_scipy_and_integrates_to_one(family, params, support):
    low, high = support
    log_q = vi_scoring.guide_log_density(family, params, support)
    if family == "beta":
        reference = stats.beta(params["alpha"], params["beta"], loc=low, scale=high - low)
    else:
        loc, scale = params["loc"], params["scale"]
        reference = stats.truncnorm((low - loc) / scale, (high - loc) / scale, loc=loc, scale=scale)
    points = np.linspace(low, high, 23)[1:-1]
    np.testing.assert_allclose(log_q(points), reference.logpdf(points), rtol=1e-9, atol=1e-9)
    kink = [params.get("loc", low)] if low < params.get("loc", low) < high else None
    mass, _ = integrate.quad(lambda t: np.exp(log_q(t)), low, high, limit=200, points=kink)
    assert mass == pytest.approx(1.0, abs=1e-7)
    assert log_q(low - 0.01) == -np.inf and log_q(high + 0.01) == -np.inf


@pytest.mark.parametrize("k, n", [(4, 5), (41, 50), (783, 1000)])
def test_beta_guide_kl_matches_the_closed_form(k, n):
    posterior = priors.Beta(5.0, 5.0).posterior(k, n)
    alpha_p, beta_p = 5.0 + k, 5.0 + n - k
    for alpha_q, beta_q in [(alpha_p * 1.1, beta_p * 0.95), (alpha_p * 0.7, beta_p * 0.8)]:
        quadrature = vi_scoring.guide_kl("beta", {"alpha": alpha_q, "beta": beta_q}, posterior)
        assert quadrature == pytest.approx(exact.beta_kl(alpha_q, beta_q, alpha_p, beta_p), rel=1e-6)


def test_truncated_normal_kl_matches_adaptive_integration():
    prior = priors.TruncatedLaplace(0.5, 0.07)
    posterior = prior.posterior(41, 50)
    params = {"loc": 0.7, "scale": 0.06}
    log_q = vi_scoring.guide_log_density("truncated_normal", params, (0.0, 1.0))

    def integrand(theta):
        return np.exp(log_q(theta)) * (log_q(theta) - posterior.log_pdf(theta))

    reference, _ = integrate.quad(integrand, 0.0, 1.0, points=[0.5, 0.7], limit=400, epsabs=1e-12)
    assert vi_scoring.guide_kl("truncated_normal", params, posterior) == pytest.approx(reference, rel=1e-6)


def test_best_beta_guide_recovers_a_beta_posterior():
    posterior = priors.Beta(5.0, 5.0).posterior(75, 100)
    params, kl = vi_scoring.best_guide("beta", posterior)
    assert kl < 1e-8
    assert params["alpha"] == pytest.approx(80.0, rel=1e-3)
    assert params["beta"] == pytest.approx(30.0, rel=1e-3)


@pytest.mark.parametrize("prior", [priors.Uniform(0.2, 0.7), priors.TruncatedLaplace(0.5, 0.07)], ids=lambda p: p.label)
def test_best_guide_beats_moment_matching_and_is_positive(prior):
    posterior = prior.posterior(8, 10)
    for family in ("beta", "truncated_normal"):
        params, kl = vi_scoring.best_guide(family, posterior)
        start = vi_scoring._moment_start(family, posterior)
        assert 0 < kl <= vi_scoring.guide_kl(family, start, posterior) + 1e-12


def test_psis_khat_separates_a_good_guide_from_a_poor_one():
    posterior = priors.Beta(5.0, 5.0).posterior(783, 1000)
    good = {"alpha": 788.0 * 1.02, "beta": 222.0 * 1.02}
    poor = {"alpha": 10.0, "beta": 10.0}  # the source lecture's starting guide
    assert vi_scoring.psis_khat("beta", good, posterior, seed=1) < 0.5
    assert vi_scoring.psis_khat("beta", poor, posterior, seed=1) > 0.7


def test_pareto_khat_is_the_tail_shape_of_the_weights_not_of_their_inverse():
    """Normal proposal q = N(0, s_q^2) for a normal target p = N(0, s_p^2): for s_q < s_p the
    weights p/q are unbounded with Pareto shape 1 - s_q^2 / s_p^2 (0.75 here); for s_q > s_p
    they are bounded, so k-hat is below 0.5."""
    rng = np.random.default_rng(7)
    narrow = rng.normal(0.0, 1.0, size=20_000)
    khat_narrow = vi_scoring.pareto_khat(stats.norm(0, 2).logpdf(narrow) - stats.norm(0, 1).logpdf(narrow))
    assert khat_narrow == pytest.approx(0.75, abs=0.15)
    wide = rng.normal(0.0, 2.0, size=20_000)
    assert vi_scoring.pareto_khat(stats.norm(0, 1).logpdf(wide) - stats.norm(0, 2).logpdf(wide)) < 0.5


def test_pareto_khat_rejects_what_is_not_a_vector_of_log_weights():
    with pytest.raises(ValueError, match="log_weights"):
        vi_scoring.pareto_khat(np.zeros((3, 4)))


def test_sample_guide_is_seeded_and_has_the_right_mean():
    draws = vi_scoring.sample_guide("truncated_normal", {"loc": 0.75, "scale": 0.02}, (0.2, 0.7), 20_000, seed=3)
    again = vi_scoring.sample_guide("truncated_normal", {"loc": 0.75, "scale": 0.02}, (0.2, 0.7), 20_000, seed=3)
    np.testing.assert_array_equal(draws, again)
    reference = stats.truncnorm((0.2 - 0.75) / 0.02, (0.7 - 0.75) / 0.02, loc=0.75, scale=0.02)
    assert abs(draws.mean() - reference.mean()) < 4 * reference.std() / np.sqrt(draws.size)
    assert np.all((draws >= 0.2) & (draws <= 0.7))


def test_unknown_family_raises():
    with pytest.raises(ValueError, match="family"):
        vi_scoring.guide_log_density("gaussian", {}, (0.0, 1.0))


@pytest.mark.parametrize("family, params", [("beta", {"alpha": 2.0, "beta": 5.0}),
                                            ("truncated_normal", {"loc": 0.65, "scale": 0.1})])
def test_guide_draws_follow_the_guides_density(family, params):
    """sample_guide's draws against the guide's own distribution function, by KS, and its mean."""
    support = (0.2, 0.7)
    draws = vi_scoring.sample_guide(family, params, support, 20000, seed=5)
    if family == "beta":
        exact = stats.beta(params["alpha"], params["beta"], loc=0.2, scale=0.5)
    else:
        low, high = (np.array(support) - params["loc"]) / params["scale"]
        exact = stats.truncnorm(low, high, loc=params["loc"], scale=params["scale"])
    assert stats.kstest(draws, exact.cdf).pvalue > 0.01
    assert abs(draws.mean() - exact.mean()) < 4 * exact.std() / np.sqrt(draws.size)
    assert draws.min() >= 0.2 and draws.max() <= 0.7
    np.testing.assert_array_equal(draws, vi_scoring.sample_guide(family, params, support, 20000, seed=5))
