"""bayesbook.mcmc: NUTS in both libraries, on small cases of the tests' own.

Every run here is short and checked against an independent answer: the closed-form
Beta posterior, the quadrature posterior of a prior, or the conjugate Normal
posterior. Chapter 3's own runs are checked by tests/book/test_mcmc.py, from the
numbers the executed page glued.

The two ways ``run_nuts`` runs the chains of one program (``chain_loop``), on chapter
7's regression with its noise known, whose posterior is the Gaussian of
``exact.regression_posterior``: both sample it, each chain is its own chain, a seed
fixes the draws.

The sweep (``run_nuts_sweep``): several NUTS settings as one compiled program, on tiny
runs of ``x ~ Normal(loc, scale)``, whose mean and sd are known; each run of the sweep
equals ``run_nuts`` at its setting.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesbook import data, exact, mcmc, models, priors, scoring

#: A tiny grid: two priors whose posteriors differ, and two data sets far apart, so
#: that a run given another run's prior or counts would be seen at once.
GRID_PRIORS = [priors.Beta(2.0, 3.0), priors.Uniform(0.2, 0.7)]
GRID_COUNTS = [(2, 12), (27, 30)]
GRID_OPTIONS = dict(num_chains=3, num_warmup=150, num_samples=180)


@pytest.fixture(scope="module")
def tiny_grid():
    return mcmc.run_coin_grid(GRID_PRIORS, GRID_COUNTS, seed=1, **GRID_OPTIONS)


def test_the_result_summarises_its_sample_stats_by_hand():
    """An MCMCResult made by hand: divergences count every flagged draw of every chain, the
    step size is the last one of each chain averaged, draws keep chain 0's before chain 1's."""
    diverging = np.zeros((2, 5), dtype=bool)
    diverging[0, 0] = diverging[1, 0] = diverging[1, 4] = True
    step_size = np.array([[0.5, 0.4, 0.3, 0.2, 0.1], [1.0, 0.9, 0.8, 0.7, 0.6]])
    theta = np.arange(10.0).reshape(2, 5)
    run = mcmc.MCMCResult({"theta": theta}, {"diverging": diverging, "acceptance_rate": np.full((2, 5), 0.75),
                                             "step_size": step_size, "n_steps": np.ones((2, 5))},
                          "numpyro", 100, 1.0, 2.0)
    assert run.divergences == 3
    assert run.step_size == pytest.approx((0.1 + 0.6) / 2)
    assert run.acceptance_rate == pytest.approx(0.75)
    np.testing.assert_array_equal(run.draws(), np.arange(10.0))
    assert (run.num_chains, run.num_samples) == (2, 5)
    with pytest.raises(ValueError, match="name"):
        run.draws("mu")


def test_grid_result_fields_shapes_and_times(tiny_grid):
    assert tiny_grid.priors == tuple(GRID_PRIORS) and tiny_grid.counts == tuple(GRID_COUNTS)
    assert tiny_grid.compile_seconds > 0 and tiny_grid.sampling_seconds > 0
    for prior in GRID_PRIORS:
        for k, n in GRID_COUNTS:
            run = tiny_grid[prior, n]
            assert run.backend == "numpyro" and run.num_warmup == GRID_OPTIONS["num_warmup"]
            assert run.num_chains == GRID_OPTIONS["num_chains"]
            assert run.num_samples == GRID_OPTIONS["num_samples"]
            assert run.posterior["theta"].shape == (3, 180)
            assert run.draws().shape == (540,)
            assert set(run.sample_stats) == {"diverging", "acceptance_rate", "step_size", "n_steps"}
            assert all(value.shape == (3, 180) for value in run.sample_stats.values())
            assert run.sample_stats["diverging"].dtype == bool
            assert np.all(run.sample_stats["n_steps"] >= 1)
            assert 0.5 < run.acceptance_rate <= 1.0  # adapted towards NUTS's default target
            assert run.step_size > 0
            # the grid's times are shared equally among its runs
            assert run.compile_seconds == pytest.approx(tiny_grid.compile_seconds / 4)
            assert run.sampling_seconds == pytest.approx(tiny_grid.sampling_seconds / 4)
            low, high = prior.support
            assert np.all((run.draws() >= low) & (run.draws() <= high))
            tree = run.to_datatree()
            assert tree.posterior["theta"].shape == (3, 180)
            assert "diverging" in tree.sample_stats
            diagnostics = run.diagnostics()
            assert set(diagnostics) == {"ess_bulk", "ess_tail", "r_hat", "divergences", "acceptance_rate",
                                        "step_size", "compile_seconds", "sampling_seconds"}
            assert diagnostics["divergences"] == run.divergences
    with pytest.raises(KeyError):
        tiny_grid[GRID_PRIORS[0], 99]
    with pytest.raises(ValueError, match="name"):
        tiny_grid[GRID_PRIORS[0], 12].draws("phi")


@pytest.mark.parametrize("prior", GRID_PRIORS, ids=lambda prior: prior.label)
@pytest.mark.parametrize("k, n", GRID_COUNTS)
def test_each_grid_run_samples_its_own_posterior(tiny_grid, prior, k, n):
    run = tiny_grid[prior, n]
    truth = prior.posterior(k, n)
    summary = run.summary().iloc[0]
    assert abs(summary["mean"] - truth.mean) <= 5 * summary["mcse_mean"]
    assert summary["sd"] == pytest.approx(truth.sd, rel=0.25)
    assert run.divergences == 0


def test_the_beta_runs_match_the_closed_form(tiny_grid):
    prior = GRID_PRIORS[0]
    for k, n in GRID_COUNTS:
        closed_form = exact.beta_posterior(prior.params["alpha"], prior.params["beta"], k, n)
        run = tiny_grid[prior, n]
        assert abs(scoring.mean_error_in_mcse(run.posterior["theta"], closed_form.mean())) <= 5


def test_grid_is_deterministic_for_a_seed_and_differs_across_seeds(tiny_grid):
    again = mcmc.run_coin_grid(GRID_PRIORS, GRID_COUNTS, seed=1, **GRID_OPTIONS)
    other = mcmc.run_coin_grid(GRID_PRIORS, GRID_COUNTS, seed=2, **GRID_OPTIONS)
    for prior in GRID_PRIORS:
        for _, n in GRID_COUNTS:
            np.testing.assert_array_equal(tiny_grid[prior, n].draws(), again[prior, n].draws())
            assert not np.array_equal(tiny_grid[prior, n].draws(), other[prior, n].draws())
    # the chains of one run are not copies of each other
    chains = tiny_grid[GRID_PRIORS[0], 12].posterior["theta"]
    assert not np.array_equal(chains[0], chains[1])


def test_run_nuts_on_a_model_with_several_parameters():
    """The general runner: a two-parameter Normal model whose posterior is known in closed form."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    y = jnp.asarray(np.random.default_rng(0).normal(1.0, 1.0, size=(20, 2)))

    def model(y):
        mu = numpyro.sample("mu", dist.Normal(jnp.zeros(2), 10.0).to_event(1))
        numpyro.sample("y", dist.Normal(mu, 1.0).to_event(1), obs=y)

    run = mcmc.run_nuts(model, y, num_chains=2, num_warmup=250, num_samples=900, seed=11)
    assert run.posterior["mu"].shape == (2, 900, 2)
    assert run.draws("mu").shape == (1800, 2)
    # conjugate Normal: posterior precision 1/100 + 20, mean sum(y) / precision
    precision = 1 / 100 + 20
    expected_mean = np.asarray(y).sum(axis=0) / precision
    summary = run.summary()
    assert list(summary.index) == ["mu[0]", "mu[1]"]
    assert np.all(np.abs(summary["mean"].to_numpy() - expected_mean) <= 4 * summary["mcse_mean"].to_numpy())
    np.testing.assert_allclose(summary["sd"].to_numpy(), 1 / np.sqrt(precision), rtol=0.1)
    assert run.diagnostics()["r_hat"] <= 1.01
    assert run.compile_seconds > 0 and run.sampling_seconds > 0


