"""The book's models: the coin model, written once for each library, and eight schools.

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


def numpyro_eight_schools_centered(sigma, y=None):
    """Eight schools, centred: ``theta_j ~ Normal(mu, tau)`` sampled directly (NumPyro).

    ``mu ~ Normal(0, 5)``, ``tau ~ HalfCauchy(5)``, ``y_j ~ Normal(theta_j, sigma_j)``.
    With ``y=None`` the model simulates the schools' estimates.
    """
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("school", len(sigma)):
        theta = numpyro.sample("theta", dist.Normal(mu, tau))
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def numpyro_eight_schools_noncentered(sigma, y=None):
    """Eight schools, non-centred: ``theta_j = mu + tau * eta_j`` with ``eta_j ~ Normal(0, 1)`` (NumPyro).

    The same joint distribution of ``(mu, tau, theta, y)`` as the centred model; the
    sampler moves in ``(mu, tau, eta)``, where the posterior has no funnel.
    """
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("school", len(sigma)):
        eta = numpyro.sample("eta", dist.Normal(0.0, 1.0))
        theta = numpyro.deterministic("theta", mu + tau * eta)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def numpyro_eight_schools(sigma, y=None, centered=1.0):
    """Eight schools with the centring of ``theta`` a number: 1 is centred, 0 non-centred (NumPyro).

    The centred model with NumPyro's ``LocScaleReparam(centered)`` applied to ``theta``:
    the sampler moves in ``theta_decentered ~ Normal(centered * mu, tau**centered)`` and
    ``theta = mu + tau**(1 - centered) * (theta_decentered - centered * mu)`` is
    deterministic. At ``centered=0`` this is the non-centred model (with ``eta`` called
    ``theta_decentered``); at 1 it is the centred one. A ``centered`` that is a JAX
    value (traced, as in :func:`bayesbook.mcmc.run_nuts_sweep`) always gives these sites,
    so one compiled sampler serves every value; the Python number ``1`` leaves the
    model unchanged instead, with ``theta`` sampled directly.
    """
    import numpyro
    from numpyro.infer.reparam import LocScaleReparam

    config = {"theta": LocScaleReparam(centered=centered)}
    return numpyro.handlers.reparam(numpyro_eight_schools_centered, config=config)(sigma, y)


def pyro_eight_schools_noncentered(sigma, y=None):
    """The non-centred eight schools model in Pyro (``sigma`` and ``y`` are tensors)."""
    import pyro
    import pyro.distributions as dist

    mu = pyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(5.0))
    with pyro.plate("school", len(sigma)):
        eta = pyro.sample("eta", dist.Normal(0.0, 1.0))
        theta = pyro.deterministic("theta", mu + tau * eta)
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)
