"""Chapter 8 (lectures/hierarchical_and_sparse.md): the page's numbers against independent computations.

The hierarchical regression has an exact posterior that this test computes. Given the
two population sds, every other unknown (the population means and each group's slope
and intercept) enters linearly into Gaussians, so its posterior is Gaussian in closed
form and the marginal likelihood of the two sds is known; a quadrature over the two
sds gives the exact posterior means and sds of every group's line. The page's NUTS
run and its four guides are scored against it. The sparse regression's data follow
from the simulation's arguments the page glued; under the Gaussian prior its exact
posterior is ``exact.gaussian_prior_regression_posterior``, and under the horseshoe
the stored reference (``data.horseshoe_reference()``, validated against a Gibbs sampler
in ``tests/lib/test_data.py``) is the yardstick. Nothing here re-runs the page's
samplers or optimisers, and no setting of the page is written here.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from answers import misses, recorded_answer
from scipy import stats

from bayesbook import data, exact, models

pytestmark = pytest.mark.book

SITES = ("slope", "intercept")
GUIDES = ("AutoDiagonalNormal", "AutoMultivariateNormal", "AutoLowRankMultivariateNormal")

# The hierarchical model's priors (bayesbook.models.numpyro_hierarchical_regression, the
# page's model: tests/book/test_saved_code.py), written out: (intercept, slope) order.
MEAN_PRIOR_SD = np.array([25.0, 5.0])      # intercept_mean ~ Normal(0, 25), slope_mean ~ Normal(0, 5)
SD_PRIOR_SCALE = np.array([5.0, 1.0])      # intercept_sd ~ HalfNormal(5), slope_sd ~ HalfNormal(1)


def hierarchical_posterior(group, x, y_err, y, *, grid_size=160):
    """Exact posterior means and sds of every group's (intercept, slope), the population means and sds.

    For sds ``D = diag(s_a^2, s_b^2)``, group ``g``'s data are ``y_g ~ Normal(X_g mu,
    E_g + X_g D X_g^T)`` with ``X_g = [1, x]`` and ``E_g = diag(y_err^2)``, and
    ``theta_g | mu, s, y_g`` is Normal with precision ``D^-1 + X_g^T E_g^-1 X_g``. With
    ``F_g = X_g^T E_g^-1 X_g``, ``h_g = X_g^T E_g^-1 y_g`` and ``K_g = (D^-1 + F_g)^-1`` all
    of it is 2 x 2 algebra (Woodbury): ``X^T C^-1 X = F - F K F``, ``X^T C^-1 y = h - F K
    h``, ``y^T C^-1 y = q - h^T K h``, ``log|C| = log|E| + log|D| - log|K|``. The population
    means have a Gaussian prior, so they too are integrated out in closed form; the two
    sds are integrated on a log-spaced grid.
    """
    num_groups = int(group.max()) + 1
    design = np.stack([np.ones_like(x), x], axis=-1)                       # (n, 2)
    weight = y_err ** -2.0
    F = np.zeros((num_groups, 2, 2))
    h = np.zeros((num_groups, 2))
    q = np.zeros(num_groups)
    log_det_E = np.zeros(num_groups)
    for g in range(num_groups):
        rows = group == g
        F[g] = design[rows].T @ (weight[rows, None] * design[rows])
        h[g] = design[rows].T @ (weight[rows] * y[rows])
        q[g] = np.sum(weight[rows] * y[rows] ** 2)
        log_det_E[g] = -np.sum(np.log(weight[rows]))
    s_a, s_b = (np.logspace(np.log10(1e-5 * scale), np.log10(6 * scale), grid_size) for scale in SD_PRIOR_SCALE)
    S_a, S_b = (value.ravel() for value in np.meshgrid(s_a, s_b, indexing="ij"))
    D_inv = np.zeros((S_a.size, 2, 2))
    D_inv[:, 0, 0], D_inv[:, 1, 1] = S_a ** -2.0, S_b ** -2.0
    K = np.linalg.inv(D_inv[:, None] + F[None])                              # (grid, groups, 2, 2)
    FK = F[None] @ K
    G = np.sum(F[None] - FK @ F[None], axis=1)                               # sum_g X^T C^-1 X
    r = np.sum(h[None] - np.einsum("zgij,gj->zgi", FK, h), axis=1)           # sum_g X^T C^-1 y
    t = np.sum(q[None] - np.einsum("gi,zgij,gj->zg", h, K, h), axis=1)      # sum_g y^T C^-1 y
    log_det_K = np.linalg.slogdet(K)[1]
    log_det_C = np.sum(log_det_E[None] + np.log(S_a ** 2 * S_b ** 2)[:, None] - log_det_K, axis=1)
    P = np.diag(MEAN_PRIOR_SD ** -2.0)[None] + G                             # precision of the means
    P_inv = np.linalg.inv(P)
    m = np.einsum("zij,zj->zi", P_inv, r)
    log_likelihood = -0.5 * (log_det_C + t - np.einsum("zi,zi->z", r, m) + np.sum(np.log(MEAN_PRIOR_SD ** 2))
                             + np.linalg.slogdet(P)[1])
    log_prior = stats.halfnorm.logpdf(S_a, scale=SD_PRIOR_SCALE[0]) + stats.halfnorm.logpdf(S_b, scale=SD_PRIOR_SCALE[1])
    log_cell = np.log(np.gradient(s_a))[:, None] + np.log(np.gradient(s_b))[None, :]
    log_weight = log_likelihood + log_prior + log_cell.ravel()
    w = np.exp(log_weight - log_weight.max())
    w /= w.sum()
    edges = w.reshape(grid_size, grid_size)
    assert max(edges[-1].sum(), edges[:, -1].sum()) < 1e-6, "the grid must hold the posterior of the sds"
    # each group's line given the sds: mean K (D^-1 m + h), covariance K + K D^-1 P^-1 D^-1 K
    KD = K @ D_inv[:, None]
    line_mean = np.einsum("zgij,zgj->zgi", K, np.einsum("zij,zj->zi", D_inv, m)[:, None] + h[None])
    line_var = np.diagonal(K + KD @ P_inv[:, None] @ np.swapaxes(KD, -1, -2), axis1=-2, axis2=-1)
    mean = np.einsum("z,zgi->gi", w, line_mean)
    sd = np.sqrt(np.einsum("z,zgi->gi", w, line_var + line_mean ** 2) - mean ** 2)
    mu_mean = w @ m
    mu_sd = np.sqrt(w @ (np.diagonal(P_inv, axis1=-2, axis2=-1) + m ** 2) - mu_mean ** 2)
    sds = {"intercept_sd": S_a, "slope_sd": S_b}
    population = {"intercept_mean": (mu_mean[0], mu_sd[0]), "slope_mean": (mu_mean[1], mu_sd[1])}
    for name, values in sds.items():
        first = w @ values
        population[name] = (first, np.sqrt(w @ values ** 2 - first ** 2))
    return {"intercept": (mean[:, 0], sd[:, 0]), "slope": (mean[:, 1], sd[:, 1]), "population": population}


def groups_data(glued):
    groups = glued["hs_groups_data"]
    return {name: np.asarray(value) for name, value in groups.items()}


@pytest.fixture(scope="module")
def hierarchical_exact(glued):
    groups = groups_data(glued)
    return hierarchical_posterior(groups["group"], groups["x"], groups["y_err"], groups["y"])


# --- the grouped data ----------------------------------------------------------------------

def test_the_grouped_data_are_what_the_prose_says(glued):
    groups = groups_data(glued)
    assert np.array_equal(np.bincount(groups["group"]), np.full(glued["hs_groups"], glued["hs_points"]))
    assert groups["slope"].shape == groups["intercept"].shape == (glued["hs_groups"],)
    for name in ("slope", "intercept"):
        assert glued[f"hs_realised_{name}_mean"] == pytest.approx(groups[name].mean(), rel=1e-12)
        assert glued[f"hs_realised_{name}_sd"] == pytest.approx(groups[name].std(ddof=1), rel=1e-12)
    # each point lies on its group's true line, within its measurement error
    g = groups["group"]
    standardised = (groups["y"] - groups["intercept"][g] - groups["slope"][g] * groups["x"]) / groups["y_err"]
    assert np.all(np.abs(standardised) < 4.5)


# --- NUTS and the guides against the exact posterior ----------------------------------------

def test_the_exact_posterior_is_a_proper_computation(glued, hierarchical_exact):
    """The quadrature converged: a grid twice as fine gives the same posterior."""
    groups = groups_data(glued)
    finer = hierarchical_posterior(groups["group"], groups["x"], groups["y_err"], groups["y"], grid_size=240)
    for site in SITES:
        for coarse, fine in zip(hierarchical_exact[site], finer[site]):
            np.testing.assert_allclose(coarse, fine, rtol=2e-3)


def test_nuts_mixes_and_matches_the_exact_posterior_of_every_line(glued, hierarchical_exact):
    """Issue 12: R-hat <= 1.01 and no divergences (non-centred); every group's mean within 4 MCSE."""
    assert glued["hs_nuts_rhat"] <= 1.01 and glued["hs_nuts_divergences"] == 0
    for site in SITES:
        nuts = {column: np.asarray(values) for column, values in glued["hs_nuts_lines"][site].items()}
        mean, sd = hierarchical_exact[site]
        errors = (nuts["mean"] - mean) / nuts["mcse_mean"]
        assert np.all(np.abs(errors) < 4), (site, errors)
        np.testing.assert_allclose(nuts["sd"], sd, rtol=0.1)
        assert np.all(nuts["r_hat"] <= 1.01)


