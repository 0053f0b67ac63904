"""The book's plot style, set in one place, and small plotting helpers."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

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
