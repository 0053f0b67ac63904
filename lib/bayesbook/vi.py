"""Stochastic variational inference (SVI) for the coin model, in NumPyro and Pyro.

A *guide* is the family of distributions ``q`` that SVI fits to the posterior. Two
families are provided, each living on the prior's support ``[low, high]`` (so that
``q`` never puts mass where the posterior has none):

* ``"beta"``: ``theta = low + (high - low) X`` with ``X ~ Beta(alpha, beta)``;
  parameters ``alpha, beta > 0``;
* ``"truncated_normal"``: a Normal(``loc``, ``scale``) restricted to ``[low, high]``;
  ``loc`` may lie outside the interval, which lets the family fit a posterior piled
  against a bound.

The optimiser works on unconstrained parameters: ``log alpha``, ``log beta`` for the
Beta guide; for the truncated normal ``log scale`` and ``loc_shift``, the location's
distance from its starting value in units of the starting scale
(``loc = loc_0 + scale_0 * loc_shift``). Adam moves each unconstrained parameter by
about the learning rate per step, whatever the gradient's size, which is why a
learning rate of 0.0005 needs thousands of steps to move ``alpha`` from 10 to 100,
and why the location is measured in units of the posterior's width rather than of
``theta`` (a step of 0.01 in ``theta`` is a tenth of a posterior sd at n = 5 and
almost one at n = 1000).

:func:`fit_coin` fits one posterior in either library. :func:`fit_coin_grid` fits many
priors and sample sizes in NumPyro as one compiled program (``jax.vmap`` over the fits,
``jax.lax.scan`` over the steps). The optimiser is Adam with an optional exponential
decay of the learning rate and optional averaging of the iterates
(:class:`SVISettings`).

The exact scores (KL divergence from the guide to the posterior by quadrature, the
best KL a family can reach, PSIS k-hat) are in :mod:`bayesbook.vi_scoring`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from . import models
from ._checks import check_choice, check_counts, check_integer, check_positive, check_real
from ._lazy_imports import repair_numpyro_import
from .priors import Prior, check_grid, grid_position
from .svi import FAST_COMPILE, SVISettings, run_pyro_svi, run_steps

__all__ = [
    "FAMILIES",
    "PARAMETERS",
    "SVIResult",
    "default_init",
    "to_unconstrained",
    "natural",
    "to_natural",
    "numpyro_guide_distribution",
    "pyro_guide_distribution",
    "numpyro_guide",
    "pyro_guide",
    "fit_coin",
    "VIGrid",
    "fit_coin_grid",
    "elbos",
]

FAMILIES = ("beta", "truncated_normal")
#: Unconstrained parameters of each family, in order.
PARAMETERS = {"beta": ("log_alpha", "log_beta"), "truncated_normal": ("loc_shift", "log_scale")}


@dataclass
class SVIResult:
    """A fitted guide.

    ``params`` are the family's natural parameters (``alpha, beta`` or ``loc, scale``),
    ``losses`` the loss (negative ELBO estimate) at every step, ``support`` the
    guide's interval. ``compile_seconds`` is the time to compile (NumPyro) or the
    first, tracing step (Pyro); ``run_seconds`` the time of the optimisation itself.
    For the fits of a grid they are each fit's equal share. ``reference`` is the
    starting point, against which the truncated normal's ``loc_shift`` is measured.
    """

    family: str
    backend: str
    params: dict[str, float]
    losses: np.ndarray
    support: tuple[float, float]
    settings: SVISettings
    compile_seconds: float
    run_seconds: float
    reference: dict[str, float]

    @property
    def unconstrained(self) -> dict[str, float]:
        return to_unconstrained(self.family, self.params, self.reference)


def default_init(family: str, support: tuple[float, float], k: int, n: int) -> dict[str, float]:
    """A starting guide where the likelihood points, without using the prior's shape.

    The flat-prior posterior Beta(1 + k, 1 + n - k) gives the start. The truncated
    normal takes its mean and sd as its location and scale: they are the parameters of
    the normal *before* its restriction to ``support``, so the start is the likelihood's
    normal approximation cut by the support (where the support cuts off the likelihood's
    peak, the location lies beyond the bound, as the best fit's does). The Beta guide
    matches the mean and sd of that posterior restricted to ``support``, by its moments
    on the support. Starting near the answer is what makes a few hundred steps enough;
    the source lecture's Beta(10, 10) start for n = 1000 is thousands of its small Adam
    steps away in log-parameters.
    """
    from scipy import special

    family = check_choice("family", family, FAMILIES)
    k, n = check_counts(k, n)
    low, high = support
    a, b = 1.0 + k, 1.0 + n - k
    if family == "truncated_normal":
        mean = a / (a + b)
        return {"loc": mean, "scale": math.sqrt(mean * (1 - mean) / (a + b + 1))}

    def partial_moment(order):  # E[theta^order; low <= theta <= high] for theta ~ Beta(a, b)
        ratio = math.exp(special.betaln(a + order, b) - special.betaln(a, b))
        return ratio * (special.betainc(a + order, b, high) - special.betainc(a + order, b, low))

    mass = partial_moment(0)
    mean = partial_moment(1) / mass
    sd = math.sqrt(max(partial_moment(2) / mass - mean**2, 1e-12))
    x_mean, x_var = (mean - low) / (high - low), (sd / (high - low)) ** 2
    common = x_mean * (1 - x_mean) / x_var - 1
    return {"alpha": max(x_mean * common, 0.1), "beta": max((1 - x_mean) * common, 0.1)}


def to_unconstrained(family: str, params: dict[str, float], reference: dict[str, float]) -> dict[str, float]:
    """Natural parameters -> the optimiser's unconstrained ones; ``reference`` is the start."""
    family = check_choice("family", family, FAMILIES)
    if family == "beta":
        return {"log_alpha": math.log(check_positive("alpha", params["alpha"])),
                "log_beta": math.log(check_positive("beta", params["beta"]))}
    shift = (check_real("loc", params["loc"]) - reference["loc"]) / reference["scale"]
    return {"loc_shift": shift, "log_scale": math.log(check_positive("scale", params["scale"]))}


def natural(family: str, unconstrained: dict, reference: dict, exp=np.exp) -> dict:
    """The optimiser's unconstrained parameters -> natural ones, with ``exp`` of any array library."""
    if family == "beta":
        return {"alpha": exp(unconstrained["log_alpha"]), "beta": exp(unconstrained["log_beta"])}
    return {"loc": reference["loc"] + reference["scale"] * unconstrained["loc_shift"],
            "scale": exp(unconstrained["log_scale"])}


def to_natural(family: str, unconstrained: dict, reference: dict) -> dict[str, float]:
    """Like :func:`natural`, as Python floats."""
    return {name: float(value) for name, value in natural(family, unconstrained, reference).items()}


# -- the guide in each library ---------------------------------------------------------------


def numpyro_guide_distribution(family: str, params: dict, low, high):
    """The guide's NumPyro distribution from its natural parameters (JAX values)."""
    import numpyro.distributions as dist

    from .numpyro_dists import IntervalTransformed

    if family == "beta":
        beta = dist.Beta(params["alpha"], params["beta"])
        return IntervalTransformed(beta, dist.transforms.AffineTransform(low, high - low), low, high)
    return dist.TruncatedNormal(params["loc"], params["scale"], low=low, high=high)


def pyro_guide_distribution(family: str, params: dict, low: float, high: float):
    """The guide's Pyro distribution from its natural parameters (tensors)."""
    import pyro.distributions as dist

    from .pyro_dists import IntervalTransformed, InverseCDFTruncated

    if family == "beta":
        beta = dist.Beta(params["alpha"], params["beta"])
        return IntervalTransformed(beta, dist.transforms.AffineTransform(low, high - low), low, high)
    return InverseCDFTruncated(dist.Normal(params["loc"], params["scale"]), low=low, high=high)


def numpyro_guide(family: str, low, high, init: dict):
    """A NumPyro guide ``guide(*model_args)`` of ``family`` on ``[low, high]``, starting at ``init``."""
    import jax.numpy as jnp
    import numpyro

    start = to_unconstrained(family, init, init)

    def guide(*args, **kwargs):
        unconstrained = {name: numpyro.param(name, start[name]) for name in PARAMETERS[family]}
        params = natural(family, unconstrained, init, exp=jnp.exp)
        return numpyro.sample("theta", numpyro_guide_distribution(family, params, low, high))

    return guide


def pyro_guide(family: str, low: float, high: float, init: dict):
    """A Pyro guide ``guide(*model_args)`` of ``family`` on ``[low, high]``, starting at ``init``."""
    import pyro
    import torch

    start = to_unconstrained(family, init, init)

    def guide(*args, **kwargs):
        unconstrained = {name: pyro.param(name, torch.tensor(start[name])) for name in PARAMETERS[family]}
        params = natural(family, unconstrained, init, exp=torch.exp)
        return pyro.sample("theta", pyro_guide_distribution(family, params, low, high))

    return guide


# -- fitting ---------------------------------------------------------------------------------


def _numpyro_fit_function(model, guide, settings: SVISettings):
    """``fit(key, *args) -> (unconstrained params, losses)``: one SVI run as a ``lax.scan``."""
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.optim import Adam

    repair_numpyro_import()  # see bayesbook._lazy_imports

    svi = SVI(model, guide, Adam(settings.learning_rate_at), Trace_ELBO(num_particles=settings.num_particles))

    def fit(key, *args):
        # the guides of this module declare unconstrained parameters, so the optimiser's
        # values are the parameters themselves
        averaged, losses, _ = run_steps(svi, svi.init(key, *args), settings, *args)
        return averaged, losses

    return fit


def _check_fit_args(family, settings, seed):
    family = check_choice("family", family, FAMILIES)
    if not isinstance(settings, SVISettings):
        raise TypeError(f"settings must be an SVISettings, got {type(settings).__name__}")
    check_integer("seed", seed, minimum=0)
    return family


def fit_coin(
    prior: Prior,
    k: int,
    n: int,
    family: str,
    *,
    backend: str = "numpyro",
    settings: SVISettings = SVISettings(),
    init: dict | None = None,
    seed: int = 0,
    fast_compile: bool = False,
) -> SVIResult:
    """Fit a ``family`` guide to the coin posterior with ``prior`` after ``k`` of ``n``.

    ``init`` holds the starting natural parameters (default :func:`default_init`,
    near the flat-prior posterior).
    Raises ``ValueError`` naming the argument for an unknown family or backend, bad
    counts, or bad settings. ``fast_compile`` compiles the NumPyro program with
    :data:`FAST_COMPILE`.
    """
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a bayesbook.priors.Prior, got {type(prior).__name__}")
    family = _check_fit_args(family, settings, seed)
    n_value, k_value = models.coin_data(backend, k, n)
    low, high = prior.support
    init = dict(init or default_init(family, prior.support, k, n))
    if backend == "numpyro":
        import jax

        guide = numpyro_guide(family, low, high, init)
        fit = _numpyro_fit_function(models.numpyro_coin_model, guide, settings)
        args = (jax.random.PRNGKey(seed), prior.numpyro(), n_value, k_value)
        program = jax.jit(lambda key, n, k: fit(key, prior.numpyro(), n, k))
        start = perf_counter()
        compiled = program.lower(args[0], n_value, k_value).compile(FAST_COMPILE if fast_compile else None)
        compiled_at = perf_counter()
        params, losses = jax.block_until_ready(compiled(args[0], n_value, k_value))
        run_seconds = perf_counter() - compiled_at
        return SVIResult(family, "numpyro", to_natural(family, params, init), np.asarray(losses, float), (low, high),
                         settings, compiled_at - start, run_seconds, init)
    return _fit_pyro(prior, n_value, k_value, family, settings, init, seed)


def _fit_pyro(prior, n_value, k_value, family, settings, init, seed) -> SVIResult:
    low, high = prior.support
    prior_distribution = prior.pyro()

    def model():
        return models.pyro_coin_model(prior_distribution, n_value, k_value)

    # the coin model has no plates; saying so spares Pyro a guess it logs
    run = run_pyro_svi(model, pyro_guide(family, low, high, init), settings=settings, seed=seed,
                       max_plate_nesting=0)
    # the guides declare unconstrained parameters: the store's values are the parameters themselves
    unconstrained = {name: float(run.params[name]) for name in PARAMETERS[family]}
    return SVIResult(family, "pyro", to_natural(family, unconstrained, init), run.losses, (low, high), settings,
                     run.compile_seconds, run.run_seconds, init)


@dataclass
class VIGrid:
    """The fits of :func:`fit_coin_grid`, keyed by (prior index, counts index)."""

    priors: tuple[Prior, ...]
    counts: tuple[tuple[int, int], ...]
    family: str
    fits: dict[tuple[int, int], SVIResult]
    compile_seconds: float
    run_seconds: float

    def __getitem__(self, key: tuple[Prior, int]) -> SVIResult:
        """``grid[prior, n]``: the fit for ``prior`` and the counts whose trial number is ``n``."""
        return self.fits[grid_position(self.priors, self.counts, *key)]


def fit_coin_grid(
    priors,
    counts,
    family: str,
    *,
    settings: SVISettings = SVISettings(),
    init: dict | None = None,
    seed: int = 0,
    fast_compile: bool = False,
) -> VIGrid:
    """SVI for every prior and every ``(k, n)``, as one compiled NumPyro program.

    The prior is chosen by index inside the program
    (:class:`bayesbook.numpyro_dists.PriorSwitch`), the guide lives on that prior's
    support, and every fit starts from ``init`` (default :func:`default_init`) and runs
    ``settings.num_steps`` steps. ``fast_compile`` compiles with :data:`FAST_COMPILE`.
    """
    import jax
    import jax.numpy as jnp
    import numpyro

    from .numpyro_dists import PriorSwitch

    priors, counts = check_grid(priors, counts)
    family = _check_fit_args(family, settings, seed)
    distributions = [prior.numpyro() for prior in priors]
    bounds = np.array([prior.support for prior in priors])
    inits = [[dict(init or default_init(family, prior.support, k, n)) for k, n in counts] for prior in priors]
    names = PARAMETERS[family]
    # per fit: the unconstrained start, then the reference point (loc, scale) of the truncated normal
    starts = np.array(
        [[[to_unconstrained(family, start, start)[name] for name in names]
          + [start.get("loc", 0.0), start.get("scale", 1.0)] for start in row] for row in inits]
    )

    def model(index, n, k, start):
        return models.numpyro_coin_model(PriorSwitch(distributions, bounds, index), n, k)

    def guide(index, n, k, start):
        low, high = jnp.asarray(bounds)[index, 0], jnp.asarray(bounds)[index, 1]
        unconstrained = {name: numpyro.param(name, start[position]) for position, name in enumerate(names)}
        params = natural(family, unconstrained, {"loc": start[2], "scale": start[3]}, exp=jnp.exp)
        return numpyro.sample("theta", numpyro_guide_distribution(family, params, low, high))

    fit = _numpyro_fit_function(model, guide, settings)
    shape = (len(priors), len(counts))
    index = np.broadcast_to(np.arange(len(priors))[:, None], shape).ravel()
    ks = np.broadcast_to(np.array([k for k, _ in counts], float)[None, :], shape).ravel()
    ns = np.broadcast_to(np.array([n for _, n in counts], float)[None, :], shape).ravel()
    keys = jax.random.split(jax.random.PRNGKey(seed), index.size)
    args = (keys, jnp.asarray(index), jnp.asarray(ns, jnp.float32), jnp.asarray(ks, jnp.float32),
            jnp.asarray(starts.reshape(-1, len(names) + 2), jnp.float32))
    program = jax.jit(jax.vmap(fit))
    start = perf_counter()
    compiled = program.lower(*args).compile(FAST_COMPILE if fast_compile else None)
    compiled_at = perf_counter()
    params, losses = jax.block_until_ready(compiled(*args))
    run_seconds = perf_counter() - compiled_at
    compile_seconds = compiled_at - start
    params = {name: np.asarray(value, float).reshape(shape) for name, value in params.items()}
    losses = np.asarray(losses, float).reshape(shape + (settings.num_steps,))
    share = index.size
    fits = {
        (i, j): SVIResult(
            family, "numpyro", to_natural(family, {name: value[i, j] for name, value in params.items()}, inits[i][j]),
            losses[i, j], tuple(bounds[i]), settings, compile_seconds / share, run_seconds / share, inits[i][j],
        )
        for i in range(shape[0])
        for j in range(shape[1])
    }
    return VIGrid(priors, counts, family, fits, compile_seconds, run_seconds)


def elbos(fits, prior: Prior, counts, *, num_particles: int = 5000, seed: int = 0, fast_compile: bool = False) -> np.ndarray:
    """The ELBO of each fitted guide as NumPyro's own ``Trace_ELBO`` estimates it.

    ``fits[i]`` was fitted to ``prior`` after ``counts[i] = (k, n)``; all fits must be of one
    family on one support. The estimates use ``num_particles`` draws each and are computed
    in one compiled program (with :data:`FAST_COMPILE` if ``fast_compile``). This is the
    library's number (its loss, negated), so
    comparing it with the exact ``log evidence - KL(q || p)`` checks the library and the
    quadrature against each other.
    """
    import jax
    import jax.numpy as jnp
    import numpyro
    from numpyro.infer import Trace_ELBO

    fits = list(fits)
    if not fits or not all(isinstance(fit, SVIResult) for fit in fits):
        raise TypeError("fits must be a non-empty sequence of SVIResult objects")
    if len({(fit.family, fit.support) for fit in fits}) != 1:
        raise ValueError("fits must share one family and one support")
    counts = [check_counts(k, n) for k, n in counts]
    if len(counts) != len(fits):
        raise ValueError(f"counts must hold one (k, n) per fit; got {len(counts)} for {len(fits)} fits")
    num_particles = check_integer("num_particles", num_particles, minimum=1)
    family, (low, high) = fits[0].family, fits[0].support
    names = PARAMETERS[family]
    unconstrained = jnp.asarray([[fit.unconstrained[name] for name in names] for fit in fits])
    references = jnp.asarray([[fit.reference.get("loc", 0.0), fit.reference.get("scale", 1.0)] for fit in fits])
    prior_distribution = prior.numpyro()
    loss = Trace_ELBO(num_particles=num_particles)

    def model(n, k, reference):
        return models.numpyro_coin_model(prior_distribution, n, k)

    def guide(n, k, reference):
        # the values of these params come from each fit's param_map
        unconstrained = {name: numpyro.param(name, 0.0) for name in names}
        params = natural(family, unconstrained, {"loc": reference[0], "scale": reference[1]}, exp=jnp.exp)
        return numpyro.sample("theta", numpyro_guide_distribution(family, params, low, high))

    def one(key, n, k, vector, reference):
        return -loss.loss(key, dict(zip(names, vector)), model, guide, n, k, reference)

    keys = jax.random.split(jax.random.PRNGKey(check_integer("seed", seed, minimum=0)), len(fits))
    ns = jnp.asarray([float(n) for _, n in counts])
    ks = jnp.asarray([float(k) for k, _ in counts])
    program = jax.jit(jax.vmap(one)).lower(keys, ns, ks, unconstrained, references)
    compiled = program.compile(FAST_COMPILE if fast_compile else None)
    return np.asarray(compiled(keys, ns, ks, unconstrained, references), dtype=float)

