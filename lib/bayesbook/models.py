"""The book's models: the coin model, written once for each library, eight schools, and regressions.

A model is a plain function. Its observed site takes ``k=None`` by default, so the
same function simulates data (run it forwards) and conditions on data (pass ``k``).
The data enter as two numbers, ``k`` successes in ``n`` trials, never as an array of
``n`` flips: the likelihood depends on the flips only through ``k``, and a sampler
compiled for one ``(k, n)`` then serves every other (JAX compiles one program per
array *shape*, and two scalars have the same shape whatever their values).

``prior`` is a distribution of the model's library: ``prior_object.numpyro()`` or
``prior_object.pyro()`` from :mod:`bayesbook.priors`, or any distribution on [0, 1].

Chapter 7's regressions take the predictor ``x`` as an array and the outcome ``y=None``
by default, so they too simulate when run forwards.

Chapter 8's models grow with the data: a hierarchical regression with one line per
group (:func:`numpyro_hierarchical_regression`, and its non-centred form), and a sparse
regression with a Gaussian or a horseshoe prior on its coefficients
(:func:`numpyro_horseshoe_regression`, :func:`pyro_sparse_regression`).
"""

from __future__ import annotations

from collections.abc import Callable

from ._checks import check_choice, check_counts
from .priors import BACKENDS

__all__ = [
    "numpyro_coin_model",
    "pyro_coin_model",
    "coin_model",
    "coin_data",
    "numpyro_eight_schools_centred",
    "numpyro_eight_schools_noncentred",
    "numpyro_eight_schools",
    "pyro_eight_schools_noncentred",
    "numpyro_linear_regression",
    "numpyro_outlier_regression",
    "outlier_probabilities",
    "pyro_linear_regression",
    "numpyro_hierarchical_regression",
    "numpyro_hierarchical_regression_noncentred",
    "numpyro_horseshoe_regression",
    "numpyro_horseshoe_marginal",
    "SPARSE_PRIORS",
    "pyro_sparse_regression",
]

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
    import pyro.distributions as pdist

    theta = pyro.sample("theta", prior)
    pyro.sample("k", pdist.Binomial(total_count=n, probs=theta), obs=k)
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


def numpyro_eight_schools_centred(sigma, y=None):
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


def numpyro_eight_schools_noncentred(sigma, y=None):
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
    return numpyro.handlers.reparam(numpyro_eight_schools_centred, config=config)(sigma, y)


