"""The book's data: coin flips, the eight schools, and simulated regressions.

Chapters 1–5 condition on the same data: the first ``n`` of 1,000 simulated flips of a
coin whose probability of heads is 0.8 (:func:`book_flips`, :func:`book_counts`), a
plain NumPy array of 0s and 1s, which both NumPyro and Pyro accept.

Chapter 6 uses the eight schools of Rubin (1981) (also in Gelman et al., *Bayesian Data
Analysis*): the estimated effect of a coaching programme on test scores in each of
eight schools, with its standard error (:func:`eight_schools`).

Chapter 7 simulates regressions with one predictor: points on a line with Gaussian
noise (:func:`simulate_regression`), and the same with a fraction of the points
replaced by draws from a broad background population (:func:`simulate_outliers`).

Chapter 8 simulates data whose dimension grows: groups of points, each group on its
own line whose slope and intercept are drawn from a population distribution
(:func:`simulate_groups`), and a sparse regression with many coefficients, half of them
zero (:func:`simulate_sparse`).
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from ._checks import check_integer, check_positive, check_probability, check_real

__all__ = [
    "BOOK_THETA",
    "BOOK_FLIPS_SEED",
    "BOOK_SAMPLE_SIZES",
    "book_flips",
    "book_counts",
    "simulate_bernoulli",
    "count_successes",
    "EIGHT_SCHOOLS_EFFECT",
    "EIGHT_SCHOOLS_SE",
    "eight_schools",
    "eight_schools_reference",
    "horseshoe_reference",
    "simulate_regression",
    "simulate_outliers",
    "simulate_groups",
    "simulate_sparse",
]


def simulate_bernoulli(theta: float, n: int, seed: int) -> np.ndarray:
    """Draw ``n`` independent Bernoulli(``theta``) outcomes.

    Parameters
    ----------
    theta
        Probability of a success, in [0, 1].
    n
        Number of draws, a non-negative integer.
    seed
        Seed of the NumPy random generator; the same seed gives the same draws.

    Returns
    -------
    numpy.ndarray
        Integer array of shape ``(n,)`` holding 0s and 1s.

    Examples
    --------
    >>> simulate_bernoulli(0.8, 5, seed=0).tolist()
    [1, 1, 1, 1, 0]
    """
    theta = check_probability("theta", theta)
    n = check_integer("n", n, minimum=0)
    seed = check_integer("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    return (rng.random(n) < theta).astype(np.int64)


def count_successes(data: object) -> tuple[int, int]:
    """Return ``(k, n)``: the number of ones in ``data`` and its length.

    Raises ``ValueError`` if ``data`` is not one-dimensional or holds anything
    other than 0 and 1 (``True``/``False`` are accepted as 1/0).
    """
    array = np.asarray(data)
    if array.ndim != 1:
        raise ValueError(f"data must be a one-dimensional sequence of 0s and 1s, got shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"data must hold only 0s and 1s, got dtype {array.dtype}")
    bad = ~np.isin(array, (0, 1))
    if bad.any():
        raise ValueError(
            "data must hold only 0s and 1s; found "
            f"{array[bad][:5].tolist()} at positions {np.flatnonzero(bad)[:5].tolist()}"
        )
    return int(array.sum()), int(array.size)


#: The book's coin (chapters 1–5): its probability of heads, ...
BOOK_THETA = 0.8
#: ... the seed of its 1,000 simulated flips, ...
BOOK_FLIPS_SEED = 20261122
#: ... and the numbers of flips whose posteriors the chapters compare.
BOOK_SAMPLE_SIZES = (5, 10, 50, 100, 1000)


def book_flips() -> np.ndarray:
    """The book's 1,000 coin flips: ``simulate_bernoulli(BOOK_THETA, 1000, seed=BOOK_FLIPS_SEED)``.

    Every chapter that conditions on "the first ``n`` flips" takes them from this one
    sequence, so that posteriors for different ``n`` grow from the same data.

    >>> book_flips()[:10].tolist(), int(book_flips().sum())
    ([1, 1, 0, 1, 1, 1, 1, 1, 1, 0], 783)
    """
    return simulate_bernoulli(BOOK_THETA, n=1000, seed=BOOK_FLIPS_SEED)


def book_counts(sample_sizes: tuple[int, ...] = BOOK_SAMPLE_SIZES) -> list[tuple[int, int]]:
    """``[(k, n), ...]``: the heads ``k`` in the first ``n`` of :func:`book_flips`, for each ``n``."""
    flips = book_flips()
    sizes = [check_integer("sample_sizes", n, minimum=0) for n in sample_sizes]
    if not sizes or max(sizes) > flips.size:
        raise ValueError(f"sample_sizes must be between 0 and {flips.size} flips, got {list(sample_sizes)}")
    return [count_successes(flips[:n]) for n in sizes]


#: Estimated coaching effect in each of the eight schools (schools 1 to 8).
EIGHT_SCHOOLS_EFFECT = (28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0)
#: Standard error of each school's estimate.
EIGHT_SCHOOLS_SE = (15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0)


def eight_schools() -> tuple[np.ndarray, np.ndarray]:
    """The eight schools data: ``(y, sigma)``, two float arrays of shape ``(8,)``.

    ``y[j]`` is the estimated effect of coaching in school ``j + 1`` and ``sigma[j]``
    its standard error (Rubin 1981).

    >>> y, sigma = eight_schools()
    >>> y[0], sigma[0], y.shape
    (np.float64(28.0), np.float64(15.0), (8,))
    """
    return np.array(EIGHT_SCHOOLS_EFFECT), np.array(EIGHT_SCHOOLS_SE)


def eight_schools_reference() -> dict:
    """The reference posterior of the eight schools model, as stored with the package.

    A long non-centred NUTS run (32 chains of 50,000 draws), made by
    ``tests/reference/eight_schools_reference.py``. Returns the stored dictionary: its
    ``"summary"`` maps ``"mu"``, ``"tau"``, ``"log_tau"`` and ``"theta_1"`` ...
    ``"theta_8"`` to their ``mean``, ``sd``, Monte Carlo standard errors
    (``mcse_mean``, ``mcse_sd``), ESS, R-hat and ``quantiles``; ``"command"`` and
    ``"settings"`` say how it was made.

    >>> reference = eight_schools_reference()
    >>> sorted(reference["summary"]["tau"])[:3]
    ['ess_bulk', 'ess_tail', 'mcse_mean']
    """
    text = resources.files("bayesbook").joinpath("reference", "eight_schools.json").read_text()
    return json.loads(text)


def horseshoe_reference() -> dict:
    """The reference posterior of chapter 8's horseshoe regression, as stored with the package.

    NUTS on the model with the coefficients integrated out (4 chains of 2,000 draws in
    double precision), each draw of the scales followed by an exact draw of ``beta``,
    made by ``tests/reference/horseshoe_reference.py``. Returns the stored dictionary:
    ``"data"`` (the arguments of :func:`simulate_sparse`), ``"summary"`` mapping
    ``"tau"``, ``"sigma"``, ``"lambda_1"`` ... and ``"beta_1"`` ... to their ``mean``,
    ``sd``, Monte Carlo standard errors, ESS, R-hat and ``quantiles``, and the run's
    ``"divergences"`` and ``"leapfrog_steps"``.

    >>> reference = horseshoe_reference()
    >>> reference["data"]["num_coefficients"], len(reference["summary"])
    (100, 202)
    """
    text = resources.files("bayesbook").joinpath("reference", "horseshoe.json").read_text()
    return json.loads(text)


def _regression_line(n, intercept, slope, noise_sd, x_range, seed):
    n = check_integer("n", n, minimum=2)
    intercept, slope = check_real("intercept", intercept), check_real("slope", slope)
    noise_sd = check_positive("noise_sd", noise_sd)
    seed = check_integer("seed", seed, minimum=0)
    if not (isinstance(x_range, (tuple, list)) and len(x_range) == 2):
        raise TypeError(f"x_range must be a pair (low, high), got {x_range!r}")
    low, high = check_real("x_range[0]", x_range[0]), check_real("x_range[1]", x_range[1])
    if not low < high:
        raise ValueError(f"x_range must have low < high, got {x_range!r}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, n))
    return rng, x, intercept + slope * x + noise_sd * rng.standard_normal(n)


def simulate_regression(n: int, *, intercept: float, slope: float, noise_sd: float,
                        x_range: tuple[float, float] = (0.0, 10.0), seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``y = intercept + slope * x + noise`` at ``n`` points; returns ``(x, y)``.

    ``x`` is drawn uniformly on ``x_range`` and sorted; the noise is Normal(0,
    ``noise_sd``), independent across points. The same seed gives the same data.

    >>> x, y = simulate_regression(3, intercept=1.0, slope=2.0, noise_sd=0.5, seed=0)
    >>> x.shape, y.shape
    ((3,), (3,))
    """
    _, x, y = _regression_line(n, intercept, slope, noise_sd, x_range, seed)
    return x, y


