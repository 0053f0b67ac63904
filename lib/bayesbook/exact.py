"""Exact posteriors: the ground truth every approximation in the book is scored against.

* Closed forms for the conjugate case (chapter 1): the Beta posterior of a Beta
  prior after Binomial data, its evidence, and the Kullback–Leibler divergence
  between two Beta distributions (used later to score variational approximations).
* For any other prior on [0, 1]: the posterior by numerical quadrature
  (:func:`quadrature_posterior`), which with one parameter is exact to many digits.
* Linear regression with known noise and a Gaussian prior (chapter 7): the Gaussian
  posterior of (intercept, slope) (:func:`regression_posterior`), and the KL
  divergence between two multivariate normals (:func:`gaussian_kl`).
* Linear regression with a Gaussian prior and unknown noise (chapter 8): the
  posterior of the coefficients and the noise sd, by quadrature over the noise sd
  (:func:`gaussian_prior_regression_posterior`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import optimize, special, stats

from ._checks import check_counts, check_integer, check_positive, check_real

__all__ = [
    "beta_posterior",
    "beta_kl",
    "beta_binomial_log_evidence",
    "QuadraturePosterior",
    "quadrature_posterior",
    "regression_posterior",
    "gaussian_kl",
    "RidgePosterior",
    "gaussian_prior_regression_posterior",
    "conditional_coefficients",
]


def beta_posterior(alpha: float, beta: float, k: int, n: int) -> stats.rv_continuous:
    """Posterior of ``theta`` under a Beta(``alpha``, ``beta``) prior after ``k`` successes in ``n`` trials.

    Bayes' rule gives ``Beta(alpha + k, beta + n - k)``.

    Returns
    -------
    scipy.stats frozen distribution
        Use ``.mean()``, ``.std()``, ``.pdf(x)``, ``.interval(0.95)`` and so on.

    Raises
    ------
    ValueError
        If ``alpha`` or ``beta`` is not > 0, ``n`` < 0, or ``k`` is outside 0..``n``.
    TypeError
        If ``k`` or ``n`` is not an integer.
    """
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta)
    k, n = check_counts(k, n)
    return stats.beta(alpha + k, beta + n - k)


def beta_kl(alpha_p: float, beta_p: float, alpha_q: float, beta_q: float) -> float:
    """Kullback–Leibler divergence KL(p || q) from Beta(``alpha_q``, ``beta_q``) to Beta(``alpha_p``, ``beta_p``).

    .. math::

        \\mathrm{KL}(p\\,\\|\\,q) = \\log\\frac{B(\\alpha_q,\\beta_q)}{B(\\alpha_p,\\beta_p)}
        + (\\alpha_p-\\alpha_q)\\,\\psi(\\alpha_p) + (\\beta_p-\\beta_q)\\,\\psi(\\beta_p)
        + (\\alpha_q-\\alpha_p+\\beta_q-\\beta_p)\\,\\psi(\\alpha_p+\\beta_p),

    where :math:`B` is the Beta function and :math:`\\psi` the digamma function.
    The result is 0 when the two distributions are equal and positive otherwise.
    """
    alpha_p = check_positive("alpha_p", alpha_p)
    beta_p = check_positive("beta_p", beta_p)
    alpha_q = check_positive("alpha_q", alpha_q)
    beta_q = check_positive("beta_q", beta_q)
    value = (
        special.betaln(alpha_q, beta_q)
        - special.betaln(alpha_p, beta_p)
        + (alpha_p - alpha_q) * special.digamma(alpha_p)
        + (beta_p - beta_q) * special.digamma(beta_p)
        + (alpha_q - alpha_p + beta_q - beta_p) * special.digamma(alpha_p + beta_p)
    )
    # Rounding can leave a tiny negative number when p == q; KL is never negative.
    return max(float(value), 0.0)


def beta_binomial_log_evidence(alpha: float, beta: float, k: int, n: int) -> float:
    """Log marginal likelihood ``log p(k)`` of ``k`` successes in ``n`` trials under a Beta prior.

    .. math::

        p(k) = \\int_0^1 \\binom{n}{k}\\theta^k(1-\\theta)^{n-k}\\,p(\\theta)\\,d\\theta
             = \\binom{n}{k}\\frac{B(\\alpha+k,\\ \\beta+n-k)}{B(\\alpha,\\beta)},

    the Beta-Binomial probability of ``k``. The integral is over the *prior*
    ``p(theta)``.
    """
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta)
    k, n = check_counts(k, n)
    return float(stats.betabinom.logpmf(k, n, alpha, beta))


# --------------------------------------------------------------------------
# Quadrature posterior for any prior on [0, 1]
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuadraturePosterior:
    """The posterior of ``theta`` on a Gauss–Legendre grid; see :func:`quadrature_posterior`.

    Attributes
    ----------
    grid
        Quadrature nodes, increasing, strictly inside the support.
    weights
        Quadrature weights: ``sum(weights * f(grid))`` integrates ``f``.
    density
        Normalised posterior density at ``grid``.
    log_evidence
        ``log p(k) = log ∫ C(n, k) θ^k (1-θ)^(n-k) p(θ) dθ``.
    mean, sd
        Posterior mean and standard deviation.
    """

    grid: np.ndarray
    weights: np.ndarray
    density: np.ndarray
    log_evidence: float
    mean: float
    sd: float
    _edges: np.ndarray
    _log_joint: Callable[[np.ndarray], np.ndarray]

    @property
    def support(self) -> tuple[float, float]:
        """The interval ``(low, high)`` outside which the posterior density is zero."""
        return float(self._edges[0]), float(self._edges[-1])

    def central_moment(self, order: int) -> float:
        """``E[(theta - mean)^order]`` under the posterior."""
        order = check_integer("order", order, minimum=1)
        return float(np.sum(self.weights * self.density * (self.grid - self.mean) ** order))

    @cached_property
    def grid_log_pdf(self) -> np.ndarray:
        """Log posterior density at the quadrature nodes ``grid`` (computed once)."""
        return self.log_pdf(self.grid)

    def log_pdf(self, theta: np.ndarray | float) -> np.ndarray:
        """Log posterior density at arbitrary points (``-inf`` outside the support)."""
        theta = np.asarray(theta, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._log_joint(theta) - self.log_evidence

    def pdf(self, theta: np.ndarray | float) -> np.ndarray:
        """Normalised posterior density at arbitrary points (0 outside the support)."""
        theta = np.asarray(theta, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_value = self._log_joint(theta) - self.log_evidence
        return np.where(np.isfinite(log_value), np.exp(log_value), 0.0)

    @cached_property
    def _cumulative_mass(self) -> np.ndarray:
        """Posterior mass to the left of each panel edge (computed once)."""
        panel_mass = _panel_integrals(self.pdf, self._edges[:-1], self._edges[1:])
        return np.concatenate([[0.0], np.cumsum(panel_mass)])

    def cdf(self, theta: np.ndarray | float) -> np.ndarray:
        """Posterior probability that the parameter is at most ``theta``."""
        theta = np.asarray(theta, dtype=float)
        flat = np.clip(theta.ravel(), self._edges[0], self._edges[-1])
        cumulative = self._cumulative_mass
        panel = np.clip(np.searchsorted(self._edges, flat, side="right") - 1, 0, cumulative.size - 2)
        partial = _panel_integrals(self.pdf, self._edges[panel], flat)
        return np.clip(cumulative[panel] + partial, 0.0, 1.0).reshape(theta.shape)

    def quantile(self, q: np.ndarray | float) -> np.ndarray:
        """Inverse of :meth:`cdf`: the ``q``-quantile(s) of the posterior."""
        q = np.asarray(q, dtype=float)
        if np.any((q < 0) | (q > 1)) or not np.all(np.isfinite(q)):
            raise ValueError(f"q must lie in [0, 1], got {q}")
        low, high = self._edges[0], self._edges[-1]

        def solve(level: float) -> float:
            if level <= 0.0:
                return low
            if level >= 1.0:
                return high
            return optimize.brentq(lambda t: float(self.cdf(t)) - level, low, high, xtol=1e-13, rtol=1e-12)

        return np.vectorize(solve, otypes=[float])(q)


_GL_ORDER = 20
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(_GL_ORDER)


def _panel_integrals(function: Callable, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Gauss–Legendre integral of ``function`` over each interval [lower_i, upper_i]."""
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    half = (upper - lower)[:, None] / 2.0
    nodes = (upper + lower)[:, None] / 2.0 + half * _GL_NODES
    return np.sum(half * _GL_WEIGHTS * function(nodes), axis=1)


