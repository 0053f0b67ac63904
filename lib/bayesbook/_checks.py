"""Argument checks shared by the modules: each raises a clear error naming the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np


class NotAnIntegerError(TypeError, ValueError):
    """An argument that must be an integer is not one.

    It is both a ``TypeError`` (the type is wrong) and a ``ValueError`` (``2.5`` is not
    an allowed count), so either ``except`` clause catches it.
    """


def check_integer(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``; raise :class:`NotAnIntegerError` if it is not an integer.

    Booleans and floats (even ``3.0``) are rejected so that a count is never a
    silently truncated number.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise NotAnIntegerError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_real(name: str, value: object) -> float:
    """Return ``value`` as a finite ``float``; raise ``TypeError``/``ValueError`` otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a float that is finite and strictly positive."""
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_probability(name: str, value: object) -> float:
    """Return ``value`` as a float in the closed interval [0, 1]."""
    value = check_real(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    return value


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the ``allowed`` strings."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def check_counts(k: object, n: object) -> tuple[int, int]:
    """Return ``(k, n)`` for ``k`` successes in ``n`` trials, with 0 <= k <= n."""
    n = check_integer("n", n, minimum=0)
    k = check_integer("k", k, minimum=0)
    if k > n:
        raise ValueError(f"k must satisfy 0 <= k <= n; got k={k} with n={n}")
    return k, n
