"""Integration tests: the book builds, every lecture executes, and no page shows a warning.

The first test is the real build of the whole book into ``_build`` (the same
command as ``make book``). The others build a throwaway one-page book with the
book's own configuration to prove that a failing cell, or a cell that writes a
warning, fails the build and names the culprit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import LECTURES, ROOT, build

pytestmark = pytest.mark.book


def visible_text(html: str) -> str:
    """The text a reader sees: no scripts, styles or tags."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


BAD_ON_PAGE = [
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"\b\w*Warning\b:"),
    re.compile(r"\d+%\|"),           # tqdm-style progress bars
    re.compile(r"\bit/s\]"),
    re.compile(r"sample: +\d+%"),    # numpyro's sampler progress
]


def test_book_builds_with_warnings_as_errors(built_book):
    assert (built_book / "index.html").exists()


@pytest.mark.parametrize("lecture", LECTURES)
def test_lecture_page_is_clean_and_has_figures(built_book, lecture):
    html = (built_book / "lectures" / f"{lecture}.html").read_text()
    text = visible_text(html)
    for pattern in BAD_ON_PAGE:
        match = pattern.search(text)
        context = text[max(0, match.start() - 200):match.end() + 200] if match else ""
        assert match is None, f"{lecture}: {pattern.pattern!r} shows on the page: ...{context}..."
    assert re.search(r'<img [^>]*src="[^"]*_images/[^"]+\.png"', html), f"{lecture} shows no figure"
    # every {glue:text} role was filled in: myst-nb leaves no placeholder behind
    assert "{glue" not in text


def test_execution_report_lists_every_lecture(built_book):
    text = visible_text((built_book / "status.html").read_text())
    for lecture in LECTURES:
        assert lecture in text, f"{lecture} missing from the execution report"


def test_execution_report_says_whether_the_lectures_ran_on_the_newest_releases(built_book, root):
    text = visible_text((built_book / "status.html").read_text())
    assert "The lectures on the newest releases" in text
    if (root / "_build" / "latest" / "results.md").exists():
        assert "chapters passed" in text
    else:
        assert "No such run was made" in text


def one_page_book(tmp_path: Path, cell_source: str) -> Path:
    """A minimal book with the real _config.yml and one lecture holding ``cell_source``."""
    book = tmp_path / "book"
    book.mkdir()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["cache"] = str(tmp_path / "cache")
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    for folder in ("_ext", "_static"):  # the book's own Sphinx extension and static files
        shutil.copytree(ROOT / folder, book / folder)
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: broken_lecture\n")
    (book / "index.md").write_text("# Index\n")
    header = (ROOT / "lectures" / f"{LECTURES[0]}.md").read_text().split("---", 2)[1]
    (book / "broken_lecture.md").write_text(
        f"---{header}---\n\n# Broken lecture\n\n```{{code-cell}} ipython3\nx = 1\n```\n\n"
        f"```{{code-cell}} ipython3\n{cell_source}\n```\n"
    )
    return book


