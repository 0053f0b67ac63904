"""bayesbook.exact: closed-form Beta posterior, evidence and Beta KL divergence."""

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayesbook import exact

CASES = [(5.0, 5.0, 0, 0), (5.0, 5.0, 4, 5), (1.0, 1.0, 7, 10), (0.5, 2.0, 30, 50), (5.0, 5.0, 783, 1000)]


@pytest.mark.parametrize("alpha, beta, k, n", CASES)
def test_posterior_matches_scipy(alpha, beta, k, n):
    posterior = exact.beta_posterior(alpha, beta, k, n)
    reference = stats.beta(alpha + k, beta + n - k)
    grid = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(posterior.pdf(grid), reference.pdf(grid), rtol=1e-12)
    assert posterior.mean() == pytest.approx(reference.mean(), rel=1e-12)
    assert posterior.std() == pytest.approx(reference.std(), rel=1e-12)


@pytest.mark.parametrize("alpha, beta, k, n", [c for c in CASES if c[0] >= 1 and c[1] >= 1])
def test_posterior_matches_brute_force_grid(alpha, beta, k, n):
    """Prior times likelihood on a fine grid, normalised numerically, equals the closed form."""
    grid = (np.arange(200_000) + 0.5) / 200_000  # midpoints of a uniform grid on (0, 1)
    width = 1.0 / grid.size
    log_unnormalised = (
        stats.beta(alpha, beta).logpdf(grid) + k * np.log(grid) + (n - k) * np.log1p(-grid)
    )
    weights = np.exp(log_unnormalised - log_unnormalised.max())
    density = weights / (weights.sum() * width)
    grid_mean = np.sum(grid * density) * width
    grid_sd = np.sqrt(np.sum((grid - grid_mean) ** 2 * density) * width)

    posterior = exact.beta_posterior(alpha, beta, k, n)
    assert grid_mean == pytest.approx(posterior.mean(), abs=1e-7)
    assert grid_sd == pytest.approx(posterior.std(), rel=1e-6)
    inner = slice(1000, -1000)
    np.testing.assert_allclose(density[inner], posterior.pdf(grid[inner]), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("alpha, beta, k, n", CASES)
def test_log_evidence_matches_integral_over_prior(alpha, beta, k, n):
    prior = stats.beta(alpha, beta)

    def joint(theta):
        return stats.binom.pmf(k, n, theta) * prior.pdf(theta)

    mode = (alpha + k - 1) / (alpha + beta + n - 2) if alpha + k > 1 and beta + n - k > 1 else 0.5
    evidence, _ = integrate.quad(joint, 0.0, 1.0, points=[mode], epsabs=0, epsrel=1e-11, limit=200)
    assert exact.beta_binomial_log_evidence(alpha, beta, k, n) == pytest.approx(np.log(evidence), abs=1e-8)


@pytest.mark.parametrize("alpha, beta", [(1.0, 1.0), (2.0, 3.0), (0.5, 0.5), (50.0, 7.0)])
def test_kl_is_zero_for_identical_arguments(alpha, beta):
    assert exact.beta_kl(alpha, beta, alpha, beta) == pytest.approx(0.0, abs=1e-12)


PAIRS = [((2.0, 3.0), (4.0, 1.5)), ((5.0, 5.0), (1.0, 1.0)), ((1.0, 1.0), (5.0, 5.0)), ((30.0, 8.0), (2.0, 2.0)), ((0.7, 1.2), (1.5, 0.9))]


@pytest.mark.parametrize("p, q", PAIRS)
def test_kl_is_positive_and_matches_numerical_integration(p, q):
    dist_p, dist_q = stats.beta(*p), stats.beta(*q)

    def integrand(theta):
        return dist_p.pdf(theta) * (dist_p.logpdf(theta) - dist_q.logpdf(theta))

    numeric, _ = integrate.quad(integrand, 0.0, 1.0, epsabs=1e-12, epsrel=1e-10, limit=500)
    value = exact.beta_kl(*p, *q)
    assert value > 0
    assert value == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_kl_is_not_symmetric():
    assert exact.beta_kl(2, 3, 4, 1.5) != pytest.approx(exact.beta_kl(4, 1.5, 2, 3))


def test_kl_of_posteriors_shrinks_with_data():
    """Two non-dogmatic priors lead to posteriors that agree more and more."""
    values = [
        exact.beta_kl(*exact.beta_posterior(5, 5, int(0.8 * n), n).args, *exact.beta_posterior(1, 1, int(0.8 * n), n).args)
        for n in (10, 100, 1000)
    ]
    assert values[0] > values[1] > values[2] > 0


@pytest.mark.parametrize(
    "args, name",
    [
        ((0.0, 1.0, 1, 2), "alpha"),
        ((-1.0, 1.0, 1, 2), "alpha"),
        ((1.0, 0.0, 1, 2), "beta"),
        ((1.0, float("nan"), 1, 2), "beta"),
        ((1.0, 1.0, 3, 2), "k"),
        ((1.0, 1.0, -1, 2), "k"),
        ((1.0, 1.0, 0, -2), "n"),
    ],
)
def test_posterior_and_evidence_reject_bad_values(args, name):
    with pytest.raises(ValueError, match=name):
        exact.beta_posterior(*args)
    with pytest.raises(ValueError, match=name):
        exact.beta_binomial_log_evidence(*args)


@pytest.mark.parametrize("args, name", [((1.0, 1.0, 1.5, 2), "k"), ((1.0, 1.0, 1, 2.0), "n"), (("1", 1.0, 1, 2), "alpha")])
def test_posterior_rejects_bad_types(args, name):
    with pytest.raises(TypeError, match=name):
        exact.beta_posterior(*args)


@pytest.mark.parametrize("position, name", [(0, "alpha_p"), (1, "beta_p"), (2, "alpha_q"), (3, "beta_q")])
@pytest.mark.parametrize("bad", [0.0, -2.0])
def test_kl_rejects_non_positive_parameters(position, name, bad):
    args = [1.0, 2.0, 3.0, 4.0]
    args[position] = bad
    with pytest.raises(ValueError, match=name):
        exact.beta_kl(*args)


def test_digamma_identity_used_by_kl():
    """Sanity check of the closed form on a case computable by hand: KL(Beta(1,1) || Beta(2,1)) = log 1/2 + 1."""
    # Beta(2,1) has density 2*theta; KL = int_0^1 -log(2 theta) dtheta = 1 - log 2.
    assert exact.beta_kl(1, 1, 2, 1) == pytest.approx(1 - np.log(2), rel=1e-12)
    assert special.digamma(1.0) == pytest.approx(-np.euler_gamma)


# -- quadrature posterior ------------------------------------------------------------


@pytest.mark.parametrize("alpha, beta, k, n", CASES + [(2.0, 3.0, 0, 1000), (2.0, 3.0, 1000, 1000), (5.0, 5.0, 8000, 10000)])
def test_quadrature_reproduces_the_closed_form_beta_posterior(alpha, beta, k, n):
    quadrature = exact.quadrature_posterior(stats.beta(alpha, beta).logpdf, k, n)
    closed = exact.beta_posterior(alpha, beta, k, n)
    assert quadrature.mean == pytest.approx(closed.mean(), abs=1e-8)
    assert quadrature.sd == pytest.approx(closed.std(), abs=1e-8)
    assert quadrature.log_evidence == pytest.approx(exact.beta_binomial_log_evidence(alpha, beta, k, n), abs=1e-8)
    points = np.linspace(0.05, 0.95, 19)
    np.testing.assert_allclose(quadrature.pdf(points), closed.pdf(points), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(quadrature.cdf(points), closed.cdf(points), atol=1e-9)
    levels = np.array([0.025, 0.25, 0.5, 0.75, 0.975])
    np.testing.assert_allclose(quadrature.quantile(levels), closed.ppf(levels), atol=1e-8)
    assert np.all(quadrature.density >= 0)


def test_quadrature_handles_a_truncated_support_and_a_kink():
    def log_prior(theta):
        return np.where((theta >= 0.2) & (theta <= 0.7), -np.log(0.5), -np.inf)

    posterior = exact.quadrature_posterior(log_prior, 80, 100, support=(0.2, 0.7))
    # Posterior is Beta(81, 21) restricted to [0.2, 0.7]: compare with scipy's truncated moments.
    beta = stats.beta(81, 21)
    mass = beta.cdf(0.7) - beta.cdf(0.2)
    mean, _ = integrate.quad(lambda t: t * beta.pdf(t) / mass, 0.2, 0.7, epsabs=1e-13)
    assert posterior.mean == pytest.approx(mean, abs=1e-9)
    assert float(posterior.cdf(0.7)) == pytest.approx(1.0, abs=1e-12)
    assert float(posterior.pdf(0.75)) == 0.0


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"k": 5, "n": 3}, ValueError, "k"),
        ({"k": 1, "n": 3, "support": (0.5, 0.2)}, ValueError, "support"),
        ({"k": 1, "n": 3, "support": (-0.5, 1.0)}, ValueError, "support"),
        ({"k": 1, "n": 3, "panels": 0}, ValueError, "panels"),
        ({"k": 1.0, "n": 3}, TypeError, "k"),
    ],
)
def test_quadrature_rejects_bad_input(kwargs, error, name):
    with pytest.raises(error, match=name):
        exact.quadrature_posterior(stats.uniform.logpdf, **kwargs)


def test_quantile_rejects_levels_outside_unit_interval():
    posterior = exact.quadrature_posterior(stats.uniform.logpdf, 3, 10)
    with pytest.raises(ValueError, match="q"):
        posterior.quantile(1.5)
