"""The exercise sets: at least four per chapter, and a student check for every numeric answer.

The answer key that ``bayesbook.exercises.check`` reads in Colab (``reference/answers.json``)
must be the one the build's own solutions computed (``tests/reference/answer_key.py``
collects it from the glued values); each exercise that records an answer tells the
student how to check it, and the numbers in the key are the ones the site shows.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bayesbook import exercises
from conftest import LECTURES, ROOT
from reference.answer_key import KEY_PATH, build_key, exercise_labels

pytestmark = pytest.mark.book

STATEMENT = re.compile(r"^```\{exercise\}[^\n]*\n:label: *([\w:.-]+)\n(.*?)^```$", flags=re.M | re.S)


@pytest.fixture(scope="module")
def built_key(built_book) -> dict:
    return build_key()


def stored_key() -> dict:
    return json.loads(KEY_PATH.read_text())


def test_the_stored_key_is_the_one_the_build_computes(built_key):
    stored = stored_key()
    assert sorted(stored) == sorted(built_key), "run `make answers` after changing an exercise"
    for label, entry in built_key.items():
        kept = stored[label]
        assert {name: kept[name] for name in ("number", "lecture", "rtol", "atol", "hint")} == \
               {name: entry[name] for name in ("number", "lecture", "rtol", "atol", "hint")}, label
        np.testing.assert_allclose(kept["value"], entry["value"], rtol=1e-9, atol=0, err_msg=label)


@pytest.mark.parametrize("lecture", LECTURES)
def test_every_chapter_has_at_least_four_exercises(lecture):
    assert len(exercise_labels(lecture)) >= 4


@pytest.mark.parametrize("lecture", LECTURES)
def test_an_exercise_with_a_recorded_answer_tells_the_student_how_to_check_it(built_key, lecture):
    statements = dict(STATEMENT.findall((ROOT / "lectures" / f"{lecture}.md").read_text()))
    for label, statement in statements.items():
        checks = f'exercises.check("{label}"' in statement
        assert checks == (label in built_key), (
            f"{label}: the statement's check line and the solution's exercises.answer must come together")


def test_the_numbers_are_the_ones_the_site_shows(built_book, built_key):
    for label, entry in built_key.items():
        html = (built_book / "lectures" / f"{entry['lecture']}.html").read_text()
        found = re.search(rf'id="{re.escape(label)}">\s*<p class="admonition-title"><span class="caption-number">'
                          rf"Exercise (\d+\.\d+) </span>", html)
        assert found and found.group(1) == entry["number"], label


def test_each_stored_answer_checks_right_and_a_far_one_wrong(monkeypatch):
    key = stored_key()
    monkeypatch.setattr(exercises, "answer_key", lambda: key)
    for label, entry in key.items():
        value = np.asarray(entry["value"], dtype=float)
        tolerance = entry["atol"] + entry["rtol"] * np.abs(value)
        assert exercises.check(entry["number"], value).right, label
        assert exercises.check(label, value + 0.9 * tolerance).right, label
        assert exercises.check(label, value + 2 * tolerance).verdict == "close", label
        assert exercises.check(label, value + 10 * tolerance).verdict == "wrong", label