def failed_build_log(tmp_path: Path, cell_source: str) -> str:
    """The log of building the one-page book with ``cell_source``; the build must fail and name the page."""
    result = build(one_page_book(tmp_path, cell_source), tmp_path / "build.log", timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "broken_lecture" in log
    return log


def test_a_failing_cell_fails_the_build_and_names_lecture_and_error(tmp_path):
    assert "ZeroDivisionError" in failed_build_log(tmp_path, "1 / 0")


def test_a_cell_that_warns_fails_the_build(tmp_path):
    log = failed_build_log(tmp_path, 'import warnings\nwarnings.warn("something is off")')
    assert "stderr was found in the cell outputs" in log


def test_a_false_claim_fails_the_build_and_names_the_claim(tmp_path):
    """A sentence checked with bayesbook.notebook.claim fails the build the day its numbers stop showing it."""
    log = failed_build_log(tmp_path, 'from bayesbook.notebook import claim\nclaim(0.186 < 0.104, "the step size shrinks")')
    assert "ClaimError" in log and 'the page says "the step size shrinks"' in log


def test_lectures_are_executed_ahead_side_by_side_and_read_from_the_cache(tmp_path):
    """_ext/parallel_execution.py executes the notebooks before Sphinx reads them;
    myst-nb then finds each one in the cache and executes nothing itself."""
    book = one_page_book(tmp_path, "print(6 * 7)")
    result = build(book, tmp_path / "build.log", timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "executing 1 notebooks, 1 at a time" in log
    assert "broken_lecture.md: executed in" in log
    assert "Using cached notebook" in log
    assert "Executing notebook using" not in log  # myst-nb's own execution never ran
    assert "42" in (book / "_build" / "html" / "broken_lecture.html").read_text()


def parallel_execution_module():
    """The book's Sphinx extension _ext/parallel_execution.py, imported from its file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("parallel_execution", ROOT / "_ext" / "parallel_execution.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_execution_jobs_follows_the_environment_variable(monkeypatch):
    module = parallel_execution_module()
    monkeypatch.setenv("BOOK_EXECUTION_JOBS", "3")
    assert module.execution_jobs(pending=8) == 3
    assert module.execution_jobs(pending=2) == 2  # never more than there are notebooks
    monkeypatch.delenv("BOOK_EXECUTION_JOBS")
    assert module.execution_jobs(pending=100) == (os.cpu_count() or 1)
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("BOOK_EXECUTION_JOBS", bad)
        with pytest.raises(ValueError, match="BOOK_EXECUTION_JOBS"):
            module.execution_jobs(pending=2)


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
    images = re.findall(r'<img [^>]*src="[^"]*_images/[^"]*"[^>]*>', html)  # the page's figures, not header logos
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


@pytest.mark.parametrize("page", ["intro", "teaching", "status", *[f"lectures/{lecture}" for lecture in LECTURES]])
def test_mathjax_is_served_from_the_site_itself(built_book, page):
    """Formulas must render without a network: MathJax comes from the site's own _static folder."""
    path = built_book / f"{page}.html"
    html = path.read_text()
    sources = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', html, flags=re.I)
    if page.startswith("lectures/"):
        assert sources, f"{page} loads no MathJax"
    for source in sources:
        assert not source.startswith(("http:", "https:", "//")), f"{page} loads MathJax from {source}"
        # Sphinx appends ?v=<checksum> to a static file it finds already copied (a rebuild)
        assert (path.parent / source.split("?")[0]).resolve().is_file(), f"{source} is missing from the built site"


# --- Lecture notebooks: "Open in Colab", the .ipynb download, and nbval -------------

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text())
NBVAL_PLUGIN_DIR = ROOT / "tests" / "book" / "nbval"


def published_branch() -> str:
    """The branch the publish workflow deploys the site to."""
    deploy = [step for step in WORKFLOW["jobs"]["build-and-deploy"]["steps"] if "gh-pages" in str(step.get("uses", ""))]
    assert len(deploy) == 1, "the publish workflow has no gh-pages deploy step"
    assert deploy[0]["with"]["publish_dir"] == "_build/html"
    return deploy[0]["with"]["publish_branch"]


def test_publish_workflow_builds_with_the_readme_command_and_deploys_the_site():
    steps = WORKFLOW["jobs"]["build-and-deploy"]["steps"]
    assert any(step.get("run") == "make book" for step in steps)
    assert any("make pdf" in step.get("run", "") for step in steps), "the site would link a PDF it lacks"
    assert published_branch() == "gh-pages"
    assert WORKFLOW["jobs"]["build-and-deploy"]["env"]["PIP_EXTRA_INDEX_URL"].endswith("/whl/cpu")


@pytest.mark.parametrize("lecture", LECTURES)
def test_lecture_page_opens_its_notebook_in_colab_and_offers_it_for_download(built_book, lecture):
    import nbformat

    html = (built_book / "lectures" / f"{lecture}.html").read_text()
    # Written out by hand from _config.yml, not with the extension's own function.
    owner_and_name = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    expected = (f"https://colab.research.google.com/github/{owner_and_name}/blob/"
                f"{published_branch()}/_sources/lectures/{lecture}.ipynb")
    colab_links = set(re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html))
    assert colab_links == {expected}, f"{lecture}: Colab links {colab_links}"
    assert 'title="Open this lecture as a notebook in Google Colab"' in html
    assert f'href="../_sources/lectures/{lecture}.ipynb"' in html, f"{lecture}: no .ipynb download"

    # The file the link points at is in the published site, a valid notebook, and
    # its first code cell is the install cell with the repository from _config.yml.
    path = built_book / expected.split(f"/blob/{published_branch()}/", 1)[1]
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert f'BOOK_REPOSITORY = "{CONFIG["repository"]["url"]}"' in first_code.source
    assert "pip" in first_code.source and 'find_spec("bayesbook")' in first_code.source
    # it carries the build's outputs (figures included), and prose a notebook can show
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    for role in ("{glue:text}", "{numref}", "{ref}", "{cite}"):
        assert role not in markdown, f"{lecture}.ipynb still has MyST {role} roles"