def simulate_outliers(n: int, *, intercept: float, slope: float, noise_sd: float, outlier_fraction: float,
                      background_mean: float, background_sd: float, x_range: tuple[float, float] = (-2.0, 2.0),
                      seed: int) -> dict[str, np.ndarray]:
    """A line with Gaussian errors, a random fraction of its points replaced by outliers.

    Every point first lies on the line with Normal(0, ``noise_sd``) noise, as in
    :func:`simulate_regression`. Each point is then, independently with probability
    ``outlier_fraction``, replaced by a draw from the background population,
    Normal(``background_mean``, ``sqrt(background_sd**2 + noise_sd**2)``) (the
    background's own spread plus the measurement error).

    Returns ``{"x", "y", "y_err", "is_outlier"}``: arrays of shape ``(n,)``, with
    ``y_err`` the known measurement error of each point (``noise_sd``) and
    ``is_outlier`` the boolean truth.
    """
    outlier_fraction = check_probability("outlier_fraction", outlier_fraction)
    background_mean = check_real("background_mean", background_mean)
    background_sd = check_positive("background_sd", background_sd)
    rng, x, y = _regression_line(n, intercept, slope, noise_sd, x_range, seed)
    is_outlier = rng.random(x.size) < outlier_fraction
    spread = np.hypot(background_sd, noise_sd)
    y = np.where(is_outlier, background_mean + spread * rng.standard_normal(x.size), y)
    return {"x": x, "y": y, "y_err": np.full(x.size, noise_sd), "is_outlier": is_outlier}


