"""Coin-flip data: simulate Bernoulli draws and count their successes.

Every chapter of the book conditions on the same kind of data: ``n`` independent
flips of a coin whose probability of heads is ``theta``.  The data are plain NumPy
arrays of 0s and 1s, which both NumPyro and Pyro accept.
"""

from __future__ import annotations

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
