"""Checking an exercise's answer without unfolding its solution.

Every exercise whose answer is a number, or a short list of numbers, ends with a line
such as ``exercises.check("mc-ex-w1-scaling", slope)``. A student runs it in Colab or
Jupyter and reads *right*, *close* or *wrong*, with a hint when it is not right.

The reference values are the book's own: each solution, executed by the build, calls
:func:`answer` with the number it computed, its tolerance and a hint. The build glues
them, ``tests/reference/answer_key.py`` collects them into the package's
``reference/answers.json``, and the tests check that the stored key is the one the
build's solutions compute. An exercise is named by its label (as in the page source)
or by its number as the site shows it ("3.1").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from .notebook import glue, plain

__all__ = ["CLOSE_FACTOR", "Verdict", "answer", "answer_key", "check"]

#: An answer is "close" when it misses the tolerance by at most this factor.
CLOSE_FACTOR = 3.0


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` says of an answer: ``"right"``, ``"close"`` or ``"wrong"``, and why."""

    exercise: str
    verdict: str
    message: str

    @property
    def right(self) -> bool:
        return self.verdict == "right"

    def __str__(self) -> str:
        return f"Exercise {self.exercise}: {self.verdict}. {self.message}"

    def _repr_markdown_(self) -> str:
        return f"**Exercise {self.exercise}: {self.verdict}.** {self.message}"


def _as_numbers(name: str, value: object) -> np.ndarray:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a number or a list of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a number or a list of numbers, got {value!r}") from error
    if array.ndim > 1:
        raise ValueError(f"{name} must be a number or a flat list of numbers, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return np.atleast_1d(array)


def _validated_entry(label: str, value: object, rtol: float, atol: float, hint: str) -> dict:
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be the exercise's label as a non-empty string, got {label!r}")
    numbers = _as_numbers("value", value)
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if not isinstance(tolerance, (int, float)) or not tolerance >= 0 or math.isinf(tolerance):
            raise ValueError(f"{name} must be a finite number ≥ 0, got {tolerance!r}")
    if rtol == 0 and atol == 0:
        raise ValueError("rtol and atol cannot both be 0: a computed answer needs a tolerance")
    if not isinstance(hint, str) or not hint.strip():
        raise ValueError(f"hint must say, as a non-empty string, where a wrong answer usually goes wrong, got {hint!r}")
    return {"value": plain(numbers), "rtol": float(rtol), "atol": float(atol), "hint": hint.strip()}


def answer(label: str, value: object, *, rtol: float = 0.0, atol: float = 0.0, hint: str) -> None:
    """Record the solution's answer to exercise ``label`` for :func:`check` (called by a solution).

    ``value`` is a number or a flat list of numbers; an answer is right when every number
    is within ``atol + rtol * |value|`` of it. The tolerance must cover what a student's
    correct answer can differ by (their own random seed, a different number of draws);
    ``hint`` is shown with an answer that is close or wrong. The entry is glued under
    ``answer:<label>``, and the build's tests compare it with the stored key.
    """
    glue(f"answer:{label}", _validated_entry(label, value, rtol, atol, hint))


@cache
def answer_key() -> dict[str, dict]:
    """The stored answer key: ``{label: {"number", "value", "rtol", "atol", "hint"}}``."""
    text = resources.files("bayesbook").joinpath("reference/answers.json").read_text()
    return json.loads(text)


def _find(exercise: str) -> tuple[str, dict]:
    if not isinstance(exercise, str):
        raise TypeError(f"exercise must be the exercise's number (\"3.1\") or label, got {type(exercise).__name__}")
    key = answer_key()
    if exercise in key:
        return exercise, key[exercise]
    for label, entry in key.items():
        if entry["number"] == exercise:
            return label, entry
    numbers = ", ".join(sorted((entry["number"] for entry in key.values()), key=lambda n: tuple(map(int, n.split(".")))))
    raise ValueError(f"exercise must be one with a numeric answer ({numbers}) or its label, got {exercise!r}")


def check(exercise: str, your_answer: object) -> Verdict:
    """Say whether ``your_answer`` to ``exercise`` is right, close or wrong.

    ``exercise`` is the number the site shows ("3.1") or the exercise's label.
    ``your_answer`` is a number or a list of numbers, in the order the exercise asks.
    In a notebook the verdict shows as one line, for example "**Exercise 3.1: close.**
    Nearly: within a few times the tolerance. Hint: ..."; ``.right`` is ``True`` only
    for a right answer.
    """
    label, entry = _find(exercise)
    expected = np.asarray(entry["value"], dtype=float)
    given = _as_numbers("your_answer", your_answer)
    if given.shape != expected.shape:
        raise ValueError(
            f"your_answer must be {expected.size} number{'s' if expected.size > 1 else ''} for exercise "
            f"{entry['number']}, got {given.size}"
        )
    tolerance = entry["atol"] + entry["rtol"] * np.abs(expected)
    miss = float(np.max(np.abs(given - expected) / tolerance))
    if miss <= 1:
        return Verdict(entry["number"], "right", "Your answer agrees with the book's solution.")
    verdict = "close" if miss <= CLOSE_FACTOR else "wrong"
    lead = "Nearly: within a few times the tolerance." if verdict == "close" else "Not what the book's solution finds."
    return Verdict(entry["number"], verdict, f"{lead} Hint: {entry['hint']}")
