"""bayesbook.data: simulated coin flips and success counts."""

import numpy as np
import pytest

from bayesbook import data


def test_simulation_is_reproducible_and_binary():
    first = data.simulate_bernoulli(0.3, 500, seed=7)
    second = data.simulate_bernoulli(0.3, 500, seed=7)
    other = data.simulate_bernoulli(0.3, 500, seed=8)
    assert first.shape == (500,)
    assert set(np.unique(first)) <= {0, 1}
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_simulated_frequency_matches_theta():
    flips = data.simulate_bernoulli(0.8, 100_000, seed=1)
    # 5 standard errors of a Bernoulli(0.8) mean with n = 1e5 is about 0.0063.
    assert abs(flips.mean() - 0.8) < 5 * np.sqrt(0.8 * 0.2 / flips.size)


@pytest.mark.parametrize("theta, expected", [(0.0, 0), (1.0, 1)])
def test_degenerate_theta(theta, expected):
    assert np.all(data.simulate_bernoulli(theta, 50, seed=0) == expected)


def test_zero_draws():
    assert data.simulate_bernoulli(0.5, 0, seed=0).shape == (0,)


@pytest.mark.parametrize("theta", [-0.1, 1.5, float("nan"), float("inf")])
def test_theta_outside_unit_interval_raises(theta):
    with pytest.raises(ValueError, match="theta"):
        data.simulate_bernoulli(theta, 10, seed=0)


@pytest.mark.parametrize("n, error", [(-1, ValueError), (2.5, TypeError), (10.0, TypeError), (True, TypeError)])
def test_bad_n_raises(n, error):
    with pytest.raises(error, match="n"):
        data.simulate_bernoulli(0.5, n, seed=0)


@pytest.mark.parametrize("seed, error", [(-3, ValueError), (1.5, TypeError), (None, TypeError)])
def test_bad_seed_raises(seed, error):
    with pytest.raises(error, match="seed"):
        data.simulate_bernoulli(0.5, 10, seed=seed)


def test_count_successes():
    assert data.count_successes([1, 0, 1, 1]) == (3, 4)
    assert data.count_successes(np.array([True, False])) == (1, 2)
    assert data.count_successes(np.array([1.0, 0.0, 1.0])) == (2, 3)
    assert data.count_successes([]) == (0, 0)


@pytest.mark.parametrize("bad", [[0, 1, 2], [0.5, 1.0], [-1, 0], ["a", "b"], [[0, 1], [1, 0]]])
def test_count_successes_rejects_non_binary_data(bad):
    with pytest.raises(ValueError, match="data"):
        data.count_successes(bad)
