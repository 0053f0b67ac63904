"""pytest plugin for the nbval run of the published lecture notebooks (tests/book/test_build.py).

The published notebook has the numbers a lecture stores with ``glue`` written into
its prose, and the outputs that carried them (only ``application/papermill.record/*``
data, which Jupyter does not display) dropped; a fresh run makes them again. They are
dropped from both sides before nbval compares the outputs; every other output is
compared, after the substitutions of ``sanitize.cfg``.
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
    return _compare_outputs(self, _without_glue(test), _without_glue(ref), skip_compare)


IPyNbCell.compare_outputs = compare_outputs