def simulate_groups(num_groups: int, *, points_per_group: int = 6, slope_mean: float = 0.5,
                    slope_sd: float = 0.2, intercept_mean: float = 10.0, intercept_sd: float = 1.0,
                    x_range: tuple[float, float] = (-10.0, 10.0), error_range: tuple[float, float] = (2.0, 4.0),
                    seed: int) -> dict[str, np.ndarray]:
    """Grouped regression data: each group's points lie on its own line, with known errors.

    Group ``j`` draws its slope from Normal(``slope_mean``, ``slope_sd``) and its
    intercept from Normal(``intercept_mean``, ``intercept_sd``), then
    ``points_per_group`` values of x uniformly on ``x_range``, a known measurement error
    for each point uniformly on ``error_range``, and ``y = intercept + slope * x +
    error * Normal(0, 1)``. Each group has its own random stream (from ``seed`` and
    ``j``), so the first groups of a larger data set are those of a smaller one with
    the same seed.

    Returns ``{"group", "x", "y", "y_err"}`` (arrays of shape ``(num_groups *
    points_per_group,)``, ``group`` the index 0..J-1 of each point's group) and the truth
    ``{"slope", "intercept"}`` (shape ``(num_groups,)``).
    """
    num_groups = check_integer("num_groups", num_groups, minimum=1)
    points = check_integer("points_per_group", points_per_group, minimum=1)
    slope_mean, intercept_mean = check_real("slope_mean", slope_mean), check_real("intercept_mean", intercept_mean)
    slope_sd, intercept_sd = check_positive("slope_sd", slope_sd), check_positive("intercept_sd", intercept_sd)
    seed = check_integer("seed", seed, minimum=0)
    ranges = {}
    for name, pair in (("x_range", x_range), ("error_range", error_range)):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"{name} must be a pair (low, high), got {pair!r}")
        low, high = check_real(f"{name}[0]", pair[0]), check_real(f"{name}[1]", pair[1])
        if not low < high:
            raise ValueError(f"{name} must have low < high, got {pair!r}")
        ranges[name] = (low, high)
    if ranges["error_range"][0] <= 0:
        raise ValueError(f"error_range must be positive, got {error_range!r}")
    columns = {name: [] for name in ("slope", "intercept", "x", "y_err", "y")}
    for j in range(num_groups):
        rng = np.random.default_rng([seed, j])
        slope = slope_mean + slope_sd * rng.standard_normal()
        intercept = intercept_mean + intercept_sd * rng.standard_normal()
        x = np.sort(rng.uniform(*ranges["x_range"], points))
        y_err = rng.uniform(*ranges["error_range"], points)
        columns["slope"].append(slope)
        columns["intercept"].append(intercept)
        columns["x"].append(x)
        columns["y_err"].append(y_err)
        columns["y"].append(intercept + slope * x + y_err * rng.standard_normal(points))
    return {"group": np.repeat(np.arange(num_groups), points), "x": np.concatenate(columns["x"]),
            "y": np.concatenate(columns["y"]), "y_err": np.concatenate(columns["y_err"]),
            "slope": np.array(columns["slope"]), "intercept": np.array(columns["intercept"])}


def simulate_sparse(num_coefficients: int = 100, num_observations: int = 100, *, noise_sd: float = 0.5,
                    seed: int) -> dict[str, np.ndarray]:
    """Sparse linear regression data, ``y = X @ beta + Normal(0, noise_sd)``, with no intercept.

    The first half of the ``num_coefficients`` coefficients (rounded down) are each
    +5 or -5 (with equal probability) plus a Normal(0, 1) draw; the rest are exactly
    zero. ``X`` has independent standard normal entries, shape ``(num_observations,
    num_coefficients)``. Returns ``{"X", "y", "beta"}``.
    """
    d = check_integer("num_coefficients", num_coefficients, minimum=1)
    n = check_integer("num_observations", num_observations, minimum=1)
    noise_sd = check_positive("noise_sd", noise_sd)
    rng = np.random.default_rng(check_integer("seed", seed, minimum=0))
    beta = np.zeros(d)
    half = d // 2
    beta[:half] = rng.choice([-5.0, 5.0], half) + rng.standard_normal(half)
    X = rng.standard_normal((n, d))
    return {"X": X, "y": X @ beta + noise_sd * rng.standard_normal(n), "beta": beta}
