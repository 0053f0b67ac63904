"""The package declares what it imports: ``pip install bayesbook`` (Colab) gets everything it needs."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lib" / "bayesbook"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]


def normalise(name: str) -> str:
    """A distribution's name as PEP 503 compares names."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _optional(node: ast.AST, parents: dict) -> bool:
    """Whether an import sits in a ``try`` whose handler catches ``ImportError``."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                names = [handler.type] if not isinstance(handler.type, ast.Tuple) else handler.type.elts
                if any(isinstance(name, ast.Name) and name.id in ("ImportError", "ModuleNotFoundError") for name in names):
                    return True
    return False


def imported_modules(folder: Path) -> tuple[set[str], set[str]]:
    """Top-level names of the third-party modules imported anywhere in ``folder``: (required, optional)."""
    required, optional = set(), set()
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("bayesbook", "__future__"):
                    continue
                (optional if _optional(node, parents) else required).add(top)
    return required, optional


def distribution_of(module: str) -> str:
    """The installed distribution that provides the top-level ``module``."""
    providers = metadata.packages_distributions().get(module, [])
    assert len(providers) == 1, f"module {module!r} is provided by {providers or 'no installed distribution'}"
    return normalise(providers[0])


def test_the_finder_sees_imports_inside_functions_and_optional_ones(tmp_path):
    (tmp_path / "m.py").write_text(
        "import os\nfrom numpy import linalg\n\ndef f():\n    import scipy.stats\n"
        "try:\n    import myst_nb\nexcept ImportError:\n    pass\n"
    )
    assert imported_modules(tmp_path) == ({"numpy", "scipy"}, {"myst_nb"})


def test_every_imported_package_is_a_declared_dependency_and_every_dependency_is_imported():
    required, optional = imported_modules(PACKAGE)
    declared = {normalise(_requirement_name(r)) for r in PYPROJECT["project"]["dependencies"]}
    needed = {distribution_of(module) for module in required}
    assert needed - declared == set(), f"imported by bayesbook but not in pyproject.toml's dependencies: {needed - declared}"
    assert declared - needed == set(), f"declared in pyproject.toml but never imported by bayesbook: {declared - needed}"
    extras = {normalise(_requirement_name(r)) for group in PYPROJECT["project"]["optional-dependencies"].values() for r in group}
    assert {distribution_of(module) for module in optional} <= extras


def test_the_lower_bounds_admit_the_pinned_releases_and_arviz_1():
    from packaging.requirements import Requirement

    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    pins = {normalise(name): version for name, version in pins.items()}
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        assert requirement.specifier.contains(pins[normalise(requirement.name)]), (text, pins[normalise(requirement.name)])
    arviz = next(Requirement(r) for r in PYPROJECT["project"]["dependencies"] if _requirement_name(r) == "arviz")
    assert not arviz.specifier.contains("0.23.4"), "the ArviZ 0.x API is gone from the code: arviz>=1"


def test_every_module_lists_its_public_names_in_all_and_the_package_docstring_names_it():
    import importlib

    import bayesbook

    for path in sorted(PACKAGE.glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text())
        public = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                public.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(target, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9_]*", target.id):
                        public.add(target.id)
        module = importlib.import_module(f"bayesbook.{path.stem}")
        difference = set(module.__all__) ^ public
        assert set(module.__all__) == public, f"{path.name}: __all__ differs from its public names by {difference}"
        assert re.search(rf"^{path.stem}\b|, {path.stem}\b", bayesbook.__doc__, flags=re.M), \
            f"the package docstring does not list the module {path.stem}"
