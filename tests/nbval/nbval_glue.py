"""pytest plugin for the nbval run of the published lecture notebooks (tests/test_book.py).

myst-nb moves the values a lecture stores with ``glue`` out of the executed notebook
and into the page's prose, so the reference notebook has no glue outputs while a
fresh run has them (an output with only ``application/papermill.record/*`` data, which
Jupyter does not display). They are dropped from the fresh outputs before nbval
compares them; every other output is compared.
"""

from __future__ import annotations

from nbval.plugin import IPyNbCell

GLUE_PREFIX = "application/papermill.record/"
_compare_outputs = IPyNbCell.compare_outputs


def _without_glue(outputs):
    kept = []
    for output in outputs:
        data = output.get("data")
        if data is not None and data and all(key.startswith(GLUE_PREFIX) for key in data):
            continue
        kept.append(output)
    return kept


def compare_outputs(self, test, ref, skip_compare=None):
    return _compare_outputs(self, _without_glue(test), ref, skip_compare)


IPyNbCell.compare_outputs = compare_outputs
