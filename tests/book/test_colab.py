"""The Colab path: a published notebook's own first cell installs the book, and the lecture runs.

Colab starts a notebook in a Python that has the numerical stack, torch and jax, but not
NumPyro, Pyro, ArviZ or this book's package; the hidden first cell of every lecture
installs ``bayesbook`` from ``BOOK_REPOSITORY`` with pip. This test makes such a Python
(a fresh venv with :data:`notebook_env.COLAB_PREINSTALLED`, from pip's cache), points the
first cell of the published notebooks at a ``git+file://`` repository of this working
tree, and executes two whole lectures there with nbclient: chapter 3 (NumPyro, ArviZ
and Pyro's NUTS) and chapter 2 (Pyro's distributions).
"""

from __future__ import annotations

import json

import pytest

import notebook_env

pytestmark = pytest.mark.book
COLAB_LECTURES = ("mcmc", "priors")


@pytest.fixture(scope="module")
def colab_python(tmp_path_factory):
    python = notebook_env.make_venv(tmp_path_factory.mktemp("colab") / "venv")
    notebook_env.pip(python, *notebook_env.pinned(notebook_env.COLAB_PREINSTALLED))
    return python


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    return notebook_env.package_repository(tmp_path_factory.mktemp("repository") / "nonconjugate-priors")


def test_the_colab_python_lacks_what_the_first_cell_installs(colab_python):
    installed = notebook_env.versions(colab_python)
    for name in ("bayesbook", "numpyro", "pyro-ppl", "arviz"):
        assert name not in installed, f"{name} is already installed: the first cell would have nothing to do"
    assert "torch" in installed and "jax" in installed


@pytest.mark.parametrize("lecture", COLAB_LECTURES)
def test_a_published_notebook_installs_the_book_and_runs_in_a_colab_like_python(
        built_book, colab_python, repository, lecture, tmp_path):
    published = built_book / "_sources" / "lectures" / f"{lecture}.ipynb"
    notebook = notebook_env.with_repository(published, repository, tmp_path / "notebooks")
    env = notebook_env.kernel_environment(colab_python, tmp_path / "home")
    passed, error, seconds = notebook_env.execute(colab_python, notebook, env)
    assert passed, f"{lecture} failed in the Colab-like venv after {seconds:.0f} s: {error}"

    installed = notebook_env.versions(colab_python)
    for name in ("bayesbook", "numpyro", "pyro-ppl", "arviz"):
        assert name in installed, f"the first cell did not install {name}"
    executed = json.loads(notebook.read_text())
    code = [cell for cell in executed["cells"] if cell["cell_type"] == "code"]
    # after the install cell (whose pip output is pip's own), no cell writes to stderr
    for cell in code[1:]:
        for output in cell.get("outputs", []):
            assert not (output.get("output_type") == "stream" and output.get("name") == "stderr"), \
                f"{lecture}: a cell wrote to stderr in Colab:\n{''.join(cell['source'])[:300]}\n{''.join(output['text'])[:1000]}"
    assert any("image/png" in output.get("data", {}) for cell in code for output in cell.get("outputs", []))
