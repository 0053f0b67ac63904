"""bayesbook.priors: every family in both libraries against its exact density and quadrature moments.

Pyro is tested in float64 (PyTorch's default dtype switched for these tests) with a
relative tolerance of 1e-5 on the log density. NumPyro runs in JAX's default float32;
its log densities are compared with an absolute tolerance of 2e-5 plus a relative
one of 1e-5 (float32 has about 7 significant digits).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from bayesbook import exact, priors

PRIORS = [
    priors.Beta(5.0, 5.0),
    priors.Uniform(0.1, 0.8),
    priors.Uniform(0.2, 0.7),
    priors.TruncatedLogNormal(0.0, 2.0),
    priors.ShiftedVonMises(10.0),
    priors.TruncatedVonMises(20.0),
    priors.TruncatedVonMises(40.0),
    priors.TruncatedLaplace(0.5, 0.05),
    priors.TruncatedLaplace(0.5, 0.07),
]
CASES = [
    pytest.param(prior, backend, construction,
                 id=f"{prior.family}-{'-'.join(f'{v:g}' for v in prior.params.values())}-{backend}-{construction}")
    for prior in PRIORS
    for backend in priors.BACKENDS
    for construction in prior.constructions
]
PRIOR_CONSTRUCTIONS = [
    pytest.param(prior, construction, id=f"{prior.label}-{construction}")
    for prior in PRIORS
    for construction in prior.constructions
]
N_DRAWS = 100_000


@pytest.fixture(autouse=True)
def float64_torch():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def interior_grid(prior, size=201):
    low, high = prior.support
    return np.linspace(low, high, size + 2)[1:-1]


def backend_log_prob(distribution, backend, theta):
    if backend == "numpyro":
        return np.asarray(distribution.log_prob(jnp.asarray(theta, dtype=jnp.float32)), dtype=float)
    return distribution.log_prob(torch.as_tensor(theta)).detach().numpy()


def tolerance(backend):
    return {"rtol": 1e-5, "atol": 2e-5} if backend == "numpyro" else {"rtol": 1e-5, "atol": 0.0}


@pytest.mark.parametrize("prior, backend, construction", CASES)
def test_log_prob_matches_exact_log_density(prior, backend, construction):
    theta = interior_grid(prior)
    got = backend_log_prob(prior.distribution(backend, construction), backend, theta)
    np.testing.assert_allclose(got, prior.log_density(theta), **tolerance(backend))


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: p.label)
def test_exact_density_integrates_to_one(prior):
    prior_only = prior.posterior(0, 0)
    assert np.sum(prior_only.weights * np.exp(prior.log_density(prior_only.grid))) == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("prior, backend, construction", CASES)
def test_backend_density_integrates_to_one(prior, backend, construction):
    prior_only = prior.posterior(0, 0)
    density = np.exp(backend_log_prob(prior.distribution(backend, construction), backend, prior_only.grid))
    # float32 for NumPyro; for Pyro, torch's von Mises normaliser (a polynomial
    # approximation of log I0) is accurate to about 2e-7.
    assert np.sum(prior_only.weights * density) == pytest.approx(1.0, abs=1e-5 if backend == "numpyro" else 1e-6)


@pytest.mark.parametrize("prior, backend, construction", CASES)
def test_draws_stay_in_support_and_match_quadrature_moments(prior, backend, construction):
    sample = priors.draw(prior, backend, N_DRAWS, seed=2026, construction=construction)
    low, high = prior.support
    assert sample.shape == (N_DRAWS,)
    assert np.all((sample >= low) & (sample <= high)), "a draw left the support"

    truth = prior.posterior(0, 0)  # no data: the prior itself, by quadrature
    variance = truth.sd**2
    se_mean = np.sqrt(variance / N_DRAWS)
    se_variance = np.sqrt((truth.central_moment(4) - variance**2) / N_DRAWS)
    se_sd = se_variance / (2 * truth.sd)
    assert abs(sample.mean() - truth.mean) < 4 * se_mean
    assert abs(sample.std() - truth.sd) < 4 * se_sd


@pytest.mark.parametrize("prior, construction", PRIOR_CONSTRUCTIONS)
def test_numpyro_gradients_are_finite(prior, construction):
    names = list(prior.params)
    theta = jnp.asarray(interior_grid(prior, 11), dtype=jnp.float32)

    def total_log_prob(theta, values):
        distribution = type(prior).from_arrays("numpyro", construction, **dict(zip(names, values)))
        return jnp.sum(distribution.log_prob(theta))

    values = [jnp.asarray(v, dtype=jnp.float32) for v in prior.params.values()]
    grad_theta = jax.vmap(jax.grad(total_log_prob), in_axes=(0, None))(theta, values)
    grad_params = jax.grad(total_log_prob, argnums=1)(theta, values)
    assert np.all(np.isfinite(np.asarray(grad_theta)))
    assert all(np.isfinite(float(g)) for g in grad_params)


@pytest.mark.parametrize("prior, construction", PRIOR_CONSTRUCTIONS)
def test_pyro_gradients_are_finite(prior, construction):
    theta = torch.tensor(interior_grid(prior, 11), requires_grad=True)
    values = {name: torch.tensor(value, requires_grad=True) for name, value in prior.params.items()}
    distribution = type(prior).from_arrays("pyro", construction, **values)
    inputs = [theta, *values.values()]
    # allow_unused: a uniform density does not depend on theta (its gradient is zero)
    gradients = torch.autograd.grad(distribution.log_prob(theta).sum(), inputs, allow_unused=True)
    for name, gradient in zip(["theta", *values], gradients):
        assert gradient is None or torch.all(torch.isfinite(gradient)), name


def test_the_two_truncated_lognormal_constructions_agree():
    prior = priors.TruncatedLogNormal(0.0, 2.0)
    theta = interior_grid(prior)
    for backend in priors.BACKENDS:
        transform = backend_log_prob(prior.distribution(backend, "transform"), backend, theta)
        rejection = backend_log_prob(prior.distribution(backend, "rejection"), backend, theta)
        np.testing.assert_allclose(transform, rejection, **tolerance(backend))
    from scipy import stats

    ks = stats.ks_2samp(
        priors.draw(prior, "pyro", N_DRAWS, seed=1, construction="transform"),
        priors.draw(prior, "pyro", N_DRAWS, seed=2, construction="rejection"),
    )
    assert ks.pvalue > 1e-3


def test_shifted_and_truncated_von_mises_are_different_priors():
    shifted, truncated = priors.ShiftedVonMises(10.0), priors.TruncatedVonMises(10.0)
    assert shifted.family != truncated.family
    assert shifted.posterior(0, 0).sd < 0.5 * truncated.posterior(0, 0).sd


@pytest.mark.parametrize("backend", priors.BACKENDS)
def test_same_seed_same_draws(backend):
    prior = priors.TruncatedVonMises(20.0)
    first = priors.draw(prior, backend, 100, seed=3)
    np.testing.assert_array_equal(first, priors.draw(prior, backend, 100, seed=3))
    assert not np.array_equal(first, priors.draw(prior, backend, 100, seed=4))


def test_make_prior_builds_each_family():
    for prior in PRIORS:
        assert priors.make_prior(prior.family, **prior.params) == prior


@pytest.mark.parametrize(
    "family, params, name",
    [
        ("gamma", {"a": 1.0}, "family"),
        ("beta", {"alpha": 0.0, "beta": 1.0}, "alpha"),
        ("beta", {"alpha": 1.0, "beta": -1.0}, "beta"),
        ("uniform", {"lower": 0.7, "upper": 0.2}, "lower"),
        ("uniform", {"lower": 0.5, "upper": 0.5}, "lower"),
        ("uniform", {"lower": -0.1, "upper": 0.5}, "lower"),
        ("uniform", {"lower": 0.1, "upper": 1.5}, "upper"),
        ("truncated_lognormal", {"mu": 0.0, "sigma": 0.0}, "sigma"),
        ("truncated_lognormal", {"mu": 0.0, "sigma": -2.0}, "sigma"),
        ("shifted_von_mises", {"kappa": 0.0}, "kappa"),
        ("truncated_von_mises", {"kappa": -5.0}, "kappa"),
        ("truncated_laplace", {"loc": 0.5, "scale": 0.0}, "scale"),
        ("truncated_laplace", {"loc": float("nan"), "scale": 0.1}, "loc"),
        ("beta", {"alpha": 1.0}, "parameters"),
        ("uniform", {"low": 0.1, "high": 0.2}, "parameters"),
    ],
)
def test_invalid_priors_raise_value_error(family, params, name):
    with pytest.raises(ValueError, match=name):
        priors.make_prior(family, **params)


def test_unknown_backend_and_construction_raise():
    prior = priors.TruncatedLogNormal(0.0, 2.0)
    with pytest.raises(ValueError, match="backend"):
        prior.distribution("stan")
    with pytest.raises(ValueError, match="construction"):
        prior.distribution("pyro", "inverse-cdf")
    with pytest.raises(ValueError, match="construction"):
        priors.Beta(1.0, 1.0).numpyro("rejection")


def test_non_numeric_parameter_raises_type_error():
    with pytest.raises(TypeError, match="kappa"):
        priors.ShiftedVonMises("10")


# -- gradients against finite differences of the exact log density -----------------------


def exact_param_derivative(prior, name, theta, step=1e-5):
    """Central finite difference of the exact log density with respect to parameter ``name``."""
    up = dict(prior.params, **{name: prior.params[name] + step})
    down = dict(prior.params, **{name: prior.params[name] - step})
    return (type(prior)(**up).log_density(theta) - type(prior)(**down).log_density(theta)) / (2 * step)


def exact_theta_derivative(prior, theta, step=1e-6):
    return (prior.log_density(theta + step) - prior.log_density(theta - step)) / (2 * step)


def gradient_points(prior):
    """Interior points away from the support's ends and from any kink."""
    points = interior_grid(prior, 9)[1:-1]
    for kink in prior.breakpoints:
        points = points[np.abs(points - kink) > 0.02]
    return points