def test_pyro_run_fields_posterior_and_seeding():
    import torch

    prior, (k, n) = priors.Beta(2.0, 3.0), (14, 20)
    options = dict(backend="pyro", num_chains=2, num_warmup=60, num_samples=150, seed=12)
    state = torch.random.get_rng_state()
    run = mcmc.run_coin(prior, k, n, **options)
    assert torch.equal(torch.random.get_rng_state(), state), "the run must not reseed PyTorch's generator"
    assert run.backend == "pyro" and run.num_chains == 2 and run.num_samples == 150
    assert run.posterior["theta"].shape == (2, 150)
    assert set(run.sample_stats) == {"diverging", "acceptance_rate", "step_size", "n_steps"}
    assert np.all(np.isnan(run.sample_stats["n_steps"]))  # Pyro does not record it
    assert np.isnan(run.compile_seconds) and run.sampling_seconds > 0
    assert 0.3 < run.acceptance_rate <= 1.0 and run.step_size > 0
    assert "n_steps" not in run.to_datatree().sample_stats  # all NaN: left out
    closed_form = exact.beta_posterior(2.0, 3.0, k, n)
    summary = run.summary().iloc[0]
    assert abs(summary["mean"] - closed_form.mean()) <= 5 * summary["mcse_mean"]
    again = mcmc.run_coin(prior, k, n, **options)
    np.testing.assert_array_equal(run.draws(), again.draws())


