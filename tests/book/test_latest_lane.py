"""The pieces of `make test-latest` and the Colab test that run without a fresh venv."""

from __future__ import annotations

import importlib.util
import json

import latest_lane

import notebook_env
from conftest import ROOT


def test_the_lane_runs_every_lecture_of_the_table_of_contents_in_order():
    names = latest_lane.lectures()
    assert names[0] == "beta_binomial" and len(names) == len(list((ROOT / "lectures").glob("*.md")))


def test_the_table_says_which_chapters_passed_and_what_failed():
    results = {"date": "2026-12-01 10:00 UTC", "passed": 1,
               "versions": {"python": "3.12.1", "numpyro": "0.22.0", "arviz": "1.3.0"},
               "chapters": [{"chapter": "mcmc", "passed": True, "error": "", "seconds": 30.04},
                            {"chapter": "priors", "passed": False, "seconds": 2.0,
                             "error": "AttributeError: module 'arviz' has no attribute `psislw` | x"}]}
    table = latest_lane.markdown_table(results)
    assert "1 of 2 chapters passed" in table and "(Python 3.12.1)" in table
    assert "| mcmc | passed | 30.0 |" in table
    assert "| priors | failed: `AttributeError: module 'arviz' has no attribute psislw / x` | 2.0 |" in table
    assert "numpyro 0.22.0, arviz 1.3.0." in table and "python 3.12.1" not in table


def test_the_first_error_line_is_the_exception_nbclient_reports():
    stderr = ("Traceback (most recent call last):\n  File ...\nnbclient.exceptions.CellExecutionError: An error occurred\n"
              "------------------\n\x1b[0;31mTypeError\x1b[0m: from_dict() got an unexpected keyword argument 'posterior'\n")
    assert notebook_env.first_error_line(stderr) == "TypeError: from_dict() got an unexpected keyword argument 'posterior'"
    assert notebook_env.first_error_line("killed\n\n") == "killed"


def test_the_install_cell_of_a_copy_points_at_the_given_repository(tmp_path):
    cell = {"cell_type": "code", "source": 'x = 1\nBOOK_REPOSITORY = "https://github.com/a/b"\nprint(x)', "metadata": {},
            "outputs": [], "execution_count": None}
    (tmp_path / "page.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    copy = notebook_env.with_repository(tmp_path / "page.ipynb", "file://localhost/tmp/repo", tmp_path / "out")
    source = json.loads(copy.read_text())["cells"][0]["source"]
    assert source == 'x = 1\nBOOK_REPOSITORY = "file://localhost/tmp/repo"\nprint(x)'


def test_the_status_page_shows_the_table_when_there_is_one(tmp_path):
    spec = importlib.util.spec_from_file_location("latest_report", ROOT / "_ext" / "latest_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = tmp_path / "results.md"
    assert "No such run was made" in module.latest_section(results)
    results.write_text("| chapter | result | seconds |\n")
    section = module.latest_section(results)
    assert "## The lectures on the newest releases" in section and section.endswith("| chapter | result | seconds |\n")
