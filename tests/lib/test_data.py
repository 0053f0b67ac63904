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


# --- chapters 7 and 8: regression, outliers, grouped and sparse data --------------------

def test_simulated_regression_is_reproducible_and_follows_the_line():
    x, y = data.simulate_regression(2000, intercept=1.0, slope=-0.5, noise_sd=0.3, seed=7)
    again = data.simulate_regression(2000, intercept=1.0, slope=-0.5, noise_sd=0.3, seed=7)
    assert np.array_equal(x, again[0]) and np.array_equal(y, again[1])
    assert np.all(np.diff(x) >= 0) and x.min() >= 0 and x.max() <= 10
    slope, intercept = np.polyfit(x, y, 1)
    residual_sd = np.std(y - (intercept + slope * x))
    assert abs(slope + 0.5) < 0.01 and abs(intercept - 1.0) < 0.05 and abs(residual_sd - 0.3) < 0.02
    assert not np.array_equal(y, data.simulate_regression(2000, intercept=1.0, slope=-0.5, noise_sd=0.3, seed=8)[1])
    # x_range sets where the points lie
    x, _ = data.simulate_regression(500, intercept=0.0, slope=1.0, noise_sd=1.0, x_range=(-3.0, -1.0), seed=0)
    assert x.min() >= -3 and x.max() <= -1 and x.max() - x.min() > 1.9


def test_simulated_outliers_replace_the_given_fraction_by_background_draws():
    sample = data.simulate_outliers(4000, intercept=0.0, slope=1.0, noise_sd=0.1, outlier_fraction=0.3,
                                    background_mean=5.0, background_sd=2.0, seed=0)
    assert set(sample) == {"x", "y", "y_err", "is_outlier"}
    outlier = sample["is_outlier"]
    assert outlier.dtype == bool and abs(outlier.mean() - 0.3) < 0.025
    inliers = sample["y"][~outlier] - sample["x"][~outlier]
    assert abs(inliers.std() - 0.1) < 0.01
    background = sample["y"][outlier]
    assert abs(background.mean() - 5.0) < 0.15 and abs(background.std() - np.hypot(2.0, 0.1)) < 0.15
    assert np.all(sample["y_err"] == 0.1)
    # the line's points are those of simulate_regression with the same seed
    x, y = data.simulate_regression(4000, intercept=0.0, slope=1.0, noise_sd=0.1, x_range=(-2.0, 2.0), seed=0)
    assert np.array_equal(sample["x"], x) and np.array_equal(sample["y"][~outlier], y[~outlier])


@pytest.mark.parametrize("kwargs, error", [
    ({"n": 1}, ValueError), ({"n": 2.5}, TypeError), ({"noise_sd": 0.0}, ValueError),
    ({"seed": -1}, ValueError), ({"x_range": (1.0, 1.0)}, ValueError), ({"x_range": 3}, TypeError),
    ({"slope": "steep"}, TypeError),
])
def test_simulate_regression_rejects_bad_arguments(kwargs, error):
    arguments = {"n": 10, "intercept": 0.0, "slope": 1.0, "noise_sd": 1.0, "seed": 0} | kwargs
    name = next(iter(kwargs)) if "x_range" not in kwargs else "x_range"
    with pytest.raises(error, match=name):
        data.simulate_regression(**arguments)


@pytest.mark.parametrize("kwargs, name", [
    ({"outlier_fraction": 1.5}, "outlier_fraction"), ({"background_sd": 0.0}, "background_sd"),
    ({"background_mean": float("nan")}, "background_mean"),
])
def test_simulate_outliers_rejects_bad_arguments(kwargs, name):
    arguments = {"intercept": 0.0, "slope": 1.0, "noise_sd": 0.1, "outlier_fraction": 0.2,
                 "background_mean": 0.0, "background_sd": 1.0, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=name):
        data.simulate_outliers(10, **arguments)


def test_grouped_data_are_reproducible_nested_and_follow_each_groups_line():
    big = data.simulate_groups(400, points_per_group=6, seed=3)
    again = data.simulate_groups(400, points_per_group=6, seed=3)
    assert set(big) == {"group", "x", "y", "y_err", "slope", "intercept"}
    assert all(np.array_equal(big[name], again[name]) for name in big)
    small = data.simulate_groups(5, points_per_group=6, seed=3)
    # the first five groups of the larger data set are the smaller one
    for name in ("x", "y", "y_err", "group"):
        assert np.array_equal(small[name], big[name][:30])
    assert np.array_equal(small["slope"], big["slope"][:5])
    assert big["x"].shape == (2400,) and np.array_equal(np.bincount(big["group"]), np.full(400, 6))
    # population: slopes Normal(0.5, 0.2), intercepts Normal(10, 1)
    assert abs(big["slope"].mean() - 0.5) < 0.03 and abs(big["slope"].std() - 0.2) < 0.02
    assert abs(big["intercept"].mean() - 10.0) < 0.15 and abs(big["intercept"].std() - 1.0) < 0.1
    # each point: y = intercept + slope * x + y_err * standard normal
    g = big["group"]
    standardised = (big["y"] - big["intercept"][g] - big["slope"][g] * big["x"]) / big["y_err"]
    assert abs(standardised.mean()) < 0.06 and abs(standardised.std() - 1.0) < 0.04
    assert big["x"].min() >= -10 and big["x"].max() <= 10
    assert big["y_err"].min() >= 2 and big["y_err"].max() <= 4
    assert not np.array_equal(big["y"], data.simulate_groups(400, points_per_group=6, seed=4)["y"])