def test_nuts_matches_the_exact_posterior_of_the_population(glued, hierarchical_exact):
    summary = glued["hs_population_summary"]
    for name, (mean, sd) in hierarchical_exact["population"].items():
        row = summary[name]
        assert abs(row["mean"] - mean) < 4 * row["mcse_mean"], name
        assert row["sd"] == pytest.approx(sd, rel=0.1), name
    # and the page's distances to the realised population are the table's
    distance = max(abs(summary[name]["mean"] - glued[f"hs_realised_{name}"]) / summary[name]["sd"]
                   for name in ("slope_mean", "slope_sd", "intercept_mean", "intercept_sd"))
    assert glued["hs_population_distance"] == pytest.approx(distance, rel=1e-6)


def test_the_guides_match_the_exact_posterior_of_every_line(glued, hierarchical_exact):
    """Issue 12: the full-covariance guide's group means within 0.3 posterior sd; every guide's
    sds close but, as the page says, a little too small."""
    lines = glued["hs_guide_lines"]
    for name in GUIDES:
        errors, ratios = [], []
        for site in SITES:
            mean, sd = hierarchical_exact[site]
            errors.append(np.abs(np.asarray(lines[name][site]["mean"]) - mean) / sd)
            ratios.append(np.asarray(lines[name][site]["sd"]) / sd)
        largest, median_ratio = np.max(errors), np.median(ratios)
        assert largest <= (0.3 if name == "AutoMultivariateNormal" else 0.5), (name, largest)
        assert 0.7 <= median_ratio < 1.05, (name, median_ratio)
        if name == "AutoMultivariateNormal":
            assert np.median(ratios[0]) < 1.0  # the slopes' sds, the ones the data say least about


