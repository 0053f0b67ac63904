"""Reading an exercise's recorded answer in the chapter tests (what ``exercises.check`` compares with)."""

from __future__ import annotations

import numpy as np


def recorded_answer(glued: dict, label: str) -> tuple[np.ndarray, np.ndarray]:
    """The value a solution recorded for ``exercises.check("<label>", ...)``, as an array, and its tolerance."""
    entry = glued[f"answer:{label}"]
    value = np.atleast_1d(np.asarray(entry["value"], dtype=float))
    return value, entry["atol"] + entry["rtol"] * np.abs(value)


def misses(value: np.ndarray, tolerance: np.ndarray, candidate) -> float:
    """How many tolerances ``candidate`` lies from ``value`` at worst: above 1 is not right, above 3 is wrong."""
    return float(np.max(np.abs(np.atleast_1d(candidate) - value) / tolerance))
