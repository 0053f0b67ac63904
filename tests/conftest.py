"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Not test modules: the nbval plugin (loaded only by the nbval runs of tests/test_book.py),
# the script that made the eight schools reference posterior, and the fresh-venv helpers
# of the Colab test and of `make test-latest`.
collect_ignore = ["nbval", "reference", "notebook_env.py", "latest_lane.py"]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
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
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, f"the book build failed (full log: _build/build.log):\n{tail}"
    return ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT
