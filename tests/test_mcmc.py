"""bayesbook.mcmc: NUTS in both libraries, scored against the exact posteriors.

The grid run here is the one chapter 3 shows (same priors, flips, settings and
seed), so every posterior on that page is checked against quadrature and, for the
Beta prior, against the closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesbook import data, exact, mcmc, models, priors, scoring

SAMPLE_SIZES = [5, 10, 50, 100, 1000]
FLIPS = data.simulate_bernoulli(0.8, n=1000, seed=20261122)
COUNTS = [data.count_successes(FLIPS[:n]) for n in SAMPLE_SIZES]
BOOK_PRIORS = priors.book_priors()
CASES = [
    pytest.param(prior, k, n, id=f"{prior.label}-n{n}")
    for prior in BOOK_PRIORS
    for k, n in COUNTS
]


@pytest.fixture(scope="module")
def grid():
    # the chapter's call (lectures/mcmc.md)
    return mcmc.run_coin_grid(BOOK_PRIORS, COUNTS, num_chains=4, num_warmup=1000, num_samples=2500, seed=3)


@pytest.mark.parametrize("prior, k, n", CASES)
def test_every_numpyro_run_matches_quadrature_and_is_healthy(grid, prior, k, n):
    run = grid[prior, n]
    score = scoring.score_draws(run.posterior["theta"], prior.posterior(k, n))
    diagnostics = run.diagnostics()
    assert score["w1_over_sd"] <= 0.05
    assert abs(score["mean_error_mcse"]) <= 4
    assert diagnostics["r_hat"] <= 1.01
    assert diagnostics["ess_bulk"] >= 1000
    assert diagnostics["divergences"] == 0
    low, high = prior.support
    assert np.all((run.draws() >= low) & (run.draws() <= high))


@pytest.mark.parametrize("k, n", COUNTS)
def test_beta_prior_mean_within_4_mcse_of_the_closed_form(grid, k, n):
    run = grid[priors.Beta(5.0, 5.0), n]
    closed_form = exact.beta_posterior(5.0, 5.0, k, n)
    assert abs(scoring.mean_error_in_mcse(run.posterior["theta"], closed_form.mean())) <= 4
    assert run.draws().std() == pytest.approx(closed_form.std(), rel=0.05)


def test_grid_result_shapes_and_times(grid):
    run = grid[BOOK_PRIORS[0], 5]
    assert run.posterior["theta"].shape == (4, 2500)
    assert set(run.sample_stats) == {"diverging", "acceptance_rate", "step_size", "n_steps"}
    assert run.sample_stats["diverging"].dtype == bool
    assert 0.6 < run.acceptance_rate < 1.0  # adapted towards the 0.8 target
    assert grid.compile_seconds > 0 and grid.sampling_seconds > 0
    assert run.compile_seconds == pytest.approx(grid.compile_seconds / 35)
    tree = run.to_datatree()
    assert tree.posterior["theta"].shape == (4, 2500)
    assert "diverging" in tree.sample_stats


def test_grid_is_deterministic_for_a_seed_and_differs_across_seeds():
    small = dict(num_chains=2, num_warmup=100, num_samples=100)
    prior = priors.TruncatedLaplace(0.5, 0.07)
    first = mcmc.run_coin_grid([prior], [(8, 10)], seed=1, **small)[prior, 10].draws()
    again = mcmc.run_coin_grid([prior], [(8, 10)], seed=1, **small)[prior, 10].draws()
    other = mcmc.run_coin_grid([prior], [(8, 10)], seed=2, **small)[prior, 10].draws()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_run_nuts_on_a_model_with_several_parameters():
    """The general runner: a two-parameter Normal model whose posterior is known in closed form."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    y = jnp.asarray(np.random.default_rng(0).normal(1.0, 1.0, size=(20, 2)))

    def model(y):
        mu = numpyro.sample("mu", dist.Normal(jnp.zeros(2), 10.0).to_event(1))
        numpyro.sample("y", dist.Normal(mu, 1.0).to_event(1), obs=y)

    run = mcmc.run_nuts(model, y, num_chains=2, num_warmup=300, num_samples=1000, seed=0)
    assert run.posterior["mu"].shape == (2, 1000, 2)
    # conjugate Normal: posterior precision 1/100 + 20, mean sum(y) / precision
    precision = 1 / 100 + 20
    expected_mean = np.asarray(y).sum(axis=0) / precision
    summary = run.summary()
    assert list(summary.index) == ["mu[0]", "mu[1]"]
    assert np.all(np.abs(summary["mean"].to_numpy() - expected_mean) <= 4 * summary["mcse_mean"].to_numpy())
    np.testing.assert_allclose(summary["sd"].to_numpy(), 1 / np.sqrt(precision), rtol=0.1)
    assert run.diagnostics()["r_hat"] <= 1.01