def test_the_guide_table_is_what_the_prose_reads(glued):
    rows = glued["hs_guide_table"]
    assert set(rows) == set(GUIDES)
    for name, row in rows.items():
        assert glued[f"hs_error_{name}"] == row["largest mean error (NUTS sd)"]
        steps = row["steps to convergence"]
        assert steps is None or 0 < steps <= glued["hs_svi_steps"]
        assert row["converged"] in (True, False)
    ratios = [row["median sd ratio"] for row in rows.values()]
    assert (glued["hs_sd_ratio_low"], glued["hs_sd_ratio_high"]) == (min(ratios), max(ratios))


def test_the_cost_study_spans_the_dimensions_and_counts_consistently(glued):
    """Issue 23: at least four numbers of groups over at least 1.5 orders of magnitude, NUTS
    converged at each, and every derived count recomputed from the row's own counts."""
    scaling = {int(size): row for size, row in glued["hs_scaling"].items()}
    sizes = sorted(scaling)
    assert len(sizes) >= 4 and np.log10(sizes[-1] / sizes[0]) >= 1.5
    assert glued["hs_groups"] in scaling and (glued["hs_small_groups"], glued["hs_large_groups"]) == (sizes[0], sizes[-1])
    for size, row in scaling.items():
        assert row["latent dimension"] == 2 * size + 4
        assert row["NUTS R-hat"] <= 1.01 and row["NUTS bulk ESS"] >= 400, size
        assert row["NUTS ESS per 1000 gradients"] == pytest.approx(1000 * row["NUTS bulk ESS"] / row["NUTS sampling gradients"])
        for guide in ("Diagonal", "Multivariate"):
            if f"{guide} RMS error" not in row:
                continue
            error = row[f"{guide} RMS error"]
            assert 0 < error < 0.5, (size, guide, error)
            needed = row["NUTS warm-up gradients"] + row["NUTS sampling gradients"] / (row["NUTS bulk ESS"] * error**2)
            assert row[f"NUTS gradients to {guide}'s error"] == pytest.approx(needed)
        assert row["Diagonal gradients"] is not None and row["Diagonal gradients"] > 0
    assert glued["hs_scaling_rhat"] == pytest.approx(max(row["NUTS R-hat"] for row in scaling.values()))
    warmup = [scaling[size]["NUTS warm-up gradients"] for size in sizes]
    assert glued["hs_warmup_growth"] == pytest.approx(warmup[-1] / warmup[0])


# --- sparse regression ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def sparse(glued):
    """The page's sparse data, simulated from the glued arguments and checked against what the page glued."""
    glued_data = glued["hs_sparse_data"]
    simulated = data.simulate_sparse(**glued_data["settings"])
    np.testing.assert_array_equal(simulated["beta"], glued_data["beta"])
    np.testing.assert_allclose(simulated["y"], glued_data["y"], rtol=1e-12)
    return simulated


