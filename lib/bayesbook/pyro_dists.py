"""Pyro distributions that Pyro does not ship, for the priors of :mod:`bayesbook.priors`.

* :class:`UnitIntervalTransformed` — a transformed distribution whose support is
  declared to be [0, 1] (as in :mod:`bayesbook.numpyro_dists`), and
  :class:`IntervalTransformed`, the same for ``[low, high]`` (the Beta guide on a
  prior's support).
* :class:`InverseCDFTruncated` — any PyTorch distribution with ``cdf`` and
  ``icdf`` (Normal, Laplace, ...) restricted to an interval. Sampling pushes a
  uniform draw on ``[F(low), F(high)]`` through ``F^{-1}``, so it is
  reparameterised: gradients flow through samples, as variational inference needs.
* :class:`RejectionTruncated` — any Pyro distribution restricted to an interval by
  Pyro's own accept–reject :class:`pyro.distributions.Rejector`, with the
  ``support`` that ``Rejector`` lacks (without it NUTS cannot run).
"""

from __future__ import annotations

import torch
from pyro.distributions import Rejector, TorchDistribution, TransformedDistribution, constraints

__all__ = ["UnitIntervalTransformed", "IntervalTransformed", "InverseCDFTruncated", "RejectionTruncated"]


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

    def expand(self, batch_shape, _instance=None):
        # PyTorch requires subclasses with their own __init__ to say how to expand
        # (Pyro expands a guide's distribution over vectorised particles).
        new = self._get_checked_instance(IntervalTransformed, _instance)
        new._interval = self._interval
        return super().expand(batch_shape, _instance=new)


class InverseCDFTruncated(TorchDistribution):
    """``base`` restricted to ``[low, high]`` (either may be ``None``: no bound on that side)."""

    arg_constraints: dict = {}
    has_rsample = True

    def __init__(self, base, low: float | None = None, high: float | None = None, *, validate_args=None):
        self.base = base
        self.low, self.high = low, high
        dtype = base.mean.dtype
        self._cdf_low = base.cdf(torch.as_tensor(low, dtype=dtype)) if low is not None else torch.zeros((), dtype=dtype)
        self._cdf_high = base.cdf(torch.as_tensor(high, dtype=dtype)) if high is not None else torch.ones((), dtype=dtype)
        self._log_mass = torch.log(self._cdf_high - self._cdf_low)
        super().__init__(batch_shape=base.batch_shape, event_shape=torch.Size(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        if self.low is None:
            return constraints.less_than(self.high)
        if self.high is None:
            return constraints.greater_than(self.low)
        return constraints.interval(self.low, self.high)

    def rsample(self, sample_shape=torch.Size()):
        shape = self._extended_shape(sample_shape)
        uniform = torch.rand(shape, dtype=self._cdf_low.dtype, device=self._cdf_low.device)
        level = self._cdf_low + uniform * (self._cdf_high - self._cdf_low)
        eps = torch.finfo(level.dtype).tiny
        value = self.base.icdf(level.clamp(eps, 1 - torch.finfo(level.dtype).eps))
        low = -torch.inf if self.low is None else self.low
        high = torch.inf if self.high is None else self.high
        return value.clamp(low, high)

    def log_prob(self, value):
        inside = torch.ones_like(value, dtype=torch.bool)
        if self.low is not None:
            inside = inside & (value >= self.low)
        if self.high is not None:
            inside = inside & (value <= self.high)
        log_density = self.base.log_prob(value) - self._log_mass
        return torch.where(inside, log_density, torch.full_like(log_density, -torch.inf))


class RejectionTruncated(Rejector):
    """``propose`` restricted to ``[low, high]`` by accept–reject sampling.

    ``log_mass`` is ``log P(low <= X <= high)`` under ``propose``, computed from its
    parameters with torch operations so that ``log_prob`` is differentiable in them.
    """

    def __init__(self, propose, low: float, high: float, log_mass):
        self.low, self.high = float(low), float(high)

        def log_prob_accept(value):
            return ((value >= self.low) & (value <= self.high)).type_as(value).log()

        super().__init__(propose, log_prob_accept, log_mass)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)
