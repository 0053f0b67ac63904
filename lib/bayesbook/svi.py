"""SVI for any model and guide: how it optimises, and one runner for each library.

:class:`SVISettings` says how SVI optimises: Adam (NumPyro) or ``ClippedAdam`` (Pyro) at
a learning rate that may decay exponentially to a final one, iterate averaging, the
number of steps and of particles. The decay is written once, in
:attr:`SVISettings.decay_per_step`.

:func:`run_svi` (NumPyro) is what ``numpyro.infer.SVI(...).run`` does, with four
differences that matter on a page executed at every build:

* the whole run, initialisation and every step, is one ``jax.jit`` program, compiled
  once and timed apart from the run (``SVI.run`` initialises op by op outside any
  compiled program, which for a small model costs more than the steps);
* the learning-rate decay and the iterate averaging of :class:`SVISettings`;
* it takes a seed and returns plain NumPy arrays, with the parameters' history;
* given a list of starting points (``init_params``), it runs one fit from each, side
  by side in the same compiled program (``jax.vmap``), for warm against cold starts or
  for several random restarts at the cost of one compilation.

:func:`run_pyro_svi` (Pyro) is the loop every Pyro SVI example writes, with the same
settings and the same result. Both return an :class:`SVIRun`, on which
:func:`bayesbook.convergence.check_svi` works. :func:`run_steps` is NumPyro's step loop
as one ``lax.scan``, shared with :mod:`bayesbook.vi`.

The returned ``params`` are the guide's parameters in their constrained form (what
``SVI.get_params`` gives), ready for ``Predictive(guide, params=...)`` or as
``init_params`` of another run (a warm start).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from ._checks import check_choice, check_integer, check_positive, check_real
from ._lazy_imports import repair_numpyro_import
from .torch_jit import torch_jit_trace_allowed

__all__ = ["FAST_COMPILE", "SVISettings", "run_steps", "LOSSES", "SVIRun", "run_svi", "run_pyro_svi"]

#: XLA options for programs that compile for longer than they run: fewer optimisation
#: passes compile a scan of 1,000 SVI steps in about half the time, and the steps
#: themselves, which take well under a second, get somewhat slower. (Adding
#: ``xla_cpu_use_fusion_emitters=False`` would halve the compile time again, but with
#: both options jaxlib 0.10.2 gives results that differ in the last bits from one
#: process to the next, so the same seed would no longer give the same numbers.)
FAST_COMPILE = {"xla_backend_optimization_level": 0}

@dataclass(frozen=True)
class SVISettings:
    """How SVI optimises.

    Attributes
    ----------
    learning_rate
        Adam's step size at the first step.
    final_learning_rate
        If given, the step size decays exponentially to this value at the last step.
    average_last
        Fraction of the steps at the end whose unconstrained parameters are averaged
        (iterate averaging); 0 keeps the last iterate.
    num_steps, num_particles
        Optimisation steps, and draws from the guide per ELBO gradient estimate.
    """

    learning_rate: float = 0.1
    final_learning_rate: float | None = None
    average_last: float = 0.0
    num_steps: int = 1000
    num_particles: int = 10

    def __post_init__(self):
        check_positive("learning_rate", self.learning_rate)
        if self.final_learning_rate is not None:
            check_positive("final_learning_rate", self.final_learning_rate)
        average = check_real("average_last", self.average_last)
        if not 0.0 <= average < 1.0:
            raise ValueError(f"average_last must lie in [0, 1), got {average}")
        check_integer("num_steps", self.num_steps, minimum=1)
        check_integer("num_particles", self.num_particles, minimum=1)

    @property
    def decay_per_step(self) -> float:
        """The factor by which the step size shrinks at each step: ``(final / first) ** (1 / num_steps)``.

        1 when there is no ``final_learning_rate``. Pyro's ``ClippedAdam`` takes it as its
        ``lrd`` option; :meth:`learning_rate_at` gives NumPyro's Adam the same schedule.
        """
        if self.final_learning_rate is None:
            return 1.0
        return (self.final_learning_rate / self.learning_rate) ** (1.0 / self.num_steps)

    def learning_rate_at(self, step):
        """Adam's step size at ``step`` (0-based), ``learning_rate * decay_per_step ** step``; works on NumPy and JAX numbers.

        >>> f"{SVISettings(learning_rate=0.1, final_learning_rate=0.001, num_steps=100).learning_rate_at(50):.6f}"
        '0.010000'
        """
        return self.learning_rate * self.decay_per_step ** step

    @property
    def first_averaged_step(self) -> int:
        return self.num_steps - max(1, round(self.average_last * self.num_steps)) if self.average_last else self.num_steps - 1



def run_steps(svi, state, settings: SVISettings, *args, history_every: int = 1, **kwargs):
    """``settings.num_steps`` updates of a NumPyro ``SVI`` from ``state``, as one ``lax.scan``.

    Returns ``(averaged, losses, history)``: the optimiser's unconstrained parameters
    averaged over the steps from ``settings.first_averaged_step`` on (the last iterate
    when there is no averaging), the loss at every step, and the unconstrained
    parameters after every ``history_every``-th step (which must divide the number of
    steps; a guide with many parameters would otherwise fill memory). Shared by
    :func:`run_svi` and :func:`bayesbook.vi.fit_coin`.
    """
    import jax
    import jax.numpy as jnp

    first_averaged = settings.first_averaged_step
    zeros = jax.tree.map(jnp.zeros_like, svi.optim.get_params(state.optim_state))

    def step(carry, index):
        state, total = carry
        state, loss = svi.update(state, *args, **kwargs)
        unconstrained = svi.optim.get_params(state.optim_state)
        weight = (index >= first_averaged).astype(jnp.result_type(float))
        total = jax.tree.map(lambda t, value: t + weight * value, total, unconstrained)
        return (state, total), loss

    def step_and_record(carry, index):
        carry, loss = step(carry, index)
        return carry, (loss, svi.optim.get_params(carry[0].optim_state))

    def block(carry, first):
        carry, losses = jax.lax.scan(step, carry, first + jnp.arange(history_every))
        return carry, (losses, svi.optim.get_params(carry[0].optim_state))

    if history_every == 1:  # one scan, every step recorded
        (_, total), (losses, history) = jax.lax.scan(step_and_record, (state, zeros), jnp.arange(settings.num_steps))
    else:
        starts = jnp.arange(0, settings.num_steps, history_every)
        (_, total), (losses, history) = jax.lax.scan(block, (state, zeros), starts)
    count = settings.num_steps - first_averaged
    return jax.tree.map(lambda t: t / count, total), losses.reshape(-1), history



#: The ELBO estimators :func:`run_svi` accepts: NumPyro's ``Trace_ELBO`` (reparameterised
#: gradients only) and ``TraceGraph_ELBO`` (adds score-function terms for guide sites
#: that cannot be reparameterised; for a ``MixtureGeneral`` site, which has no
#: ``rsample``, that means a score-function gradient for every one of its parameters).
LOSSES = ("trace", "tracegraph")


@dataclass
class SVIRun:
    """A fitted guide, from :func:`run_svi` (NumPyro) or :func:`run_pyro_svi` (Pyro).

    ``params`` are its parameters (constrained; averaged over the last steps when the
    settings average), ``losses`` the negative ELBO estimate at every step, and
    ``history`` the parameters in the optimiser's unconstrained space after every
    (``history_every``-th) step, ``{name: array (records, *shape)}``, for
    :func:`bayesbook.convergence.check_parameters`. ``compile_seconds`` is the compile
    time (NumPyro) or the first step, which traces the model (Pyro); ``run_seconds``
    the rest.
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
    timing_repeats: int = 1,
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
        Compile with :data:`FAST_COMPILE`: less compile time
        for steps that are somewhat slower, which pays for small models.
    history_every
        Record the parameters after every ``history_every``-th step only (it must divide
        ``settings.num_steps``): a full-rank guide in many dimensions has thousands of
        parameters. The losses are recorded at every step.
    timing_repeats
        Run the compiled program this many times and report the fastest as
        ``run_seconds`` (each run gives the same result): one run of a program that
        takes milliseconds is timed mostly by whatever else the machine is doing.

    Raises ``TypeError``/``ValueError`` naming the argument for a bad model, guide,
    settings, seed, loss, history_every or timing_repeats.
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
        raise TypeError(f"settings must be a bayesbook.svi.SVISettings, got {type(settings).__name__}")
    check_integer("seed", seed, minimum=0)
    loss = check_choice("loss", loss, LOSSES)
    history_every = check_integer("history_every", history_every, minimum=1)
    timing_repeats = check_integer("timing_repeats", timing_repeats, minimum=1)
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
    for _ in range(timing_repeats - 1):
        started = perf_counter()
        jax.block_until_ready(compiled(*arguments))
        run_seconds = min(run_seconds, perf_counter() - started)
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