def test_grouped_data_take_their_population_and_ranges_from_the_arguments():
    sample = data.simulate_groups(2000, points_per_group=2, slope_mean=-1.0, slope_sd=0.05, intercept_mean=3.0,
                                  intercept_sd=0.5, x_range=(0.0, 1.0), error_range=(0.1, 0.2), seed=9)
    assert abs(sample["slope"].mean() + 1.0) < 0.005 and abs(sample["slope"].std() - 0.05) < 0.005
    assert abs(sample["intercept"].mean() - 3.0) < 0.05 and abs(sample["intercept"].std() - 0.5) < 0.05
    assert sample["x"].min() >= 0 and sample["x"].max() <= 1
    assert sample["y_err"].min() >= 0.1 and sample["y_err"].max() <= 0.2


def test_sparse_data_have_half_their_coefficients_zero_and_the_given_noise():
    sample = data.simulate_sparse(200, 5000, noise_sd=0.5, seed=1)
    beta, X, y = sample["beta"], sample["X"], sample["y"]
    assert X.shape == (5000, 200) and y.shape == (5000,)
    assert np.all(beta[100:] == 0) and np.all(beta[:100] != 0)
    magnitudes = np.abs(beta[:100])
    assert abs(magnitudes.mean() - 5.0) < 0.3 and 0.7 < np.std(magnitudes) < 1.3
    assert 30 < np.sum(beta[:100] > 0) < 70
    assert abs(X.std() - 1.0) < 0.01
    assert abs(np.std(y - X @ beta) - 0.5) < 0.02
    assert np.array_equal(y, data.simulate_sparse(200, 5000, noise_sd=0.5, seed=1)["y"])
    # an odd number of coefficients: the first half, rounded down, are the non-zero ones
    assert np.count_nonzero(data.simulate_sparse(7, 3, seed=0)["beta"]) == 3


@pytest.mark.parametrize("call, argument", [
    (lambda: data.simulate_groups(0, seed=0), "num_groups"),
    (lambda: data.simulate_groups(3, seed=0, slope_sd=-1.0), "slope_sd"),
    (lambda: data.simulate_groups(3, seed=0, error_range=(3.0, 2.0)), "error_range"),
    (lambda: data.simulate_groups(3, seed=0, error_range=(-1.0, 2.0)), "error_range"),
    (lambda: data.simulate_groups(3, seed=0, x_range=5), "x_range"),
    (lambda: data.simulate_groups(3, points_per_group=0, seed=0), "points_per_group"),
    (lambda: data.simulate_sparse(100, 2.5, seed=0), "num_observations"),
    (lambda: data.simulate_sparse(0, 10, seed=0), "num_coefficients"),
    (lambda: data.simulate_sparse(100, 100, noise_sd=0.0, seed=0), "noise_sd"),
    (lambda: data.simulate_sparse(100, 100, seed=-2), "seed"),
])
def test_bad_grouped_and_sparse_arguments_are_named(call, argument):
    with pytest.raises((TypeError, ValueError), match=argument):
        call()


def test_outliers_spread_by_the_background_and_the_measurement_error():
    """Every point an outlier: y ~ Normal(background_mean, sqrt(background_sd^2 + noise_sd^2))."""
    from scipy import stats

    simulated = data.simulate_outliers(20000, intercept=0.0, slope=1.0, noise_sd=1.5, outlier_fraction=1.0,
                                       background_mean=3.0, background_sd=2.0, seed=8)
    assert simulated["is_outlier"].all()
    assert stats.kstest(simulated["y"], stats.norm(3.0, 2.5).cdf).pvalue > 0.01


def test_group_streams_of_neighbouring_seeds_do_not_overlap():
    """Group j of seed s and group j - 1 of seed s + 1 are different draws (each group's stream is (seed, j))."""
    first, second = data.simulate_groups(3, seed=4), data.simulate_groups(3, seed=5)
    assert not np.isclose(first["slope"][1], second["slope"][0])
    assert not np.isclose(first["slope"][2], second["slope"][1])


