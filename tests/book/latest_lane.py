"""``make test-latest``: every published lecture notebook on what ``pip install bayesbook`` resolves today.

A fresh venv gets the book's package from this working tree with the ranges of
``pyproject.toml`` alone (no requirements.txt, no constraints.txt), and nbclient and
ipykernel to run notebooks; then every lecture's published notebook of the last build
(``_build/html/_sources/lectures/``) is executed in it, two at a time, each kernel on one
compute thread as in the book's build. The table (chapter, passed or the error's first
line, seconds, the versions resolved) is written to ``_build/latest/results.json`` and
``results.md``, which the site's execution report shows when they are present.

Not part of ``make test``: a release upstream must not block a change here. A weekly
workflow (``.github/workflows/latest.yml``) runs it.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

import notebook_env

ROOT = notebook_env.ROOT
OUT = ROOT / "_build" / "latest"
PUBLISHED = ROOT / "_build" / "html" / "_sources" / "lectures"


def lectures() -> list[str]:
    """The lectures in the order of the table of contents."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc["parts"] for chapter in part.get("chapters", [])]
    return [Path(name).name for name in files if name.startswith("lectures/")]


def thread_limits() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("parallel_execution", ROOT / "_ext" / "parallel_execution.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KERNEL_THREAD_LIMITS


def markdown_table(results: dict) -> str:
    lines = [f"Run on {results['date']} (Python {results['versions']['python']}): "
             f"{results['passed']} of {len(results['chapters'])} chapters passed.", "",
             "| chapter | result | seconds |", "| --- | --- | --- |"]
    for row in results["chapters"]:
        outcome = "passed" if row["passed"] else f"failed: `{row['error'].replace('|', '/').replace('`', '')}`"
        lines.append(f"| {row['chapter']} | {outcome} | {row['seconds']:.1f} |")
    lines += ["", "Versions resolved: " + ", ".join(f"{name} {version}" for name, version in results["versions"].items()
                                                   if name != "python") + "."]
    return "\n".join(lines) + "\n"


def main() -> int:
    missing = [name for name in lectures() if not (PUBLISHED / f"{name}.ipynb").exists()]
    if missing:
        print(f"no published notebook for {missing}: build the book first (make book)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    python = notebook_env.make_venv(OUT / "venv")
    repository = notebook_env.package_repository(OUT / "repository")
    print(f"installing bayesbook from {repository} with pyproject.toml's ranges only ...", flush=True)
    notebook_env.pip(python, f"bayesbook @ git+{repository}", "ipykernel", "nbclient", "nbformat")
    versions = notebook_env.versions(python)
    env = {**notebook_env.kernel_environment(python, OUT / "home"), **thread_limits()}

    def run(name: str) -> dict:
        notebook = OUT / "notebooks" / f"{name}.ipynb"
        notebook.parent.mkdir(parents=True, exist_ok=True)
        notebook.write_bytes((PUBLISHED / f"{name}.ipynb").read_bytes())
        passed, error, seconds = notebook_env.execute(python, notebook, env)
        print(f"  {name}: {'passed' if passed else 'FAILED: ' + error} ({seconds:.1f} s)", flush=True)
        return {"chapter": name, "passed": passed, "error": error, "seconds": round(seconds, 1)}

    with ThreadPoolExecutor(max_workers=2) as pool:
        chapters = list(pool.map(run, lectures()))
    results = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "make test-latest",
        "note": "two notebooks at a time, one compute thread each: seconds are beside another notebook",
        "passed": sum(row["passed"] for row in chapters),
        "chapters": chapters,
        "versions": versions,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (OUT / "results.md").write_text(markdown_table(results))
    print(markdown_table(results))
    return 0 if results["passed"] == len(chapters) else 1


if __name__ == "__main__":
    sys.exit(main())
