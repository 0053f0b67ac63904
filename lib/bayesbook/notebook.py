"""Helpers for the lecture pages themselves.

``glue`` puts a number computed by a page into that page's prose (myst-nb's
``{glue:text}`` role), so no figure in the text is ever typed in by hand. ``claim``
checks, beside the glued number, what the prose says of it, so the build fails the
day the sentence stops being true. ``library_versions`` is what each lecture's
closing cell records.
"""

from __future__ import annotations

import platform
from importlib import metadata

import numpy as np

__all__ = ["BOOK_LIBRARIES", "ClaimError", "claim", "glue", "library_versions", "plain"]

#: The libraries whose versions a lecture records in its closing cell.
BOOK_LIBRARIES = ("bayesbook", "numpy", "scipy", "matplotlib", "jax", "numpyro", "torch", "pyro-ppl", "arviz")


def plain(value: object) -> object:
    """``value`` as plain Python data: numbers, strings, ``None``, lists and dicts of them.

    NumPy scalars become Python numbers, arrays and tuples lists, a pandas ``DataFrame``
    a list of row dicts and a ``Series`` a dict; NaN becomes ``None``. The result's
    ``repr`` is what :func:`glue` stores, and ``ast.literal_eval`` reads it back.

    >>> plain({"r_hat": np.float64(1.004), "shape": (4, 2500), "ok": np.bool_(True)})
    {'r_hat': 1.004, 'shape': [4, 2500], 'ok': True}
    """
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a pandas DataFrame
        return plain(value.to_dict("records"))
    if hasattr(value, "to_dict"):  # a pandas Series
        return plain(value.to_dict())
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"value must be numbers, strings, arrays, lists, dicts or a DataFrame, got {type(value).__name__}")


def glue(name: str, value: object) -> None:
    """Store ``value`` under ``name`` for the page's prose and the book's tests, without displaying it.

    The value is stored as :func:`plain` data, so format specs in the prose
    (``{glue:text}`name:.3f```) work on NumPy numbers, and a table or a dict of results
    can be glued whole for the tests, which read the executed page's values back
    (``tests/conftest.py``, ``glued``). Outside a book build (in Colab, or when myst-nb
    is not installed) there is no prose to fill in and this does nothing.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    value = plain(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)


class ClaimError(AssertionError):
    """A sentence of the page's prose is false for the numbers the page computed."""


def claim(condition: object, prose: str) -> None:
    """Check that what the page's prose says of its numbers holds; raise :class:`ClaimError` if not.

    ``prose`` is the claim as the text makes it ("the non-centred run has no
    divergences"). A claim that stops holding (a new seed, a new release) fails the
    page's build with an error that names it.

    >>> claim(0.004 < 0.01, "the largest R-hat is below 1.01")
    >>> claim(3 < 2, "three is less than two")
    Traceback (most recent call last):
    ...
    bayesbook.notebook.ClaimError: the page says "three is less than two", but its numbers do not show it
    """
    if not isinstance(prose, str) or not prose.strip():
        raise ValueError(f"prose must be the claim as a non-empty string, got {prose!r}")
    if not bool(condition):
        raise ClaimError(f'the page says "{prose}", but its numbers do not show it')


def library_versions(names: tuple[str, ...] = BOOK_LIBRARIES) -> dict[str, str]:
    """Return ``{"python": ..., name: version, ...}`` for the given distributions.

    A library that is not installed is reported as ``"not installed"``.
    """
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
