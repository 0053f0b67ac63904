"""The models and guides that a page teaches are written on that page; the package's copies are the same code.

A page writes each model as code. Where later chapters (or the package's own runners)
reuse it, the code cell starts with ``#@save bayesbook.<module>`` (d2l's idea): every
function and class the cell defines is also in that module of the package, and this
test proves that the two are the same code. Docstrings may differ (the package's say
more), and so may the imports: the page imports once at its top, the package imports
inside a function that mixes NumPyro and Pyro names.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap

import jupytext
import pytest

from conftest import LECTURES, ROOT

SAVE_MARK = "#@save "


def saved_cells() -> list[tuple[str, int, str, str]]:
    """``(lecture, cell number, module, source)`` of every ``#@save`` cell of the book."""
    cells = []
    for lecture in LECTURES:
        notebook = jupytext.read(ROOT / "lectures" / f"{lecture}.md")
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code):
            first_line = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
            if first_line.startswith(SAVE_MARK):
                cells.append((lecture, number, first_line.removeprefix(SAVE_MARK).strip(), cell.source))
    return cells


def without_docstrings_and_imports(node: ast.AST) -> ast.AST:
    """``node`` with every docstring and every import statement removed, recursively."""
    for child in ast.walk(node):
        body = getattr(child, "body", None)
        if not isinstance(body, list):
            continue
        kept = [statement for statement in body if not isinstance(statement, (ast.Import, ast.ImportFrom))]
        if kept and isinstance(kept[0], ast.Expr) and isinstance(getattr(kept[0], "value", None), ast.Constant) \
                and isinstance(kept[0].value.value, str):
            kept = kept[1:]
        child.body = kept or [ast.Pass()]
    return node


def normalised(source: str) -> str:
    tree = ast.parse(textwrap.dedent(source))
    return ast.dump(without_docstrings_and_imports(tree.body[0]), include_attributes=False)


SAVED = saved_cells()


def test_the_book_saves_its_models_from_the_pages():
    assert len(SAVED) >= 5, "expected the models of chapters 3 to 8 to be written on their pages"


@pytest.mark.parametrize("lecture, number, module_name, source", SAVED,
                         ids=[f"{lecture}-cell{number}" for lecture, number, _, _ in SAVED])
def test_a_saved_cell_is_the_packages_code(lecture, number, module_name, source):
    assert module_name.startswith("bayesbook."), f"{lecture}: #@save must name a bayesbook module, got {module_name!r}"
    module = importlib.import_module(module_name)
    definitions = [node for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert definitions, f"{lecture}, code cell {number}: a #@save cell defines no function or class"
    for node in definitions:
        assert node.name in module.__all__, f"{lecture}: {node.name} is not a public name of {module_name}"
        page = ast.dump(without_docstrings_and_imports(node), include_attributes=False)
        package = normalised(inspect.getsource(getattr(module, node.name)))
        assert page == package, f"{lecture}: the page's {node.name} differs from {module_name}.{node.name}"


def test_the_comparison_sees_a_changed_line():
    page = "def model(n, k=None):\n    theta = numpyro.sample('theta', prior)\n    return theta\n"
    package = ('def model(n, k=None):\n    """Doc."""\n    import numpyro\n\n'
               "    theta = numpyro.sample('theta', prior)\n    return theta\n")
    assert normalised(page) == normalised(package)
    assert normalised(page) != normalised(package.replace("'theta', prior", "'theta', other"))


def test_no_page_prints_library_source():
    for lecture in LECTURES:
        assert "inspect.getsource" not in (ROOT / "lectures" / f"{lecture}.md").read_text(), lecture
