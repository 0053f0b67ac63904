"""bayesbook.plotting: the covariance ellipse against its chi-square contour, and the small axis helpers."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

from bayesbook import plotting, priors

MEAN = np.array([-0.5, 3.0])
COVARIANCE = np.array([[2.5, -0.7], [-0.7, 0.6]])


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


@pytest.mark.parametrize("probability", [0.5, 0.9, 0.99])
def test_covariance_ellipse_lies_on_the_chi_square_contour(ax, probability):
    plotting.covariance_ellipse(ax, MEAN, COVARIANCE, probability=probability, color="C1", lw=2)
    x, y = ax.lines[0].get_data()
    offsets = np.stack([x, y], axis=1) - MEAN
    quadratic = np.einsum("ij,jk,ik->i", offsets, np.linalg.inv(COVARIANCE), offsets)
    np.testing.assert_allclose(quadratic, stats.chi2(2).ppf(probability), rtol=1e-6)
    # a closed curve that goes once round the mean, with the line options passed on
    assert np.allclose([x[0], y[0]], [x[-1], y[-1]])
    angles = np.unwrap(np.arctan2(offsets[:, 1], offsets[:, 0]))
    assert abs(angles[-1] - angles[0]) == pytest.approx(2 * np.pi, rel=1e-6)
    assert ax.lines[0].get_color() == "C1" and ax.lines[0].get_linewidth() == 2


def test_the_ellipse_holds_its_probability_of_gaussian_draws(ax):
    """The share of draws inside the drawn curve is the probability asked for."""
    from matplotlib.path import Path

    plotting.covariance_ellipse(ax, MEAN, COVARIANCE, probability=0.8)
    curve = Path(np.stack(ax.lines[0].get_data(), axis=1))
    draws = np.random.default_rng(0).multivariate_normal(MEAN, COVARIANCE, 20_000)
    inside = curve.contains_points(draws).mean()
    assert inside == pytest.approx(0.8, abs=4 * np.sqrt(0.8 * 0.2 / 20_000) + 0.005)


@pytest.mark.parametrize("mean, covariance, probability, match", [
    (MEAN, [[1.0, 2.0], [2.0, 1.0]], 0.9, "positive definite"),
    (MEAN, [[1.0, 0.5], [0.0, 1.0]], 0.9, "positive definite"),  # not symmetric
    (MEAN, np.eye(3), 0.9, "shape"),
    ([0.0, 0.0, 0.0], np.eye(2), 0.9, "shape"),
    (MEAN, COVARIANCE, 1.0, "probability"),
    (MEAN, COVARIANCE, 0.0, "probability"),
])
def test_covariance_ellipse_rejects_bad_arguments(ax, mean, covariance, probability, match):
    with pytest.raises(ValueError, match=match):
        plotting.covariance_ellipse(ax, mean, covariance, probability=probability)


def test_sample_size_colors_run_from_light_to_dark():
    colors = plotting.sample_size_colors([3, 30, 300])
    assert list(colors) == [3, 30, 300]
    brightness = [sum(color) for color in colors.values()]
    assert brightness[0] > brightness[1] > brightness[2]
    assert all(len(color) == 3 and all(0 <= c <= 1 for c in color) for color in colors.values())


def test_unit_interval_axes(ax):
    assert plotting.unit_interval_axes(ax, title="a title", ylabel="mass") is ax
    assert ax.get_xlim() == (0.0, 1.0)
    assert ax.get_title() == "a title" and ax.get_ylabel() == "mass" and "theta" in ax.get_xlabel()


def test_histogram_with_density_is_normalised(ax):
    draws = np.random.default_rng(1).beta(3, 2, 5000)
    theta = np.linspace(0, 1, 101)
    plotting.histogram_with_density(ax, draws, theta, stats.beta(3, 2).pdf(theta), bins=20)
    (stairs,) = [artist for artist in ax.patches]
    heights, edges = stairs.get_data().values, stairs.get_data().edges
    assert np.sum(heights * np.diff(edges)) == pytest.approx(1.0)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), stats.beta(3, 2).pdf(theta))
    assert ax.get_xlim() == (0.0, 1.0)


def test_draws_against_exact_zooms_onto_the_posterior(ax):
    posterior = priors.Beta(2, 3).posterior(40, 60)
    draws = np.random.default_rng(2).beta(42, 23, 2500)
    plotting.draws_against_exact(ax, draws, posterior, tail=1e-3)
    low, high = ax.get_xlim()
    q_low, q_high = posterior.quantile([1e-3, 1 - 1e-3])
    assert low < q_low < q_high < high and high - low == pytest.approx(1.2 * (q_high - q_low), rel=1e-6)
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(y, posterior.pdf(x))


def test_set_style_sets_the_books_options():
    with matplotlib.rc_context():
        plotting.set_style()
        assert matplotlib.rcParams["legend.frameon"] is False
        assert matplotlib.rcParams["axes.titleweight"] == "bold"
