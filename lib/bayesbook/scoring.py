"""Scoring draws against an exact posterior.

Every posterior in the book that has a ground truth is scored with the same three
numbers:

* the **Wasserstein-1 distance** ``W1 = ∫ |F_draws(x) - F(x)| dx`` between the
  empirical distribution function of the draws and the exact one (in the units of
  ``theta``; divided by the exact posterior sd it is comparable across posteriors);
* the **Kolmogorov–Smirnov distance** ``sup |F_draws(x) - F(x)|``;
* the **error of the mean in Monte Carlo standard errors**, ``(mean - exact mean) / MCSE``,
  with the MCSE from the effective sample size (ArviZ), so autocorrelated draws are
  not mistaken for independent ones.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._checks import check_real

__all__ = ["wasserstein1", "ks_distance", "mean_error_in_mcse", "score_draws"]


def _sorted_draws(draws) -> np.ndarray:
    values = np.sort(np.asarray(draws, dtype=float).ravel())
    if values.size == 0:
        raise ValueError("draws must hold at least one value")
    if not np.all(np.isfinite(values)):
        raise ValueError("draws must be finite")
    return values


def wasserstein1(draws, cdf: Callable, support: tuple[float, float], *, grid_points: int = 4001) -> float:
    """``∫ |F_draws(x) - cdf(x)| dx`` over ``support``.

    The integral is split at every draw and at ``grid_points`` equally spaced points.
    On each piece the empirical CDF is constant and ``cdf`` is replaced by the straight
    line through its end values; the integral of the absolute difference is then exact
    (a piece where the line crosses the constant is split at the crossing), so the only
    error is that of the linear interpolation of a smooth ``cdf``.
    """
    values = _sorted_draws(draws)
    low, high = (check_real("support", value) for value in support)
    if not low < high:
        raise ValueError(f"support must satisfy low < high, got {support}")
    if values[0] < low or values[-1] > high:
        raise ValueError(f"draws must lie inside support {support}; found [{values[0]}, {values[-1]}]")
    x = np.unique(np.concatenate([np.linspace(low, high, grid_points), values]))
    exact = np.asarray(cdf(x), dtype=float)
    empirical = np.searchsorted(values, x[:-1], side="right") / values.size  # on [x_i, x_{i+1})
    width = np.diff(x)
    left, right = exact[:-1] - empirical, exact[1:] - empirical
    same_sign = left * right >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.where(same_sign, 0.0, np.abs(left) / (np.abs(left) + np.abs(right)))
    area = np.where(
        same_sign,
        width * np.abs(left + right) / 2,
        width * (crossing * np.abs(left) + (1 - crossing) * np.abs(right)) / 2,
    )
    return float(np.sum(area))


def ks_distance(draws, cdf: Callable) -> float:
    """``sup_x |F_draws(x) - cdf(x)|``, the Kolmogorov–Smirnov distance."""
    values = _sorted_draws(draws)
    exact = np.asarray(cdf(values), dtype=float)
    above = np.arange(1, values.size + 1) / values.size - exact
    below = exact - np.arange(values.size) / values.size
    return float(max(above.max(), below.max()))


def mean_error_in_mcse(draws_by_chain, exact_mean: float) -> float:
    """``(mean of the draws - exact_mean) / MCSE``; ``draws_by_chain`` has shape ``(chains, draws)``."""
    import arviz as az

    values = np.asarray(draws_by_chain, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"draws_by_chain must have shape (chains, draws), got {values.shape}")
    mcse = float(az.mcse(values, method="mean"))
    return (float(values.mean()) - check_real("exact_mean", exact_mean)) / mcse


def score_draws(draws_by_chain, posterior) -> dict[str, float]:
    """W1 (absolute and in posterior sds), KS distance and mean error in MCSEs against ``posterior``.

    ``posterior`` is a :class:`bayesbook.exact.QuadraturePosterior` (anything with
    ``cdf``, ``support``, ``mean`` and ``sd``).
    """
    values = np.asarray(draws_by_chain, dtype=float)
    w1 = wasserstein1(values, posterior.cdf, posterior.support)
    return {
        "w1": w1,
        "w1_over_sd": w1 / posterior.sd,
        "ks": ks_distance(values, posterior.cdf),
        "mean_error_mcse": mean_error_in_mcse(values, posterior.mean),
    }