def quadrature_posterior(
    log_prior: Callable[[np.ndarray], np.ndarray],
    k: int,
    n: int,
    *,
    support: tuple[float, float] = (0.0, 1.0),
    breakpoints: Sequence[float] = (),
    panels: int = 400,
) -> QuadraturePosterior:
    """Posterior of ``theta`` after ``k`` successes in ``n`` trials, by numerical integration.

    The support is cut into ``panels`` equal panels, plus extra cuts at
    ``breakpoints`` (points where the prior density has a kink or a jump, such as the
    peak of a Laplace density), and each panel gets a 20-point Gauss–Legendre rule.
    Everything is done in log space, so ``n = 1000`` or more does not underflow.

    Parameters
    ----------
    log_prior
        Vectorised log density of the prior; may return ``-inf`` outside its support.
    k, n
        Successes and trials, ``0 <= k <= n``.
    support
        The interval ``(low, high)`` within [0, 1] outside which the prior is zero.
    breakpoints
        Points inside the support where the prior is not smooth.
    panels
        Number of equal panels before the breakpoints are added.
    """
    k, n = check_counts(k, n)
    panels = check_integer("panels", panels, minimum=1)
    low, high = (check_real("support", value) for value in support)
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"support must satisfy 0 <= low < high <= 1, got {support}")
    cuts = [check_real("breakpoints", b) for b in breakpoints]
    edges = np.unique(np.concatenate([np.linspace(low, high, panels + 1), [c for c in cuts if low < c < high]]))

    log_binomial = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)

    def log_joint(theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        inside = (theta >= low) & (theta <= high)
        safe = np.where(inside, theta, 0.5 * (low + high))
        with np.errstate(divide="ignore"):
            value = log_binomial + special.xlogy(k, safe) + special.xlog1py(n - k, -safe) + log_prior(safe)
        return np.where(inside, value, -np.inf)

    half = np.diff(edges)[:, None] / 2.0
    grid = ((edges[1:] + edges[:-1])[:, None] / 2.0 + half * _GL_NODES).ravel()
    weights = (half * _GL_WEIGHTS).ravel()
    log_values = log_joint(grid)
    if not np.any(np.isfinite(log_values)):
        raise ValueError("the prior gives zero density everywhere on its support")
    log_evidence = float(special.logsumexp(log_values, b=weights))
    density = np.exp(log_values - log_evidence)
    mean = float(np.sum(weights * density * grid))
    sd = float(np.sqrt(np.sum(weights * density * (grid - mean) ** 2)))
    return QuadraturePosterior(grid, weights, density, log_evidence, mean, sd, edges, log_joint)


def regression_posterior(x, y, *, noise_sd: float, prior_mean=(0.0, 0.0), prior_sd=(1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Exact posterior of ``(intercept, slope)`` for ``y ~ Normal(intercept + slope * x, noise_sd)``.

    The prior is independent Normal(``prior_mean[i]``, ``prior_sd[i]``) on the
    intercept and the slope, and ``noise_sd`` is known. With design matrix
    ``X = [1, x]`` the posterior is Normal with precision
    ``Lambda = diag(prior_sd)**-2 + X^T X / noise_sd**2`` and mean
    ``Lambda^-1 (diag(prior_sd)**-2 prior_mean + X^T y / noise_sd**2)``.

    Returns ``(mean, covariance)``, of shapes ``(2,)`` and ``(2, 2)``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or y.shape != x.shape or x.size == 0:
        raise ValueError(f"x and y must be one-dimensional arrays of the same length, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must hold finite numbers")
    noise_sd = check_positive("noise_sd", noise_sd)
    prior_mean = np.array([check_real(f"prior_mean[{i}]", v) for i, v in enumerate(_pair("prior_mean", prior_mean))])
    prior_sd = np.array([check_positive(f"prior_sd[{i}]", v) for i, v in enumerate(_pair("prior_sd", prior_sd))])
    design = np.column_stack([np.ones_like(x), x])
    prior_precision = np.diag(prior_sd**-2.0)
    precision = prior_precision + design.T @ design / noise_sd**2
    covariance = np.linalg.inv(precision)
    mean = covariance @ (prior_precision @ prior_mean + design.T @ y / noise_sd**2)
    return mean, (covariance + covariance.T) / 2


def _pair(name: str, value) -> tuple:
    if not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair of numbers (intercept, slope), got {value!r}")
    return tuple(float(v) if isinstance(v, np.floating) else v for v in value)


def gaussian_kl(mean_q, covariance_q, mean_p, covariance_p) -> float:
    """KL(q || p) between the multivariate normals q = N(mean_q, cov_q) and p = N(mean_p, cov_p).

    ``0.5 * (tr(cov_p^-1 cov_q) + (mean_p - mean_q)^T cov_p^-1 (mean_p - mean_q) - d
    + log det cov_p - log det cov_q)``, in nats.
    """
    mean_q, mean_p = np.atleast_1d(np.asarray(mean_q, float)), np.atleast_1d(np.asarray(mean_p, float))
    covariance_q, covariance_p = np.atleast_2d(np.asarray(covariance_q, float)), np.atleast_2d(np.asarray(covariance_p, float))
    d = mean_q.size
    if mean_p.shape != (d,) or covariance_q.shape != (d, d) or covariance_p.shape != (d, d):
        raise ValueError("gaussian_kl: the means must have one shape (d,) and the covariances (d, d); got "
                         f"{mean_q.shape}, {covariance_q.shape}, {mean_p.shape}, {covariance_p.shape}")
    chol_p = np.linalg.cholesky(covariance_p)
    chol_q = np.linalg.cholesky(covariance_q)
    solved = np.linalg.solve(chol_p, chol_q)
    shift = np.linalg.solve(chol_p, mean_p - mean_q)
    log_det = 2 * (np.log(np.diag(chol_p)).sum() - np.log(np.diag(chol_q)).sum())
    return float(0.5 * (np.sum(solved**2) + shift @ shift - d + log_det))


@dataclass(frozen=True)
class RidgePosterior:
    """The posterior of :func:`gaussian_prior_regression_posterior`: each coefficient's mean
    and sd, and the noise sd's mean and sd (marginal posteriors)."""

    beta_mean: np.ndarray
    beta_sd: np.ndarray
    sigma_mean: float
    sigma_sd: float


def gaussian_prior_regression_posterior(X, y, *, prior_sd: float, noise_prior_sd: float,
                                        grid_size: int = 4000) -> RidgePosterior:
    """Exact posterior of ``y ~ Normal(X @ beta, sigma)``, ``beta_j ~ Normal(0, prior_sd)``,
    ``sigma ~ HalfNormal(noise_prior_sd)``: one-dimensional quadrature over ``sigma``.

    Given ``sigma`` everything is Gaussian: ``y ~ Normal(0, sigma**2 I + prior_sd**2 X X^T)``
    (the marginal likelihood of ``sigma``) and ``beta | sigma, y`` is normal with mean
    ``prior_sd**2 X^T (sigma**2 I + prior_sd**2 X X^T)^-1 y``. With ``X X^T = U diag(e) U^T``
    both cost one division per ``sigma``. The marginal posterior of ``sigma`` is tabulated
    on ``grid_size`` log-spaced points between ``1e-4`` and ``10`` times
    ``noise_prior_sd``, and the moments of ``beta`` are mixtures over it (the law of total
    variance for its sd). This is the model of
    :func:`bayesbook.models.pyro_sparse_regression` with ``prior="gaussian"``.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],) or X.size == 0:
        raise ValueError(f"X must be a matrix (n, d) and y a vector (n,), got shapes {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must hold finite numbers")
    prior_var = check_positive("prior_sd", prior_sd) ** 2
    noise_prior_sd = check_positive("noise_prior_sd", noise_prior_sd)
    grid_size = check_integer("grid_size", grid_size, minimum=100)
    eigenvalues, U = np.linalg.eigh(X @ X.T)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    rotated_y, rotated_X = U.T @ y, X.T @ U                       # (n,), (d, n)
    sigma = noise_prior_sd * np.logspace(-4, 1, grid_size)
    variance = sigma[:, None] ** 2 + prior_var * eigenvalues       # (grid, n)
    log_density = (-0.5 * np.sum(np.log(variance) + rotated_y**2 / variance, axis=1)
                   - 0.5 * (sigma / noise_prior_sd) ** 2)
    weights = np.exp(log_density - log_density.max()) * np.gradient(sigma)
    weights /= weights.sum()
    conditional_mean = prior_var * (rotated_y / variance) @ rotated_X.T                         # (grid, d)
    conditional_var = prior_var - prior_var**2 * (1.0 / variance) @ (rotated_X**2).T          # (grid, d)
    beta_mean = weights @ conditional_mean
    beta_var = weights @ (conditional_var + conditional_mean**2) - beta_mean**2
    sigma_mean = float(weights @ sigma)
    sigma_sd = float(np.sqrt(max(weights @ sigma**2 - sigma_mean**2, 0.0)))
    return RidgePosterior(beta_mean, np.sqrt(np.clip(beta_var, 0.0, None)), sigma_mean, sigma_sd)


def conditional_coefficients(X, y, prior_variance, sigma, *, seed: int) -> np.ndarray:
    """Draws of ``beta`` from its Gaussian conditional in ``y ~ Normal(X @ beta, sigma)``,
    ``beta_j ~ Normal(0, prior_variance_j)``, one draw per row of ``prior_variance``.

    ``prior_variance`` has shape ``(draws, d)`` and ``sigma`` shape ``(draws,)``: for
    each draw of the scales (a horseshoe's ``tau**2 * lambda**2`` and ``sigma``) one exact
    draw of ``beta``. The sampler of Bhattacharya, Chakraborty and Mallick (2016) never
    divides by a prior variance, so variances near zero are harmless: with
    ``u ~ Normal(0, D)``, ``v = X u / sigma + e``, ``e ~ Normal(0, I)`` and
    ``(X D X^T / sigma**2 + I) w = y / sigma - v``, ``beta = u + D X^T w / sigma``.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    prior_variance = np.asarray(prior_variance, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be a matrix (n, d) and y a vector (n,), got shapes {X.shape} and {y.shape}")
    if prior_variance.ndim != 2 or prior_variance.shape[1] != X.shape[1] or sigma.shape != prior_variance.shape[:1]:
        raise ValueError(f"prior_variance must have shape (draws, {X.shape[1]}) and sigma shape (draws,); "
                         f"got {prior_variance.shape} and {sigma.shape}")
    if np.any(prior_variance < 0) or np.any(sigma <= 0):
        raise ValueError("prior_variance must be non-negative and sigma positive")
    rng = np.random.default_rng(check_integer("seed", seed, minimum=0))
    draws = np.empty_like(prior_variance)
    identity = np.eye(X.shape[0])
    for index, (variance, noise) in enumerate(zip(prior_variance, sigma)):
        u = np.sqrt(variance) * rng.standard_normal(X.shape[1])
        v = X @ u / noise + rng.standard_normal(X.shape[0])
        w = np.linalg.solve((X * variance) @ X.T / noise**2 + identity, y / noise - v)
        draws[index] = u + variance * (X.T @ w) / noise
    return draws

