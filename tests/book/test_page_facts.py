"""What the built pages say of themselves: licence, freshness line, the teachers' chapter table.

Each is compared with an independent source: the versions with the book's environment
(``importlib.metadata``), the execution record with the jupyter-cache's own record, the
commit with git, the exercise counts with the exercises on the built lecture pages.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta, timezone
from html import unescape
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

from conftest import LECTURES, ROOT

pytestmark = pytest.mark.book

FRESHNESS = re.compile(
    r'<p class="freshness">This page was executed on (\d{4}-\d\d-\d\d) at (\d\d:\d\d) UTC in (\d+) s, '
    r"with (.+?); the site was built from commit ([0-9a-f]+)( \(with uncommitted changes\))?\.</p>"
)
LIBRARIES = {"NumPyro": "numpyro", "JAX": "jax", "Pyro": "pyro-ppl", "PyTorch": "torch", "ArviZ": "arviz"}


def cache_records() -> dict[str, object]:
    """The jupyter-cache's record of each lecture's execution, by lecture."""
    from jupyter_cache import get_cache

    cache = get_cache(ROOT / "_build" / ".jupyter_cache")
    records = {}
    for lecture in LECTURES:
        notebook = nbformat.read(ROOT / "_build" / "jupyter_execute" / "lectures" / f"{lecture}.ipynb", as_version=4)
        records[lecture] = cache.match_cache_notebook(notebook)
    return records


@pytest.fixture(scope="module")
def records(built_book):
    return cache_records()


def test_every_page_shows_the_licence(built_book: Path):
    pages = sorted(built_book.rglob("*.html"))
    assert len(pages) >= len(LECTURES) + 3
    for page in pages:
        if page.parent.name in ("_static", "_sources") or page.name in ("genindex.html", "search.html"):
            continue
        html = page.read_text()
        if 'http-equiv="Refresh"' in html:  # index.html sends the reader to intro.html
            continue
        assert "creativecommons.org/licenses/by/4.0" in html and "CC BY 4.0" in html, f"{page.name} has no licence"
        assert "MIT" in html


def test_the_licence_files_say_which_licence_covers_what():
    notice = (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in notice and "MIT License" in notice and "lib/" in notice and "code cells" in notice
    assert "Attribution 4.0 International Public License" in (ROOT / "LICENSES" / "CC-BY-4.0.txt").read_text()
    assert "Permission is hereby granted" in (ROOT / "LICENSES" / "MIT.txt").read_text()
    import yaml

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["title"] and citation["authors"]
    assert set(citation["license"]) == {"CC-BY-4.0", "MIT"}


@pytest.mark.parametrize("lecture", LECTURES)
def test_every_published_notebook_carries_its_licences(built_book: Path, lecture: str):
    notebook = nbformat.read(built_book / "_sources" / "lectures" / f"{lecture}.ipynb", as_version=4)
    assert notebook.metadata["license"]["text"] == "CC-BY-4.0"
    assert notebook.metadata["license"]["code"] == "MIT"


@pytest.mark.parametrize("lecture", LECTURES)
def test_the_freshness_line_says_when_how_long_with_what_and_from_which_commit(built_book, records, lecture):
    html = (built_book / "lectures" / f"{lecture}.html").read_text()
    found = FRESHNESS.search(unescape(html))
    assert found, f"{lecture} has no freshness line"
    day, clock, seconds, libraries, commit, _ = found.groups()
    record = records[lecture]
    executed = record.created.replace(tzinfo=timezone.utc)  # jupyter-cache records UTC, without a zone
    shown = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    assert timedelta(0) <= executed - shown < timedelta(minutes=1)  # the line shows it to the minute
    assert abs(float(seconds) - record.data["execution_seconds"]) <= 0.5
    versions = dict(re.findall(r"(NumPyro|JAX|Pyro|PyTorch|ArviZ) (\S+?)(?:,| and |$)", libraries))
    assert versions == {label: metadata.version(name) for label, name in LIBRARIES.items()}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert commit == head


def test_the_chapter_table_counts_each_chapters_exercises_and_times(built_book, records):
    html = unescape((built_book / "teaching.html").read_text())
    table = html[html.index('class="chapter-table'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S)[1:]
    assert len(rows) == len(LECTURES)
    for lecture, row in zip(LECTURES, rows):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        page = (built_book / "lectures" / f"{lecture}.html").read_text()
        exercises = page.count('class="exercise admonition"')
        assert exercises >= 4, f"{lecture} has {exercises} exercises"
        assert cells[3].startswith(f"{exercises} ("), (lecture, cells[3])
        assert cells[4] == f"{record_seconds(records[lecture]):.0f}", (lecture, cells[4])


def record_seconds(record) -> float:
    return record.data["execution_seconds"]
