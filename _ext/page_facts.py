"""Facts the build knows about each lecture, put on the pages: the freshness line and the teachers' table.

**Freshness line.** Under the title of every lecture page: when the page's code was
executed, how long the run took, the versions of NumPyro, JAX, Pyro, PyTorch and ArviZ
it ran with, and the commit the page was built from. The date and the seconds are
myst-nb's record of the execution (from the jupyter-cache when the code is unchanged:
then they are those of the run that filled the cache); the versions are read from the
output of the page's closing cell (``library_versions()``), which the kernel printed,
so they are the versions the code ran with, not those of the process that builds the site.

**Chapter table.** The directive ``chapter-table`` (on the teaching page) takes one
line per lecture, ``lectures/<name> | what it teaches | what it needs`` and adds, for
each, the number of exercises, how many of them have a student check
(``exercises.check``), the lecture's execution time in this build and its time alone
from the last ``make bench`` (``bench/results.json``).
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: The libraries the freshness line names, as (distribution, what readers call it).
FRESHNESS_LIBRARIES = (("numpyro", "NumPyro"), ("jax", "JAX"), ("pyro-ppl", "Pyro"), ("torch", "PyTorch"),
                       ("arviz", "ArviZ"))
VERSION_LINE = re.compile(r"^\s*([\w.-]+): (\S.*)$", flags=re.M)
EXERCISE = re.compile(r"^```\{exercise\}", flags=re.M)
CHECKED_EXERCISE = re.compile(r"^```\{exercise\}.*?^```$", flags=re.M | re.S)


def build_commit(root: Path) -> str:
    """The short commit hash of the checkout, with a note when the working tree has changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit (not a git checkout)"
    return f"{commit} (with uncommitted changes)" if changes else commit


