"""SVI for any NumPyro model and guide, compiled as one program.

:func:`run_svi` is what ``numpyro.infer.SVI(...).run`` does, with four differences
that matter on a page executed at every build:

* the whole run, initialisation and every step, is one ``jax.jit`` program, compiled
  once and timed apart from the run (``SVI.run`` initialises op by op outside any
  compiled program, which for a small model costs more than the steps);
* the optimiser is Adam with the optional exponential learning-rate decay and iterate
  averaging of :class:`bayesbook.vi.SVISettings`;
* it takes a seed and returns plain NumPy arrays;
* given a list of starting points (``init_params``), it runs one fit from each, side
  by side in the same compiled program (``jax.vmap``), for warm against cold starts or
  for several random restarts at the cost of one compilation.

The returned ``params`` are the guide's parameters in their constrained form (what
``SVI.get_params`` gives), ready for ``Predictive(guide, params=...)`` or as
``init_params`` of another run (a warm start).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from ._checks import check_choice, check_integer, check_positive
from ._lazy_imports import repair_numpyro_import
from .vi import FAST_COMPILE, SVISettings, run_steps

__all__ = ["LOSSES", "SVIRun", "run_svi", "PyroSVIRun", "run_pyro_svi"]

#: The ELBO estimators :func:`run_svi` accepts: NumPyro's ``Trace_ELBO`` (reparameterised
#: gradients only) and ``TraceGraph_ELBO`` (adds score-function terms for guide sites
#: that cannot be reparameterised, such as a mixture's choice of component).
LOSSES = ("trace", "tracegraph")


@dataclass
class SVIRun:
    """A fitted guide.

    ``params`` are its parameters (constrained), ``losses`` the negative ELBO estimate
    at every step, and ``history`` the parameters in the optimiser's unconstrained
    space after every step, ``{name: array (steps, *shape)}``, for
    :func:`bayesbook.convergence.check_parameters`.
    """

    params: dict[str, np.ndarray]
    losses: np.ndarray
    history: dict[str, np.ndarray]
    settings: SVISettings
    compile_seconds: float
    run_seconds: float


def run_svi(
    model: Callable,
    guide: Callable,
    *model_args,
    settings: SVISettings = SVISettings(),
    seed: int = 0,
    init_params: dict | Sequence[dict] | None = None,
    loss: str = "trace",
    model_kwargs: dict | None = None,
    fast_compile: bool = True,
    history_every: int = 1,
) -> SVIRun | list[SVIRun]:
    """Fit ``guide`` to ``model(*model_args, **model_kwargs)`` by SVI with Adam.

    Parameters
    ----------
    settings
        Learning rate (and its decay), iterate averaging, steps and particles.
    seed
        The run's seed: the same seed gives the same fit.
    init_params
        Starting values of (some of) the guide's parameters, constrained, for example
        the ``params`` of an earlier run (a warm start). Others start at the guide's own
        initial values. A list of such dicts, all with the same names and shapes, runs
        one fit from each (with the same seed) as one program and returns a list of
        results, each with an equal share of the compile and run times.
    loss
        ``"trace"`` (``Trace_ELBO``) or ``"tracegraph"`` (``TraceGraph_ELBO``).
    fast_compile
        Compile with :data:`bayesbook.vi.FAST_COMPILE`: less compile time
        for steps that are somewhat slower, which pays for small models.
    history_every
        Record the parameters after every ``history_every``-th step only (it must divide
        ``settings.num_steps``): a full-rank guide in many dimensions has thousands of
        parameters. The losses are recorded at every step.

    Raises ``TypeError``/``ValueError`` naming the argument for a bad model, guide,
    settings, seed or loss.
    """
    import jax
    import jax.numpy as jnp
    from numpyro.infer import SVI, Trace_ELBO, TraceGraph_ELBO
    from numpyro.optim import Adam

    repair_numpyro_import()  # see bayesbook._lazy_imports

    for name, value in (("model", model), ("guide", guide)):
        if not callable(value):
            raise TypeError(f"{name} must be a callable, got {type(value).__name__}")
    if not isinstance(settings, SVISettings):
        raise TypeError(f"settings must be a bayesbook.vi.SVISettings, got {type(settings).__name__}")
    check_integer("seed", seed, minimum=0)
    loss = check_choice("loss", loss, LOSSES)
    history_every = check_integer("history_every", history_every, minimum=1)
    if settings.num_steps % history_every:
        raise ValueError(f"history_every must divide settings.num_steps = {settings.num_steps}, got {history_every}")
    batched = isinstance(init_params, (list, tuple))
    starts = list(init_params) if batched else [init_params]
    if batched and not starts:
        raise ValueError("init_params must hold at least one dict of starting values")
    for start in starts:
        if start is not None and not isinstance(start, dict):
            raise TypeError("init_params must be a dict of parameter name -> value, or a list of them, "
                            f"got {type(start).__name__}")
    if batched and (None in starts or len({tuple(sorted(start)) for start in starts}) != 1):
        raise ValueError("init_params: every starting point in the list must name the same parameters")
    from numpyro.infer.autoguide import AutoGuide

    if isinstance(guide, AutoGuide) and getattr(guide, "prototype_trace", None) is not None:
        # an autoguide sets itself up on its first run, inside that run's compiled program
        raise ValueError("guide: this autoguide has already been fitted once; make a new one "
                         "(for example AutoNormal(model)) for each run, and pass init_params to warm-start it")
    kwargs = dict(model_kwargs or {})
    estimator = (Trace_ELBO if loss == "trace" else TraceGraph_ELBO)(num_particles=settings.num_particles)
    svi = SVI(model, guide, Adam(settings.learning_rate_at), estimator)

    def fit(key, start):
        state = svi.init(key, *model_args, init_params=start, **kwargs)
        averaged, losses, history = run_steps(svi, state, settings, *model_args, history_every=history_every, **kwargs)
        # averaged in the optimiser's unconstrained space, then constrained
        return svi.constrain_fn(averaged), losses, history

    key = jax.random.PRNGKey(seed)
    if batched:
        stacked = jax.tree.map(lambda *values: jnp.stack([jnp.asarray(value) for value in values]), *starts)
        program, arguments = jax.vmap(fit, in_axes=(None, 0)), (key, stacked)
    else:
        program, arguments = fit, (key, starts[0])
    begin = perf_counter()
    compiled = jax.jit(program).lower(*arguments).compile(FAST_COMPILE if fast_compile else None)
    compiled_at = perf_counter()
    params, losses, history = jax.block_until_ready(compiled(*arguments))
    run_seconds = perf_counter() - compiled_at
    compile_seconds = compiled_at - begin
    if not batched:
        return SVIRun(_to_numpy(params), np.asarray(losses, float), _flat_history(history), settings,
                      compile_seconds, run_seconds)
    share = len(starts)
    return [SVIRun(_to_numpy(params, i), np.asarray(losses[i], float), _flat_history(history, i), settings,
                   compile_seconds / share, run_seconds / share) for i in range(share)]


def _to_numpy(params: dict, index: int | None = None) -> dict:
    """The parameters as NumPy arrays (nested lists, as a flow guide's, kept as such)."""
    import jax

    return {name: jax.tree.map(lambda v: np.asarray(v if index is None else v[index]), value)
            for name, value in params.items()}


def _flat_history(history: dict, index: int | None = None) -> dict[str, np.ndarray]:
    """``{name: array (records, ...)}``; a parameter that is a nested list (a flow's weights) gives ``name.0``, ``name.1``, ..."""
    import jax

    flat = {}
    for name, value in history.items():
        leaves = jax.tree.leaves(value)
        for i, leaf in enumerate(leaves):
            flat[name if len(leaves) == 1 else f"{name}.{i}"] = np.asarray(leaf if index is None else leaf[index])
    return flat


@dataclass
class PyroSVIRun:
    """A Pyro SVI run of :func:`run_pyro_svi`: the loss at every step and the loop's wall time.

    The fitted parameters live where Pyro keeps them, in its global parameter store
    (``pyro.get_param_store()``), and the guide reads them from there.
    """

    losses: np.ndarray
    run_seconds: float


def run_pyro_svi(
    model: Callable,
    guide: Callable,
    *model_args,
    num_steps: int,
    learning_rate: float,
    final_learning_rate: float | None = None,
    num_particles: int = 1,
    seed: int = 0,
    max_plate_nesting: int = 1,
) -> PyroSVIRun:
    """Fit a Pyro ``guide`` to ``model(*model_args)``: the loop every Pyro SVI example writes.

    * The parameter store is cleared **once**, before the loop (clearing it inside the
      loop would reset every parameter at every step), and Pyro's random seed is set to
      ``seed``.
    * The optimiser is ``ClippedAdam`` at ``learning_rate``, decaying exponentially to
      ``final_learning_rate`` at the last step (its ``lrd`` option) if that is given.
    * The loss is ``JitTrace_ELBO`` with ``num_particles`` draws per step evaluated at
      once (``vectorize_particles=True``): the model must broadcast over a leading
      particle dimension, below its ``max_plate_nesting`` plate dimensions.
    * ``torch.jit.trace``'s deprecation warning is hidden (see
      :func:`bayesbook.mcmc.torch_jit_trace_allowed`), nothing else.
    """
    import pyro

    from .mcmc import torch_jit_trace_allowed

    for name, value in (("model", model), ("guide", guide)):
        if not callable(value):
            raise TypeError(f"{name} must be a callable, got {type(value).__name__}")
    num_steps = check_integer("num_steps", num_steps, minimum=1)
    learning_rate = check_positive("learning_rate", learning_rate)
    decay = 1.0
    if final_learning_rate is not None:
        decay = (check_positive("final_learning_rate", final_learning_rate) / learning_rate) ** (1.0 / num_steps)
    num_particles = check_integer("num_particles", num_particles, minimum=1)
    seed = check_integer("seed", seed, minimum=0)
    max_plate_nesting = check_integer("max_plate_nesting", max_plate_nesting, minimum=0)
    pyro.clear_param_store()
    pyro.set_rng_seed(seed)
    optimiser = pyro.optim.ClippedAdam({"lr": learning_rate, "lrd": decay})
    elbo = pyro.infer.JitTrace_ELBO(num_particles=num_particles, vectorize_particles=num_particles > 1,
                                    max_plate_nesting=max_plate_nesting, ignore_jit_warnings=True)
    svi = pyro.infer.SVI(model, guide, optimiser, elbo)
    begin = perf_counter()
    with torch_jit_trace_allowed():
        losses = [svi.step(*model_args) for _ in range(num_steps)]
    return PyroSVIRun(np.asarray(losses, float), perf_counter() - begin)
