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


PAIRS = [((2.0, 3.0), (4.0, 1.5)), ((5.0, 5.0), (1.0, 1.0)), ((1.0, 1.0), (5.0, 5.0)), ((30.0, 8.0), (2.0, 2.0)),
         ((0.7, 1.2), (1.5, 0.9))]


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


# --- chapters 7 and 8: exact regression posteriors ---------------------------------------

REGRESSION_X = np.array([-1.5, -0.2, 0.4, 1.1, 2.3, 3.0, 4.2])
REGRESSION_Y = np.array([0.9, 1.4, 1.2, 2.6, 2.9, 3.8, 4.1])


def test_regression_posterior_equals_gaussian_conditioning_of_the_joint():
    """Condition the joint Gaussian of (beta, y) on y: m0 + S0 X^T (X S0 X^T + s^2 I)^-1 (y - X m0)."""
    prior_mean, prior_sd, noise = np.array([1.0, -0.5]), np.array([3.0, 0.7]), 1.3
    mean, cov = exact.regression_posterior(REGRESSION_X, REGRESSION_Y, noise_sd=noise, prior_mean=tuple(prior_mean),
                                           prior_sd=tuple(prior_sd))
    design = np.column_stack([np.ones_like(REGRESSION_X), REGRESSION_X])
    prior_cov = np.diag(prior_sd**2)
    data_cov = design @ prior_cov @ design.T + noise**2 * np.eye(REGRESSION_X.size)
    gain = prior_cov @ design.T @ np.linalg.inv(data_cov)
    np.testing.assert_allclose(mean, prior_mean + gain @ (REGRESSION_Y - design @ prior_mean), rtol=1e-9)
    np.testing.assert_allclose(cov, prior_cov - gain @ design @ prior_cov, rtol=1e-8, atol=1e-12)
    assert mean.shape == (2,) and cov.shape == (2, 2) and np.array_equal(cov, cov.T)


def test_regression_posterior_agrees_with_quadrature_on_a_grid():
    noise, prior_sd = 0.8, (4.0, 1.5)
    mean, cov = exact.regression_posterior(REGRESSION_X, REGRESSION_Y, noise_sd=noise, prior_sd=prior_sd)
    sd = np.sqrt(np.diag(cov))
    intercepts = np.linspace(mean[0] - 8 * sd[0], mean[0] + 8 * sd[0], 401)
    slopes = np.linspace(mean[1] - 8 * sd[1], mean[1] + 8 * sd[1], 401)
    a, b = np.meshgrid(intercepts, slopes, indexing="ij")
    log_post = (stats.norm.logpdf(a, 0, prior_sd[0]) + stats.norm.logpdf(b, 0, prior_sd[1])
                + stats.norm.logpdf(REGRESSION_Y[None, None, :], a[..., None] + b[..., None] * REGRESSION_X,
                                    noise).sum(-1))
    weight = np.exp(log_post - log_post.max())

    def integral(values):
        return integrate.simpson(integrate.simpson(values, x=slopes, axis=1), x=intercepts)

    norm = integral(weight)
    grid_mean = np.array([integral(weight * a), integral(weight * b)]) / norm
    grid_cov = np.array([[integral(weight * (u - grid_mean[i]) * (v - grid_mean[j])) / norm
                          for j, v in enumerate((a, b))] for i, u in enumerate((a, b))])
    np.testing.assert_allclose(mean, grid_mean, rtol=1e-6)
    np.testing.assert_allclose(cov, grid_cov, rtol=1e-5)


def test_regression_posterior_with_a_flat_prior_is_least_squares():
    mean, cov = exact.regression_posterior(REGRESSION_X, REGRESSION_Y, noise_sd=0.5, prior_sd=(1e6, 1e6))
    design = np.column_stack([np.ones_like(REGRESSION_X), REGRESSION_X])
    np.testing.assert_allclose(mean, np.linalg.lstsq(design, REGRESSION_Y, rcond=None)[0], rtol=1e-8)
    np.testing.assert_allclose(cov, 0.25 * np.linalg.inv(design.T @ design), rtol=1e-8)


def test_regression_posterior_rejects_bad_input():
    x, y = REGRESSION_X, REGRESSION_Y
    with pytest.raises(ValueError, match="noise_sd"):
        exact.regression_posterior(x, y, noise_sd=-1.0)
    with pytest.raises(ValueError, match="same length"):
        exact.regression_posterior(x, y[:-1], noise_sd=1.0)
    with pytest.raises(ValueError, match="finite"):
        exact.regression_posterior(x, np.r_[y[:-1], np.nan], noise_sd=1.0)
    with pytest.raises(TypeError, match="prior_sd"):
        exact.regression_posterior(x, y, noise_sd=1.0, prior_sd=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="prior_sd"):
        exact.regression_posterior(x, y, noise_sd=1.0, prior_sd=(1.0, 0.0))
    with pytest.raises(TypeError, match="prior_mean"):
        exact.regression_posterior(x, y, noise_sd=1.0, prior_mean=0.0)


