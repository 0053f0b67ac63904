"""The students' answer checks: right, close and wrong, and clear errors for bad input."""

from __future__ import annotations

import pytest

from bayesbook import exercises

STORED_ANSWER_KEY = exercises.answer_key  # before the fixture below replaces it

KEY = {
    "ex-one": {"number": "3.1", "lecture": "mcmc", "value": [-0.5], "rtol": 0.0, "atol": 0.05, "hint": "ESS grows like m."},
    "ex-two": {"number": "3.2", "lecture": "mcmc", "value": [2.0, 10.0], "rtol": 0.1, "atol": 0.0, "hint": "Use the sd."},
}


@pytest.fixture(autouse=True)
def stored_key(monkeypatch):
    monkeypatch.setattr(exercises, "answer_key", lambda: KEY)


@pytest.mark.parametrize(
    ("exercise", "given", "verdict"),
    [
        ("3.1", -0.5, "right"),
        ("ex-one", -0.54, "right"),  # by label, inside atol
        ("3.1", -0.6, "close"),  # two tolerances away
        ("3.1", -0.66, "wrong"),  # past CLOSE_FACTOR tolerances
        ("3.1", 0.5, "wrong"),  # the sign
        ("3.2", [2.1, 9.1], "right"),  # rtol scales with each value
        ("3.2", [2.1, 12.5], "close"),  # the worst number decides
        ("3.2", [10.0, 2.0], "wrong"),  # the order matters
    ],
)
def test_check_says_right_close_or_wrong(exercise, given, verdict):
    result = exercises.check(exercise, given)
    assert result.verdict == verdict
    assert result.right == (verdict == "right")
    assert ("Hint: " in result.message) == (verdict != "right")
    assert str(KEY["ex-one"]["value"][0]) not in result.message  # the check never gives the answer away


def test_an_unknown_exercise_names_the_ones_that_exist():
    with pytest.raises(ValueError, match=r"exercise must be one with a numeric answer \(3\.1, 3\.2\)"):
        exercises.check("3.3", 1.0)
    with pytest.raises(TypeError, match="exercise must be"):
        exercises.check(3.1, 1.0)


@pytest.mark.parametrize(
    ("given", "error", "match"),
    [
        ([1.0], ValueError, "your_answer must be 2 numbers for exercise 3.2, got 1"),
        ("2, 10", TypeError, "your_answer must be a number or a list of numbers"),
        ([[2.0, 10.0]], ValueError, "flat list"),
        ([2.0, float("nan")], ValueError, "must be finite"),
    ],
)
def test_a_malformed_answer_is_refused_clearly(given, error, match):
    with pytest.raises(error, match=match):
        exercises.check("3.2", given)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rtol": 0.0, "atol": 0.0}, "cannot both be 0"),
        ({"rtol": -0.1}, "rtol must be a finite number"),
        ({"atol": float("inf")}, "atol must be a finite number"),
        ({"atol": 0.1, "hint": " "}, "hint must say"),
    ],
)
def test_a_solution_must_give_a_tolerance_and_a_hint(kwargs, match):
    arguments = {"hint": "look again", **kwargs}
    with pytest.raises(ValueError, match=match):
        exercises.answer("ex-one", 1.0, **arguments)


def test_answer_glues_the_entry_the_key_is_made_from(monkeypatch):
    stored = {}
    monkeypatch.setattr(exercises, "glue", lambda name, value: stored.update({name: value}))
    exercises.answer("ex-two", (2.0, 10.0), rtol=0.1, hint=" Use the sd. ")
    assert stored == {"answer:ex-two": {"value": [2.0, 10.0], "rtol": 0.1, "atol": 0.0, "hint": "Use the sd."}}


def test_the_stored_key_is_shipped_with_the_package():
    key = STORED_ANSWER_KEY()
    assert isinstance(key, dict)
    for entry in key.values():
        assert set(entry) == {"number", "lecture", "value", "rtol", "atol", "hint"}
