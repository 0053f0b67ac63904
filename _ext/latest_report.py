"""Show the last ``make test-latest`` result on the execution report, when there is one.

``tests/book/latest_lane.py`` writes ``_build/latest/results.md``: each lecture run on what
``pip install bayesbook`` resolves today, without the book's pins. When that file exists,
this extension appends it to the ``status`` page as it is read (on every build);
otherwise the page says that no such run was made on the machine that built it.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

PAGE = "status"


def latest_section(results: Path) -> str:
    """The Markdown appended to the status page."""
    heading = "\n\n## The lectures on the newest releases\n\n"
    intro = ("`make test-latest` executes every lecture's published notebook in a fresh "
             "environment with only the version ranges of the book's package "
             "(`pyproject.toml`), as `pip install bayesbook` resolves them on the day, "
             "instead of the pinned versions this site was built with.\n\n")
    if not results.exists():
        return heading + intro + "No such run was made on the machine that built this site.\n"
    return heading + intro + "The last run on the machine that built this site:\n\n" + results.read_text()


def append_latest(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname == PAGE:
        source[0] += latest_section(Path(app.outdir).parent / "latest" / "results.md")


def always_reread(app: Sphinx, env, added, changed, removed) -> list[str]:
    """The status page is read on every build: the table may be new while the page's source is not."""
    return [PAGE] if PAGE in env.found_docs else []


def setup(app: Sphinx) -> dict:
    app.connect("source-read", append_latest)
    app.connect("env-get-outdated", always_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
