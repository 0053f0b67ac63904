"""Integration tests: the book builds, every lecture executes, and no page shows a warning.

The first test is the real build of the whole book into ``_build`` (the same
command as ``make book``). The others build a throwaway one-page book with the
book's own configuration to prove that a failing cell, or a cell that writes a
warning, fails the build and names the culprit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
BUILD_FLAGS = ["--warningiserror", "--nitpick", "--keep-going"]

pytestmark = pytest.mark.book


def build(book_dir: Path, log_path: Path, timeout: int = 3000) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(book_dir), *BUILD_FLAGS],
        capture_output=True, text=True, timeout=timeout,
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(result.stdout + result.stderr)
    return result


def visible_text(html: str) -> str:
    """The text a reader sees: no scripts, styles or tags."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


LECTURES = sorted(p.stem for p in (ROOT / "lectures").glob("*.md"))
BAD_ON_PAGE = [
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"\b\w*Warning\b:"),
    re.compile(r"\d+%\|"),           # tqdm-style progress bars
    re.compile(r"\bit/s\]"),
    re.compile(r"sample: +\d+%"),    # numpyro's sampler progress
]


@pytest.fixture(scope="module")
def built_book() -> Path:
    result = build(ROOT, ROOT / "_build" / "build.log")
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, f"the book build failed (full log: _build/build.log):\n{tail}"
    return ROOT / "_build" / "html"


def test_book_builds_with_warnings_as_errors(built_book):
    assert (built_book / "index.html").exists()


@pytest.mark.parametrize("lecture", LECTURES)
def test_lecture_page_is_clean_and_has_figures(built_book, lecture):
    html = (built_book / "lectures" / f"{lecture}.html").read_text()
    text = visible_text(html)
    for pattern in BAD_ON_PAGE:
        match = pattern.search(text)
        assert match is None, f"{lecture}: {pattern.pattern!r} shows on the page: ...{text[max(0, match.start() - 200):match.end() + 200]}..."
    assert re.search(r'<img [^>]*src="[^"]*_images/[^"]+\.png"', html), f"{lecture} shows no figure"
    # every {glue:text} role was filled in: myst-nb leaves no placeholder behind
    assert "{glue" not in text


def test_execution_report_lists_every_lecture(built_book):
    text = visible_text((built_book / "status.html").read_text())
    for lecture in LECTURES:
        assert lecture in text, f"{lecture} missing from the execution report"


def one_page_book(tmp_path: Path, cell_source: str) -> Path:
    """A minimal book with the real _config.yml and one lecture holding ``cell_source``."""
    book = tmp_path / "book"
    book.mkdir()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["cache"] = str(tmp_path / "cache")
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: broken_lecture\n")
    (book / "index.md").write_text("# Index\n")
    header = (ROOT / "lectures" / f"{LECTURES[0]}.md").read_text().split("---", 2)[1]
    (book / "broken_lecture.md").write_text(
        f"---{header}---\n\n# Broken lecture\n\n```{{code-cell}} ipython3\nx = 1\n```\n\n"
        f"```{{code-cell}} ipython3\n{cell_source}\n```\n"
    )
    return book


def test_a_failing_cell_fails_the_build_and_names_lecture_and_error(tmp_path):
    book = one_page_book(tmp_path, "1 / 0")
    result = build(book, tmp_path / "build.log", timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "broken_lecture" in log
    assert "ZeroDivisionError" in log


def test_a_cell_that_warns_fails_the_build(tmp_path):
    book = one_page_book(tmp_path, 'import warnings\nwarnings.warn("something is off")')
    result = build(book, tmp_path / "build.log", timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "broken_lecture" in log
    assert "stderr was found in the cell outputs" in log


def test_a_broken_internal_reference_fails_the_build(tmp_path):
    """Nit-picky mode: a reference to a label that does not exist is an error."""
    book = one_page_book(tmp_path, "x = 2")
    page = book / "broken_lecture.md"
    page.write_text(page.read_text() + "\nSee {ref}`a-label-that-does-not-exist`.\n")
    result = build(book, tmp_path / "build.log", timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "a-label-that-does-not-exist" in log


@pytest.mark.parametrize("lecture", LECTURES)
def test_every_figure_has_a_caption_a_number_and_alt_text(built_book, lecture):
    html = (built_book / "lectures" / f"{lecture}.html").read_text()
    images = re.findall(r"<img [^>]*>", html)
    figures = re.findall(r"<figure[^>]*>.*?</figure>", html, flags=re.S)
    assert images, f"{lecture} shows no figure"
    assert len(figures) == len(images), f"{lecture}: {len(images)} images but {len(figures)} captioned figures"
    for figure in figures:
        assert "<figcaption" in figure
        assert re.search(r'class="caption-number"', figure), "figure without a number"
        alt = re.search(r'alt="([^"]*)"', figure).group(1)
        assert alt and not alt.endswith(".png") and "/" not in alt, f"alt text is not a description: {alt!r}"
    for name in re.findall(r'<figure[^>]*id="([^"]+)"', html):
        assert html.count(f'href="#{name}"') >= 1, f"{lecture}: figure {name} is never referred to"


@pytest.mark.parametrize("page", ["intro", "status", *[f"lectures/{lecture}" for lecture in LECTURES]])
def test_mathjax_is_served_from_the_site_itself(built_book, page):
    """Formulas must render without a network: MathJax comes from the site's own _static folder."""
    path = built_book / f"{page}.html"
    html = path.read_text()
    sources = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', html, flags=re.I)
    if page.startswith("lectures/"):
        assert sources, f"{page} loads no MathJax"
    for source in sources:
        assert not source.startswith(("http:", "https:", "//")), f"{page} loads MathJax from {source}"
        assert (path.parent / source).resolve().is_file(), f"{source} is missing from the built site"