def test_the_coin_models_simulate_and_condition():
    """Both coin models: with ``k=None`` they simulate a count; with ``k`` their log joint is prior + Binomial."""
    import numpyro
    import pyro
    import torch

    flat, prior = priors.Uniform(0.0, 1.0), priors.Beta(2.0, 3.0)
    # NumPyro's Binomial simulates with an integer number of trials
    trace = numpyro.handlers.trace(numpyro.handlers.seed(models.numpyro_coin_model, 0)).get_trace(
        flat.numpyro(), 12)
    simulated = float(trace["k"]["value"])
    assert simulated == round(simulated) and 0 <= simulated <= 12 and not trace["k"]["is_observed"]
    theta = 0.35
    expected = stats.beta(2.0, 3.0).logpdf(theta) + stats.binom(12, theta).logpmf(5)
    log_joint, _ = numpyro.infer.util.log_density(models.numpyro_coin_model, (prior.numpyro(), 12.0, 5.0), {},
                                                  {"theta": theta})
    assert float(log_joint) == pytest.approx(expected, rel=1e-5)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        pyro_trace = pyro.poutine.trace(models.pyro_coin_model).get_trace(flat.pyro(), torch.tensor(12.0))
    assert 0 <= float(pyro_trace.nodes["k"]["value"]) <= 12 and not pyro_trace.nodes["k"]["is_observed"]
    fixed = pyro.poutine.condition(models.pyro_coin_model, data={"theta": torch.tensor(theta)})
    pyro_trace = pyro.poutine.trace(fixed).get_trace(prior.pyro(), torch.tensor(12.0), torch.tensor(5.0))
    assert float(pyro_trace.log_prob_sum()) == pytest.approx(expected, rel=1e-5)
    assert models.coin_model("numpyro") is models.numpyro_coin_model
    assert models.coin_model("pyro") is models.pyro_coin_model


def test_a_distribution_without_a_support_fails_at_once():
    import jax.numpy as jnp
    import numpyro.distributions as dist

    class NoSupport(dist.Distribution):
        def log_prob(self, value):
            return jnp.zeros_like(value)

    n, k = models.coin_data("numpyro", 3, 4)
    with pytest.raises((AttributeError, NotImplementedError, ValueError)):  # NumPyro's error, whichever
        mcmc.run_nuts(models.numpyro_coin_model, NoSupport(), n, k, num_chains=1, num_warmup=5, num_samples=5)


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
        ({"k": 2, "n": 5, "chain_loop": "parallel"}, ValueError, "chain_loop"),
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
    with pytest.raises(TypeError, match="model"):
        mcmc.run_nuts("not a model")


