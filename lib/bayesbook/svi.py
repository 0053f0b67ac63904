"""SVI for any NumPyro model and guide, compiled as one program.

:func:`run_svi` is what ``numpyro.infer.SVI(...).run`` does, with three differences
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

from ._checks import check_choice, check_integer
from .vi import FAST_COMPILE, SVISettings, run_steps

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

    Raises ``TypeError``/``ValueError`` naming the argument for a bad model, guide,
    settings, seed or loss.
    """
    import jax
    import jax.numpy as jnp
    from numpyro.infer import SVI, Trace_ELBO, TraceGraph_ELBO
    from numpyro.optim import Adam

    for name, value in (("model", model), ("guide", guide)):
        if not callable(value):
            raise TypeError(f"{name} must be a callable, got {type(value).__name__}")
    if not isinstance(settings, SVISettings):
        raise TypeError(f"settings must be a bayesbook.vi.SVISettings, got {type(settings).__name__}")
    check_integer("seed", seed, minimum=0)
    loss = check_choice("loss", loss, LOSSES)
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
        averaged, losses, history = run_steps(svi, state, settings, *model_args, **kwargs)
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
        return SVIRun({name: np.asarray(value) for name, value in params.items()}, np.asarray(losses, float),
                      {name: np.asarray(value) for name, value in history.items()}, settings, compile_seconds,
                      run_seconds)
    share = len(starts)
    return [SVIRun({name: np.asarray(value[i]) for name, value in params.items()}, np.asarray(losses[i], float),
                   {name: np.asarray(value[i]) for name, value in history.items()}, settings,
                   compile_seconds / share, run_seconds / share) for i in range(share)]
