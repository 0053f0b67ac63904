"""Benchmark the book build: two cold builds, then a warm rebuild with nothing changed.

The first cold build executes one lecture at a time (``BOOK_EXECUTION_JOBS=1``, see
``_ext/parallel_execution.py``), so each lecture's time is its time alone on the
machine, which is what its budget is for. The second is the build as ``make book``
runs it, executing lectures side by side; its wall time is the whole build's.

Writes ``bench/results.json`` with each lecture's execution time (from the first
build's jupyter-cache) next to its budget (``bench/budgets.json``), both cold build
times and the warm one against the whole build's budget, the peak memory of the
largest process (the build itself or a notebook kernel), and the machine it ran on,
and prints the comparison. Run it with ``make bench``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "_build"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
COMMAND = [str(JUPYTER_BOOK), "build", str(ROOT), "--warningiserror", "--nitpick", "--keep-going"]


def timed_build(log_name: str, jobs: int | None = None) -> float:
    """Run one build, fail loudly if it fails, and return its wall time in seconds.

    ``jobs`` sets how many lectures execute at once (default: the build's own choice).
    """
    environment = dict(os.environ)
    environment.pop("BOOK_EXECUTION_JOBS", None)
    if jobs is not None:
        environment["BOOK_EXECUTION_JOBS"] = str(jobs)
    start = time.perf_counter()
    result = subprocess.run(COMMAND, capture_output=True, text=True, env=environment)
    elapsed = time.perf_counter() - start
    (ROOT / "bench" / log_name).write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.exit(f"build failed (see bench/{log_name}):\n{result.stderr[-3000:]}")
    return elapsed


def lecture_times() -> dict[str, float]:
    """Execution seconds of each notebook, as recorded in the build's jupyter-cache."""
    from jupyter_cache import get_cache

    cache = get_cache(BUILD_DIR / ".jupyter_cache")
    times = {}
    for record in cache.list_cache_records():
        uri = Path(record.uri)
        name = uri.relative_to(ROOT).with_suffix("").as_posix() if uri.is_absolute() else record.uri
        times[name] = round(float(record.data.get("execution_seconds", float("nan"))), 2)
    return dict(sorted(times.items()))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    serial = timed_build("cold_build_serial.log", jobs=1)
    per_lecture = lecture_times()
    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    cold = timed_build("cold_build.log")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    warm = timed_build("warm_build.log")

    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["jupyter-book", "build", ".", "--warningiserror", "--nitpick", "--keep-going"]),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
        "cold_build_seconds": round(cold, 1),
        "cold_build_one_lecture_at_a_time_seconds": round(serial, 1),
        "warm_rebuild_seconds": round(warm, 1),
        "peak_memory_mib": round(peak_kib / 1024, 1),
        "lecture_execution_seconds": per_lecture,
        "lecture_execution_total_seconds": round(sum(per_lecture.values()), 1),
    }
    budgets = json.loads((ROOT / "bench" / "budgets.json").read_text())
    results["budgets"] = {
        "whole_cold_build_seconds": budgets["whole_cold_build_seconds"],
        "lectures": {name: budgets["lectures"].get(name) for name in per_lecture},
    }
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print()
    print(budget_table(per_lecture, budgets, cold))
    print(f"written to {out.relative_to(ROOT)}")


def budget_table(per_lecture: dict[str, float], budgets: dict, cold: float) -> str:
    """Each lecture's measured time against its budget, and the cold build against the whole budget."""
    lines = [f"{'lecture':36s} {'seconds':>8s} {'budget':>7s}"]
    for name, seconds in per_lecture.items():
        budget = budgets["lectures"].get(name)
        flag = "" if budget is None or seconds <= budget else "  OVER BUDGET"
        lines.append(f"{name:36s} {seconds:8.1f} {budget if budget is not None else '-':>7}{flag}")
    whole = budgets["whole_cold_build_seconds"]
    flag = "" if cold <= whole else "  OVER BUDGET"
    lines.append(f"{'cold build, all lectures':36s} {cold:8.1f} {whole:>7}{flag}")
    lines.append(f"{'  (one lecture at a time: sum above)':36s} {sum(per_lecture.values()):8.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
