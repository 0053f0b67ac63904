"""Chapter 6 (lectures/eight_schools.md): the page's runs against the stored reference posterior.

Every run's numbers are what the executed page glued (each run's diagnostics and
posterior summary, the sweep's settings as the page ran them); the test never re-runs
a sampler. Ground truth: the reference posterior stored with the package
(``bayesbook.data.eight_schools_reference()``, a long run checked against quadrature in
``tests/lib/test_models_eight_schools.py``), and for the prior predictive check the
model's own priors, read from the package's copy of the model the page wrote.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from bayesbook import data, models

pytestmark = pytest.mark.book

REFERENCE = data.eight_schools_reference()["summary"]


def runs(glued):
    """The sweep's runs: ``(centred runs in order of target acceptance, the non-centred run)``."""
    centred = sorted((run for run in glued["es_sweep_runs"] if run["centered"] == 1.0),
                     key=lambda run: run["target_accept_prob"])
    noncentred = [run for run in glued["es_sweep_runs"] if run["centered"] == 0.0]
    assert len(centred) >= 2 and len(noncentred) == 1
    return centred, noncentred[0]


def error_in_combined_mcse(row, name):
    reference = REFERENCE[name]
    return (row["mean"] - reference["mean"]) / np.hypot(row["mcse_mean"], reference["mcse_mean"])


# --- the data and the prior predictive check ------------------------------------------------

def test_the_page_used_the_packages_data(glued):
    y, sigma = data.eight_schools()
    np.testing.assert_array_equal(glued["es_data"]["y"], y)
    np.testing.assert_array_equal(glued["es_data"]["sigma"], sigma)
    assert glued["es_y1"] == y[0] and glued["es_sigma1"] == sigma[0]


def model_priors():
    """The priors of mu and tau as the model (the package's copy of the page's) defines them."""
    import jax
    from numpyro import handlers

    _, sigma = data.eight_schools()
    trace = handlers.trace(handlers.seed(models.numpyro_eight_schools_centred, jax.random.PRNGKey(0))).get_trace(sigma)
    mu, tau = trace["mu"]["fn"], trace["tau"]["fn"]
    assert type(mu).__name__ == "Normal" and type(tau).__name__ == "HalfCauchy"
    return float(mu.loc), float(mu.scale), float(tau.scale)


def test_prior_quantiles_of_tau_are_the_half_cauchys(glued):
    _, _, tau_scale = model_priors()
    prior = stats.halfcauchy(scale=tau_scale)
    draws = glued["es_prior_num_draws"]
    for glued_name, q in (("es_prior_tau_median", 0.5), ("es_prior_tau_q95", 0.95)):
        quantile = prior.ppf(q)
        # the sd of a sample quantile: sqrt(q (1 - q) / draws) / density at the quantile
        se = np.sqrt(q * (1 - q) / draws) / prior.pdf(quantile)
        assert glued[glued_name] == pytest.approx(quantile, abs=4 * se), glued_name


def test_the_share_of_implausible_simulated_effects(glued):
    """Given tau, y_j ~ Normal(mu_0, sqrt(mu_sd^2 + tau^2 + sigma_j^2)); integrate over tau's prior."""
    mu_loc, mu_scale, tau_scale = model_priors()
    sigma = np.asarray(glued["es_data"]["sigma"])
    limit = glued["es_prior_implausible"]

    def beyond(tau):
        scale = np.sqrt(mu_scale**2 + tau**2 + sigma**2)
        return np.mean(stats.norm.sf((limit - mu_loc) / scale) + stats.norm.cdf((-limit - mu_loc) / scale))

    prior = stats.halfcauchy(scale=tau_scale)
    share = sum(integrate.quad(lambda tau: beyond(tau) * prior.pdf(tau), a, b, limit=200)[0]
                for a, b in [(0, 50), (50, 1000), (1000, np.inf)])
    # the schools of one simulated data set share mu and tau: count the data sets, not the estimates
    se = np.sqrt(share * (1 - share) / glued["es_prior_num_draws"])
    assert glued["es_prior_beyond_100"] / 100 == pytest.approx(share, abs=4 * se)