@pytest.mark.parametrize("prior, construction", PRIOR_CONSTRUCTIONS)
def test_pyro_gradients_match_finite_differences(prior, construction):
    theta_values = gradient_points(prior)
    theta = torch.tensor(theta_values, requires_grad=True)
    values = {name: torch.tensor(value, requires_grad=True) for name, value in prior.params.items()}
    distribution = type(prior).from_arrays("pyro", construction, **values)
    log_prob = distribution.log_prob(theta)
    grad_theta = torch.autograd.grad(log_prob.sum(), theta, retain_graph=True, allow_unused=True)[0]
    expected_theta = exact_theta_derivative(prior, theta_values)
    if grad_theta is None:  # acceptable only where the exact derivative is zero
        np.testing.assert_allclose(expected_theta, 0.0, atol=1e-6)
    else:
        np.testing.assert_allclose(grad_theta.numpy(), expected_theta, rtol=1e-4, atol=1e-4)
    for name, tensor in values.items():
        point = theta_values[len(theta_values) // 2]
        single = type(prior).from_arrays("pyro", construction, **values).log_prob(torch.tensor(point))
        gradient = torch.autograd.grad(single, tensor, allow_unused=True)[0]
        expected = float(exact_param_derivative(prior, name, point))
        assert gradient is not None or abs(expected) < 1e-6, f"no gradient for {name}"
        got = 0.0 if gradient is None else float(gradient)
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-4), name


