"""Chapter 2's glued numbers against direct numerical integration with SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from bayesbook import data

pytestmark = pytest.mark.book


def test_the_bounded_uniform_posterior_after_1000_flips(glued):
    """Uniform(0.2, 0.7) prior: the posterior is the likelihood restricted to [0.2, 0.7]."""
    k = int(data.book_flips().sum())
    n = data.book_flips().size
    log_likelihood = lambda t: k * np.log(t) + (n - k) * np.log1p(-t)  # noqa: E731
    peak = log_likelihood(0.7)
    density = lambda t: np.exp(log_likelihood(t) - peak)  # noqa: E731
    mass, _ = integrate.quad(density, 0.2, 0.7, points=[0.69, 0.699], limit=400)
    mean, _ = integrate.quad(lambda t: t * density(t), 0.2, 0.7, points=[0.69, 0.699], limit=400)
    assert glued["pr_uniform_mean_1000"] == pytest.approx(mean / mass, abs=1e-6)
    assert glued["pr_uniform_upper_1000"] <= 0.7


def test_truncation_masses(glued):
    assert glued["pr_mass_lognormal"] == pytest.approx(0.5)
    assert glued["pr_mass_vm20"] == pytest.approx(np.diff(stats.vonmises(20.0, loc=0.5).cdf([0.0, 1.0]))[0])
    assert glued["pr_mass_laplace05"] == pytest.approx(np.exp(-0.5 / 0.05), rel=1e-6)  # both tails: 2 * exp(-10) / 2


def test_the_laplace_gradient_jump(glued):
    assert (glued["pr_grad_left"], glued["pr_grad_right"]) == pytest.approx((20.0, -20.0), rel=1e-4)


def test_the_normal_approximation_for_kappa(glued):
    assert glued["pr_kappa_normal_approx"] == pytest.approx((2 * stats.norm.ppf(0.995)) ** 2)
    assert glued["pr_boundary_slope"] == pytest.approx(-1.0, abs=0.2)
