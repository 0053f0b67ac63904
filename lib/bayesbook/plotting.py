"""The book's plot style, set in one place, and small plotting helpers."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "PRIOR_COLOR",
    "set_style",
    "sample_size_colors",
    "unit_interval_axes",
    "histogram_with_density",
    "draws_against_exact",
    "covariance_ellipse",
]

#: Colour of priors in every figure of the book.
PRIOR_COLOR = "#4C4E52"


def set_style() -> None:
    """Apply the book's matplotlib style (call once, in a lecture's imports cell)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.figsize": (9.0, 5.0),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "legend.frameon": False,
        }
    )


def sample_size_colors(sample_sizes: Sequence[int]) -> dict[int, tuple[float, float, float]]:
    """One colour per sample size, from light (small n) to dark (large n)."""
    cmap = plt.get_cmap("viridis")
    positions = np.linspace(0.85, 0.1, len(sample_sizes))
    return {n: cmap(p)[:3] for n, p in zip(sample_sizes, positions)}


def unit_interval_axes(ax: plt.Axes, *, title: str, ylabel: str = "density") -> plt.Axes:
    """Label an axis whose horizontal variable is ``theta`` on [0, 1]."""
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(r"$\theta$")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def histogram_with_density(
    ax: plt.Axes,
    draws: np.ndarray,
    theta: np.ndarray,
    density: np.ndarray,
    *,
    bins: int = 50,
    color: str | None = None,
    label: str = "draws",
) -> plt.Axes:
    """Density-scaled histogram of ``draws`` with the exact ``density`` drawn over it."""
    heights, edges = np.histogram(draws, bins=bins, range=(0.0, 1.0), density=True)
    # one filled step outline per histogram: far cheaper to draw than one bar per bin
    ax.stairs(heights, edges, fill=True, alpha=0.45, color=color, label=label)
    ax.plot(theta, density, color="black", linewidth=1.4, label="exact density")
    ax.set_xlim(0.0, 1.0)
    return ax


def draws_against_exact(
    ax: plt.Axes,
    draws: np.ndarray,
    posterior,
    *,
    bins: int = 40,
    color: str | None = None,
    label: str = "draws",
    tail: float = 5e-4,
) -> plt.Axes:
    """Histogram of ``draws`` over the exact ``posterior`` density, zoomed onto the posterior's bulk.

    ``posterior`` is a :class:`bayesbook.exact.QuadraturePosterior`; the horizontal
    range runs from its ``tail`` to its ``1 - tail`` quantile (widened by 10 %), so a
    posterior of width 0.01 is as readable as one of width 0.3.
    """
    low, high = posterior.quantile([tail, 1.0 - tail])
    pad = 0.1 * (high - low)
    support_low, support_high = posterior.support
    low, high = max(low - pad, support_low), min(high + pad, support_high)
    theta = np.linspace(low, high, 400)
    heights, edges = np.histogram(np.ravel(draws), bins=bins, range=(low, high), density=True)
    # one filled step outline per histogram: far cheaper to draw than one bar per bin
    ax.stairs(heights, edges, fill=True, alpha=0.5, color=color, label=label)
    ax.plot(theta, posterior.pdf(theta), color="black", linewidth=1.2, label="exact")
    ax.set_xlim(low, high)
    return ax


def covariance_ellipse(ax: plt.Axes, mean, covariance, *, probability: float = 0.9, **line_options) -> None:
    """Draw the ellipse holding ``probability`` of a 2-D Gaussian with this mean and covariance.

    The ellipse is ``{x: (x - mean)' covariance^-1 (x - mean) = r^2}`` with ``r^2`` the
    ``probability`` quantile of a chi-square with 2 degrees of freedom,
    ``-2 log(1 - probability)``. Raises ``ValueError`` for a covariance that is not
    2 x 2 symmetric positive definite or a probability outside (0, 1).
    """
    mean = np.asarray(mean, dtype=float)
    covariance = np.asarray(covariance, dtype=float)
    if mean.shape != (2,) or covariance.shape != (2, 2):
        raise ValueError(f"mean must have shape (2,) and covariance (2, 2), got {mean.shape} and {covariance.shape}")
    if not np.allclose(covariance, covariance.T) or np.any(np.linalg.eigvalsh(covariance) <= 0):
        raise ValueError("covariance must be symmetric positive definite")
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must lie strictly between 0 and 1, got {probability}")
    radius = np.sqrt(-2.0 * np.log1p(-probability))
    angle = np.linspace(0.0, 2.0 * np.pi, 200)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    points = mean[:, None] + radius * np.linalg.cholesky(covariance) @ circle
    ax.plot(points[0], points[1], **line_options)