@pytest.fixture(scope="module")
def gaussian_exact(glued, sparse):
    return exact.gaussian_prior_regression_posterior(sparse["X"], sparse["y"], **glued["hs_prior_scales"])


def rms(values, mask):
    return float(np.sqrt(np.mean(np.asarray(values)[mask] ** 2)))


def fit(glued, prior):
    return {name: np.asarray(value) for name, value in glued["hs_sparse_fits"][prior].items()}


def test_the_sparse_data_and_priors_are_what_the_prose_says(glued, sparse):
    assert (glued["hs_n"], glued["hs_d"]) == sparse["X"].shape
    assert glued["hs_noise_sd"] == glued["hs_sparse_data"]["settings"]["noise_sd"]
    assert glued["hs_zero_count"] == np.sum(sparse["beta"] == 0)
    assert tuple(glued["hs_sparse_priors"]) == models.SPARSE_PRIORS
    # the page's scales are the model's defaults, the ones the prose writes into the priors
    defaults = inspect.signature(models.pyro_sparse_regression).parameters
    assert glued["hs_prior_scales"] == {name: defaults[name].default for name in ("prior_sd", "noise_prior_sd")}


def test_the_glued_scores_of_the_exact_gaussian_posterior(glued, sparse, gaussian_exact):
    truth = sparse["beta"]
    zero = truth == 0
    assert glued["hs_exact_sigma"] == pytest.approx(gaussian_exact.sigma_mean, rel=1e-9)
    assert glued["hs_exact_sigma_sd"] == pytest.approx(gaussian_exact.sigma_sd, rel=1e-9)
    assert glued["hs_rms_zero_exact"] == pytest.approx(rms(gaussian_exact.beta_mean - truth, zero), rel=1e-9)
    assert glued["hs_rms_nonzero_exact"] == pytest.approx(rms(gaussian_exact.beta_mean - truth, ~zero), rel=1e-9)
    # the posterior sd of sigma is more than half its mean, as the prose says
    assert gaussian_exact.sigma_sd > 0.5 * gaussian_exact.sigma_mean


def test_the_gaussian_prior_fit_is_scored_against_the_exact_posterior(glued, gaussian_exact):
    gaussian = fit(glued, "gaussian")
    distance = (gaussian["mean"] - gaussian_exact.beta_mean) / gaussian_exact.beta_sd
    assert glued["hs_gaussian_vi_distance"] == pytest.approx(np.sqrt(np.mean(distance ** 2)), rel=1e-5)
    assert glued["hs_gaussian_vi_sd_ratio"] == pytest.approx(np.median(gaussian["sd"] / gaussian_exact.beta_sd),
                                                             rel=1e-5)
    assert glued["hs_sigma_gaussian"] == pytest.approx(gaussian["sigma_mean"], rel=1e-6)
    # "the variational fit is poor here": its sigma far above the exact posterior's
    assert gaussian["sigma_mean"] > gaussian_exact.sigma_mean + 2 * gaussian_exact.sigma_sd


def test_horseshoe_beats_the_exact_gaussian_prior_posterior_on_the_zeros_and_keeps_the_signals(
        glued, sparse, gaussian_exact):
    """Issue 12: the horseshoe's error on the zero coefficients at least 3 times smaller than
    the Gaussian prior's, and on the non-zero ones no worse than 1.5 times."""
    truth = sparse["beta"]
    zero = truth == 0
    horseshoe = fit(glued, "horseshoe")
    assert glued["hs_rms_zero_horseshoe"] == pytest.approx(rms(horseshoe["mean"] - truth, zero), rel=1e-6)
    assert rms(horseshoe["mean"] - truth, zero) * 3 <= rms(gaussian_exact.beta_mean - truth, zero)
    assert rms(horseshoe["mean"] - truth, ~zero) <= 1.5 * rms(gaussian_exact.beta_mean - truth, ~zero)
    # every true signal is kept: its 90 % interval excludes zero
    assert np.all(((horseshoe["q05"] > 0) | (horseshoe["q95"] < 0))[~zero])


def reference_coefficients():
    summary = data.horseshoe_reference()["summary"]
    names = [f"beta_{j + 1}" for j in range(len([key for key in summary if key.startswith("beta_")]))]
    return (np.array([summary[name]["mean"] for name in names]), np.array([summary[name]["sd"] for name in names]))


