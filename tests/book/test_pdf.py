"""The whole book as one PDF (``make pdf``, ``_ext/book_pdf.py``), read back with poppler.

The PDF is printed from the build's pages by headless Chromium. The tests read its text
(``pdftotext``) and its images (``pdfimages``): every chapter and every exercise in the
order of the book, the table of contents' page numbers pointing at the pages where the
chapters start, a page number in every footer, no formula left as raw TeX outside the
code, and at least as many images as the site's lecture pages have figures. Pages of it
are rendered to PNG in ``_build/screenshots/pdf-*.png`` for people to look at.

Needs Debian's ``chromium``, ``chromium-driver`` and ``poppler-utils`` (``.ci/run``
installs them); where they are missing the tests are skipped and pytest says why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from conftest import LECTURES, ROOT

pytestmark = pytest.mark.book

TOOLS = ("chromium", "chromedriver", "pdftotext", "pdfimages", "pdftoppm")
if not all(shutil.which(tool) for tool in TOOLS):
    pytest.skip(f"the book's PDF needs {', '.join(TOOLS)} (Debian packages chromium, chromium-driver, poppler-utils)",
                allow_module_level=True)

PDF = ROOT / "_build" / "pdf" / "book.pdf"
RAW_TEX = ("\\frac", "$$", "\\(", "\\)", "\\[", "\\begin{", "\\mathrm", "\\theta")


@pytest.fixture(scope="module")
def book_pdf(built_book: Path) -> Path:
    """``make pdf``'s script, run on the build (it builds the single page from the cache and prints it)."""
    result = subprocess.run([sys.executable, str(ROOT / "_ext" / "book_pdf.py")], cwd=ROOT, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return PDF


@pytest.fixture(scope="module")
def pages(book_pdf: Path) -> list[str]:
    """The text of each page, whitespace collapsed."""
    text = subprocess.run(["pdftotext", str(book_pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")][:-1]  # the text ends with a form feed


def chapter_titles() -> list[str]:
    titles = []
    for lecture in LECTURES:
        first = next(line for line in (ROOT / "lectures" / f"{lecture}.md").read_text().splitlines()
                     if line.startswith("# "))
        titles.append(first.removeprefix("# ").strip())
    return titles


def exercise_counts() -> list[int]:
    return [len(re.findall(r"^```\{exercise\}", (ROOT / "lectures" / f"{lecture}.md").read_text(), flags=re.M))
            for lecture in LECTURES]


def body_start(pages: list[str]) -> int:
    """The index of the first page after the table of contents."""
    return next(number for number, text in enumerate(pages) if "Each entry is a link to its page" in text) + 1


def test_the_pdf_is_linked_from_the_site(book_pdf: Path, built_book: Path):
    assert (built_book / "book.pdf").read_bytes() == book_pdf.read_bytes()
    assert 'href="book.pdf"' in (built_book / "intro.html").read_text()
    lecture = (built_book / "lectures" / f"{LECTURES[0]}.html").read_text()
    assert "Book PDF" in lecture and "../book.pdf" in lecture  # the download menu


def test_every_chapter_and_exercise_in_the_order_of_the_book(pages: list[str]):
    text = " ".join(pages[body_start(pages):])
    position = 0
    for chapter, (title, exercises) in enumerate(zip(chapter_titles(), exercise_counts()), start=1):
        heading = f"{chapter}. {' '.join(title.split())}"
        found = text.find(heading, position)
        assert found >= 0, f"chapter {heading!r} is missing or out of order"
        position = found
        for exercise in range(1, exercises + 1):
            found = text.find(f"Exercise {chapter}.{exercise}", position)
            assert found >= 0, f"Exercise {chapter}.{exercise} is missing or out of order"
            position = found
    assert text.find("References", position) > 0, "the bibliography is missing after the chapters"
    assert "Hoffman" in text[position:] and "2014" in text[position:]  # a bibliography entry


def test_the_contents_point_at_the_pages_where_chapters_start(book_pdf: Path, pages: list[str]):
    layout = subprocess.run(["pdftotext", "-layout", "-f", "2", "-l", str(body_start(pages)), str(book_pdf), "-"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for chapter, title in enumerate(chapter_titles(), start=1):
        heading = f"{chapter}. {' '.join(title.split()[:3])}"
        # the chapter's line of the contents: its title (perhaps wrapped), dots, its page number
        line = next((line for line in layout if " ".join(line.split()).startswith(heading)), None)
        assert line is not None, f"chapter {chapter} is missing from the contents"
        number = re.search(r"\s(\d+)\s*$", line)
        assert number, f"chapter {chapter} has no page number in the contents: {line!r}"
        page = int(number.group(1))
        assert heading in pages[page - 1], f"page {page} does not start chapter {chapter}"
        assert heading not in pages[page - 2], f"chapter {chapter} starts before page {page}"


def footers(book_pdf: Path) -> list[str]:
    """The text at the foot of each page (the bottom half inch of an A4 page)."""
    text = subprocess.run(["pdftotext", "-x", "0", "-y", "806", "-W", "596", "-H", "36", str(book_pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    return [page.strip() for page in text.split("\f")][:-1]


def test_every_page_is_numbered(book_pdf: Path, pages: list[str]):
    assert len(pages) > 100
    assert footers(book_pdf) == [str(number) for number in range(1, len(pages) + 1)]


def code_text() -> str:
    """Every code cell's source and text output of the executed lectures, whitespace collapsed."""
    parts = []
    for lecture in LECTURES:
        notebook = nbformat.read(ROOT / "_build" / "jupyter_execute" / "lectures" / f"{lecture}.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                parts.append(cell.source)
                parts.extend(output.get("text", "") for output in cell.get("outputs", []))
        parts.extend(cell.source for cell in jupytext.read(ROOT / "lectures" / f"{lecture}.md").cells
                     if cell.cell_type == "code")
    return " ".join(" ".join(parts).split())


def test_no_formula_is_left_as_raw_tex(book_pdf: Path):
    text = subprocess.run(["pdftotext", "-layout", str(book_pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    code = code_text()
    raw = [line.strip() for line in text.splitlines()
           if any(mark in line for mark in RAW_TEX) and " ".join(line.split()) not in code]
    assert not raw, f"raw TeX outside the code in the PDF: {raw[:5]}"


def test_at_least_as_many_images_as_the_site_has_figures(book_pdf: Path, built_book: Path):
    figures = sum(len(re.findall(r'<img [^>]*src="[^"]*_images/', (built_book / "lectures" / f"{lecture}.html")
                                 .read_text())) for lecture in LECTURES)
    listed = subprocess.run(["pdfimages", "-list", str(book_pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    images = [line for line in listed if line.split()[2] == "image"]
    assert figures > 30
    assert len(images) >= figures, f"{len(images)} images in the PDF, {figures} figures on the site"


def test_pages_rendered_for_people_to_look_at(book_pdf: Path, pages: list[str]):
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    first_chapter = body_start(pages) + 1
    for page in (1, 2, first_chapter):
        subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", "-f", str(page), "-l", str(page),
                        str(book_pdf), str(shots / f"pdf-page-{page}")], check=True)
        assert (shots / f"pdf-page-{page}.png").stat().st_size > 5_000