@pytest.mark.parametrize("prior, construction", PRIOR_CONSTRUCTIONS)
def test_numpyro_gradients_match_finite_differences(prior, construction):
    theta_values = gradient_points(prior)
    names = list(prior.params)

    def log_prob(theta, values):
        distribution = type(prior).from_arrays("numpyro", construction, **dict(zip(names, values)))
        return distribution.log_prob(theta)

    values = [jnp.asarray(v, dtype=jnp.float32) for v in prior.params.values()]
    grad_theta = jax.vmap(jax.grad(log_prob), in_axes=(0, None))(jnp.asarray(theta_values, jnp.float32), values)
    # float32: about 7 significant digits in the log density, fewer in its derivative
    np.testing.assert_allclose(np.asarray(grad_theta), exact_theta_derivative(prior, theta_values), rtol=2e-3, atol=2e-3)
    point = float(theta_values[len(theta_values) // 2])
    grad_params = jax.grad(log_prob, argnums=1)(jnp.float32(point), values)
    for name, gradient in zip(names, grad_params):
        expected = float(exact_param_derivative(prior, name, point))
        assert float(gradient) == pytest.approx(expected, rel=2e-3, abs=2e-3), name


# -- smaller properties that a plausible bug would break ----------------------------------


def test_prior_equality_distinguishes_parameters():
    assert priors.Beta(5.0, 5.0) == priors.Beta(5.0, 5.0)
    assert priors.Beta(5.0, 5.0) != priors.Beta(5.0, 6.0)
    assert priors.TruncatedVonMises(20.0) != priors.TruncatedVonMises(40.0)
    assert priors.ShiftedVonMises(10.0) != priors.TruncatedVonMises(10.0)
    assert len({priors.Beta(1.0, 2.0), priors.Beta(1.0, 2.0), priors.Beta(2.0, 1.0)}) == 2


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: p.label)
def test_quantiles_at_0_and_1_are_the_support_ends_and_moments_agree(prior):
    posterior = prior.posterior(3, 10)
    low, high = prior.support
    assert float(posterior.quantile(0.0)) == low
    assert float(posterior.quantile(1.0)) == high
    assert posterior.central_moment(2) == pytest.approx(posterior.sd**2, rel=1e-12)
    assert posterior.central_moment(1) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: p.label)
