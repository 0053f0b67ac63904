"""Collect the answer key of the exercises from the build (``bayesbook.exercises``).

Each solution that computes a numeric answer calls ``exercises.answer(label, value,
rtol=..., atol=..., hint=...)``, which glues the entry as ``answer:<label>``. This script
reads the glued entries of the last build (``_build/jupyter_execute/lectures/*.glue.json``),
numbers each exercise as the site does (chapter number in the table of contents, then
the exercise's place in the chapter) and writes them to
``lib/bayesbook/reference/answers.json``, the key that ``exercises.check`` reads in
Colab. ``tests/book/test_exercises.py`` checks that the stored key is the one the build
computes. Run from the repository root after ``make book``:

    .venv/bin/python tests/reference/answer_key.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import LECTURES, read_glued  # noqa: E402

KEY_PATH = ROOT / "lib" / "bayesbook" / "reference" / "answers.json"
EXERCISE = re.compile(r"^```\{exercise\}[^\n]*\n:label: *([\w:.-]+)", flags=re.M)


def exercise_labels(lecture: str) -> list[str]:
    """The labels of the lecture's exercises, in the order of the page."""
    return EXERCISE.findall((ROOT / "lectures" / f"{lecture}.md").read_text())


def build_key() -> dict[str, dict]:
    """The answer key that the last build's solutions computed."""
    key = {}
    for chapter, lecture in enumerate(LECTURES, start=1):
        glued = read_glued(lecture)
        labels = exercise_labels(lecture)
        for place, label in enumerate(labels, start=1):
            entry = glued.get(f"answer:{label}")
            if entry is not None:
                key[label] = {"number": f"{chapter}.{place}", "lecture": lecture, **entry}
        strays = {name.removeprefix("answer:") for name in glued if name.startswith("answer:")} - set(labels)
        if strays:
            raise ValueError(f"{lecture} records answers for exercises it does not have: {sorted(strays)}")
    return key


def main() -> None:
    key = build_key()
    KEY_PATH.write_text(json.dumps(key, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(key)} answers written to {KEY_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