def _gibbs_horseshoe(X, y, *, noise_prior_sd: float, num_iterations: int, seed: int) -> dict:
    """A Gibbs sampler for the horseshoe regression, independent of NUTS and of the package.

    ``beta_j ~ Normal(0, tau^2 lambda_j^2)`` with ``lambda_j, tau ~ HalfCauchy(1)`` written
    as inverse-gamma mixtures (Makalic and Schmidt 2016: ``lambda^2 | nu ~ IG(1/2, 1/nu)``,
    ``nu ~ IG(1/2, 1)``, the same for ``tau^2``), so every scale has a conjugate update;
    ``beta`` is drawn from its Gaussian conditional (Bhattacharya et al. 2016) and
    ``sigma ~ HalfNormal(noise_prior_sd)``, which is not conjugate, by slice sampling of
    ``log sigma``.
    """
    rng = np.random.default_rng(seed)
    n, d = X.shape
    lam2, nu, tau2, xi, sigma = np.ones(d), np.ones(d), 1.0, 1.0, 1.0
    draws = {"beta": np.empty((num_iterations, d)), "tau": np.empty(num_iterations), "sigma": np.empty(num_iterations)}

    def inverse_gamma(shape, scale):
        return scale / rng.gamma(shape, size=np.shape(scale))

    for iteration in range(num_iterations):
        variance = tau2 * lam2
        u = np.sqrt(variance) * rng.standard_normal(d)
        v = X @ u / sigma + rng.standard_normal(n)
        w = np.linalg.solve((X * variance) @ X.T / sigma**2 + np.eye(n), y / sigma - v)
        beta = u + variance * (X.T @ w) / sigma
        lam2 = inverse_gamma(1.0, 1.0 / nu + beta**2 / (2 * tau2))
        nu = inverse_gamma(1.0, 1.0 + 1.0 / lam2)
        tau2 = float(inverse_gamma((d + 1) / 2, 1.0 / xi + np.sum(beta**2 / lam2) / 2))
        xi = float(inverse_gamma(1.0, 1.0 + 1.0 / tau2))
        rss = np.sum((y - X @ beta) ** 2)

        def log_density(log_sigma):  # of log sigma, the Jacobian included
            s = np.exp(log_sigma)
            return -(n - 1) * log_sigma - rss / (2 * s * s) - s * s / (2 * noise_prior_sd**2)

        start = np.log(sigma)
        level = log_density(start) - rng.exponential()
        left = start - 0.5 * rng.uniform()
        right = left + 0.5
        while log_density(left) > level:
            left -= 0.5
        while log_density(right) > level:
            right += 0.5
        while True:
            proposal = rng.uniform(left, right)
            if log_density(proposal) > level:
                break
            left, right = (proposal, right) if proposal < start else (left, proposal)
        sigma = float(np.exp(proposal))
        draws["beta"][iteration], draws["tau"][iteration], draws["sigma"][iteration] = beta, np.sqrt(tau2), sigma
    return draws


def test_the_horseshoe_reference_is_converged_and_agrees_with_a_gibbs_sampler():
    import arviz as az

    reference = data.horseshoe_reference()
    summary = reference["summary"]
    assert reference["settings"]["num_chains"] >= 4 and reference["divergences"] == 0
    assert reference["leapfrog_steps"]["max_tree_depth_reached"] == 0
    assert max(row["r_hat"] for row in summary.values()) <= 1.01
    assert min(row["ess_bulk"] for row in summary.values()) >= 400
    d = reference["data"]["num_coefficients"]
    assert {f"beta_{j + 1}" for j in range(d)} | {f"lambda_{j + 1}" for j in range(d)} | {"tau", "sigma"} == set(summary)

    sparse = data.simulate_sparse(**reference["data"])
    gibbs = _gibbs_horseshoe(sparse["X"], sparse["y"], noise_prior_sd=reference["noise_prior_sd"],
                             num_iterations=20_000, seed=5)
    kept = slice(4_000, None)

    def z_score(values, name):
        values = values[kept]
        mcse = values.std() / np.sqrt(float(az.ess(values[None, :], method="bulk")))
        return (values.mean() - summary[name]["mean"]) / np.hypot(mcse, summary[name]["mcse_mean"])

    assert abs(z_score(gibbs["tau"], "tau")) < 4
    assert abs(z_score(gibbs["sigma"], "sigma")) < 4
    z = np.array([z_score(gibbs["beta"][:, j], f"beta_{j + 1}") for j in range(d)])
    assert np.abs(z).max() < 4.5 and np.mean(np.abs(z) > 3) <= 0.05
    sd_ratio = gibbs["beta"][kept].std(axis=0) / np.array([summary[f"beta_{j + 1}"]["sd"] for j in range(d)])
    assert np.all(np.abs(sd_ratio - 1) < 0.15)