def pyro_eight_schools_noncentred(sigma, y=None):
    """The non-centred eight schools model in Pyro (``sigma`` and ``y`` are tensors).

    :func:`numpyro_eight_schools_noncentred` line for line, with ``pyro`` for ``numpyro``
    and ``pdist`` (the name chapter 6's page gives ``pyro.distributions``) for ``dist``.
    """
    import pyro
    import pyro.distributions as pdist

    mu = pyro.sample("mu", pdist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", pdist.HalfCauchy(5.0))
    with pyro.plate("school", len(sigma)):
        eta = pyro.sample("eta", pdist.Normal(0.0, 1.0))
        theta = pyro.deterministic("theta", mu + tau * eta)
        pyro.sample("y", pdist.Normal(theta, sigma), obs=y)


def numpyro_linear_regression(x, y=None, *, intercept_sd=5.0, slope_sd=2.0, noise_rate=1.0):
    """``y_i ~ Normal(intercept + slope * x_i, sigma)`` with independent priors (NumPyro).

    ``intercept ~ Normal(0, intercept_sd)``, ``slope ~ Normal(0, slope_sd)`` and
    ``sigma ~ Exponential(noise_rate)``. Condition on ``sigma`` (``numpyro.handlers.condition``)
    for the model with known noise.
    """
    import numpyro
    import numpyro.distributions as dist

    intercept = numpyro.sample("intercept", dist.Normal(0.0, intercept_sd))
    slope = numpyro.sample("slope", dist.Normal(0.0, slope_sd))
    sigma = numpyro.sample("sigma", dist.Exponential(noise_rate))
    with numpyro.plate("data", len(x)):
        numpyro.sample("y", dist.Normal(intercept + slope * x, sigma), obs=y)


def numpyro_outlier_regression(x, y_err, y=None, *, intercept_sd=5.0, slope_sd=2.0):
    """A line plus a background population of outliers, mixed with outlier fraction ``Q`` (NumPyro).

    Each point lies on the line, ``Normal(intercept + slope * x_i, y_err_i)``, with
    probability ``1 - Q``, and comes from the background, ``Normal(background_mean,
    sqrt(background_sd**2 + y_err_i**2))``, with probability ``Q``. Priors:
    ``intercept ~ Normal(0, intercept_sd)``, ``slope ~ Normal(0, slope_sd)``,
    ``background_mean ~ Normal(0, 2)``, ``background_sd ~ HalfNormal(3)``,
    ``Q ~ Uniform(0, 1)``.
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    intercept = numpyro.sample("intercept", dist.Normal(0.0, intercept_sd))
    slope = numpyro.sample("slope", dist.Normal(0.0, slope_sd))
    background_mean = numpyro.sample("background_mean", dist.Normal(0.0, 2.0))
    background_sd = numpyro.sample("background_sd", dist.HalfNormal(3.0))
    outlier_fraction = numpyro.sample("Q", dist.Uniform(0.0, 1.0))
    # the two components of each point, stacked on a last axis of length 2: (line, background)
    means = jnp.stack(jnp.broadcast_arrays(intercept + slope * x, background_mean), axis=-1)
    scales = jnp.stack([y_err, jnp.sqrt(background_sd**2 + y_err**2)], axis=-1)
    which = dist.Categorical(probs=jnp.stack([1.0 - outlier_fraction, outlier_fraction]))
    with numpyro.plate("data", len(x)):
        numpyro.sample("y", dist.MixtureSameFamily(which, dist.Normal(means, scales)), obs=y)


def outlier_probabilities(draws, x, y, y_err):
    """Each point's posterior probability of being an outlier, from posterior draws of the outlier model.

    For one draw of the parameters, Bayes' rule gives point ``i`` the probability
    ``Q b_i / (Q b_i + (1 - Q) l_i)``, with ``l_i`` and ``b_i`` its densities under the
    line and the background; the posterior probability is its average over the draws.
    ``draws`` maps the site names of :func:`numpyro_outlier_regression` to arrays of
    draws (any shape, the same for every site). Returns an array of shape ``(n,)``.
    """
    import numpy as np
    from scipy import stats

    flat = {name: np.asarray(draws[name], dtype=float).reshape(-1, 1)
            for name in ("intercept", "slope", "background_mean", "background_sd", "Q")}
    x, y, y_err = (np.asarray(a, dtype=float) for a in (x, y, y_err))
    log_line = stats.norm.logpdf(y, flat["intercept"] + flat["slope"] * x, y_err)
    log_background = stats.norm.logpdf(y, flat["background_mean"], np.sqrt(flat["background_sd"]**2 + y_err**2))
    log_odds = np.log(flat["Q"]) + log_background - np.log1p(-flat["Q"]) - log_line
    return (1.0 / (1.0 + np.exp(-log_odds))).mean(axis=0)


def pyro_linear_regression(intercept_sd=5.0, slope_sd=2.0, noise_rate=1.0):
    """The model of :func:`numpyro_linear_regression` as a Pyro ``PyroModule`` around ``torch.nn.Linear``.

    ``PyroSample`` replaces the layer's ``weight`` (the slope) and ``bias`` (the
    intercept) by random variables with the priors given, so every call of the module
    samples them (sites ``"linear.weight"`` and ``"linear.bias"``); ``sigma`` is an
    ordinary ``pyro.sample`` site. Call the returned module as ``module(x)`` to simulate
    or ``module(x, y)`` to condition, with ``x`` and ``y`` float tensors of shape ``(n,)``.
    The module works with vectorised particles (``num_particles > 1`` with
    ``vectorize_particles=True`` and ``max_plate_nesting=1``).
    """
    import pyro
    import pyro.distributions as dist
    import torch
    from pyro.nn import PyroModule, PyroSample

    class LinearRegression(PyroModule):
        def __init__(self):
            super().__init__()
            self.linear = PyroModule[torch.nn.Linear](1, 1)  # one predictor, one output
            self.linear.weight = PyroSample(dist.Normal(0.0, slope_sd).expand([1, 1]).to_event(2))
            self.linear.bias = PyroSample(dist.Normal(0.0, intercept_sd).expand([1]).to_event(1))

        def forward(self, x, y=None):
            sigma = pyro.sample("sigma", dist.Exponential(noise_rate))
            # The layer's own forward, self.linear(x[:, None]), computes x @ weight.T + bias
            # but takes only a 2-D weight. SVI with vectorised particles draws a batch of
            # weights at once, so the 1 x 1 weight and the bias are read out as numbers
            # (or batches of them) and the line is written out.
            slope = self.linear.weight[..., 0, 0]
            intercept = self.linear.bias[..., 0]
            mean = intercept + slope * x
            with pyro.plate("data", x.shape[0]):
                return pyro.sample("y", dist.Normal(mean, sigma), obs=y)

    return LinearRegression()


def numpyro_hierarchical_regression(group, x, y_err, y=None, *, num_groups):
    """One line per group, the lines' slopes and intercepts drawn from a population (NumPyro).

    Population: ``slope_mean ~ Normal(0, 5)``, ``slope_sd ~ HalfNormal(1)``,
    ``intercept_mean ~ Normal(0, 25)``, ``intercept_sd ~ HalfNormal(5)``. Each of the
    ``num_groups`` groups (a plate): ``slope_j ~ Normal(slope_mean, slope_sd)`` and
    ``intercept_j ~ Normal(intercept_mean, intercept_sd)``. Each point ``i`` (a plate):
    ``y_i ~ Normal(intercept[group_i] + slope[group_i] * x_i, y_err_i)`` with known
    errors ``y_err``. ``num_groups`` is a Python int: it sets the shape of the
    parameters.
    """
    import numpyro
    import numpyro.distributions as dist

    slope_mean = numpyro.sample("slope_mean", dist.Normal(0.0, 5.0))
    slope_sd = numpyro.sample("slope_sd", dist.HalfNormal(1.0))
    intercept_mean = numpyro.sample("intercept_mean", dist.Normal(0.0, 25.0))
    intercept_sd = numpyro.sample("intercept_sd", dist.HalfNormal(5.0))
    with numpyro.plate("groups", num_groups):
        slope = numpyro.sample("slope", dist.Normal(slope_mean, slope_sd))
        intercept = numpyro.sample("intercept", dist.Normal(intercept_mean, intercept_sd))
    with numpyro.plate("points", len(x)):
        numpyro.sample("y", dist.Normal(intercept[group] + slope[group] * x, y_err), obs=y)


def numpyro_hierarchical_regression_noncentred(group, x, y_err, y=None, *, num_groups):
    """:func:`numpyro_hierarchical_regression`, non-centred by ``LocScaleReparam``.

    ``LocScaleReparam(centered=0)`` replaces ``slope_j ~ Normal(slope_mean, slope_sd)``
    by ``slope_decentered_j ~ Normal(0, 1)`` and the deterministic site ``slope_j =
    slope_mean + slope_sd * slope_decentered_j`` (and the same for the intercepts): the
    same model, with latent variables that are independent of the population's scale
    a priori.
    """
    import numpyro
    from numpyro.infer.reparam import LocScaleReparam

    noncentred = numpyro.handlers.reparam(
        numpyro_hierarchical_regression,
        config={"slope": LocScaleReparam(centered=0), "intercept": LocScaleReparam(centered=0)},
    )
    return noncentred(group, x, y_err, y, num_groups=num_groups)


def numpyro_horseshoe_regression(X, y=None, *, noise_prior_sd=1.0):
    """``y ~ Normal(X @ beta, sigma)`` with the horseshoe prior on ``beta`` (NumPyro).

    ``tau ~ HalfCauchy(1)`` (global scale), ``lambda_j ~ HalfCauchy(1)`` (local scales)
    and ``beta_j ~ Normal(0, tau * lambda_j)``, written centred (``beta`` is itself the
    latent variable); ``sigma ~ HalfNormal(noise_prior_sd)``.
    """
    import numpyro
    import numpyro.distributions as dist

    tau = numpyro.sample("tau", dist.HalfCauchy(1.0))
    with numpyro.plate("coefficients", X.shape[1]):
        lam = numpyro.sample("lambda", dist.HalfCauchy(1.0))
        beta = numpyro.sample("beta", dist.Normal(0.0, tau * lam))
    sigma = numpyro.sample("sigma", dist.HalfNormal(noise_prior_sd))
    with numpyro.plate("data", X.shape[0]):
        numpyro.sample("y", dist.Normal(X @ beta, sigma), obs=y)


def numpyro_horseshoe_marginal(X, y=None, *, noise_prior_sd=1.0):
    """The horseshoe regression of :func:`numpyro_horseshoe_regression` with ``beta`` integrated out.

    Given the scales, ``beta`` is Gaussian and so is ``y``:
    ``y ~ Normal(0, sigma**2 I + X diag(tau**2 lambda**2) X^T)``. NUTS then samples only
    ``tau``, ``lambda`` and ``sigma``; ``beta`` is drawn afterwards from its Gaussian
    conditional (:func:`bayesbook.exact.conditional_coefficients`).
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    tau = numpyro.sample("tau", dist.HalfCauchy(1.0))
    with numpyro.plate("coefficients", X.shape[1]):
        lam = numpyro.sample("lambda", dist.HalfCauchy(1.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(noise_prior_sd))
    covariance = sigma**2 * jnp.eye(X.shape[0]) + (X * (tau * lam) ** 2) @ X.T
    numpyro.sample("y", dist.MultivariateNormal(jnp.zeros(X.shape[0]), covariance_matrix=covariance), obs=y)


#: The coefficient priors of :func:`pyro_sparse_regression`.
SPARSE_PRIORS = ("gaussian", "horseshoe")


def pyro_sparse_regression(X, y=None, *, prior="horseshoe", prior_sd=10.0, noise_prior_sd=1.0):
    """``y ~ Normal(X @ beta, sigma)`` with a Gaussian or a horseshoe prior on ``beta`` (Pyro).

    ``prior="gaussian"``: ``beta_j ~ Normal(0, prior_sd)``. ``prior="horseshoe"``: ``tau
    ~ HalfCauchy(1)``, ``lambda ~ HalfCauchy(1)`` (a vector, one per coefficient) and
    ``beta_j ~ Normal(0, tau * lambda_j)``. Either way ``sigma ~ HalfNormal(noise_prior_sd)``,
    a *standard deviation* (the likelihood's scale). ``X`` is a float tensor of shape
    ``(n, d)``; the model works with vectorised particles (``max_plate_nesting=1``).
    """
    import pyro
    import pyro.distributions as dist

    if prior not in SPARSE_PRIORS:
        raise ValueError(f"prior must be one of {', '.join(map(repr, SPARSE_PRIORS))}; got {prior!r}")
    if prior == "horseshoe":
        tau = pyro.sample("tau", dist.HalfCauchy(1.0))
    # The coefficients are a plate: with vectorised particles each site gains a leading
    # particle dimension, beta has shape (particles, d) and beta @ X.T shape (particles, n).
    with pyro.plate("coefficients", X.shape[1]):
        if prior == "gaussian":
            beta = pyro.sample("beta", dist.Normal(0.0, prior_sd))
        else:
            lam = pyro.sample("lambda", dist.HalfCauchy(1.0))
            beta = pyro.sample("beta", dist.Normal(0.0, tau * lam))
    sigma = pyro.sample("sigma", dist.HalfNormal(noise_prior_sd))
    with pyro.plate("data", X.shape[0]):
        return pyro.sample("y", dist.Normal(beta @ X.T, sigma), obs=y)