def test_exact_log_density_is_minus_infinity_just_outside_the_support(prior):
    low, high = prior.support
    values = prior.log_density(np.array([low - 1e-9, high + 1e-9, low - 0.5, high + 0.5]))
    assert np.all(values == -np.inf)
    assert np.all(np.isfinite(prior.log_density(np.array([low + 1e-6, high - 1e-6]))))


def test_the_package_distributions_give_minus_infinity_outside_their_interval():
    from bayesbook.numpyro_dists import RejectionTruncated
    from bayesbook.pyro_dists import InverseCDFTruncated

    laplace = InverseCDFTruncated(torch.distributions.Laplace(torch.tensor(0.5), torch.tensor(0.07)), low=0.0, high=1.0)
    assert torch.all(laplace.log_prob(torch.tensor([-1e-6, 1.0 + 1e-6])) == -torch.inf)
    von_mises = priors.TruncatedVonMises(20.0).numpyro()
    assert isinstance(von_mises, RejectionTruncated)
    assert np.all(np.asarray(von_mises.log_prob(jnp.array([-1e-3, 1.0 + 1e-3]))) == -np.inf)


def test_the_laplace_breakpoint_matters_off_a_panel_edge():
    """With loc = 0.5037 (not a panel edge of 400 equal panels), cutting there changes the answer."""
    prior = priors.TruncatedLaplace(0.5037, 0.02)
    with_cut = prior.posterior(7, 10, panels=20)
    without_cut = exact.quadrature_posterior(prior.log_density, 7, 10, panels=20)
    reference = prior.posterior(7, 10, panels=4000)
    assert with_cut.mean == pytest.approx(reference.mean, abs=1e-10)
    assert abs(without_cut.mean - reference.mean) > 1e3 * abs(with_cut.mean - reference.mean)


@pytest.mark.parametrize("backend", priors.BACKENDS)
def test_draw_leaves_the_global_torch_generator_alone(backend):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    priors.draw(priors.TruncatedVonMises(20.0), backend, 1000, seed=5)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())