# --- the sweep: three centred runs and the non-centred one ---------------------------------------

def test_the_sweep_ran_the_settings_the_page_glued(glued):
    settings = glued["es_sweep_settings"]
    sweep = glued["es_sweep_runs"]
    assert [run["target_accept_prob"] for run in sweep] == settings["target_accept_probs"]
    assert [run["centered"] for run in sweep] == settings["centered"]
    for run in sweep:
        assert (run["num_warmup"], run["num_samples"]) == (settings["num_warmup"], settings["num_samples"])
    assert glued["es_num_warmup"] == settings["num_warmup"] and glued["es_num_samples"] == settings["num_samples"]
    assert glued["es_sweep_chains"] == sum(run["num_chains"] for run in sweep)
    assert glued["es_sweep_draws"] == sum(run["num_chains"] * run["num_samples"] for run in sweep)


def test_noncentred_run_matches_the_reference(glued):
    _, noncentred = runs(glued)
    assert noncentred["divergences"] == 0
    summary = noncentred["summary"]
    assert set(summary) == {"mu", "tau", "log_tau", *[f"theta_{school}" for school in range(1, 9)]}
    assert max(row["r_hat"] for row in summary.values()) <= 1.01
    assert summary["tau"]["ess_bulk"] >= 1000
    for name, row in summary.items():
        assert abs(error_in_combined_mcse(row, name)) < 4, (name, row["mean"], REFERENCE[name]["mean"])
        assert row["sd"] == pytest.approx(REFERENCE[name]["sd"], rel=0.10), (name, row["sd"], REFERENCE[name]["sd"])
    assert glued["es_noncentred_divergences"] == noncentred["divergences"]
    assert glued["es_noncentred_tau_ess"] == pytest.approx(summary["tau"]["ess_bulk"], rel=1e-6)
    assert glued["es_noncentred_log_tau"] == pytest.approx(summary["log_tau"]["mean"], rel=1e-6)
    assert abs(glued["es_noncentred_bias_in_mcse"]) < 4


def test_centred_run_diverges_and_overestimates_log_tau(glued):
    """What the chapter says of the centred run at the default target acceptance."""
    centred, noncentred = runs(glued)
    first = centred[0]
    assert first["divergences"] >= 20 * max(noncentred["divergences"], 1)
    log_tau = first["summary"]["log_tau"]
    assert log_tau["mean"] - REFERENCE["log_tau"]["mean"] > 2 * log_tau["mcse_mean"]  # too high: the neck is under-sampled
    assert glued["es_centred_divergences"] == first["divergences"]
    assert glued["es_centred_draws"] == first["num_chains"] * first["num_samples"]
    assert glued["es_centred_log_tau"] == pytest.approx(log_tau["mean"], rel=1e-6)
    assert glued["es_centred_log_tau_mcse"] == pytest.approx(log_tau["mcse_mean"], rel=1e-3)
    assert glued["es_reference_log_tau"] == REFERENCE["log_tau"]["mean"]
    assert glued["es_centred_bias_in_mcse"] == pytest.approx(
        (log_tau["mean"] - REFERENCE["log_tau"]["mean"]) / log_tau["mcse_mean"], rel=1e-3)
    # the summary's R-hat looks fine, its ESS of tau does not reach the 400 recommended for four chains
    assert max(row["r_hat"] for row in first["summary"].values()) < 1.05
    assert first["summary"]["tau"]["ess_bulk"] < 400


def test_the_centred_run_never_enters_the_neck_the_posterior_reaches(glued):
    """None of the centred run's draws is in the reference's lowest 5 % of log tau, which an unbiased
    run of this ESS visits almost surely (a chance of 0.95 ** ESS to miss it); the non-centred run goes there."""
    centred, noncentred = runs(glued)
    first = centred[0]
    lowest = REFERENCE["log_tau"]["quantiles"]["0.05"]
    assert 0.95 ** first["summary"]["tau"]["ess_bulk"] < 1e-3
    assert first["min_log_tau"] > lowest
    assert noncentred["min_log_tau"] < lowest
    assert glued["es_centred_min_log_tau"] == pytest.approx(first["min_log_tau"], rel=1e-6)
    assert glued["es_noncentred_min_log_tau"] == pytest.approx(noncentred["min_log_tau"], rel=1e-6)