# --- the chains of one run, vectorised or one after another ---------------------------------

NOISE_SD = 0.7
X, Y = data.simulate_regression(12, intercept=0.5, slope=-0.4, noise_sd=NOISE_SD, x_range=(-3.0, 5.0), seed=21)
CHAIN_RUN = {"num_warmup": 200, "num_samples": 400, "num_chains": 3}


def known_noise_model():
    import numpyro

    return numpyro.handlers.condition(models.numpyro_linear_regression, {"sigma": NOISE_SD})


@pytest.fixture(scope="module")
def exact_posterior():
    return exact.regression_posterior(X, Y, noise_sd=NOISE_SD, prior_sd=(5.0, 2.0))


@pytest.fixture(scope="module")
def chain_runs():
    return {method: mcmc.run_nuts(known_noise_model(), X, model_kwargs={"y": Y}, seed=3, chain_loop=method, **CHAIN_RUN)
            for method in mcmc.CHAIN_LOOPS}


@pytest.mark.parametrize("method", mcmc.CHAIN_LOOPS)
def test_each_chain_loop_samples_the_exact_posterior(chain_runs, exact_posterior, method):
    mean, cov = exact_posterior
    run = chain_runs[method]
    table = run.summary(["intercept", "slope"])
    errors = (table["mean"].to_numpy() - mean) / table["mcse_mean"].to_numpy()
    assert np.all(np.abs(errors) < 4), errors
    draws = np.column_stack([run.draws("intercept"), run.draws("slope")])
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.15)
    assert run.divergences == 0 and table["r_hat"].max() < 1.02


@pytest.mark.parametrize("method", mcmc.CHAIN_LOOPS)
def test_the_result_keeps_the_chains_apart_and_fills_every_field(chain_runs, method):
    run = chain_runs[method]
    chains, samples = CHAIN_RUN["num_chains"], CHAIN_RUN["num_samples"]
    assert run.backend == "numpyro" and run.num_warmup == CHAIN_RUN["num_warmup"]
    assert run.num_chains == chains and run.num_samples == samples
    assert set(run.posterior) == {"intercept", "slope"}
    assert all(value.shape == (chains, samples) for value in run.posterior.values())
    assert set(run.sample_stats) == {"diverging", "acceptance_rate", "step_size", "n_steps"}
    assert all(value.shape == (chains, samples) for value in run.sample_stats.values())
    # draws() concatenates the chains in order
    slope = run.draws("slope")
    assert slope.shape == (chains * samples,)
    for chain in range(chains):
        np.testing.assert_array_equal(slope[chain * samples:(chain + 1) * samples], run.posterior["slope"][chain])
    # every chain is its own: different draws, and each adapted its own step size
    assert len({run.posterior["slope"][chain, 0] for chain in range(chains)}) == chains
    assert len(set(run.sample_stats["step_size"][:, -1])) == chains
    assert 0.5 < run.acceptance_rate <= 1 and run.step_size > 0
    assert run.compile_seconds > 0 and run.sampling_seconds > 0
    diagnostics = run.diagnostics()
    assert diagnostics["divergences"] == run.divergences and diagnostics["r_hat"] == run.summary()["r_hat"].max()


