"""Priors on [0, 1] for the coin's ``theta``, each defined once for both NumPyro and Pyro.

Every family is a small class holding its validated parameters, with

* ``log_density(theta)`` — the exact log density, from closed forms and SciPy
  (NumPy in, NumPy out, float64): the ground truth;
* ``numpyro()`` and ``pyro()`` — the same prior as a distribution of each library,
  ready for ``numpyro.sample`` / ``pyro.sample``;
* ``posterior(k, n)`` — the exact posterior by quadrature
  (:func:`bayesbook.exact.quadrature_posterior`).

Families (``make_prior(family, **params)`` builds one from its name):

=========================  ==================  ==============================================
family                     parameters          meaning
=========================  ==================  ==============================================
``beta``                   ``alpha, beta``     Beta(alpha, beta), the conjugate prior
``uniform``                ``lower, upper``    Uniform on [lower, upper] within [0, 1]
``truncated_lognormal``    ``mu, sigma``       LogNormal(mu, sigma) restricted to (0, 1]
``shifted_von_mises``      ``kappa``           VonMises(0, kappa) on [-pi, pi] mapped onto [0, 1]
``truncated_von_mises``    ``kappa``           VonMises(0.5, kappa) restricted to [0, 1]
``truncated_laplace``      ``loc, scale``      Laplace(loc, scale) restricted to [0, 1]
=========================  ==================  ==============================================

The truncated log-normal has two constructions that define the same distribution:
``"transform"`` (the exponential of a normal truncated above at 0) and
``"rejection"`` (a log-normal proposal, rejected above 1).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from scipy import special, stats

from . import exact
from ._checks import check_choice, check_positive, check_real

__all__ = [
    "BACKENDS",
    "Prior",
    "Beta",
    "Uniform",
    "TruncatedLogNormal",
    "ShiftedVonMises",
    "TruncatedVonMises",
    "TruncatedLaplace",
    "FAMILIES",
    "grid_position",
    "check_grid",
    "book_priors",
    "make_prior",
    "draw",
]

BACKENDS = ("numpyro", "pyro")

# 64-point Gauss–Legendre rule on [0, 1], for the von Mises mass of [0, 1] (smooth integrand).
_VM_NODES, _VM_WEIGHTS = np.polynomial.legendre.leggauss(64)
_VM_NODES, _VM_WEIGHTS = 0.5 * (_VM_NODES + 1.0), 0.5 * _VM_WEIGHTS


def _torch_param(value: float):
    import torch

    return torch.as_tensor(value, dtype=torch.get_default_dtype())


class Prior:
    """Base class: a prior on [0, 1] with its parameters; see the module docstring."""

    family: ClassVar[str]
    name: ClassVar[str]
    constructions: ClassVar[tuple[str, ...]] = ("default",)

    def __init__(self, **params: float) -> None:
        self._params = params

    # -- description -------------------------------------------------------------
    @property
    def params(self) -> dict[str, float]:
        """The parameters, by name."""
        return dict(self._params)

    @property
    def support(self) -> tuple[float, float]:
        """The interval outside which the density is zero."""
        return (0.0, 1.0)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        """Points inside the support where the density has a kink (for quadrature)."""
        return ()

    @property
    def label(self) -> str:
        """Short human-readable name, e.g. ``truncated Laplace(loc=0.5, scale=0.05)``."""
        args = ", ".join(f"{key}={value:g}" for key, value in self._params.items())
        return f"{self.name}({args})"

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.params == self.params

    def __hash__(self) -> int:
        return hash((type(self), tuple(self._params.items())))

    # -- ground truth ----------------------------------------------------------------
    def log_density(self, theta: np.ndarray | float) -> np.ndarray:
        """Exact log density at ``theta`` (``-inf`` outside the support)."""
        theta = np.asarray(theta, dtype=float)
        low, high = self.support
        inside = (theta >= low) & (theta <= high)
        safe = np.where(inside, theta, 0.5 * (low + high))
        return np.where(inside, self._log_density_inside(safe), -np.inf)

    def _log_density_inside(self, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def posterior(self, k: int, n: int, *, panels: int = 400) -> exact.QuadraturePosterior:
        """Exact posterior after ``k`` successes in ``n`` trials, by quadrature."""
        return exact.quadrature_posterior(
            self.log_density, k, n, support=self.support, breakpoints=self.breakpoints, panels=panels
        )

    # -- the two libraries -------------------------------------------------------------
    def distribution(self, backend: str, construction: str | None = None):
        """This prior as a NumPyro (``backend="numpyro"``) or Pyro (``"pyro"``) distribution.

        ``construction`` picks one of ``self.constructions`` (default: the first).
        """
        return self.from_arrays(backend, construction, **self._params)

    @classmethod
    def from_arrays(cls, backend: str, construction: str | None = None, **params):
        """The family's distribution built directly from parameter arrays, without validation.

        Parameters may be JAX arrays (NumPyro) or PyTorch tensors (Pyro), so gradients
        with respect to them can be taken, as variational inference and the tests do.
        """
        backend = check_choice("backend", backend, BACKENDS)
        construction = cls.constructions[0] if construction is None else construction
        construction = check_choice("construction", construction, cls.constructions)
        return getattr(cls, f"_{backend}")(construction, **params)

    def numpyro(self, construction: str | None = None):
        """This prior as a ``numpyro.distributions.Distribution``."""
        return self.distribution("numpyro", construction)

    def pyro(self, construction: str | None = None):
        """This prior as a ``pyro.distributions.Distribution`` (PyTorch's default dtype)."""
        return self.distribution("pyro", construction)

    @staticmethod
    def _numpyro(construction: str, **params):
        raise NotImplementedError

    @staticmethod
    def _pyro(construction: str, **params):
        raise NotImplementedError


class Beta(Prior):
    """Beta(alpha, beta): the conjugate prior of chapter 1."""

    family, name = "beta", "Beta"

    def __init__(self, alpha: float, beta: float) -> None:
        super().__init__(alpha=check_positive("alpha", alpha), beta=check_positive("beta", beta))

    def _log_density_inside(self, theta):
        return stats.beta(self._params["alpha"], self._params["beta"]).logpdf(theta)

    @staticmethod
    def _numpyro(construction, alpha, beta):
        import numpyro.distributions as dist

        return dist.Beta(alpha, beta)

    @staticmethod
    def _pyro(construction, alpha, beta):
        import pyro.distributions as dist

        return dist.Beta(_torch_param(alpha), _torch_param(beta))


class Uniform(Prior):
    """Uniform on [lower, upper] with 0 <= lower < upper <= 1."""

    family, name = "uniform", "Uniform"

    def __init__(self, lower: float, upper: float) -> None:
        lower, upper = check_real("lower", lower), check_real("upper", upper)
        if not 0.0 <= lower < upper <= 1.0:
            raise ValueError(f"lower and upper must satisfy 0 <= lower < upper <= 1; got lower={lower}, upper={upper}")
        super().__init__(lower=lower, upper=upper)

    @property
    def support(self):
        return (self._params["lower"], self._params["upper"])

    def _log_density_inside(self, theta):
        return np.full_like(theta, -math.log(self._params["upper"] - self._params["lower"]))

    @staticmethod
    def _numpyro(construction, lower, upper):
        import numpyro.distributions as dist

        return dist.Uniform(lower, upper)

    @staticmethod
    def _pyro(construction, lower, upper):
        import pyro.distributions as dist

        return dist.Uniform(_torch_param(lower), _torch_param(upper))


class TruncatedLogNormal(Prior):
    """LogNormal(mu, sigma) restricted to (0, 1]: ``exp(Z)`` with ``Z ~ Normal(mu, sigma)`` given ``Z <= 0``."""

    family, name = "truncated_lognormal", "truncated log-normal"
    constructions = ("transform", "rejection")

    def __init__(self, mu: float, sigma: float) -> None:
        super().__init__(mu=check_real("mu", mu), sigma=check_positive("sigma", sigma))

    def _log_density_inside(self, theta):
        mu, sigma = self._params["mu"], self._params["sigma"]
        log_mass = special.log_ndtr(-mu / sigma)  # P(Z <= 0) = P(theta <= 1)
        return stats.lognorm(s=sigma, scale=math.exp(mu)).logpdf(theta) - log_mass

    @staticmethod
    def _numpyro(construction, mu, sigma):
        import jax.scipy.special as jsp
        import numpyro.distributions as dist

        from .numpyro_dists import RejectionTruncated, UnitIntervalTransformed

        mu, sigma = mu, sigma
        if construction == "rejection":
            return RejectionTruncated(dist.LogNormal(mu, sigma), 0.0, 1.0, jsp.log_ndtr(-mu / sigma))
        # No lower bound (low=None). NumPyro accepts low=-inf and evaluates log_prob,
        # but the gradient of log_prob with respect to loc is then NaN.
        truncated_normal = dist.TruncatedNormal(loc=mu, scale=sigma, high=0.0)
        return UnitIntervalTransformed(truncated_normal, dist.transforms.ExpTransform())

    @staticmethod
    def _pyro(construction, mu, sigma):
        import pyro.distributions as dist
        import torch

        from .pyro_dists import InverseCDFTruncated, RejectionTruncated, UnitIntervalTransformed

        mu, sigma = _torch_param(mu), _torch_param(sigma)
        if construction == "rejection":
            return RejectionTruncated(dist.LogNormal(mu, sigma), 0.0, 1.0, torch.special.log_ndtr(-mu / sigma))
        truncated_normal = InverseCDFTruncated(dist.Normal(mu, sigma), high=0.0)
        return UnitIntervalTransformed(truncated_normal, dist.transforms.ExpTransform())


class ShiftedVonMises(Prior):
    """VonMises(0, kappa) on [-pi, pi], mapped onto [0, 1] by ``theta = 0.5 + x / (2 pi)``."""

    family, name = "shifted_von_mises", "shifted von Mises"

    def __init__(self, kappa: float) -> None:
        super().__init__(kappa=check_positive("kappa", kappa))

    def _log_density_inside(self, theta):
        # change of variables: p(theta) = p_x(2 pi (theta - 1/2)) * 2 pi
        angle = 2.0 * math.pi * (theta - 0.5)
        return stats.vonmises(self._params["kappa"]).logpdf(angle) + math.log(2.0 * math.pi)

    @staticmethod
    def _numpyro(construction, kappa):
        import numpyro.distributions as dist

        from .numpyro_dists import UnitIntervalTransformed

        affine = dist.transforms.AffineTransform(loc=0.5, scale=1.0 / (2.0 * math.pi))
        return UnitIntervalTransformed(dist.VonMises(0.0, kappa), affine)

    @staticmethod
    def _pyro(construction, kappa):
        import pyro.distributions as dist

        from .pyro_dists import UnitIntervalTransformed

        affine = dist.transforms.AffineTransform(loc=0.5, scale=1.0 / (2.0 * math.pi))
        return UnitIntervalTransformed(dist.VonMises(_torch_param(0.0), _torch_param(kappa)), affine)


class TruncatedVonMises(Prior):
    """VonMises(0.5, kappa) restricted to [0, 1] and renormalised (sampled by rejection)."""

    family, name = "truncated_von_mises", "truncated von Mises"
    centre: ClassVar[float] = 0.5

    def __init__(self, kappa: float) -> None:
        super().__init__(kappa=check_positive("kappa", kappa))

    def _log_density_inside(self, theta):
        base = stats.vonmises(self._params["kappa"], loc=TruncatedVonMises.centre)
        return base.logpdf(theta) - math.log(base.cdf(1.0) - base.cdf(0.0))

    @staticmethod
    def _log_mass(kappa, xp, nodes, weights, i0e):
        """log P(0 <= X <= 1) for X ~ VonMises(0.5, kappa), in the array library ``xp``.

        P = ∫_0^1 exp(kappa cos(t - 1/2)) dt / (2 pi I0(kappa)). With the scaled Bessel
        function i0e(kappa) = exp(-kappa) I0(kappa) the two exponentials cancel, so the
        expression is stable for large kappa and differentiable in kappa.
        """
        integral = xp.sum(weights * xp.exp(kappa * (xp.cos(nodes - 0.5) - 1.0)))
        return xp.log(integral) - math.log(2.0 * math.pi) - xp.log(i0e(kappa))

    @staticmethod
    def _numpyro(construction, kappa):
        import jax.numpy as jnp
        import jax.scipy.special as jsp
        import numpyro.distributions as dist

        from .numpyro_dists import RejectionTruncated

        kappa = jnp.asarray(kappa)
        log_mass = TruncatedVonMises._log_mass(kappa, jnp, jnp.asarray(_VM_NODES), jnp.asarray(_VM_WEIGHTS), jsp.i0e)
        return RejectionTruncated(dist.VonMises(TruncatedVonMises.centre, kappa), 0.0, 1.0, log_mass)

    @staticmethod
    def _pyro(construction, kappa):
        import pyro.distributions as dist
        import torch

        from .pyro_dists import RejectionTruncated

        kappa = _torch_param(kappa)
        nodes = torch.as_tensor(_VM_NODES, dtype=kappa.dtype)
        weights = torch.as_tensor(_VM_WEIGHTS, dtype=kappa.dtype)
        log_mass = TruncatedVonMises._log_mass(kappa, torch, nodes, weights, torch.special.i0e)
        return RejectionTruncated(dist.VonMises(_torch_param(TruncatedVonMises.centre), kappa), 0.0, 1.0, log_mass)


class TruncatedLaplace(Prior):
    """Laplace(loc, scale) restricted to [0, 1] and renormalised."""

    family, name = "truncated_laplace", "truncated Laplace"

    def __init__(self, loc: float, scale: float) -> None:
        super().__init__(loc=check_real("loc", loc), scale=check_positive("scale", scale))

    @property
    def breakpoints(self):
        return (self._params["loc"],) if 0.0 < self._params["loc"] < 1.0 else ()

    def _log_density_inside(self, theta):
        base = stats.laplace(loc=self._params["loc"], scale=self._params["scale"])
        return base.logpdf(theta) - math.log(base.cdf(1.0) - base.cdf(0.0))

    @staticmethod
    def _numpyro(construction, loc, scale):
        import numpyro.distributions as dist

        base = dist.Laplace(loc, scale)
        return dist.TruncatedDistribution(base, low=0.0, high=1.0)

    @staticmethod
    def _pyro(construction, loc, scale):
        import pyro.distributions as dist

        from .pyro_dists import InverseCDFTruncated

        base = dist.Laplace(_torch_param(loc), _torch_param(scale))
        return InverseCDFTruncated(base, low=0.0, high=1.0)


FAMILIES: dict[str, type[Prior]] = {
    cls.family: cls for cls in (Beta, Uniform, TruncatedLogNormal, ShiftedVonMises, TruncatedVonMises, TruncatedLaplace)
}


def grid_position(priors, counts, prior: Prior, n: int) -> tuple[int, int]:
    """``(i, j)`` with ``priors[i] == prior`` and ``counts[j] == (k, n)`` for one ``k``; ``KeyError`` otherwise.

    The grids of :mod:`bayesbook.mcmc` and :mod:`bayesbook.vi` are indexed this way.
    """
    ns = [count[1] for count in counts]
    if prior not in priors or ns.count(n) != 1:
        raise KeyError(f"({prior!r}, n={n}) is not one entry of this grid")
    return list(priors).index(prior), ns.index(n)


def check_grid(priors, counts) -> tuple[tuple[Prior, ...], tuple[tuple[int, int], ...]]:
    """Validate the priors and ``(k, n)`` counts of a grid run; return them as tuples."""
    from ._checks import check_counts

    priors = tuple(priors)
    if not priors or not all(isinstance(prior, Prior) for prior in priors):
        raise ValueError("priors must be a non-empty sequence of bayesbook.priors.Prior objects")
    if len(set(priors)) != len(priors):
        raise ValueError("priors must not repeat a prior")
    counts = tuple(check_counts(k, n) for k, n in counts)
    if not counts:
        raise ValueError("counts must hold at least one (k, n) pair")
    return priors, counts


def book_priors() -> list[Prior]:
    """The seven priors that the MCMC and variational chapters run for every sample size.

    The conjugate Beta(5, 5); the flat Uniform(0, 1); Uniform(0.2, 0.7), which rules out
    the true value 0.8; the truncated log-normal(0, 2); the shifted von Mises with
    kappa = 10; the truncated von Mises with kappa = 40; the truncated Laplace(0.5, 0.07).
    """
    return [
        Beta(5.0, 5.0),
        Uniform(0.0, 1.0),
        Uniform(0.2, 0.7),
        TruncatedLogNormal(0.0, 2.0),
        ShiftedVonMises(10.0),
        TruncatedVonMises(40.0),
        TruncatedLaplace(0.5, 0.07),
    ]


def make_prior(family: str, **params: float) -> Prior:
    """Build a prior from its family name and parameters, e.g. ``make_prior("uniform", lower=0.2, upper=0.7)``."""
    family = check_choice("family", family, tuple(FAMILIES))
    cls = FAMILIES[family]
    try:
        return cls(**params)
    except TypeError as error:
        import inspect

        expected = list(inspect.signature(cls.__init__).parameters)[1:]
        if set(params) != set(expected):
            raise ValueError(f"family {family!r} takes parameters {expected}; got {sorted(params)}") from error
        raise


def draw(prior: Prior, backend: str, num_draws: int, seed: int, construction: str | None = None) -> np.ndarray:
    """``num_draws`` independent draws from ``prior`` in ``backend``, as a float64 NumPy array.

    NumPyro gets ``jax.random.PRNGKey(seed)``. PyTorch has no keys, so Pyro draws
    inside ``torch.random.fork_rng()`` after seeding: the same seed gives the same
    draws and the global PyTorch generator is left as it was.
    """
    from ._checks import check_integer

    num_draws = check_integer("num_draws", num_draws, minimum=1)
    seed = check_integer("seed", seed, minimum=0)
    distribution = prior.distribution(backend, construction)
    if backend == "numpyro":
        import jax

        # one compiled program for the whole draw: much faster than running the
        # sampler's operations (rejection loops, inverse CDFs) one at a time
        sample = jax.jit(lambda key: distribution.sample(key, (num_draws,)))
        return np.asarray(sample(jax.random.PRNGKey(seed)), dtype=float)
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return distribution.sample((num_draws,)).detach().numpy().astype(float)