def test_a_wrong_support_shows_up_as_divergences():
    """The chapter's broken run: a log-normal whose declared support is (0, inf) instead of (0, 1]."""
    import pyro.distributions as pdist
    import torch

    from bayesbook.pyro_dists import InverseCDFTruncated

    naive = pdist.TransformedDistribution(
        InverseCDFTruncated(pdist.Normal(torch.tensor(0.0), torch.tensor(2.0)), high=0.0),
        pdist.transforms.ExpTransform(),
    )
    n, k = models.coin_data("pyro", 9, 10)
    settings = dict(backend="pyro", num_chains=2, num_warmup=30, num_samples=170, seed=4)  # the chapter's
    broken = mcmc.run_nuts(models.pyro_coin_model, naive, n, k, **settings)
    fixed = mcmc.run_coin(priors.TruncatedLogNormal(0.0, 2.0), 9, 10, **settings)
    assert broken.divergences >= 0.1 * 2 * 170
    assert fixed.divergences == 0
    truth = priors.TruncatedLogNormal(0.0, 2.0).posterior(9, 10)
    assert scoring.score_draws(broken.posterior["theta"], truth)["w1_over_sd"] > 0.05


@pytest.mark.slow
@pytest.mark.parametrize("prior", BOOK_PRIORS, ids=lambda p: p.label)
def test_pyro_agrees_with_numpyro_and_quadrature_at_n_100(grid, prior):
    # W1 is Monte Carlo noise of about 1.2 / sqrt(ESS) posterior sds: the 0.05 bound
    # needs about 3,000 effective draws, 8,000 of Pyro's (about 35 s per prior).
    k, n = COUNTS[SAMPLE_SIZES.index(100)]
    run = mcmc.run_coin(prior, k, n, backend="pyro", num_chains=4, num_warmup=300, num_samples=2000, seed=11)
    truth = prior.posterior(k, n)
    score = scoring.score_draws(run.posterior["theta"], truth)
    diagnostics = run.diagnostics()
    assert diagnostics["r_hat"] <= 1.01
    assert diagnostics["divergences"] == 0
    assert abs(score["mean_error_mcse"]) <= 4
    assert score["w1_over_sd"] <= 0.05
    numpyro_run = grid[prior, n]
    combined_mcse = np.hypot(
        numpyro_run.summary()["mcse_mean"].iloc[0], run.summary()["mcse_mean"].iloc[0]
    )
    assert abs(run.draws().mean() - numpyro_run.draws().mean()) <= 4 * combined_mcse




@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"k": 6, "n": 5}, ValueError, "k"),
        ({"k": 1, "n": -1}, ValueError, "n"),
        ({"k": 2.5, "n": 5}, ValueError, "k"),
        ({"k": 2, "n": 5.0}, ValueError, "n"),
        ({"k": 2, "n": 5, "num_samples": 0}, ValueError, "num_samples"),
        ({"k": 2, "n": 5, "num_chains": 0}, ValueError, "num_chains"),
        ({"k": 2, "n": 5, "num_warmup": -1}, ValueError, "num_warmup"),
        ({"k": 2, "n": 5, "backend": "stan"}, ValueError, "backend"),
        ({"k": 2, "n": 5, "target_accept_prob": 1.0}, ValueError, "target_accept_prob"),
        ({"k": 2, "n": 5, "seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        mcmc.run_coin(priors.Beta(1.0, 1.0), **kwargs)


def test_bad_grid_input():
    with pytest.raises(ValueError, match="priors"):
        mcmc.run_coin_grid([], [(1, 2)])
    with pytest.raises(ValueError, match="counts"):
        mcmc.run_coin_grid([priors.Beta(1.0, 1.0)], [])
    with pytest.raises(ValueError, match="k"):
        mcmc.run_coin_grid([priors.Beta(1.0, 1.0)], [(3, 2)])
    with pytest.raises(TypeError, match="prior"):
        mcmc.run_coin("beta", 1, 2)