def test_the_two_methods_draw_differently_but_a_seed_fixes_the_draws(chain_runs):
    """Same chain keys, but the two programs round differently and NUTS amplifies it."""
    assert not np.array_equal(chain_runs["vmap"].posterior["slope"], chain_runs["lax.map"].posterior["slope"])
    again = mcmc.run_nuts(known_noise_model(), X, model_kwargs={"y": Y}, seed=3, chain_loop="lax.map", **CHAIN_RUN)
    np.testing.assert_array_equal(again.posterior["slope"], chain_runs["lax.map"].posterior["slope"])
    other = mcmc.run_nuts(known_noise_model(), X, model_kwargs={"y": Y}, seed=4, chain_loop="lax.map", **CHAIN_RUN)
    assert not np.array_equal(other.posterior["slope"], chain_runs["lax.map"].posterior["slope"])


@pytest.mark.parametrize("chain_loop", ["parallel", "sequential", "vectorized", None])
def test_run_nuts_rejects_an_unknown_chain_loop(chain_loop):
    with pytest.raises(ValueError, match="chain_loop"):
        mcmc.run_nuts(models.numpyro_linear_regression, X, model_kwargs={"y": Y}, chain_loop=chain_loop)


# --- the sweep over target acceptance probabilities and model arguments ----------------------

SWEEP_OPTIONS = {"num_chains": 2, "num_warmup": 150, "num_samples": 150, "seed": 14}


def normal_model(scale, loc=0.0):
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("x", dist.Normal(loc, scale))


@pytest.fixture(scope="module")
def sweep():
    return mcmc.run_nuts_sweep(normal_model, 2.0, target_accept_probs=[0.6, 0.93], **SWEEP_OPTIONS)