def run_pyro_svi(
    model: Callable,
    guide: Callable,
    *model_args,
    settings: SVISettings = SVISettings(),
    seed: int = 0,
    max_plate_nesting: int = 1,
    history_every: int = 1,
    model_kwargs: dict | None = None,
) -> SVIRun:
    """Fit a Pyro ``guide`` to ``model(*model_args, **model_kwargs)``: the loop every Pyro SVI example writes.

    * Pyro keeps parameters in a global store. It is cleared **once**, before the loop
      (clearing it inside the loop would reset every parameter at every step), and holds
      the fitted (averaged) parameters afterwards, where the guide reads them.
    * Randomness: the loop runs inside ``torch.random.fork_rng`` with the generator
      seeded by ``seed``, so the same seed gives the same fit and the caller's global
      generators (PyTorch's, NumPy's, Python's) are left as they were
      (``pyro.set_rng_seed`` would reseed all three for good).
    * The optimiser is ``ClippedAdam`` (each gradient element clipped at 10) with the settings'
      learning rate and decay (its ``lrd`` is :attr:`SVISettings.decay_per_step`): step
      ``t`` takes the step size :meth:`SVISettings.learning_rate_at` ``(t)``, as in
      :func:`run_svi`. The unconstrained parameters are averaged over the settings'
      last steps.
    * The loss is ``JitTrace_ELBO`` with ``settings.num_particles`` draws per step,
      evaluated at once when there are several (``vectorize_particles=True``): the model
      must then broadcast over a leading particle dimension, below its
      ``max_plate_nesting`` plate dimensions.
    * ``torch.jit.trace``'s deprecation warning is hidden
      (:func:`bayesbook.torch_jit.torch_jit_trace_allowed`), and so are the tracer's own
      warnings about Python values frozen into the trace (``ignore_jit_warnings=True``).

    Returns an :class:`SVIRun` like :func:`run_svi`'s. Raises ``TypeError``/``ValueError``
    naming the argument for a bad model, guide, settings, seed or nesting.
    """
    import pyro
    import torch

    for name, value in (("model", model), ("guide", guide)):
        if not callable(value):
            raise TypeError(f"{name} must be a callable, got {type(value).__name__}")
    if not isinstance(settings, SVISettings):
        raise TypeError(f"settings must be a bayesbook.svi.SVISettings, got {type(settings).__name__}")
    seed = check_integer("seed", seed, minimum=0)
    max_plate_nesting = check_integer("max_plate_nesting", max_plate_nesting, minimum=0)
    history_every = check_integer("history_every", history_every, minimum=1)
    if settings.num_steps % history_every:
        raise ValueError(f"history_every must divide settings.num_steps = {settings.num_steps}, got {history_every}")
    kwargs = dict(model_kwargs or {})
    pyro.clear_param_store()
    store = pyro.get_param_store()
    # ClippedAdam multiplies its step size by lrd *before* each step: starting it at
    # learning_rate / lrd makes step t take learning_rate * lrd**t, as NumPyro's runs do
    decay = settings.decay_per_step
    optimiser = pyro.optim.ClippedAdam({"lr": settings.learning_rate / decay, "lrd": decay})
    elbo = pyro.infer.JitTrace_ELBO(num_particles=settings.num_particles,
                                    vectorize_particles=settings.num_particles > 1,
                                    max_plate_nesting=max_plate_nesting, ignore_jit_warnings=True)
    svi = pyro.infer.SVI(model, guide, optimiser, elbo)
    losses = np.empty(settings.num_steps)
    history: dict[str, list[np.ndarray]] = {}
    totals: dict[str, torch.Tensor] = {}
    first_averaged = settings.first_averaged_step
    with torch.random.fork_rng(devices=[]), torch_jit_trace_allowed():
        torch.manual_seed(seed)
        begin = perf_counter()
        for step in range(settings.num_steps):
            losses[step] = svi.step(*model_args, **kwargs)
            if step == 0:
                first_step_done = perf_counter()
            unconstrained = {name: value.detach() for name, value in store.named_parameters()}
            if (step + 1) % history_every == 0:
                for name, value in unconstrained.items():
                    history.setdefault(name, []).append(value.numpy().copy())
            if step >= first_averaged:
                for name, value in unconstrained.items():
                    totals[name] = totals.get(name, 0.0) + value
        finished = perf_counter()
    count = settings.num_steps - first_averaged
    with torch.no_grad():
        for name, value in store.named_parameters():
            value.copy_(totals[name] / count)
    params = {name: store[name].detach().numpy().copy() for name in store.keys()}
    return SVIRun(params, losses, {name: np.stack(values) for name, values in history.items()}, settings,
                  first_step_done - begin, finished - first_step_done)
