"""Publish every lecture as a Jupyter notebook, with "Open in Colab" and download links.

(Also: each inline script of a page is included once; see ``drop_repeated_scripts``.)

Colab cannot open the MyST-markdown source of a lecture, so the build publishes the
executed notebook of each lecture (``_build/jupyter_execute/<page>.ipynb``, written by
myst-nb) at ``_sources/<page>.ipynb`` in the site, which is where sphinx-book-theme's
download menu looks for it. The markdown cells are made readable outside the book: the
numbers that myst-nb's ``{glue:text}`` role puts into the prose are written in, and
cross-references (``{numref}``, ``{ref}``, ``{eq}``, ``{cite}``) become plain text,
and the invisible outputs that only carried those numbers are dropped.

The Colab link is derived from ``repository.url`` in ``_config.yml`` and points at the
same notebook on the branch the site is published to (``gh-pages``, see
``.github/workflows/publish.yml``).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import nbformat
from sphinx.application import Sphinx

COLAB = "https://colab.research.google.com/github"
ROLE = re.compile(r"\{(glue:text|glue|numref|ref|eq|cite)\}`([^`]*)`")
#: What a published notebook's metadata says of its licences (LICENSE in the repository).
NOTEBOOK_LICENSE = {
    "text": "CC-BY-4.0",
    "code": "MIT",
    "notice": "Markdown cells (text) and figures: CC BY 4.0; code cells: MIT. See LICENSE and CITATION.cff "
              "in the book's repository.",
}
TARGET_LINE = re.compile(r"^\([\w:.-]+\)=[ \t]*\n", flags=re.M)


def colab_url(repository_url: str, branch: str, notebook_path: str) -> str:
    """The Colab address of ``notebook_path`` on ``branch`` of a GitHub repository."""
    parsed = urlparse(repository_url)
    if parsed.netloc != "github.com":
        raise ValueError(f"repository.url must be a https://github.com/<owner>/<name> URL, got {repository_url!r}")
    owner_and_name = parsed.path.strip("/").removesuffix(".git")
    return f"{COLAB}/{owner_and_name}/blob/{branch}/{notebook_path}"


def _glue_text(glue_data: dict, argument: str) -> str:
    name, _, spec = argument.partition(":")
    text = glue_data[name]["data"]["text/plain"]
    if not spec:
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return format(value, spec)


def _plain_reference(app: Sphinx, docname: str, role: str, argument: str, glue_data: dict) -> str:
    if role in ("glue:text", "glue"):
        return _glue_text(glue_data, argument)
    if role == "cite":
        return "[" + ", ".join(key.strip() for key in argument.split(",")) + "]"
    if role == "eq":
        return f"({argument})"
    label = re.sub(r"^.*<(.+)>$", r"\1", argument).lower()
    explicit_text = re.match(r"^(.*?)\s*<.+>$", argument)
    if role == "numref":
        numbers = app.env.toc_fignumbers.get(docname, {}).get("figure", {}).get(label)
        name = "Fig. " + ".".join(map(str, numbers)) if numbers else label
        return explicit_text.group(1).replace("{number}", ".".join(map(str, numbers or ()))) if explicit_text else name
    # {ref}: the section's title
    if explicit_text:
        return explicit_text.group(1)
    labels = app.env.domaindata["std"]["labels"]
    return f"*{labels[label][2]}*" if label in labels else label


def with_outputs(app: Sphinx, notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` with the outputs of its executed copy in the execution cache.

    myst-nb writes ``jupyter_execute/<page>.ipynb`` with outputs only when it has just
    executed the page; when the outputs come from its cache, the file it writes has none
    (myst-nb 1.4.0 writes the notebook it read, not the one merged with the cache). The
    cache holds them either way.
    """
    if app.env.mystnb_config.execution_mode != "cache":
        return notebook
    from jupyter_cache import get_cache

    cache = get_cache(app.env.mystnb_config.execution_cache_path)
    try:
        _, merged = cache.merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache: the file is all there is
        return notebook
    return merged


def is_glue_output(output) -> bool:
    """An output that only records a value for myst-nb's ``glue`` (Jupyter shows nothing for it)."""
    data = output.get("data") or {}
    return bool(data) and all(key.startswith("application/papermill.record/") for key in data)


def reader_notebook(app: Sphinx, docname: str, executed: Path) -> nbformat.NotebookNode:
    """The executed notebook of ``docname`` with its markdown made plain for Jupyter and Colab."""
    notebook = with_outputs(app, nbformat.read(executed, as_version=4))
    glue_file = executed.with_suffix(".glue.json")
    glue_data = json.loads(glue_file.read_text()) if glue_file.exists() else {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            # the values stored with glue are in the prose now; their outputs show nothing
            cell.outputs = [output for output in cell.outputs if not is_glue_output(output)]
        if cell.cell_type != "markdown":
            continue
        source = TARGET_LINE.sub("", cell.source)
        cell.source = ROLE.sub(
            lambda match: _plain_reference(app, docname, match.group(1), match.group(2), glue_data), source
        )
    notebook.metadata.pop("source_map", None)
    notebook.metadata["license"] = dict(NOTEBOOK_LICENSE)
    return notebook


def is_lecture(app: Sphinx, pagename: str) -> bool:
    return pagename.startswith("lectures/") and (Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb").exists()


def publish_notebook(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write the lecture's notebook into ``_sources`` and offer it in the download menu."""
    if not is_lecture(app, pagename):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(reader_notebook(app, pagename, executed), target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def add_colab_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """An "Open in Colab" button in the page header of every lecture."""
    if not is_lecture(app, pagename):
        return
    repository = app.config.html_theme_options.get("repository_url", "")
    url = colab_url(repository, app.config.lecture_notebooks_branch, f"_sources/{pagename}.ipynb")
    context["header_buttons"].insert(0, {
        "type": "link",
        "url": url,
        "text": "Open in Colab",
        "tooltip": "Open this lecture as a notebook in Google Colab",
        "icon": "_static/images/logo_colab.png",
        "label": "colab-button",
    })


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Include each inline script once.

    sphinx-thebe and sphinx-togglebutton add their inline configuration scripts at a point
    where Sphinx 7.4 lists them twice in every page; the second ``const THEBE_JS_URL``
    is a JavaScript error in the reader's console ("Identifier has already been declared").
    """
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # the repeat of an inline script has filename None where the first has ""
        key = (getattr(script, "filename", str(script)) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.add_config_value("lecture_notebooks_branch", "gh-pages", "html")
    # before sphinx-book-theme builds its download menu (priority 501), and after it
    app.connect("html-page-context", publish_notebook, priority=500)
    app.connect("html-page-context", add_colab_button, priority=502)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
