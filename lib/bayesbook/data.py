"""The book's data: coin flips, and the eight schools.

Chapters 1–5 condition on the same kind of data: ``n`` independent flips of a coin
whose probability of heads is ``theta``. They are plain NumPy arrays of 0s and 1s,
which both NumPyro and Pyro accept.

Chapter 6 uses the eight schools of Rubin (1981) (also in Gelman et al., *Bayesian Data
Analysis*): the estimated effect of a coaching programme on test scores in each of
eight schools, with its standard error (:func:`eight_schools`).
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from ._checks import check_integer, check_probability


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