def test_the_comparison_with_the_horseshoe_reference_is_what_the_prose_says(glued, sparse):
    reference = data.horseshoe_reference()
    assert reference["data"] == glued["hs_sparse_data"]["settings"], "the reference was made on the page's data"
    reference_mean, reference_sd = reference_coefficients()
    horseshoe = fit(glued, "horseshoe")
    nuts = {name: np.asarray(value) for name, value in glued["hs_horseshoe_nuts"].items()}
    pyro_distance = np.abs(horseshoe["mean"] - reference_mean) / reference_sd
    nuts_distance = np.abs(nuts["mean"] - reference_mean) / reference_sd
    assert glued["hs_pyro_within_half"] == pytest.approx(100 * np.mean(pyro_distance < 0.5))
    assert glued["hs_nuts_within_half"] == pytest.approx(100 * np.mean(nuts_distance < 0.5))
    assert glued["hs_pyro_sd_ratio"] == pytest.approx(np.median(horseshoe["sd"] / reference_sd), rel=1e-5)
    assert glued["hs_ref_max_rhat"] == pytest.approx(max(row["r_hat"] for row in reference["summary"].values()))
    assert glued["hs_hs_divergences"] == nuts["divergences"]
    # "the short centred NUTS run does not pass its own diagnostics"
    assert nuts["r_hat"] > 1.01 or nuts["divergences"] > 0
    zero = sparse["beta"] == 0
    assert glued["hs_nuts_rms_zero"] == pytest.approx(rms(nuts["mean"] - sparse["beta"], zero), rel=1e-5)
    assert glued["hs_reference_rms_zero"] == pytest.approx(rms(reference_mean - sparse["beta"], zero), rel=1e-6)


def test_horseshoe_pyro_fit_against_its_posterior(glued):
    """Issue 12's target, scored against the converged reference: the Pyro fit's means within half
    a posterior sd for nine coefficients in ten. The page says it is not met; this test holds the
    page to that (and fails the day the fit meets the target, so the prose must change with it)."""
    reference_mean, reference_sd = reference_coefficients()
    horseshoe = fit(glued, "horseshoe")
    within = np.mean(np.abs(horseshoe["mean"] - reference_mean) / reference_sd < 0.5)
    assert within < 0.9, "the fit now meets the target: the page's prose says it does not"
    summary = data.horseshoe_reference()["summary"]
    # and its sigma is far above the posterior's, as the page says
    assert horseshoe["sigma_mean"] > summary["sigma"]["mean"] + 3 * summary["sigma"]["sd"]


# --- the full-covariance guide's sds: its iterates' covariance against its averaged factor ----------

def test_the_full_covariance_iterates_covariance_is_closer_to_the_exact_sds(glued, hierarchical_exact):
    """Issue 23: the page explains the full covariance's small sds by the averaging of its factor.
    Scored against the exact posterior (not NUTS), the lines drawn with the iterates' average
    covariance have sds closer to the exact ones than both the averaged full covariance and the
    mean field, and the same means (the same guide mean, the same standard-normal draws)."""
    lines = glued["hs_guide_lines"]
    iterates = glued["hs_full_iterate_lines"]

    def median_ratio(fit):
        return np.median(np.concatenate([np.asarray(fit[site]["sd"]) / hierarchical_exact[site][1] for site in SITES]))

    averaged, diagonal, from_iterates = (median_ratio(lines["AutoMultivariateNormal"]),
                                         median_ratio(lines["AutoDiagonalNormal"]), median_ratio(iterates))
    assert averaged < diagonal < from_iterates <= 1.05, (averaged, diagonal, from_iterates)
    for site in SITES:
        sd = hierarchical_exact[site][1]
        shift = np.abs(np.asarray(iterates[site]["mean"]) - np.asarray(lines["AutoMultivariateNormal"][site]["mean"]))
        assert np.all(shift < 0.1 * sd), site
    # the page's ratio is against NUTS's sds (ArviZ's, ddof 1, against NumPy's ddof 0 on the page)
    nuts_ratio = np.median(np.concatenate([np.asarray(iterates[site]["sd"]) / np.asarray(glued["hs_nuts_lines"][site]["sd"])
                                           for site in SITES]))
    assert glued["hs_full_iterate_ratio"] == pytest.approx(nuts_ratio, rel=2e-3)
    assert glued["hs_full_variance_gain"] > 5 and abs(glued["hs_diagonal_variance_gain"]) < 2


# --- the Gaussian-prior guide's family at its optimum ---------------------------------------------

def family_covariance(diagonal, factor):
    """S = V^1/2 (F F^T + I) V^1/2, the page's form of a rank-r plus diagonal covariance."""
    root = np.sqrt(np.asarray(diagonal))
    factor = np.asarray(factor)
    return root[:, None] * (factor @ factor.T + np.eye(root.size)) * root


