"""Static checks of the lecture sources: structure, the Colab install cell, the table of contents."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import pytest
import yaml

from conftest import LECTURES, ROOT

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
LECTURE_PATHS = [ROOT / "lectures" / f"{lecture}.md" for lecture in LECTURES]


def install_cell(path: Path):
    notebook = jupytext.read(path)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert code_cells, f"{path.name} has no code cells"
    return code_cells[0]


def test_every_lecture_is_in_the_toc():
    on_disk = sorted(p.stem for p in (ROOT / "lectures").glob("*.md"))
    assert on_disk == sorted(LECTURES)
    assert LECTURES, "the table of contents lists no lecture"


@pytest.mark.parametrize("path", LECTURE_PATHS, ids=lambda p: p.stem)
def test_lecture_is_a_myst_notebook_with_a_python_kernel(path):
    notebook = jupytext.read(path)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    titles = [line for cell in markdown for line in cell.splitlines() if line.startswith("# ")]
    assert len(titles) == 1, f"expected one title, found {titles}"


@pytest.mark.parametrize("path", LECTURE_PATHS, ids=lambda p: p.stem)
def test_lecture_has_exercises_with_folded_solutions_and_a_versions_cell(path):
    text = path.read_text()
    assert "## Exercises" in text
    exercises = text.count("```{exercise}")
    assert exercises >= 2, f"{path.name} has {exercises} exercises"
    assert text.count("```{solution-start}") == exercises
    assert text.count(":class: dropdown") >= exercises
    assert "{cite}" in text
    assert "library_versions()" in text.split("## Exercises")[-1]


@pytest.mark.parametrize("path", LECTURE_PATHS, ids=lambda p: p.stem)
def test_install_cell_is_hidden_and_uses_the_configured_repository(path):
    cell = install_cell(path)
    assert "remove-cell" in cell.metadata.get("tags", []), "the install cell must be hidden on the site"
    assignments = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "BOOK_REPOSITORY"
    }
    assert assignments.get("BOOK_REPOSITORY") == CONFIG["repository"]["url"]


RUN_CELL = textwrap.dedent(
    """
    import importlib.util, json, subprocess, sys
    calls = []
    subprocess.run = lambda args, **kwargs: calls.append(list(args))
    if {hide_lib}:
        real_find_spec = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: None if name == "bayesbook" else real_find_spec(name, *a)
    exec(compile(sys.stdin.read(), "install-cell", "exec"), {{}})
    print(json.dumps(calls))
    """
)



def run_install_cell(source: str, *, hide_lib: bool) -> list[list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", RUN_CELL.format(hide_lib=hide_lib)],
        input=source, capture_output=True, text=True, check=True, timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", LECTURE_PATHS, ids=lambda p: p.stem)
def test_install_cell_does_nothing_when_the_lib_is_importable(path):
    assert run_install_cell(install_cell(path).source, hide_lib=False) == []


@pytest.mark.parametrize("path", LECTURE_PATHS, ids=lambda p: p.stem)
def test_install_cell_installs_the_lib_from_the_repository_when_missing(path):
    calls = run_install_cell(install_cell(path).source, hide_lib=True)
    assert len(calls) == 1
    command = calls[0]
    assert command[1:4] == ["-m", "pip", "install"]
    assert f"bayesbook @ git+{CONFIG['repository']['url']}" in command


FRESH_IMPORTS = textwrap.dedent(
    """
    import warnings
    warnings.simplefilter("default")
    import arviz, jax, matplotlib.pyplot, numpyro, pyro, torch
    import bayesbook
    from bayesbook import mcmc, plotting, scoring, svi, vi, vi_scoring
    """
)


def test_a_new_machine_imports_the_libraries_without_a_word(tmp_path):
    """With an empty HOME (no caches, no stamps of earlier days) the lectures' imports write
    nothing to stderr, which the build (nb_output_stderr: warn, -W) would turn into a failure."""
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("XDG_CACHE_HOME", None)
    env.pop("MPLCONFIGDIR", None)
    result = subprocess.run([sys.executable, "-c", FRESH_IMPORTS], capture_output=True, text=True,
                            timeout=300, env=env, check=True)
    assert result.stderr == ""


def test_every_install_cell_is_the_same():
    sources = {path.stem: install_cell(path).source for path in LECTURE_PATHS}
    assert len(set(sources.values())) == 1, "the lectures' hidden set-up cells differ"
