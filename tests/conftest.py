"""Shared fixtures and paths for the test suite.

``tests/lib/`` holds the unit tests of the package, one file per module, each with its
own small cases. ``tests/book/`` holds the tests of the book: the build, its pages, the
published notebooks, and one file per chapter that reads the numbers the executed page
glued (:func:`glued`) and compares them with independent computations. No page setting
is written in ``tests/``: a chapter's numbers come from its page.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Not test modules: the nbval plugin (loaded only by the nbval runs of tests/test_book.py),
# the script that made the eight schools reference posterior, and the fresh-venv helpers
# of the Colab test and of `make test-latest`.
collect_ignore = ["book/nbval", "reference", "book/notebook_env.py", "book/latest_lane.py"]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def _toc_files(entries: list) -> list[str]:
    files = []
    for entry in entries:
        if "file" in entry:
            files.append(entry["file"])
        for key in ("parts", "chapters", "sections"):
            files.extend(_toc_files(entry.get(key, [])))
    return files


#: The lectures, in the order of the table of contents (their file stems).
LECTURES = [
    name.removeprefix("lectures/")
    for name in _toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()).get("parts", []))
    if name.startswith("lectures/")
]
# the same flags as `make book`
BUILD_FLAGS = ["--warningiserror", "--nitpick", "--keep-going"]


def build(book_dir: Path, log_path: Path, timeout: int = 3000) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(book_dir), *BUILD_FLAGS],
        capture_output=True, text=True, timeout=timeout,
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(result.stdout + result.stderr)
    return result


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The whole book, built into ``_build/html`` as ``make book`` builds it (once per session)."""
    result = build(ROOT, ROOT / "_build" / "build.log")
    assert result.returncode == 0, build_failure(result.stdout + result.stderr)
    return ROOT / "_build" / "html"


#: The lines of a build log that say why it failed: a notebook whose execution failed
#: (and the claim or exception that stopped it), and Sphinx's warnings and errors. The
#: kernels' own notices ("[IPKernelApp] WARNING | Kernel is running over TCP ...") are not.
PROBLEM_LINE = re.compile(r"execution failed|WARNING|ERROR|Error:|ClaimError|^\s*\w+Error\b")


def build_failure(log: str, limit: int = 12) -> str:
    """The message of a failed build: its log's tail, then the lines that say why.

    The lines that say why come last, where a CI report that shows only the end of the
    output still shows them, and the notebooks whose execution failed (with the exception
    that stopped each) come at the very end; each line is cut to 300 characters, and at
    most ``limit`` are kept.
    """
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in log.splitlines()]
    problems = list(dict.fromkeys(line.strip()[:300] for line in lines
                                  if PROBLEM_LINE.search(line) and not line.startswith("[IPKernelApp]")))
    problems.sort(key=lambda line: "execution failed" in line)  # stable: the failed notebooks last
    shown = ([f"... {len(problems) - limit} more lines in the log"] if len(problems) > limit else []) + problems[-limit:]
    return ("the book build failed (full log: _build/build.log); its tail:\n" + "\n".join(lines[-30:])
            + "\n\nwhy it failed, in the log's words:\n" + "\n".join(shown or ["(no warning or error line found)"]))


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


def read_glued(lecture: str) -> dict:
    """The values that the executed page ``lecture`` glued, as Python data.

    myst-nb writes them to ``_build/jupyter_execute/lectures/<lecture>.glue.json`` when it
    executes the page; :func:`bayesbook.notebook.glue` stores plain data, whose ``repr``
    ``ast.literal_eval`` reads back (strings stay strings).
    """
    path = ROOT / "_build" / "jupyter_execute" / "lectures" / f"{lecture}.glue.json"
    values = {}
    for name, output in json.loads(path.read_text()).items():
        text = output["data"]["text/plain"]
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            values[name] = text
    return values


@pytest.fixture(scope="module")
def glued(request, built_book) -> dict:
    """The glued values of the chapter a ``tests/book/test_<lecture>.py`` module tests (after the build)."""
    lecture = Path(request.module.__file__).stem.removeprefix("test_")
    assert lecture in LECTURES, f"{request.module.__file__} names no lecture"
    return read_glued(lecture)
