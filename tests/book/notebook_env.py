"""Fresh virtual environments that run the published lecture notebooks as a reader's Python would.

Used by ``tests/test_colab.py`` (the Colab path: the notebook's own first cell installs
the book's package) and ``tests/latest_lane.py`` (``make test-latest``: the package with
``pyproject.toml``'s ranges alone). Nothing here uses the book's own pinned venv except
to start these programs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What Colab has before a notebook installs anything: the numerical stack, torch and jax,
#: and Jupyter's kernel and widgets. Not numpyro, pyro-ppl, arviz or bayesbook.
COLAB_PREINSTALLED = ("torch", "jax", "jaxlib", "numpy", "scipy", "matplotlib", "pandas", "seaborn",
                      "ipykernel", "ipywidgets", "nbclient", "nbformat")
#: The versions a run reports.
REPORTED = ("bayesbook", "numpy", "scipy", "jax", "jaxlib", "numpyro", "torch", "pyro-ppl", "arviz",
            "arviz-base", "arviz-stats", "arviz-plots", "matplotlib", "pandas")
BOOK_REPOSITORY_LINE = re.compile(r'^BOOK_REPOSITORY = "[^"]*"$', flags=re.M)

# Run inside the fresh venv: execute one notebook with nbclient, in the notebook's folder.
_EXECUTE = """
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=int(sys.argv[2]), kernel_name="python3",
               resources={"metadata": {"path": str(path.parent)}}).execute()
nbformat.write(notebook, path)
"""


def python312() -> str:
    """The Python 3.12 that new venvs are made with: the book's own (a venv's ``-m venv`` uses its base Python)."""
    if sys.version_info[:2] != (3, 12):
        raise RuntimeError(f"run this with the book's Python 3.12 venv, not Python {sys.version.split()[0]}")
    return sys.executable


def pip(python: Path, *arguments: str, timeout: int = 1800) -> None:
    """``python -m pip install ...`` quietly; raise with pip's output if it fails."""
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments],
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(arguments)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def make_venv(path: Path) -> Path:
    """A new, empty virtual environment at ``path``; returns its python."""
    if path.exists():
        shutil.rmtree(path)
    subprocess.run([python312(), "-m", "venv", str(path)], check=True, timeout=300)
    return path / "bin" / "python"


def pinned(names: tuple[str, ...]) -> list[str]:
    """``name==version`` for each name, from constraints.txt (what pip has cached from the book's install)."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return [f"{name}=={pins[name]}" for name in names]


def package_repository(destination: Path) -> str:
    """A git repository holding this working tree's package, as a ``git+file://`` URL.

    Made from the files themselves, not from the last commit, so a test of the install
    path tests the code being changed.
    """
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    shutil.copytree(ROOT / "lib", destination / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, destination / name)
    git = ["git", "-c", "user.name=book", "-c", "user.email=book@localhost", "-C", str(destination)]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "the package"], check=True)
    # with a host: the pip of Python 3.12's ensurepip (23.2) rejects "name @ git+file:///path"
    return f"file://localhost{destination}"


def with_repository(notebook_path: Path, repository: str, destination: Path) -> Path:
    """A copy of the notebook whose install cell installs from ``repository``."""
    notebook = json.loads(notebook_path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"][0]
    source = "".join(code["source"])
    assert BOOK_REPOSITORY_LINE.search(source), "the first code cell sets no BOOK_REPOSITORY"
    code["source"] = BOOK_REPOSITORY_LINE.sub(f'BOOK_REPOSITORY = "{repository}"', source)
    destination.mkdir(parents=True, exist_ok=True)
    path = destination / notebook_path.name
    path.write_text(json.dumps(notebook))
    return path


def kernel_environment(python: Path, home: Path) -> dict[str, str]:
    """The environment of a reader's kernel: this venv first on PATH, no Jupyter paths of the user's."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "BOOK_", "MPLBACKEND"))}
    # (no MPLBACKEND: the kernel's own inline backend puts the figures into the notebook)
    env.update({"PATH": f"{python.parent}:{env.get('PATH', '')}", "JUPYTER_DATA_DIR": str(home / "jupyter"),
                "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"), "IPYTHONDIR": str(home / "ipython")})
    return env


def execute(python: Path, notebook: Path, env: dict[str, str], timeout: int = 900) -> tuple[bool, str, float]:
    """Execute ``notebook`` (in place) with ``python``'s nbclient: (passed, first line of the error, seconds)."""
    start = time.perf_counter()
    result = subprocess.run([str(python), "-c", _EXECUTE, str(notebook), "600"], capture_output=True, text=True,
                            timeout=timeout, env=env, cwd=notebook.parent)
    seconds = time.perf_counter() - start
    if result.returncode == 0:
        return True, "", seconds
    return False, first_error_line(result.stderr), seconds


def first_error_line(stderr: str) -> str:
    """The line naming the exception in nbclient's report (``SomeError: message``), else stderr's last line."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in stderr.splitlines()]
    named = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Timeout)\b", line)]
    return (named[-1] if named else next((line for line in reversed(lines) if line), "no output"))[:300]


def versions(python: Path) -> dict[str, str]:
    """The versions of :data:`REPORTED` in ``python``'s environment (and Python's own)."""
    script = ("import json, platform; from importlib import metadata\n"
              "def v(n):\n    try: return metadata.version(n)\n    except metadata.PackageNotFoundError: return None\n"
              f"print(json.dumps({{'python': platform.python_version(), **{{n: v(n) for n in {list(REPORTED)!r}}}}}))")
    output = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True).stdout
    return {name: version for name, version in json.loads(output).items() if version}