def quadrature_elbo(loc, S, X, y, prior_sd, noise_prior_sd, nodes=40):
    """ELBO of q = Normal(loc, S) over (beta, u = log sigma) for the sparse model with the Gaussian prior.

    A derivation independent of the page's: given u, q's beta is Normal(b(u), C) with
    b(u) = m_beta + c (u - m_u) / s^2 and C = S_bb - c c^T / s^2, under which every term of
    log p(y, beta, sigma) + log sigma (the Jacobian of sigma = e^u) has a closed-form mean; the
    mean over u ~ Normal(m_u, s^2) is a Gauss-Hermite sum.
    """
    loc, S = np.asarray(loc, dtype=float), np.asarray(S, dtype=float)
    n, d = X.shape
    m_beta, m_u = loc[:d], loc[d]
    c, s2 = S[:d, d], S[d, d]
    C = S[:d, :d] - np.outer(c, c) / s2
    z, weights = np.polynomial.hermite_e.hermegauss(nodes)
    weights = weights / weights.sum()
    u = m_u + np.sqrt(s2) * z
    b = m_beta[None, :] + (u - m_u)[:, None] * c[None, :] / s2
    squares = np.sum((y[None, :] - b @ X.T) ** 2, axis=1) + np.trace(X.T @ X @ C)
    beta_squares = np.sum(b**2, axis=1) + np.trace(C)
    log_joint = (-beta_squares / (2 * prior_sd**2) - d / 2 * np.log(2 * np.pi * prior_sd**2)
                 + stats.halfnorm.logpdf(np.exp(u), scale=noise_prior_sd) + u
                 - n / 2 * np.log(2 * np.pi) - n * u - np.exp(-2 * u) * squares / 2)
    return float(weights @ log_joint + 0.5 * np.linalg.slogdet(2 * np.pi * np.e * S)[1])


def test_the_gaussian_prior_family_optimum_is_a_maximum_of_the_elbo(glued, sparse, gaussian_exact):
    """Issue 23: the page's optimum of the guide's family (rank-r plus diagonal normal over
    (beta, log sigma)) is a stationary point and a local maximum of an ELBO computed another way,
    by finite differences in its parameters (mean, factor, log diagonal); its summaries are
    recomputed from its parameters; and the Pyro fit's ELBO lies the glued gap below it."""
    optimum = glued["hs_gaussian_optimum"]
    X, y = sparse["X"], sparse["y"]
    scales = glued["hs_prior_scales"]
    loc, diagonal, factor = (np.asarray(optimum[name], dtype=float) for name in ("loc", "diagonal", "factor"))
    d = X.shape[1]
    shapes = [loc.shape, factor.shape, diagonal.shape]
    sizes = [int(np.prod(shape)) for shape in shapes]

    def elbo_at(theta):
        m, f, log_v = np.split(theta, np.cumsum(sizes)[:-1])
        return quadrature_elbo(m, family_covariance(np.exp(log_v), f.reshape(shapes[1])), X, y, **scales)

    theta = np.concatenate([loc, factor.ravel(), np.log(diagonal)])
    best = elbo_at(theta)
    assert best == pytest.approx(optimum["elbo"], abs=1e-6)  # the page's closed form, another way
    rng = np.random.default_rng(23)
    step = 1e-5
    for _ in range(8):
        direction = rng.normal(size=theta.size)
        direction /= np.linalg.norm(direction)
        slope = (elbo_at(theta + step * direction) - elbo_at(theta - step * direction)) / (2 * step)
        assert abs(slope) < 1e-3, slope
        # and moving away lowers it: a maximum, not a saddle, along this direction
        assert elbo_at(theta + 1e-2 * direction) < best and elbo_at(theta - 1e-2 * direction) < best
    # away from the optimum the same finite differences are far from zero (the test can fail)
    shifted = theta + 0.05 * rng.normal(size=theta.size) / np.sqrt(theta.size)
    direction = rng.normal(size=theta.size)
    direction /= np.linalg.norm(direction)
    assert abs(elbo_at(shifted + step * direction) - elbo_at(shifted - step * direction)) / (2 * step) > 1e-2
    # the Pyro fit's q: S = diag(scale) (F F^T + I) diag(scale)
    fit = {name: np.asarray(value, dtype=float) for name, value in optimum["pyro_fit"].items()}
    fit_S = fit["scale"][:, None] * (fit["cov_factor"] @ fit["cov_factor"].T + np.eye(d + 1)) * fit["scale"]
    assert glued["hs_optimum_elbo_gap"] == pytest.approx(best - quadrature_elbo(fit["loc"], fit_S, X, y, **scales), rel=1e-6)
    # the optimum's summaries, from its parameters
    S = family_covariance(diagonal, factor)
    sd = np.sqrt(np.diag(S))
    sigma_mean = np.exp(loc[d] + S[d, d] / 2)
    assert glued["hs_optimum_sigma"] == pytest.approx(sigma_mean, rel=1e-9)
    assert glued["hs_optimum_log_sigma_sd"] == pytest.approx(sd[d], rel=1e-9)
    distance = np.sqrt(np.mean(((loc[:d] - gaussian_exact.beta_mean) / gaussian_exact.beta_sd) ** 2))
    assert glued["hs_optimum_distance"] == pytest.approx(distance, rel=1e-6)
    assert glued["hs_optimum_sd_ratio"] == pytest.approx(np.median(sd[:d] / gaussian_exact.beta_sd), rel=1e-6)
    # what the prose says of it: sigma within one exact sd, its q far too narrow, beta close to exact
    assert abs(sigma_mean - gaussian_exact.sigma_mean) < gaussian_exact.sigma_sd
    assert sigma_mean * np.sqrt(np.expm1(S[d, d])) < 0.2 * gaussian_exact.sigma_sd
    assert distance < 0.1


