"""NUTS in NumPyro and Pyro behind one function, with the diagnostics a reader needs.

:func:`run_nuts` runs the No-U-Turn Sampler on any model of either library and
returns an :class:`MCMCResult`: the draws, chain by chain, with divergences,
acceptance rates, step sizes and the time spent compiling and sampling. It converts
to an ArviZ ``DataTree`` (ArviZ 1) for summaries (bulk and tail ESS, R-hat) and plots.

:func:`run_nuts_sweep` runs one NumPyro model at several target acceptance
probabilities (and values of a model argument) as one compiled program.
:func:`run_coin` is the coin model of :mod:`bayesbook.models` with a prior of
:mod:`bayesbook.priors`, and :func:`run_coin_grid` runs many priors and sample sizes
of the coin model as **one** compiled NumPyro program.

How the NumPyro runs stay fast:

* the chains of a run are vectorised (``jax.vmap`` over one-chain runs), and the run is
  compiled once with ``jax.jit`` (its compile time measured on its own);
* for a small model whose sampling takes a fraction of a second, ``chain_loop=
  "lax.map"`` runs the chains one after another inside the same compiled program
  (``jax.lax.map``): vectorising NUTS's while loops costs seconds of tracing and
  compiling, more than the sampling it saves;
* the data enter as the numbers ``(k, n)``; in :func:`run_coin_grid` they, and the
  index of the prior (:class:`bayesbook.numpyro_dists.PriorSwitch`), are batched too,
  so a whole grid of posteriors costs one compilation;
* there is no progress bar.

Pyro runs its chains one after another with ``jit_compile=True``, which traces the
model's log density once per chain with ``torch.jit`` and makes each step cheaper.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter

import numpy as np

from . import models
from ._checks import check_choice, check_integer, check_real
from ._lazy_imports import repair_numpyro_import
from .priors import BACKENDS, Prior, check_grid, grid_position
from .torch_jit import torch_jit_trace_allowed

__all__ = [
    "CHAIN_LOOPS",
    "MCMCResult",
    "run_nuts",
    "run_nuts_sweep",
    "run_coin",
    "GridResult",
    "run_coin_grid",
]

#: How :func:`run_nuts` runs a NumPyro run's chains inside its one compiled program.
CHAIN_LOOPS = ("vmap", "lax.map")

#: The per-draw quantities NumPyro is asked to record, and their ArviZ names.
_NUMPYRO_FIELDS = {
    "diverging": "diverging",
    "accept_prob": "acceptance_rate",
    "adapt_state.step_size": "step_size",
    "num_steps": "n_steps",
}


@dataclass
class MCMCResult:
    """Draws and diagnostics of one NUTS run.

    Attributes
    ----------
    posterior
        ``{site: array of shape (chains, draws, *site_shape)}``.
    sample_stats
        ``{"diverging", "acceptance_rate", "step_size", "n_steps": array (chains, draws)}``
        (Pyro records no ``n_steps``, and its "acceptance rate" is another quantity: the
        share of the chain's kept iterations whose proposal was accepted, which is near 1
        for NUTS whatever the target, not the mean acceptance statistic that warm-up
        steers towards the target).
    backend
        ``"numpyro"`` or ``"pyro"``.
    num_warmup
        Warm-up (adaptation) iterations per chain, not included in the draws.
    compile_seconds, sampling_seconds
        Wall time spent compiling the sampler and running it. For a run that shares
        one program with others (:func:`run_coin_grid`) these are its equal share.
        Pyro traces its model during the first steps of each chain, so for Pyro the
        compile time is ``nan`` and the tracing is part of the sampling time.
    """

    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    backend: str
    num_warmup: int
    compile_seconds: float
    sampling_seconds: float
    _summary_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_chains(self) -> int:
        return next(iter(self.posterior.values())).shape[0]

    @property
    def num_samples(self) -> int:
        """Draws per chain."""
        return next(iter(self.posterior.values())).shape[1]

    def draws(self, name: str = "theta") -> np.ndarray:
        """All draws of site ``name``, the chains concatenated: shape ``(chains * draws, *site_shape)``."""
        if name not in self.posterior:
            raise ValueError(f"name must be one of {sorted(self.posterior)}; got {name!r}")
        value = self.posterior[name]
        return value.reshape((-1, *value.shape[2:]))

    @property
    def divergences(self) -> int:
        """Number of divergent transitions after warm-up, all chains together."""
        return int(np.sum(self.sample_stats["diverging"]))

    @property
    def acceptance_rate(self) -> float:
        """NumPyro: the mean acceptance probability after warm-up. Pyro: the share of accepted proposals (see above)."""
        return float(np.mean(self.sample_stats["acceptance_rate"]))

    @property
    def step_size(self) -> float:
        """Step size after adaptation, averaged over chains."""
        return float(np.mean(self.sample_stats["step_size"][:, -1]))

    def to_datatree(self, coords: dict | None = None, dims: dict | None = None):
        """The run as an ArviZ ``DataTree`` with groups ``posterior`` and ``sample_stats``.

        ``coords`` and ``dims`` are ArviZ's: names for the axes of a site's draws, for
        example ``dims={"theta": ["school"]}, coords={"school": names}``.
        """
        import arviz as az

        stats = {name: value for name, value in self.sample_stats.items()
                 if name != "warmup_n_steps" and not np.all(np.isnan(value))}  # warm-up counts have their own length
        return az.from_dict({"posterior": self.posterior, "sample_stats": stats}, coords=coords, dims=dims)

    def summary(self, var_names: Sequence[str] | None = None):
        """ArviZ summary table: mean, sd, 89 % equal-tailed interval, bulk and tail ESS, R-hat, MCSE of each parameter."""
        import arviz as az

        key = tuple(var_names) if var_names is not None else None
        if key not in self._summary_cache:
            self._summary_cache[key] = az.summary(self.to_datatree(), var_names=var_names, round_to="none")
        return self._summary_cache[key].copy()

    def diagnostics(self) -> dict[str, float]:
        """The run at a glance: worst ESS and R-hat over all parameters, divergences, adaptation, times."""
        table = self.summary()
        return {
            "ess_bulk": float(table["ess_bulk"].min()),
            "ess_tail": float(table["ess_tail"].min()),
            "r_hat": float(table["r_hat"].max()),
            "divergences": self.divergences,
            "acceptance_rate": self.acceptance_rate,
            "step_size": self.step_size,
            "compile_seconds": self.compile_seconds,
            "sampling_seconds": self.sampling_seconds,
        }


def _check_options(num_chains, num_warmup, num_samples, seed, target_accept_prob, max_tree_depth) -> None:
    check_integer("num_chains", num_chains, minimum=1)
    check_integer("num_warmup", num_warmup, minimum=0)
    check_integer("num_samples", num_samples, minimum=1)
    check_integer("seed", seed, minimum=0)
    check_integer("max_tree_depth", max_tree_depth, minimum=1)
    value = check_real("target_accept_prob", target_accept_prob)
    if not 0.0 < value < 1.0:
        raise ValueError(f"target_accept_prob must lie strictly between 0 and 1, got {value}")


def _numpyro_one_chain(model, num_warmup, num_samples, target_accept_prob, max_tree_depth, count_warmup=False):
    """A function ``(key, *args, **kwargs) -> (samples, extra fields)`` running one NUTS chain.

    ``target_accept_prob=None`` makes it the function's second argument, so it can be traced.
    ``count_warmup=True`` runs the warm-up apart (``MCMC.warmup``, then ``MCMC.run`` from
    its state) and adds its leapfrog steps to the extra fields as ``"warmup_num_steps"``;
    the draws then come from a different random stream than a plain ``MCMC.run``.
    """
    from numpyro.infer import MCMC, NUTS

    repair_numpyro_import()  # see bayesbook._lazy_imports

    if target_accept_prob is None:
        def one_chain_at(key, accept, *args, **kwargs):
            return _numpyro_one_chain(model, num_warmup, num_samples, accept, max_tree_depth)(key, *args, **kwargs)

        return one_chain_at

    def one_chain(key, *args, **kwargs):
        kernel = NUTS(model, target_accept_prob=target_accept_prob, max_tree_depth=max_tree_depth)
        mcmc = MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples, num_chains=1, progress_bar=False)
        if not count_warmup:
            mcmc.run(key, *args, extra_fields=tuple(_NUMPYRO_FIELDS), **kwargs)
            return mcmc.get_samples(), mcmc.get_extra_fields()
        mcmc.warmup(key, *args, extra_fields=("num_steps",), collect_warmup=True, **kwargs)
        warmup_steps = mcmc.get_extra_fields()["num_steps"]
        mcmc.run(mcmc.post_warmup_state.rng_key, *args, extra_fields=tuple(_NUMPYRO_FIELDS), **kwargs)
        return mcmc.get_samples(), {**mcmc.get_extra_fields(), "warmup_num_steps": warmup_steps}

    return one_chain


def _compile_and_run(program, *args):
    """Compile a jitted ``program`` for ``args``, run it, and time both steps."""
    import jax

    start = perf_counter()
    compiled = program.lower(*args).compile()
    compiled_at = perf_counter()
    output = jax.block_until_ready(compiled(*args))
    return output, compiled_at - start, perf_counter() - compiled_at


def _numpyro_stats(extra) -> dict[str, np.ndarray]:
    names = {**_NUMPYRO_FIELDS, "warmup_num_steps": "warmup_n_steps"}
    stats = {names[name]: np.asarray(value) for name, value in extra.items()}
    stats["diverging"] = stats["diverging"].astype(bool)
    stats["acceptance_rate"] = stats["acceptance_rate"].astype(float)
    stats["step_size"] = stats["step_size"].astype(float)
    return stats


def _run_numpyro(model, args, kwargs, *, num_chains, num_warmup, num_samples, seed, target_accept_prob, max_tree_depth,
                 chain_loop="vmap", count_warmup=False):
    import jax

    one_chain = _numpyro_one_chain(model, num_warmup, num_samples, target_accept_prob, max_tree_depth, count_warmup)
    keys = jax.random.split(jax.random.PRNGKey(seed), num_chains)
    # The model's arguments are closed over: they are constants of this one program.
    if chain_loop == "vmap":
        program = jax.jit(jax.vmap(lambda key: one_chain(key, *args, **kwargs)))
    else:
        program = jax.jit(lambda keys: jax.lax.map(lambda key: one_chain(key, *args, **kwargs), keys))
    (samples, extra), compile_seconds, sampling_seconds = _compile_and_run(program, keys)
    posterior = {name: np.asarray(value) for name, value in samples.items()}
    return MCMCResult(posterior, _numpyro_stats(extra), "numpyro", num_warmup, compile_seconds, sampling_seconds)


def _run_pyro(model, args, kwargs, *, num_chains, num_warmup, num_samples, seed, target_accept_prob, max_tree_depth):
    import torch
    from pyro.infer import MCMC, NUTS

    chain_seeds = np.random.SeedSequence(seed).generate_state(num_chains)
    draws, diverging, acceptance, step_sizes = [], [], [], []
    start = perf_counter()
    with torch.random.fork_rng(devices=[]), torch_jit_trace_allowed():
        for chain_seed in chain_seeds:
            torch.manual_seed(int(chain_seed))
            kernel = NUTS(
                model,
                target_accept_prob=target_accept_prob,
                max_tree_depth=max_tree_depth,
                jit_compile=True,
                ignore_jit_warnings=True,
            )
            mcmc = MCMC(kernel, num_samples=num_samples, warmup_steps=num_warmup, num_chains=1, disable_progbar=True)
            mcmc.run(*args, **kwargs)
            draws.append({name: value.detach().numpy() for name, value in mcmc.get_samples().items()})
            report = mcmc.diagnostics()
            flags = np.zeros(num_samples, dtype=bool)
            flags[np.asarray(report["divergences"]["chain 0"], dtype=int)] = True
            diverging.append(flags)
            acceptance.append(np.full(num_samples, float(report["acceptance rate"]["chain 0"])))
            step_sizes.append(np.full(num_samples, float(kernel.step_size)))
        _add_pyro_deterministic_sites(model, args, kwargs, draws)
    sampling_seconds = perf_counter() - start
    posterior = {name: np.stack([chain[name] for chain in draws]) for name in draws[0]}
    stats = {
        "diverging": np.stack(diverging),
        "acceptance_rate": np.stack(acceptance),
        "step_size": np.stack(step_sizes),
        "n_steps": np.full((num_chains, num_samples), np.nan),
    }
    return MCMCResult(posterior, stats, "pyro", num_warmup, math.nan, sampling_seconds)


def _add_pyro_deterministic_sites(model, args, kwargs, draws) -> None:
    """Add the model's ``pyro.deterministic`` sites to each chain's draws (Pyro's MCMC records only latent sites)."""
    import pyro
    import torch
    from pyro.infer import Predictive

    trace = pyro.poutine.trace(model).get_trace(*args, **kwargs)
    names = [name for name, site in trace.nodes.items()
             if site["type"] == "sample" and site.get("infer", {}).get("_deterministic")]
    if not names:
        return
    for chain in draws:
        samples = {name: torch.as_tensor(value) for name, value in chain.items()}
        values = Predictive(model, posterior_samples=samples, return_sites=names, parallel=True)(*args, **kwargs)
        num_draws = len(next(iter(chain.values())))
        chain.update({name: values[name].detach().numpy().reshape(num_draws, *trace.nodes[name]["value"].shape)
                      for name in names})


def run_nuts(
    model: Callable,
    *model_args,
    backend: str = "numpyro",
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    seed: int = 0,
    target_accept_prob: float = 0.8,
    max_tree_depth: int = 10,
    model_kwargs: dict | None = None,
    chain_loop: str = "vmap",
    count_warmup: bool = False,
) -> MCMCResult:
    """Run NUTS on ``model(*model_args, **model_kwargs)`` of ``backend`` and return its draws.

    Parameters
    ----------
    model
        A NumPyro model (``backend="numpyro"``) or a Pyro model (``"pyro"``).
    model_args, model_kwargs
        The model's arguments: JAX or NumPy arrays for NumPyro, tensors for Pyro.
    num_chains
        Independent chains (vectorised in NumPyro, one after another in Pyro).
    num_warmup, num_samples
        Warm-up iterations (step size and mass matrix adaptation) and kept draws, per chain.
    seed
        The run's seed: the same seed gives the same draws.
    target_accept_prob, max_tree_depth
        NUTS settings: the acceptance probability the step size is adapted to, and the
        largest tree depth (at most ``2**max_tree_depth`` leapfrog steps per draw).
    chain_loop
        NumPyro only: ``"vmap"`` (``jax.vmap``, the chains side by side) or
        ``"lax.map"`` (``jax.lax.map``, one after another); both are one compiled
        program (NumPyro's own ``chain_method="sequential"`` instead runs one compiled
        chain after another from Python, hence the other name), use the same chain keys
        and sample the same posterior, but their draws differ: the two programs round
        differently, and NUTS trajectories amplify the difference. Chains one after
        another compile in about half the time; vectorised ones
        sample faster.
    count_warmup
        NumPyro only: also record the leapfrog steps of every warm-up iteration, as
        ``sample_stats["warmup_n_steps"]`` (chains, warm-up iterations), to count a run's
        gradient evaluations. The warm-up then runs apart from the sampling, so the draws
        differ from those of the same run without it.
    """
    backend = check_choice("backend", backend, BACKENDS)
    chain_loop = check_choice("chain_loop", chain_loop, CHAIN_LOOPS)
    _check_options(num_chains, num_warmup, num_samples, seed, target_accept_prob, max_tree_depth)
    if not callable(model):
        raise TypeError(f"model must be a callable, got {type(model).__name__}")
    if count_warmup and backend != "numpyro":
        raise ValueError("count_warmup is available for backend='numpyro' only")
    runner = _run_numpyro if backend == "numpyro" else _run_pyro
    return runner(
        model,
        model_args,
        dict(model_kwargs or {}),
        num_chains=num_chains,
        num_warmup=num_warmup,
        num_samples=num_samples,
        seed=seed,
        target_accept_prob=target_accept_prob,
        max_tree_depth=max_tree_depth,
        **({"chain_loop": chain_loop, "count_warmup": bool(count_warmup)} if backend == "numpyro" else {}),
    )


def run_nuts_sweep(
    model: Callable,
    *model_args,
    target_accept_probs: Sequence[float],
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    seed: int = 0,
    max_tree_depth: int = 10,
    model_kwargs: dict | None = None,
    sweep_kwargs: dict[str, Sequence[float]] | None = None,
) -> list[MCMCResult]:
    """NUTS on a NumPyro model at several settings, compiled once.

    Returns one :class:`MCMCResult` per value of ``target_accept_probs``, in order. All
    ``len(target_accept_probs) * num_chains`` chains run side by side in one
    ``jax.jit(jax.vmap(...))`` with the target acceptance a traced value, and every
    setting uses the chain keys of ``run_nuts(..., seed=seed)``, so the sweep's run at
    0.8 is :func:`run_nuts`'s default run (up to floating-point rounding). The compile
    and sampling times of each result are equal shares of the whole program's.

    ``sweep_kwargs`` maps a keyword argument of the model to one number per run (as many
    as ``target_accept_probs``); the model receives it as a traced scalar, so settings
    that differ in it still share the one compiled program. Example: a model with a
    ``centered`` argument run centred at two targets and non-centred at one::

        run_nuts_sweep(model, sigma, target_accept_probs=[0.8, 0.95, 0.9],
                       sweep_kwargs={"centered": [1.0, 1.0, 0.0]})
    """
    import jax
    import jax.numpy as jnp

    if isinstance(target_accept_probs, (str, bytes)) or not isinstance(target_accept_probs, Sequence):
        raise TypeError("target_accept_probs must be a sequence of numbers in (0, 1), "
                        f"got {type(target_accept_probs).__name__}")
    if len(target_accept_probs) == 0:
        raise ValueError("target_accept_probs must hold at least one value in (0, 1)")
    for value in target_accept_probs:
        _check_options(num_chains, num_warmup, num_samples, seed, value, max_tree_depth)
    if not callable(model):
        raise TypeError(f"model must be a callable, got {type(model).__name__}")
    kwargs = dict(model_kwargs or {})
    swept = _check_sweep_kwargs(sweep_kwargs, len(target_accept_probs), kwargs)
    one_chain = _numpyro_one_chain(model, num_warmup, num_samples, None, max_tree_depth)
    chain_keys = jax.random.split(jax.random.PRNGKey(seed), num_chains)
    keys = jnp.tile(chain_keys, (len(target_accept_probs), 1))
    accepts = jnp.repeat(jnp.asarray(target_accept_probs, jnp.float32), num_chains)
    swept = {name: jnp.repeat(jnp.asarray(values, jnp.float32), num_chains) for name, values in swept.items()}
    program = jax.jit(jax.vmap(lambda key, accept, swept: one_chain(key, accept, *model_args, **kwargs, **swept)))
    (samples, extra), compile_seconds, sampling_seconds = _compile_and_run(program, keys, accepts, swept)
    shape = (len(target_accept_probs), num_chains)
    samples = {name: np.asarray(value).reshape(shape + value.shape[1:]) for name, value in samples.items()}
    stats = {name: value.reshape(shape + value.shape[1:]) for name, value in _numpyro_stats(extra).items()}
    share = len(target_accept_probs)
    return [
        MCMCResult({name: value[i] for name, value in samples.items()}, {name: value[i] for name, value in stats.items()},
                   "numpyro", num_warmup, compile_seconds / share, sampling_seconds / share)
        for i in range(share)
    ]


def _check_sweep_kwargs(sweep_kwargs, num_runs: int, model_kwargs: dict) -> dict[str, list[float]]:
    if sweep_kwargs is None:
        return {}
    if not isinstance(sweep_kwargs, dict):
        raise TypeError(f"sweep_kwargs must be a dict of keyword -> one number per run, got {type(sweep_kwargs).__name__}")
    checked = {}
    for name, values in sweep_kwargs.items():
        if not isinstance(name, str) or name in model_kwargs:
            raise ValueError(f"sweep_kwargs keys must be keyword names not also in model_kwargs, got {name!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) != num_runs:
            raise ValueError(f"sweep_kwargs[{name!r}] must be a sequence of {num_runs} numbers, "
                             "one per value of target_accept_probs")
        checked[name] = [check_real(f"sweep_kwargs[{name!r}]", value) for value in values]
    return checked


def run_coin(prior: Prior, k: int, n: int, *, backend: str = "numpyro", **options) -> MCMCResult:
    """NUTS on the coin model with ``prior`` after ``k`` successes in ``n`` trials.

    ``options`` are those of :func:`run_nuts`. Raises ``ValueError`` for ``k > n``,
    ``n < 0``, a non-integer count or an unknown backend.
    """
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a bayesbook.priors.Prior, got {type(prior).__name__}")
    n_value, k_value = models.coin_data(backend, k, n)
    return run_nuts(models.coin_model(backend), prior.distribution(backend), n_value, k_value, backend=backend, **options)


@dataclass
class GridResult:
    """The NUTS runs of :func:`run_coin_grid`, one per (prior, counts) pair."""

    priors: tuple[Prior, ...]
    counts: tuple[tuple[int, int], ...]
    runs: dict[tuple[int, int], MCMCResult]
    compile_seconds: float
    sampling_seconds: float

    def __getitem__(self, key: tuple[Prior, int]) -> MCMCResult:
        """``grid[prior, n]``: the run for ``prior`` and the counts whose trial number is ``n``."""
        return self.runs[grid_position(self.priors, self.counts, *key)]


def run_coin_grid(
    priors: Sequence[Prior],
    counts: Sequence[tuple[int, int]],
    *,
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    seed: int = 0,
    target_accept_prob: float = 0.8,
    max_tree_depth: int = 10,
    chain_loop: str = "vmap",
) -> GridResult:
    """NUTS for every prior and every ``(k, n)`` in ``counts``, as one compiled NumPyro program.

    All ``len(priors) * len(counts) * num_chains`` chains run in one compiled program,
    side by side (``chain_loop="vmap"``, ``jax.jit(jax.vmap(...))``) or one after another
    (``"lax.map"``, ``jax.lax.map``, which compiles faster for a model this small): the
    prior is chosen inside the program by its index
    (:class:`bayesbook.numpyro_dists.PriorSwitch`) and ``(k, n)`` are values, so the
    sampler is compiled once for the whole grid. Every chain adapts its own step size.
    """
    import jax
    import jax.numpy as jnp

    from .numpyro_dists import PriorSwitch

    priors, counts = check_grid(priors, counts)
    _check_options(num_chains, num_warmup, num_samples, seed, target_accept_prob, max_tree_depth)
    chain_loop = check_choice("chain_loop", chain_loop, CHAIN_LOOPS)

    distributions = [prior.numpyro() for prior in priors]
    bounds = [prior.support for prior in priors]

    def model(index, n, k=None):
        return models.numpyro_coin_model(PriorSwitch(distributions, bounds, index), n, k)

    one_chain = _numpyro_one_chain(model, num_warmup, num_samples, target_accept_prob, max_tree_depth)
    shape = (len(priors), len(counts), num_chains)
    index = np.broadcast_to(np.arange(len(priors))[:, None, None], shape).ravel()
    ks = np.broadcast_to(np.array([k for k, _ in counts], float)[None, :, None], shape).ravel()
    ns = np.broadcast_to(np.array([n for _, n in counts], float)[None, :, None], shape).ravel()
    keys = jax.random.split(jax.random.PRNGKey(seed), index.size)
    if chain_loop == "vmap":
        program = jax.jit(jax.vmap(lambda key, i, n, k: one_chain(key, i, n, k)))
    else:
        program = jax.jit(lambda keys, i, n, k: jax.lax.map(lambda chain: one_chain(*chain), (keys, i, n, k)))
    (samples, extra), compile_seconds, sampling_seconds = _compile_and_run(
        program, keys, jnp.asarray(index), jnp.asarray(ns, jnp.float32), jnp.asarray(ks, jnp.float32)
    )
    samples = {name: np.asarray(value).reshape(shape + value.shape[1:]) for name, value in samples.items()}
    stats = {name: value.reshape(shape + value.shape[1:]) for name, value in _numpyro_stats(extra).items()}
    share = len(priors) * len(counts)
    runs = {
        (i, j): MCMCResult(
            {name: value[i, j] for name, value in samples.items()},
            {name: value[i, j] for name, value in stats.items()},
            "numpyro",
            num_warmup,
            compile_seconds / share,
            sampling_seconds / share,
        )
        for i in range(len(priors))
        for j in range(len(counts))
    }
    return GridResult(priors, counts, runs, compile_seconds, sampling_seconds)
