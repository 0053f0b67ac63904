"""Execute the lecture notebooks side by side before Sphinx reads them.

myst-nb executes a notebook when Sphinx reads its page, one page after another. Most
of a lecture's time is spent tracing and compiling (JAX, TorchScript), which uses one
core, so on the 2-core machines that build this book two lectures executed at once
finish in about 60 % of the time of one after the other (eight schools and MCMC:
51 s together against 85 s in turn).

Before Sphinx reads anything, this extension finds the notebooks the build will read
that are not yet in the jupyter-cache (``execute_notebooks: cache``), executes them
concurrently in the same way myst-nb would (the notebook myst-nb's own reader makes,
in the lecture's folder, with the configured timeout), and stores the results in the
cache. myst-nb then finds every notebook cached and executes nothing.

Each kernel then computes on one thread (``KERNEL_THREAD_LIMITS``): PyTorch's and XLA's
thread pools otherwise each claim every core, and two kernels competing for two cores
slowed one another more than twofold (chapter 8 took 376 s beside the others, against
about 160 s alone); with one thread each the pair of chapters 7 and 8 took 175 s
together. The limits change no output of the lectures: chapter 7, executed with and
without them, gave identical outputs, and nbval re-runs every notebook under the same
limits (``tests/book/test_build.py``).

A notebook that fails here is not cached, so myst-nb executes it again when it reads
the page and reports the error in its usual way: the build fails exactly as without
this extension. Set ``BOOK_EXECUTION_JOBS=1`` to execute one notebook at a time
(``bench/build_bench.py`` does, to time each lecture alone).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
JOBS_VARIABLE = "BOOK_EXECUTION_JOBS"
#: Environment of the kernels when notebooks execute side by side: one compute thread each.
KERNEL_THREAD_LIMITS = {
    "OMP_NUM_THREADS": "1",          # PyTorch's intra-op pool (and OpenMP in NumPy's BLAS)
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",  # JAX on CPU
}


def execution_jobs(pending: int) -> int:
    """How many notebooks to execute at once: ``BOOK_EXECUTION_JOBS``, else one per core."""
    value = os.environ.get(JOBS_VARIABLE, "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{JOBS_VARIABLE} must be a positive integer, got {value!r}")
        jobs = int(value)
    else:
        jobs = os.cpu_count() or 1
    return max(1, min(jobs, pending))


def _uncached_notebooks(app: Sphinx, env, docnames: list[str]):
    """(path, notebook, read format) of each page to read whose notebook the cache lacks."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    cache = get_cache(env.mystnb_config.execution_cache_path or ".jupyter_cache")
    pending = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        if path.suffix != ".md":
            continue
        content = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), env.myst_config, env.mystnb_config, content)
        if reader is None:  # a plain Markdown page, not a notebook
            continue
        notebook = reader.read(content)
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            pending.append((path, notebook, reader.read_fmt))
    return cache, pending


def execute_uncached(app: Sphinx, env, docnames: list[str]) -> None:
    """Execute, concurrently, the notebooks of ``docnames`` that are not cached; cache them."""
    config = env.mystnb_config
    if config.execution_mode != "cache" or not docnames:
        return
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord
    from jupyter_cache.executors.utils import single_nb_execution

    cache, pending = _uncached_notebooks(app, env, list(docnames))
    if not pending:
        return
    pending.sort(key=lambda item: item[0].stat().st_size, reverse=True)  # longest lectures first
    jobs = execution_jobs(len(pending))
    logger.info(f"executing {len(pending)} notebooks, {jobs} at a time")

    def run(item):
        path, notebook, _ = item
        return single_nb_execution(
            notebook,
            cwd=str(path.parent),
            allow_errors=config.execution_allow_errors,
            timeout=config.execution_timeout,
            meta_override=True,
        )

    start = time.perf_counter()
    saved = {name: os.environ.get(name) for name in KERNEL_THREAD_LIMITS}
    if jobs > 1:
        os.environ.update(KERNEL_THREAD_LIMITS)  # inherited by the kernels started below
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(run, pending))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    for (path, notebook, read_fmt), result in zip(pending, results):
        if result.err is not None:
            # left uncached: myst-nb runs it again when it reads the page and reports the error
            last_line = (str(result.err).strip().splitlines() or [""])[-1][:300]
            logger.info(f"{path.name}: execution failed ({type(result.err).__name__}: {last_line}), "
                        "left to myst-nb to run again and report")
            continue
        record = cache.add_nb_to_project(str(path), read_data=read_fmt) if read_fmt else cache.add_nb_to_project(str(path))
        NbProjectRecord.remove_tracebacks([record.pk], cache.db)
        cache.cache_notebook_bundle(
            CacheBundleIn(notebook, record.uri, data={"execution_seconds": result.time}),
            check_validity=False,
            overwrite=True,
        )
        logger.info(f"{path.name}: executed in {result.time:.1f} s")
    logger.info(f"executed {len(pending)} notebooks in {time.perf_counter() - start:.1f} s")


def setup(app: Sphinx) -> dict:
    app.connect("env-before-read-docs", execute_uncached)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
