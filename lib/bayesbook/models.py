"""The coin model, written once for each library.

A model is a plain function. Its observed site takes ``k=None`` by default, so the
same function simulates data (run it forwards) and conditions on data (pass ``k``).
The data enter as two numbers, ``k`` successes in ``n`` trials, never as an array of
``n`` flips: the likelihood depends on the flips only through ``k``, and a sampler
compiled for one ``(k, n)`` then serves every other (JAX compiles one program per
array *shape*, and two scalars have the same shape whatever their values).

``prior`` is a distribution of the model's library: ``prior_object.numpyro()`` or
``prior_object.pyro()`` from :mod:`bayesbook.priors`, or any distribution on [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable

from ._checks import check_choice, check_counts

BACKENDS = ("numpyro", "pyro")


def numpyro_coin_model(prior, n, k=None):
    """``theta ~ prior``, ``k ~ Binomial(n, theta)`` in NumPyro; returns ``theta``."""
    import numpyro
    import numpyro.distributions as dist

    theta = numpyro.sample("theta", prior)
    numpyro.sample("k", dist.Binomial(total_count=n, probs=theta), obs=k)
    return theta


def pyro_coin_model(prior, n, k=None):
    """``theta ~ prior``, ``k ~ Binomial(n, theta)`` in Pyro; returns ``theta``."""
    import pyro
    import pyro.distributions as dist

    theta = pyro.sample("theta", prior)
    pyro.sample("k", dist.Binomial(total_count=n, probs=theta), obs=k)
    return theta


def coin_model(backend: str) -> Callable:
    """The coin model of ``backend`` (``"numpyro"`` or ``"pyro"``)."""
    backend = check_choice("backend", backend, BACKENDS)
    return numpyro_coin_model if backend == "numpyro" else pyro_coin_model


def coin_data(backend: str, k: int, n: int) -> tuple:
    """``(n, k)`` as the model's library wants them: floats of its default type.

    Checks the counts first, so ``k > n``, ``n < 0`` or a non-integer count raises a
    ``ValueError`` naming the argument.
    """
    backend = check_choice("backend", backend, BACKENDS)
    k, n = check_counts(k, n)
    if backend == "numpyro":
        import jax.numpy as jnp

        return jnp.asarray(float(n)), jnp.asarray(float(k))
    import torch

    return torch.tensor(float(n)), torch.tensor(float(k))