def test_raising_target_acceptance_shrinks_the_step_but_leaves_divergences(glued):
    centred, _ = runs(glued)
    step_sizes = [run["step_size"] for run in centred]
    assert np.all(np.diff(step_sizes) < 0)
    assert step_sizes[-1] < step_sizes[0] / 1.3
    assert all(run["divergences"] > 0 for run in centred)
    assert centred[-1]["mean_leapfrog_steps"] > centred[0]["mean_leapfrog_steps"]
    assert glued["es_sweep_min_divergences"] == min(run["divergences"] for run in centred)
    assert glued["es_sweep_step_ratio"] == pytest.approx(step_sizes[0] / step_sizes[-1], rel=1e-6)
    errors = [(run["summary"]["log_tau"]["mean"] - REFERENCE["log_tau"]["mean"]) / run["summary"]["log_tau"]["mcse_mean"]
              for run in centred]
    assert glued["es_sweep_min_error"] == pytest.approx(min(errors), rel=1e-3)
    assert glued["es_sweep_max_error"] == pytest.approx(max(errors), rel=1e-3)


# --- the reparameterised models ------------------------------------------------------------------

def test_the_handlers_build_the_hand_written_model(glued):
    assert glued["es_reparam_max_difference"] <= 1e-5 * glued["es_log_joint_range"]


def test_the_two_parameterisations_differ_by_the_jacobian(glued):
    assert glued["es_jacobian_max_difference"] <= 1e-5 * glued["es_jacobian_log_joint_range"]


# --- the schools' posteriors, shrinkage, and Pyro ----------------------------------------------------

def test_shrinkage_is_the_references(glued):
    y = np.asarray(glued["es_data"]["y"])
    reference_means = np.array([REFERENCE[f"theta_{school}"]["mean"] for school in range(1, 9)])
    reference_shrinkage = 100 * (1 - np.polyfit(y, reference_means, 1)[0])
    assert glued["es_shrinkage"] == pytest.approx(reference_shrinkage, abs=3)
    _, noncentred = runs(glued)
    row = noncentred["summary"]["theta_1"]
    assert glued["es_school1_mean"] == pytest.approx(row["mean"], rel=1e-5)
    assert abs(error_in_combined_mcse(row, "theta_1")) < 4


def test_the_reference_numbers_in_the_prose(glued):
    assert glued["es_ref_mu"] == REFERENCE["mu"]["mean"]
    widths = [REFERENCE[f"theta_{school}"]["quantiles"]["0.95"] - REFERENCE[f"theta_{school}"]["quantiles"]["0.05"]
              for school in range(1, 9)]
    assert glued["es_ref_width_min"] == pytest.approx(min(widths))
    assert glued["es_ref_width_max"] == pytest.approx(max(widths))


def test_pyro_run_matches_the_reference(glued):
    """The page's Pyro run: means of mu and tau within 4 combined MCSE of the reference."""
    run = glued["es_pyro_run"]
    assert run["divergences"] == glued["es_pyro_divergences"]
    assert (run["num_chains"], run["num_warmup"], run["num_samples"]) == (
        glued["es_pyro_chains"], glued["es_pyro_warmup"], glued["es_pyro_samples"])
    assert glued["es_pyro_draws"] == run["num_chains"] * run["num_samples"]
    for name in ("mu", "tau"):
        assert abs(error_in_combined_mcse(run["summary"][name], name)) < 4, name
    # the page's own measure: the error in Pyro's MCSE alone
    worst = max(abs(run["summary"][name]["mean"] - REFERENCE[name]["mean"]) / run["summary"][name]["mcse_mean"]
                for name in ("mu", "tau"))
    assert glued["es_pyro_max_error_mcse"] == pytest.approx(worst, rel=0.02)