def executed_versions(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The versions the closing cell of an executed lecture printed (``name: version`` lines)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "library_versions()" in cell.source:
            text = "".join(output.get("text", "") for output in cell.get("outputs", []) if output.get("name") == "stdout")
            return dict(VERSION_LINE.findall(text))
    return {}


def exec_data(app: Sphinx, docname: str) -> dict | None:
    from myst_nb.sphinx_ import NbMetadataCollector

    return NbMetadataCollector.get_exec_data(app.env, docname)


def executed_notebook(app: Sphinx, docname: str) -> nbformat.NotebookNode | None:
    from lecture_notebooks import with_outputs

    path = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"
    return with_outputs(app, nbformat.read(path, as_version=4)) if path.exists() else None


def freshness_text(data: dict | None, versions: dict[str, str], commit: str) -> str:
    """The freshness line of one lecture."""
    if data and data.get("mtime"):
        when = datetime.fromtimestamp(data["mtime"], tz=timezone.utc).strftime("%Y-%m-%d at %H:%M UTC")
        seconds = f" in {data['runtime']:.0f} s" if data.get("runtime") is not None else ""
        executed = f"This page was executed on {when}{seconds}"
    else:
        executed = "This page was executed by the build"
    named = [f"{label} {versions[name]}" for name, label in FRESHNESS_LIBRARIES if name in versions]
    with_versions = f", with {', '.join(named[:-1])} and {named[-1]}" if len(named) > 1 else ""
    return f"{executed}{with_versions}; the site was built from commit {commit}."


def add_freshness_line(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if not docname.startswith("lectures/"):
        return
    notebook = executed_notebook(app, docname)
    if notebook is None:
        return
    text = freshness_text(exec_data(app, docname), executed_versions(notebook), app.config.page_facts_commit)
    line = nodes.paragraph(text, text, classes=["freshness"])
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next(iter(section.findall(nodes.title)), None)
    section.insert(section.index(title) + 1 if title is not None else 0, line)


class chapter_table(nodes.General, nodes.Element):
    """Placeholder for the chapter table, filled in when every lecture has been read."""


class ChapterTable(SphinxDirective):
    has_content = True

    def run(self):
        rows = []
        for line in self.content:
            if not line.strip():
                continue
            cells = [cell.strip() for cell in line.split("|")]
            if len(cells) != 3 or not cells[0].startswith("lectures/"):
                raise self.error(f"each line must be 'lectures/<name> | what it teaches | what it needs', got {line!r}")
            rows.append(cells)
        node = chapter_table()
        node["rows"] = rows
        return [node]


def lecture_exercises(root: Path, docname: str) -> tuple[int, int]:
    """(number of exercises, number whose statement gives an ``exercises.check`` line) of a lecture."""
    source = (root / f"{docname}.md").read_text()
    statements = CHECKED_EXERCISE.findall(source)
    return len(EXERCISE.findall(source)), sum("exercises.check(" in statement for statement in statements)


def bench_seconds(root: Path) -> tuple[dict[str, float], str]:
    results = root / "bench" / "results.json"
    if not results.exists():
        return {}, ""
    record = json.loads(results.read_text())
    return record.get("lecture_execution_seconds", {}), record.get("date", "")[:10]


def _cell(text: str, reference: str | None = None) -> nodes.entry:
    paragraph = nodes.paragraph()
    if reference:
        paragraph += nodes.reference(text, text, internal=True, refuri=reference)
    else:
        paragraph += nodes.Text(text)
    entry = nodes.entry()
    entry += paragraph
    return entry


def fill_chapter_tables(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    root = Path(app.srcdir)
    alone, bench_date = bench_seconds(root)
    headers = ["Chapter", "What it teaches", "What it needs", "Exercises (checked)", "This build (s)", "Alone (s)"]
    note = (f"Times alone: make bench of {bench_date}." if bench_date
            else "No make bench is on record: the times alone are missing.")
    for placeholder in list(doctree.findall(chapter_table)):
        table = nodes.table(classes=["chapter-table"])
        group = nodes.tgroup(cols=len(headers))
        table += group
        group.extend(nodes.colspec(colwidth=1) for _ in headers)
        head = nodes.thead()
        head += nodes.row("", *(_cell(header) for header in headers))
        body = nodes.tbody()
        for lecture, teaches, needs in placeholder["rows"]:
            title = app.env.titles.get(lecture)
            number = app.env.toc_secnumbers.get(lecture, {}).get("", ())
            name = (".".join(map(str, number)) + " " if number else "") + (title.astext() if title else lecture)
            uri = app.builder.get_relative_uri(docname, lecture)
            exercises, checked = lecture_exercises(root, lecture)
            data = exec_data(app, lecture) or {}
            runtime = data.get("runtime")
            body += nodes.row("", _cell(name, uri), _cell(teaches), _cell(needs), _cell(f"{exercises} ({checked})"),
                              _cell("–" if runtime is None else f"{runtime:.0f}"),
                              _cell(f"{alone[lecture]:.0f}" if lecture in alone else "–"))
        group += head
        group += body
        placeholder.replace_self([table, nodes.paragraph(note, note, classes=["chapter-table-note"])])


def always_reread(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages whose facts may be new: the teaching page always, the lectures when the commit is new.

    Pages with a chapter table are read on every build (the lectures' times may be new).
    A lecture whose source is unchanged is not written again by Sphinx, so its freshness
    line would keep the commit of the build that wrote it: the lectures are read again
    (from the jupyter-cache, executing nothing) when the commit differs.
    """
    names = [name for name in app.config.page_facts_tables if name in env.found_docs]
    if getattr(env, "page_facts_commit", None) != app.config.page_facts_commit:
        env.page_facts_commit = app.config.page_facts_commit
        names += [name for name in env.found_docs if name.startswith("lectures/")]
    return names


def setup(app: Sphinx) -> dict:
    # not part of the environment: a new commit must not make Sphinx read every page again
    app.add_config_value("page_facts_commit", build_commit(Path(app.srcdir)), "")
    app.add_config_value("page_facts_tables", ["teaching"], "env")
    app.add_node(chapter_table)
    app.add_directive("chapter-table", ChapterTable)
    app.connect("doctree-resolved", add_freshness_line)
    app.connect("doctree-resolved", fill_chapter_tables)
    app.connect("env-get-outdated", always_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
