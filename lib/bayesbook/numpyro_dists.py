"""NumPyro distributions that NumPyro does not ship, for the priors of :mod:`bayesbook.priors`.

* :class:`UnitIntervalTransformed` — a transformed distribution whose support is
  declared to be [0, 1] (NumPyro would otherwise infer "positive" from an
  ``ExpTransform``, or "real" from an ``AffineTransform``, and NUTS would then
  explore values of ``theta`` outside [0, 1]).
* :class:`RejectionTruncated` — any NumPyro distribution restricted to an interval
  and renormalised; sampled by accept–reject, with the probability mass of the
  interval supplied by the caller.
* :class:`IntervalTransformed` — the same as the first for ``[low, high]`` (the Beta
  guide on a prior's support).
* :class:`PriorSwitch` — the prior ``distributions[index]`` for a traced ``index``, so
  one compiled program serves a whole grid of priors (:func:`bayesbook.mcmc.run_coin_grid`).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax, random
from numpyro.distributions import Distribution, TransformedDistribution, constraints
from numpyro.distributions.util import promote_shapes

__all__ = ["UnitIntervalTransformed", "IntervalTransformed", "RejectionTruncated", "PriorSwitch"]


class UnitIntervalTransformed(TransformedDistribution):
    """A ``TransformedDistribution`` whose values lie in [0, 1] by construction."""

    support = constraints.unit_interval


class IntervalTransformed(TransformedDistribution):
    """A ``TransformedDistribution`` whose values lie in ``[low, high]`` by construction.

    Used for the Beta guide on a prior's support: ``low + (high - low) * Beta``.
    """

    def __init__(self, base, transforms, low, high, *, validate_args=None):
        self._interval = constraints.interval(low, high)
        super().__init__(base, transforms, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return self._interval


class RejectionTruncated(Distribution):
    """``base`` restricted to ``[low, high]`` and renormalised by its mass there.

    Parameters
    ----------
    base
        A scalar NumPyro distribution that can be sampled.
    low, high
        The interval kept (static floats).
    log_mass
        ``log P(low <= X <= high)`` under ``base``; a JAX expression of the base
        parameters, so that ``log_prob`` stays differentiable in them.
    """

    reparametrized_params: list[str] = []

    def __init__(self, base: Distribution, low: float, high: float, log_mass, *, validate_args=None):
        self.base = base
        self.low, self.high = float(low), float(high)
        (self.log_mass,) = promote_shapes(jnp.asarray(log_mass), shape=base.batch_shape)
        self._support = constraints.interval(self.low, self.high)
        super().__init__(batch_shape=base.batch_shape, event_shape=(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return self._support

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + self.batch_shape

        def not_done(state):
            return ~jnp.all(state[1])

        def propose(state):
            key, accepted, value = state
            key, subkey = random.split(key)
            proposal = self.base.sample(subkey, sample_shape)
            inside = (proposal >= self.low) & (proposal <= self.high)
            value = jnp.where(accepted, value, proposal)
            return key, accepted | inside, value

        initial = (key, jnp.zeros(shape, dtype=bool), jnp.zeros(shape))
        return lax.while_loop(not_done, propose, initial)[2]

    def log_prob(self, value):
        inside = (value >= self.low) & (value <= self.high)
        return jnp.where(inside, self.base.log_prob(value) - self.log_mass, -jnp.inf)


class PriorSwitch(Distribution):
    """The prior ``distributions[index]``, where ``index`` may be a traced integer.

    Every distribution must be scalar with an interval support inside [0, 1]
    (``bounds[i] = (low, high)``). ``log_prob`` and ``sample`` dispatch with
    ``jax.lax.switch`` and the support is the chosen interval, so NUTS maps the
    real line onto the right interval for every index. Under ``jax.vmap`` over
    ``index`` JAX evaluates every branch and keeps the chosen one; the branches
    are cheap scalar densities, so one program for all priors is far cheaper
    than compiling one sampler per prior.
    """

    reparametrized_params: list[str] = []

    def __init__(self, distributions, bounds, index, *, validate_args=None):
        self.distributions = tuple(distributions)
        bounds = jnp.asarray(bounds, dtype=jnp.result_type(float))
        self.index = jnp.asarray(index)
        self.low, self.high = bounds[self.index, 0], bounds[self.index, 1]
        super().__init__(batch_shape=(), event_shape=(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    def sample(self, key, sample_shape=()):
        branches = [lambda key, d=d: d.sample(key, sample_shape) for d in self.distributions]
        return lax.switch(self.index, branches, key)

    def log_prob(self, value):
        return lax.switch(self.index, [d.log_prob for d in self.distributions], value)
