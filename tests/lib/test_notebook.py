"""bayesbook.notebook: glue turns NumPy scalars into plain numbers; versions are recorded."""

import numpy as np
import pytest

from bayesbook import notebook


def test_glue_passes_plain_python_numbers_to_myst_nb(monkeypatch):
    import myst_nb

    captured = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: captured.update({name: (value, display)}))
    notebook.glue("a_float", np.float32(0.25))
    notebook.glue("an_int", np.int64(7))
    notebook.glue("text", "plain")
    assert captured["a_float"] == (0.25, False) and type(captured["a_float"][0]) is float
    assert captured["an_int"] == (7, False) and type(captured["an_int"][0]) is int
    assert captured["text"] == ("plain", False)
    assert f"{captured['a_float'][0]:.2f}" == "0.25"


@pytest.mark.parametrize("name", ["", None, 3])
def test_glue_rejects_bad_names(name):
    with pytest.raises(ValueError, match="name"):
        notebook.glue(name, 1.0)


def test_library_versions_reports_missing_packages():
    versions = notebook.library_versions(("numpy", "a-package-that-is-not-installed"))
    assert versions["numpy"] == np.__version__
    assert versions["a-package-that-is-not-installed"] == "not installed"
    assert "python" in versions


def test_claim_passes_silently_and_names_the_sentence_that_fails():
    notebook.claim(np.float64(1.004) <= 1.01, "every R-hat is at most 1.01")
    step_sizes = np.array([0.186, 0.104, 0.142])
    with pytest.raises(notebook.ClaimError, match='"the step size falls as the target rises"'):
        notebook.claim(np.all(np.diff(step_sizes) < 0), "the step size falls as the target rises")
    for bad in ("", "   ", None, 3):
        with pytest.raises(ValueError, match="prose"):
            notebook.claim(True, bad)


def test_plain_makes_glued_tables_readable_back_with_literal_eval():
    import ast

    import pandas as pd

    table = pd.DataFrame({"prior": ["Beta", "Uniform"], "r_hat": np.array([1.004, np.nan]),
                          "divergences": np.array([0, 3])})
    value = notebook.plain({"runs": table, "shape": (4, 2500), "draws": np.arange(3.0), "ok": np.bool_(True)})
    assert ast.literal_eval(repr(value)) == {
        "runs": [{"prior": "Beta", "r_hat": 1.004, "divergences": 0}, {"prior": "Uniform", "r_hat": None, "divergences": 3}],
        "shape": [4, 2500], "draws": [0.0, 1.0, 2.0], "ok": True,
    }
    assert type(value["runs"][0]["divergences"]) is int
    with pytest.raises(TypeError, match="value"):
        notebook.plain(object())