# --- the exercises' answers (what exercises.check compares a student's answer with) ------------

def hierarchical_arguments(num_groups):
    groups = data.simulate_groups(num_groups, seed=0)
    return groups["group"], groups["x"], groups["y_err"], groups["y"]


def numpyro_guide_parameter_counts(num_groups):
    """Free parameters of NumPyro's three autoguides (default rank) on the page's model with ``num_groups`` groups,
    counted from the parameters the guides create (a Cholesky factor's lower triangle only)."""
    import jax
    from numpyro import handlers
    from numpyro.infer.autoguide import AutoDiagonalNormal, AutoLowRankMultivariateNormal, AutoMultivariateNormal

    counts = {}
    for guide_class in (AutoDiagonalNormal, AutoMultivariateNormal, AutoLowRankMultivariateNormal):
        guide = guide_class(models.numpyro_hierarchical_regression_noncentred)
        trace = handlers.trace(handlers.seed(guide, jax.random.PRNGKey(0))).get_trace(
            *hierarchical_arguments(num_groups), num_groups=num_groups)
        count = 0
        for name, site in trace.items():
            if site["type"] == "param":
                shape = np.shape(site["value"])
                count += shape[-1] * (shape[-1] + 1) // 2 if name.endswith("scale_tril") else int(np.prod(shape))
        counts[guide_class.__name__] = count
    return counts


def latent_dimension(num_groups):
    """The number of latent values of the page's non-centred model, from a trace of its sample sites."""
    import jax
    from numpyro import handlers

    trace = handlers.trace(handlers.seed(models.numpyro_hierarchical_regression_noncentred, jax.random.PRNGKey(0))
                           ).get_trace(*hierarchical_arguments(num_groups), num_groups=num_groups)
    return sum(int(np.size(site["value"])) for site in trace.values()
               if site["type"] == "sample" and not site["is_observed"])


