"""Chapter 4 (lectures/variational_inference.md): the page's fitted guides against the exact posteriors.

Every fit's numbers come from the executed page (``glued``): the family, the prior's
label, the data ``(k, n)`` and the fitted natural parameters, with the KL divergences
the page computed. The truth is computed here, independently: the quadrature posterior
of the book's prior with that label, the family's best KL (``vi_scoring.best_guide``),
and for the Beta prior the closed forms of ``bayesbook.exact`` (the Beta posterior, the
KL between two Betas, the Beta-Binomial evidence). Nothing the page set (seeds, steps,
learning rates, particles) is written here.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from bayesbook import data, exact, priors, vi, vi_scoring

pytestmark = pytest.mark.book

#: The book's priors by label: the page's rows name their prior by its label.
PRIORS = {prior.label: prior for prior in priors.book_priors()}


@cache
def posterior(label: str, k: int, n: int):
    return PRIORS[label].posterior(k, n)


@cache
def best_kl(family: str, label: str, k: int, n: int) -> float:
    return vi_scoring.best_guide(family, posterior(label, k, n))[1]


def kl_of(row) -> float:
    return vi_scoring.guide_kl(row["family"], row["params"], posterior(row["prior"], row["k"], row["n"]))


def closed_form_kl(row) -> float:
    """KL(q || p) from a Beta guide to the Beta posterior of a Beta prior."""
    prior = PRIORS[row["prior"]].params
    alpha, beta = prior["alpha"] + row["k"], prior["beta"] + row["n"] - row["k"]
    return exact.beta_kl(row["params"]["alpha"], row["params"]["beta"], alpha, beta)


def check_rows(rows, check) -> None:
    """Run ``check(row)`` (a list of failure messages) on every row; fail once, naming every bad row."""
    failures = [f"{row.get('family', row.get('guide'))}, {row['prior']}, n = {row['n']}: {message}"
                for row in rows for message in check(row)]
    assert not failures, "\n".join(failures)


def test_the_grids_fit_every_family_prior_and_sample_size_of_the_books_data(glued):
    rows = glued["vi_fits"]
    assert {row["family"] for row in rows} == set(vi.FAMILIES)
    assert {row["prior"] for row in rows} == set(PRIORS)
    book_counts = set(data.book_counts())
    assert all((row["k"], row["n"]) in book_counts for row in rows)
    assert len({(row["family"], row["prior"], row["n"]) for row in rows}) == len(rows)
    assert len(rows) == len(vi.FAMILIES) * len(PRIORS) * len({row["n"] for row in rows})


def test_every_fit_reaches_its_familys_best_kl(glued):
    def check(row):
        kl = kl_of(row)
        best = best_kl(row["family"], row["prior"], row["k"], row["n"])
        problems = []
        if kl < best - 1e-9:
            problems.append(f"KL {kl} below the family's optimum {best}: the quadrature or the optimum is wrong")
        if kl - best > 0.01:
            problems.append(f"KL {kl} is more than 0.01 above the family's best {best}")
        if abs(row["KL"] - kl) > 1e-4 + 1e-3 * kl:
            problems.append(f"the page's KL {row['KL']} against {kl} here")
        if abs(row["best KL"] - best) > 1e-4 + 1e-2 * best:
            problems.append(f"the page's best KL {row['best KL']} against {best} here")
        return problems

    check_rows(glued["vi_fits"], check)


def test_the_beta_guide_on_the_beta_prior_matches_the_closed_form(glued):
    rows = [row for row in glued["vi_fits"]
            if row["family"] == "beta" and isinstance(PRIORS[row["prior"]], priors.Beta)]
    assert rows

    def check(row):
        kl = closed_form_kl(row)
        problems = [] if kl <= 0.01 else [f"KL {kl} from the closed form"]
        if abs(row["KL"] - kl) > 1e-4:
            problems.append(f"the page's KL {row['KL']} against the closed form's {kl}")
        return problems

    check_rows(rows, check)
    assert glued["vi_beta_beta_max_kl"] == pytest.approx(max(row["KL"] for row in rows))


def test_the_prose_quotes_the_grids(glued):
    rows = glued["vi_fits"]
    assert glued["vi_max_gap"] == pytest.approx(max(row["KL"] - row["best KL"] for row in rows))
    assert glued["vi_num_below_001"] == sum(row["KL"] <= 0.01 for row in rows)


def test_the_best_truncated_normal_centres_itself_beyond_the_bound(glued):
    bound = [row for row in glued["vi_fits"]
             if row["family"] == "truncated_normal" and PRIORS[row["prior"]].support[1] < data.BOOK_THETA]
    assert bound, "a prior that rules out the coin's true value"
    row = max(bound, key=lambda row: row["n"])
    params, _ = vi_scoring.best_guide("truncated_normal", posterior(row["prior"], row["k"], row["n"]))
    assert params["loc"] > PRIORS[row["prior"]].support[1]
    assert glued["vi_bound_loc"] == pytest.approx(params["loc"], abs=1e-3)


def test_the_elbo_is_the_log_evidence_minus_the_kl(glued):
    rows = glued["vi_elbo"]
    assert rows

    def check(row):
        prior = PRIORS[row["prior"]].params
        log_evidence = exact.beta_binomial_log_evidence(prior["alpha"], prior["beta"], row["k"], row["n"])
        kl = closed_form_kl(row)
        problems = []
        # the ELBO is a Monte Carlo estimate (in float32): within 5 of its standard errors, plus rounding
        if abs(log_evidence - row["ELBO"] - kl) > 5 * row["standard error"] + 1e-3:
            problems.append(f"log evidence {log_evidence} - ELBO {row['ELBO']} - KL {kl} is not 0"
                            f" (standard error {row['standard error']})")
        if row["log evidence"] != pytest.approx(log_evidence, abs=1e-9):
            problems.append(f"the page's log evidence {row['log evidence']} against {log_evidence}")
        return problems

    check_rows(rows, check)
    poor = [row for row in rows if closed_form_kl(row) > 1.0]
    assert poor, "a guide far from the posterior, so that the identity is tested on a large KL"
    assert all(row["standard error"] < 0.05 * closed_form_kl(row) for row in poor)


def test_the_plain_fits_are_scored_right_and_miss_their_best(glued):
    rows = glued["vi_plain"]
    assert {row["library"] for row in rows} == {"NumPyro", "Pyro"}
    assert {row["guide"] for row in rows if row["library"] == "NumPyro"} == set(vi.FAMILIES)

    def check(row):
        row = row | {"family": row["guide"]}
        kl = kl_of(row)
        best = best_kl(row["family"], row["prior"], row["k"], row["n"])
        problems = []
        if abs(row["KL(q || p)"] - kl) > 1e-4 + 1e-3 * kl:
            problems.append(f"the page's KL {row['KL(q || p)']} against {kl} here")
        if abs(row["best KL"] - best) > 1e-4 + 1e-2 * best:
            problems.append(f"the page's best KL {row['best KL']} against {best} here")
        if row["family"] == "beta" and isinstance(PRIORS[row["prior"]], priors.Beta) \
                and abs(closed_form_kl(row) - kl) > 1e-4:
            problems.append(f"closed-form KL {closed_form_kl(row)} against {kl}")
        if kl - best <= 0.005:
            problems.append(f"KL {kl} is at the family's best {best}, as the page says it is not")
        if kl > 1.0:
            problems.append(f"KL {kl}: the fit is not near the posterior")
        return problems

    check_rows(rows, check)


def test_pyro_fits_reach_their_familys_best_kl(glued):
    rows = glued["vi_pyro_fits"]
    assert {row["prior"] for row in rows} == set(PRIORS)
    assert {row["family"] for row in rows} == set(vi.FAMILIES)
    assert {row["n"] for row in rows} == {n for _, n in data.book_counts()}

    def check(row):
        # the page's Pyro fits are short: within 0.02 of the family's best (the grid's within 0.01)
        kl, best = kl_of(row), best_kl(row["family"], row["prior"], row["k"], row["n"])
        return [] if best - 1e-9 <= kl <= best + 0.02 else [f"KL {kl} against the family's best {best}"]

    check_rows(rows, check)
    gaps = [kl_of(row) - best_kl(row["family"], row["prior"], row["k"], row["n"]) for row in rows]
    assert glued["vi_pyro_max_gap"] == pytest.approx(max(gaps), abs=1e-4)


def test_the_source_set_up_is_slow_and_ours_is_not(glued):
    source = glued["vi_source"]
    row = {"prior": source["prior"], "k": source["k"], "n": source["n"]}
    source_kl = closed_form_kl(row | {"params": source["params"]})
    our_kl = closed_form_kl(row | {"params": source["our params"]})
    assert source_kl > 1.0
    assert our_kl < 0.01
    assert source["KL"] == pytest.approx(source_kl, rel=1e-3)
    assert source["our KL"] == pytest.approx(our_kl, abs=1e-4)
    # Adam moves log(alpha) by about the learning rate per step at most
    move = abs(np.log(source["params"]["alpha"] / source["init"]["alpha"]))
    assert move <= 1.1 * source["learning_rate"] * source["num_steps"]
    assert glued["vi_source_log_alpha_move"] == pytest.approx(np.log(source["params"]["alpha"] / source["init"]["alpha"]))


# The exercises: each numeric answer the page's solution records (``answer:<label>``)
# against an independent computation (quadrature, closed forms). The priors and data are
# those the exercise statements name.


def answer(glued, label):
    return glued[f"answer:{label}"]["value"]


def test_the_kl_and_elbo_of_the_flat_prior_start(glued):
    from scipy import integrate, special, stats

    n = 10
    k = int(data.book_flips()[:n].sum())
    guide, post = stats.beta(1 + k, 1 + n - k), stats.beta(5 + k, 5 + n - k)
    kl = integrate.quad(lambda t: guide.pdf(t) * (guide.logpdf(t) - post.logpdf(t)), 0, 1, limit=200)[0]
    prior = stats.beta(5, 5)
    evidence = special.comb(n, k) * integrate.quad(lambda t: t**k * (1 - t) ** (n - k) * prior.pdf(t), 0, 1,
                                                   epsabs=0.0, epsrel=1e-11)[0]
    assert answer(glued, "vi-ex-elbo-start") == pytest.approx([kl, np.log(evidence) - kl], rel=1e-6)


def test_the_adam_step_count_of_the_source_set_up(glued):
    """Steps of about the learning rate in log(beta), from the start to the exact posterior's beta."""
    source = glued["vi_source"]  # the source set-up's start and learning rate, as the page ran it
    n = source["n"]
    k = int(data.book_flips()[:n].sum())
    prior = PRIORS[source["prior"]].params
    steps = np.log((prior["beta"] + n - k) / source["init"]["beta"]) / source["learning_rate"]
    entry = glued["answer:vi-ex-adam-steps"]
    (value,) = entry["value"]
    assert value == pytest.approx(steps, rel=1e-9)
    tolerance = entry["atol"] + entry["rtol"] * abs(value)
    # alpha's count, which the chapter prints, and the distance in beta itself are graded wrong (beyond 3 tolerances)
    alpha_steps = np.log((prior["alpha"] + k) / source["init"]["alpha"]) / source["learning_rate"]
    linear_steps = (prior["beta"] + n - k - source["init"]["beta"]) / source["learning_rate"]
    assert abs(alpha_steps - value) > 3 * tolerance
    assert abs(linear_steps - value) > 3 * tolerance