def test_gaussian_kl_against_the_univariate_formula_and_monte_carlo():
    # one dimension: log(s_p/s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2
    univariate = np.log(2.0 / 0.5) + (0.5**2 + 1.0**2) / (2 * 2.0**2) - 0.5
    assert exact.gaussian_kl([1.0], [[0.25]], [0.0], [[4.0]]) == pytest.approx(univariate, rel=1e-12)
    mean_q, cov_q = np.array([0.3, -1.0]), np.array([[1.0, 0.4], [0.4, 0.5]])
    mean_p, cov_p = np.array([0.0, -0.8]), np.array([[2.0, -0.3], [-0.3, 0.8]])
    draws = stats.multivariate_normal(mean_q, cov_q).rvs(400_000, random_state=1)
    monte_carlo = np.mean(stats.multivariate_normal(mean_q, cov_q).logpdf(draws)
                          - stats.multivariate_normal(mean_p, cov_p).logpdf(draws))
    assert exact.gaussian_kl(mean_q, cov_q, mean_p, cov_p) == pytest.approx(monte_carlo, abs=0.005)
    assert exact.gaussian_kl(mean_p, cov_p, mean_p, cov_p) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="shape"):
        exact.gaussian_kl(mean_q, cov_q, [0.0], [[1.0]])


def test_the_best_mean_field_normal_is_minus_half_log_one_minus_rho_squared_away():
    """KL(N(m, diag(1/Lambda_jj)) || N(m, Sigma)) = -log(1 - rho^2) / 2 for a bivariate normal."""
    for rho in (0.0, 0.5, -0.9):
        cov = np.array([[2.0, rho * np.sqrt(2.0 * 0.3)], [rho * np.sqrt(2.0 * 0.3), 0.3]])
        mean_field = np.diag(1 / np.diag(np.linalg.inv(cov)))
        assert exact.gaussian_kl([1.0, 2.0], mean_field, [1.0, 2.0], cov) == pytest.approx(
            -0.5 * np.log1p(-rho**2), abs=1e-12)


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
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 8))
    y = X @ rng.normal(0, 2, 8) + 0.01 * rng.standard_normal(5)
    # HalfNormal(0.01) is concentrated below 0.03; compare with the known-noise posterior
    # (ridge regression) at the posterior mean of sigma
    posterior = exact.gaussian_prior_regression_posterior(X, y, prior_sd=2.0, noise_prior_sd=0.01, grid_size=20000)
    assert posterior.sigma_mean < 0.03
    sigma0 = posterior.sigma_mean
    precision = X.T @ X / sigma0**2 + np.eye(8) / 4.0
    ridge_mean = np.linalg.solve(precision, X.T @ y / sigma0**2)
    np.testing.assert_allclose(posterior.beta_mean, ridge_mean, atol=0.02 * np.abs(ridge_mean).max())
    assert posterior.beta_mean.shape == posterior.beta_sd.shape == (8,)


@pytest.mark.parametrize("call, argument", [
    (lambda: exact.gaussian_prior_regression_posterior(np.ones(3), np.ones(3), prior_sd=1, noise_prior_sd=1),
     "X must be a matrix"),
    (lambda: exact.gaussian_prior_regression_posterior(np.ones((3, 2)), np.ones(3), prior_sd=0, noise_prior_sd=1),
     "prior_sd"),
    (lambda: exact.gaussian_prior_regression_posterior(np.ones((3, 2)), np.ones(3), prior_sd=1, noise_prior_sd=-1),
     "noise_prior_sd"),
    (lambda: exact.gaussian_prior_regression_posterior(np.ones((3, 2)), np.ones(3), prior_sd=1, noise_prior_sd=1,
                                                       grid_size=5), "grid_size"),
    (lambda: exact.gaussian_prior_regression_posterior(np.ones((3, 2)), np.r_[1.0, np.inf, 1.0], prior_sd=1,
                                                       noise_prior_sd=1), "finite"),
])
def test_bad_arguments_of_the_gaussian_prior_posterior_are_named(call, argument):
    with pytest.raises((ValueError, TypeError), match=argument):
        call()


def test_conditional_coefficients_have_the_gaussian_posterior_of_beta():
    """Draws against the closed form: mean V X^T y / sigma^2, V = (X^T X / sigma^2 + D^-1)^-1."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((4, 3)), rng.standard_normal(4)
    variance, sigma = np.array([0.5, 2.0, 1e-6]), 0.7
    draws = exact.conditional_coefficients(X, y, np.tile(variance, (40_000, 1)), np.full(40_000, sigma), seed=1)
    covariance = np.linalg.inv(X.T @ X / sigma**2 + np.diag(1 / variance))
    mean = covariance @ X.T @ y / sigma**2
    assert np.allclose(draws.mean(axis=0), mean, atol=4 * np.sqrt(np.diag(covariance) / 40_000))
    assert np.allclose(np.cov(draws.T), covariance, atol=0.02 * np.diag(covariance).max())
    assert np.abs(draws[:, 2]).max() < 0.01, "a prior variance near zero pins its coefficient at zero"
    with pytest.raises(ValueError, match="prior_variance must have shape"):
        exact.conditional_coefficients(X, y, variance, np.array([sigma]), seed=1)
    with pytest.raises(ValueError, match="non-negative"):
        exact.conditional_coefficients(X, y, -variance[None], np.array([sigma]), seed=1)