def run_nbval(notebook: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``notebook`` in a fresh kernel with nbval and compare every output with the stored one."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull,
         "--rootdir", str(notebook.parent), "-p", "nbval_glue", "--nbval",
         "--nbval-sanitize-with", str(NBVAL_PLUGIN_DIR / "sanitize.cfg"), str(notebook)],
        capture_output=True, text=True, timeout=timeout, cwd=notebook.parent,
        # the thread limits under which the build executes the lectures side by side
        env={**os.environ, **parallel_execution_module().KERNEL_THREAD_LIMITS, "PYTHONPATH": str(NBVAL_PLUGIN_DIR)},
    )


#: nbval runs this many notebooks at a time (each in its own kernel, under the build's thread limits)
NBVAL_AT_ONCE = 2


@pytest.fixture(scope="session")
def nbval_results(built_book) -> dict[str, subprocess.CompletedProcess]:
    """nbval of every published lecture notebook, two at a time, the slowest lecture (by its budget) first."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    budgets = json.loads((ROOT / "bench" / "budgets.json").read_text())["lectures"]
    order = sorted(LECTURES, key=lambda lecture: -budgets[f"lectures/{lecture}"])
    with ThreadPoolExecutor(max_workers=NBVAL_AT_ONCE) as pool:
        futures = {lecture: pool.submit(run_nbval, built_book / "_sources" / "lectures" / f"{lecture}.ipynb")
                   for lecture in order}
        return {lecture: future.result() for lecture, future in futures.items()}


@pytest.mark.parametrize("lecture", LECTURES)
def test_lecture_notebook_reruns_standalone_with_the_same_outputs(nbval_results, lecture):
    """nbval: the published notebook, run in a fresh kernel, reproduces every output of the build."""
    result = nbval_results[lecture]
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-80:])
    assert result.returncode == 0, f"{lecture}: nbval found differences or errors:\n{tail}"
    assert re.search(r"\d+ passed", result.stdout) and "failed" not in result.stdout.splitlines()[-1]


def test_nbval_fails_a_notebook_whose_output_changed(tmp_path):
    """The comparison is real: a stored output that the code does not reproduce fails."""
    import nbformat

    cell = nbformat.v4.new_code_cell("import numpy as np\nprint(f'{np.random.default_rng(0).normal():.6f}')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.125730\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    nbformat.write(notebook, tmp_path / "good.ipynb")
    assert run_nbval(tmp_path / "good.ipynb", timeout=300).returncode == 0
    cell.outputs[0]["text"] = "0.125731\n"
    nbformat.write(notebook, tmp_path / "changed.ipynb")
    result = run_nbval(tmp_path / "changed.ipynb", timeout=300)
    assert result.returncode != 0 and "0.125731" in result.stdout
