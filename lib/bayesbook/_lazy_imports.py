"""A workaround for NumPyro imported after ArviZ 1.

**The cause.** ``import arviz`` imports ``arviz_base.io_numpyro``, which calls
``lazy_loader.load("numpyro")`` when NumPyro is not yet imported. That puts a
*lazy* module (:class:`importlib.util.LazyLoader`) for ``numpyro`` into
``sys.modules``. A later ``import numpyro.distributions`` then finds the parent in
``sys.modules``, and importlib asks the lazy parent for its ``__path__``; that
executes ``numpyro/__init__.py``, which imports ``numpyro.distributions`` itself.
importlib does not look at ``sys.modules`` again after the ``__path__`` lookup, so
it executes ``numpyro/distributions/__init__.py`` a second time into a new module
object. That second object replaces the first in ``sys.modules``, and it lacks the
attributes for its submodules (``distribution``, ``continuous``, ...), because a
submodule's attribute is set on its parent only when the submodule is first
imported. NumPyro's own code then fails, for example ``numpyro.factor`` (called by
NUTS for a constrained site) with ``AttributeError: module 'numpyro.distributions'
has no attribute 'distribution'``. Seen with arviz-base 1.3.1, lazy_loader 0.6 and
numpyro 0.22.0 on CPython 3.11 to 3.13: importlib behaves the same for any package
whose ``__init__`` imports a subpackage that imports its own submodules.

**The workaround.** :func:`repair_numpyro_import` does two things, both harmless
when nothing is wrong: it finishes loading a lazy ``numpyro`` that has not been
loaded yet (so a later ``import numpyro.distributions`` happens once, normally),
and it puts back every submodule attribute that a second execution lost. The
package calls it when it is imported and before it traces a NumPyro program.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["repair_numpyro_import"]


def repair_numpyro_import(package: str = "numpyro") -> list[str]:
    """Undo the damage a lazy ``package`` does to its own import; return the repaired names.

    Returns the names of the submodules whose attribute on their parent module had
    to be put back (empty when there was nothing to repair).
    """
    module = sys.modules.get(package)
    if module is None:
        return []
    if isinstance(module, getattr(importlib.util, "_LazyModule", ())):
        getattr(module, "__name__")  # any attribute executes the pending module, once
    repaired = []
    for name, submodule in list(sys.modules.items()):
        if not name.startswith(package + ".") or submodule is None:
            continue
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        if parent is not None and not hasattr(parent, child):
            setattr(parent, child, submodule)
            repaired.append(name)
    return repaired