def test_a_sweep_run_equals_run_nuts_at_its_target(sweep):
    single = mcmc.run_nuts(normal_model, 2.0, target_accept_prob=0.93, **SWEEP_OPTIONS)
    np.testing.assert_allclose(sweep[1].posterior["x"], single.posterior["x"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sweep[1].sample_stats["step_size"], single.sample_stats["step_size"], rtol=1e-5)


def test_every_field_of_each_run(sweep):
    assert len(sweep) == 2
    for run in sweep:
        assert isinstance(run, mcmc.MCMCResult) and run.backend == "numpyro"
        assert (run.num_chains, run.num_samples, run.num_warmup) == (2, 150, 150)
        assert run.posterior["x"].shape == (2, 150)
        assert set(run.sample_stats) == {"diverging", "acceptance_rate", "step_size", "n_steps"}
        assert all(value.shape == (2, 150) for value in run.sample_stats.values())
        assert run.compile_seconds > 0 and run.sampling_seconds > 0
    # the program's times are shared equally between the runs
    assert sweep[0].compile_seconds == sweep[1].compile_seconds
    assert sweep[0].sampling_seconds == sweep[1].sampling_seconds


def test_a_higher_target_adapts_a_smaller_step_and_accepts_more(sweep):
    assert sweep[1].step_size < sweep[0].step_size
    assert sweep[1].acceptance_rate > sweep[0].acceptance_rate


def test_each_run_samples_the_target(sweep):
    for run in sweep:
        draws = run.draws("x")
        assert draws.mean() == pytest.approx(0.0, abs=4 * 2.0 / np.sqrt(len(draws) / 3))  # a generous ESS of a third
        assert draws.std() == pytest.approx(2.0, rel=0.25)


def test_sweep_kwargs_reach_the_model_as_numbers():
    """A swept keyword gives each run its own value, and the run equals run_nuts with that value."""
    import jax.numpy as jnp

    options = {**SWEEP_OPTIONS, "seed": 15}
    runs = mcmc.run_nuts_sweep(normal_model, 1.0, target_accept_probs=[0.7, 0.7],
                               sweep_kwargs={"loc": [0.0, 10.0]}, **options)
    single = mcmc.run_nuts(normal_model, 1.0, model_kwargs={"loc": jnp.asarray(10.0, jnp.float32)},
                           target_accept_prob=0.7, **options)
    np.testing.assert_allclose(runs[1].posterior["x"], single.posterior["x"], rtol=1e-5, atol=1e-5)
    assert abs(runs[0].posterior["x"].mean()) < 0.3
    assert abs(runs[1].posterior["x"].mean() - 10.0) < 0.3


@pytest.mark.parametrize("sweep_kwargs, error", [
    ({"loc": [0.0]}, ValueError),                 # one value for two runs
    ({"loc": [0.0, "a"]}, TypeError),
    ({"loc": [0.0, float("nan")]}, ValueError),
    ({"scale": [1.0, 2.0]}, ValueError),          # also in model_kwargs
    ([("loc", [0.0, 1.0])], TypeError),
])
def test_sweep_rejects_bad_sweep_kwargs(sweep_kwargs, error):
    with pytest.raises(error, match="sweep_kwargs"):
        mcmc.run_nuts_sweep(normal_model, model_kwargs={"scale": 1.0}, target_accept_probs=[0.7, 0.85],
                            sweep_kwargs=sweep_kwargs)


@pytest.mark.parametrize("targets, error", [([], ValueError), ([0.7, 1.0], ValueError), ([0.0], ValueError),
                                            ("0.7", TypeError), (0.7, TypeError)])
def test_sweep_rejects_bad_targets(targets, error):
    with pytest.raises(error, match="target_accept_prob"):
        mcmc.run_nuts_sweep(normal_model, 1.0, target_accept_probs=targets)


@pytest.mark.parametrize("options, error, match", [
    ({"num_chains": 0}, ValueError, "num_chains"),
    ({"num_samples": 1.5}, TypeError, "num_samples"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_sweep_rejects_bad_options(options, error, match):
    with pytest.raises(error, match=match):
        mcmc.run_nuts_sweep(normal_model, 1.0, target_accept_probs=[0.7], **options)


def test_sweep_rejects_a_model_that_is_not_callable():
    with pytest.raises(TypeError, match="model"):
        mcmc.run_nuts_sweep("normal", 1.0, target_accept_probs=[0.7])


def test_run_nuts_can_count_the_warmup_leapfrog_steps():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    def model(y):
        mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
        numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)

    y = jnp.asarray([0.3, -0.2, 1.1])
    run = mcmc.run_nuts(model, y, num_chains=2, num_warmup=50, num_samples=30, seed=1, count_warmup=True,
                        chain_loop="lax.map")
    steps = run.sample_stats["warmup_n_steps"]
    assert steps.shape == (2, 50) and np.all(steps >= 1) and np.all(steps <= 2**10 - 1)
    assert run.posterior["mu"].shape == (2, 30)
    assert abs(run.posterior["mu"].mean() - float(y.sum()) / (3 + 1 / 100)) < 0.5  # the conjugate posterior mean
    assert "warmup_n_steps" not in run.to_datatree().sample_stats
    assert "warmup_n_steps" not in mcmc.run_nuts(model, y, num_chains=1, num_warmup=10, num_samples=10).sample_stats
    with pytest.raises(ValueError, match="count_warmup"):
        mcmc.run_nuts(model, y, backend="pyro", count_warmup=True)


def test_the_grid_with_chains_one_after_another_samples_each_posterior():
    """chain_loop="lax.map" runs the same chains one after another: every (prior, counts) run
    still samples its own posterior, inside its prior's support."""
    grid = mcmc.run_coin_grid(GRID_PRIORS, GRID_COUNTS, seed=1, chain_loop="lax.map", **GRID_OPTIONS)
    for prior in GRID_PRIORS:
        for k, n in GRID_COUNTS:
            run = grid[prior, n]
            exact_posterior = prior.posterior(k, n)
            draws = run.draws()
            assert prior.support[0] <= draws.min() and draws.max() <= prior.support[1]
            mcse = exact_posterior.sd / np.sqrt(run.diagnostics()["ess_bulk"])
            assert abs(draws.mean() - exact_posterior.mean) < 5 * mcse, (prior.label, n)
    with pytest.raises(ValueError, match="chain_loop"):
        mcmc.run_coin_grid(GRID_PRIORS, GRID_COUNTS, chain_loop="pmap")