def test_the_guide_parameter_counts_are_numpyros(glued):
    """The counts at the exercise's J from NumPyro's own guides; the smallest J from the model's latent dimension,
    with the counting of the guides' parameters that those guides follow (a location, and a scale per coordinate or
    a lower-triangular factor)."""
    groups, ratio = glued["hs_ex_params_groups"], glued["hs_ex_params_ratio"]
    at_groups = numpyro_guide_parameter_counts(groups)
    value, tolerance = recorded_answer(glued, "hs-ex-guide-parameters")
    np.testing.assert_array_equal(value[:3], list(at_groups.values()))
    D = latent_dimension(groups)
    assert at_groups["AutoDiagonalNormal"] == 2 * D and at_groups["AutoMultivariateNormal"] == D + D * (D + 1) // 2

    def full_over_diagonal(num_groups):
        dimension = latent_dimension(num_groups)
        return (dimension + dimension * (dimension + 1) // 2) / (2 * dimension)

    smallest = int(value[-1])
    assert full_over_diagonal(smallest - 1) < ratio <= full_over_diagonal(smallest)
    # the slips: the factor counted as a full D x D matrix (also in the ratio), the low-rank guide without its diagonal
    assert misses(value[1:2], tolerance[1:2], D * D + D) > 3
    assert misses(value[2:3], tolerance[2:3], at_groups["AutoLowRankMultivariateNormal"] - D) > 3
    square_ratio_J = next(J for J in range(1, smallest) if (2 * J + 4 + 1) / 2 >= ratio)
    assert misses(value[3:], tolerance[3:], square_ratio_J) > 3


def test_the_kappa_answer_from_the_half_cauchy(glued):
    """P(kappa > c) = P(lambda < sqrt((1 - c) / c) / tau) for lambda ~ HalfCauchy(1); Beta(1/2, 1/2)'s tail at tau = 1."""
    level, small_tau = glued["hs_ex_kappa_level"], glued["hs_ex_kappa_small_tau"]
    value, tolerance = recorded_answer(glued, "hs-ex-kappa")
    expected = [stats.halfcauchy.cdf(np.sqrt((1 - level) / level) / tau) for tau in (1.0, small_tau)]
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    assert value[0] == pytest.approx(stats.beta(0.5, 0.5).sf(level), rel=1e-10)
    # the slips: Beta(1/2, 1/2) for every tau; tau lambda in place of tau^2 lambda^2
    assert misses(value, tolerance, [value[0], value[0]]) > 3
    linear = [stats.halfcauchy.cdf((1 - level) / level / tau) for tau in (1.0, small_tau)]
    assert misses(value, tolerance, linear) > 3
    assert glued["hs_ex_kappa_escape"] == pytest.approx(stats.halfcauchy.sf(np.sqrt(level / (1 - level)) / small_tau))


def test_the_pooling_answer_by_weighted_polyfit(glued):
    """Each group's own slope by NumPy's weighted polyfit (weights 1 / e_i on the residuals); the noise share."""
    groups = groups_data(glued)
    slopes, unweighted = [], []
    for g in range(glued["hs_groups"]):
        rows = groups["group"] == g
        slopes.append(np.polyfit(groups["x"][rows], groups["y"][rows], 1, w=1 / groups["y_err"][rows])[0])
        unweighted.append(np.polyfit(groups["x"][rows], groups["y"][rows], 1)[0])
    slopes, unweighted = np.array(slopes), np.array(unweighted)
    share = 1 - np.var(groups["slope"]) / np.var(slopes)
    value, tolerance = recorded_answer(glued, "hs-ex-pooling")
    np.testing.assert_allclose(value, [slopes.std(), share], rtol=1e-9)
    assert glued["hs_noise_share"] == pytest.approx(share, rel=1e-9)
    # the slips: unweighted fits; the sd with ddof=1
    assert misses(value, tolerance, [unweighted.std(), 1 - np.var(groups["slope"]) / np.var(unweighted)]) > 3
    assert misses(value, tolerance, [slopes.std(ddof=1), share]) > 3


def gaussian_prior_posterior_mean(X, y, prior_sd, noise_prior_sd):
    """E[beta | y] under beta ~ Normal(0, prior_sd), sigma ~ HalfNormal(noise_prior_sd), by adaptive quadrature over
    log sigma. With X X^T = U diag(e) U^T, y | sigma ~ Normal(0, U diag(sigma^2 + s^2 e) U^T) and
    E[beta | sigma, y] = s^2 X^T U diag(1 / (sigma^2 + s^2 e)) U^T y (s = prior_sd), a route other than the package's."""
    from scipy import integrate

    e, U = np.linalg.eigh(X @ X.T)
    e = np.clip(e, 0, None)
    r = U.T @ y
    s2 = prior_sd**2

    def log_weight(u):
        variance = np.exp(2 * u) + s2 * e
        return (-0.5 * np.sum(np.log(variance) + r**2 / variance)
                + stats.halfnorm.logpdf(np.exp(u), scale=noise_prior_sd) + u)  # + u: d sigma = sigma du

    grid = np.linspace(-8, 3, 2001)
    peak = max(log_weight(u) for u in grid)

    def integrand(u):
        conditional = s2 * X.T @ (U @ (r / (np.exp(2 * u) + s2 * e)))
        return np.exp(log_weight(u) - peak) * np.r_[1.0, conditional]

    integral, _ = integrate.quad_vec(integrand, -8.0, 3.0, epsrel=1e-10, points=tuple(np.linspace(-3, 1, 9)))
    return integral[1:] / integral[0]


def test_the_more_data_answer_by_quadrature_over_the_noise(glued):
    settings, scales = glued["hs_sparse_data"]["settings"], glued["hs_prior_scales"]
    sizes = glued["hs_ex_more_data_sizes"]
    zero_errors, all_errors = [], []
    for size in sizes:
        simulated = data.simulate_sparse(**(settings | {"num_observations": size}))
        error = gaussian_prior_posterior_mean(simulated["X"], simulated["y"], **scales) - simulated["beta"]
        zero_errors.append(rms(error, simulated["beta"] == 0))
        all_errors.append(rms(error, np.ones_like(error, dtype=bool)))
    value, tolerance = recorded_answer(glued, "hs-ex-more-data")
    np.testing.assert_allclose(value, zero_errors, rtol=1e-4)
    assert misses(value, tolerance, all_errors) > 3  # the slip: the RMS over every coefficient
    # the prose's n: the first size whose error on the zeros is at most the reference's at the page's n
    reference_mean, _ = reference_coefficients()
    truth = glued["hs_sparse_data"]["beta"]
    horseshoe = rms(reference_mean - np.asarray(truth), np.asarray(truth) == 0)
    assert glued["hs_more_data_match"] == next(size for size, error in zip(sizes, zero_errors) if error <= horseshoe)