def test_the_forward_and_reverse_kl_fits(glued):
    """The forward fit by moment matching of log(theta) and log(1 - theta); the reverse by the family's best KL."""
    from scipy import integrate, optimize, special, stats

    label = next(label for label, prior in PRIORS.items() if isinstance(prior, priors.TruncatedLaplace))
    n = 5
    k = int(data.book_flips()[:n].sum())
    exact_posterior = posterior(label, k, n)
    peak = PRIORS[label].params["loc"]
    targets = [integrate.quad(lambda t, f=f: f(t) * exact_posterior.pdf(t), 0, 1, points=[peak], limit=200)[0]
               for f in (np.log, lambda t: np.log1p(-t))]

    def equations(log_params):
        alpha, beta = np.exp(log_params)
        total = special.digamma(alpha + beta)
        return [special.digamma(alpha) - total - targets[0], special.digamma(beta) - total - targets[1]]

    forward = np.exp(optimize.fsolve(equations, [np.log(10.0), np.log(10.0)], xtol=1e-12))
    reverse, _ = vi_scoring.best_guide("beta", exact_posterior)
    expected = [stats.beta(*forward).std(), stats.beta(reverse["alpha"], reverse["beta"]).std()]
    assert answer(glued, "vi-ex-forward-kl") == pytest.approx(expected, rel=2e-3)
    assert expected[0] > exact_posterior.sd > expected[1]


def test_the_normal_limit_of_the_best_truncated_normal(glued):
    """gamma^2 / 12 from the Beta skewness formula; the best normal by Gauss-Hermite quadrature of KL(q || p)."""
    from scipy import optimize, stats

    label = next(label for label, prior in PRIORS.items() if isinstance(prior, priors.Beta))
    params = PRIORS[label].params
    k, n = int(data.book_flips().sum()), data.book_flips().size
    a, b = params["alpha"] + k, params["beta"] + n - k
    skewness = 2 * (b - a) * np.sqrt(a + b + 1) / ((a + b + 2) * np.sqrt(a * b))
    target = stats.beta(a, b)
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()

    def kl(vector):  # KL(N(loc, scale) || Beta(a, b)); the normal's mass outside [0, 1] is negligible here
        loc, scale = vector[0], np.exp(vector[1])
        return -0.5 * np.log(2 * np.pi * np.e * scale**2) - np.sum(weights * target.logpdf(loc + scale * nodes))

    best = optimize.minimize(kl, [target.mean(), np.log(target.std())], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-14})
    assert answer(glued, "vi-ex-normal-limit") == pytest.approx([skewness**2 / 12, best.fun], rel=2e-3)
