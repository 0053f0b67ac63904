"""Chapter 1's glued numbers against the Beta posterior written out here with SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesbook import data

pytestmark = pytest.mark.book

PRIOR = (5.0, 5.0)  # the chapter's Beta(5, 5), as its prose states it


def posterior(n):
    k = int(data.book_flips()[:n].sum())
    return stats.beta(PRIOR[0] + k, PRIOR[1] + n - k)


def test_the_heads_and_the_frequency(glued):
    assert glued["bb_k_1000"] == int(data.book_flips().sum())
    assert glued["bb_freq_1000"] == pytest.approx(glued["bb_k_1000"] / 1000)


@pytest.mark.parametrize("n", [5, 1000])
def test_posterior_mean_sd_and_prior_weight(glued, n):
    assert glued[f"bb_mean_{n}"] == pytest.approx(posterior(n).mean(), rel=1e-12)
    assert glued[f"bb_sd_{n}"] == pytest.approx(posterior(n).std(), rel=1e-12)
    assert glued[f"bb_weight_{n}"] == pytest.approx(sum(PRIOR) / (sum(PRIOR) + n))


def test_the_interval_and_the_ratios(glued):
    low, high = posterior(1000).ppf([0.025, 0.975])
    assert (glued["bb_lower_1000"], glued["bb_upper_1000"]) == pytest.approx((low, high), rel=1e-10)
    assert glued["bb_sd_ratio"] == pytest.approx(posterior(5).std() / posterior(1000).std())
    assert glued["bb_count_ratio"] * glued["bb_spread_ratio"] == pytest.approx(glued["bb_sd_ratio"], rel=1e-9)


def kl_beta(a1, b1, a2, b2):
    """KL(Beta(a1, b1) || Beta(a2, b2)) by numerical integration, independent of the package's closed form."""
    from scipy import integrate

    p, q = stats.beta(a1, b1), stats.beta(a2, b2)
    value, _ = integrate.quad(lambda t: p.pdf(t) * (p.logpdf(t) - q.logpdf(t)), 0, 1, limit=400, points=[p.mean()])
    return value


@pytest.mark.parametrize("n", [5, 10, 1000])
def test_the_divergence_between_the_two_posteriors(glued, n):
    k = int(data.book_flips()[:n].sum())
    expected = kl_beta(PRIOR[0] + k, PRIOR[1] + n - k, 1.0 + k, 1.0 + n - k)
    assert glued[f"bb_kl_{n}"] == pytest.approx(expected, rel=1e-5)


def test_the_stubborn_observer_crosses_later(glued):
    heads = np.cumsum(data.book_flips())
    n = np.arange(1, heads.size + 1)
    for alpha in (5, 50):
        mean_path = (alpha + heads) / (2 * alpha + n)
        assert glued[f"bb_first_above_{alpha}"] == int(n[np.argmax(mean_path > 0.75)])


# The exercises: each numeric answer the page's solution records (``answer:<label>``)
# against the same quantity computed here by numerical integration or exact arithmetic.
# The data and priors are those the exercise statements name.


def answer(glued, label):
    return glued[f"answer:{label}"]["value"]


def test_the_predictive_probabilities_of_the_next_flips(glued):
    from scipy import integrate

    post = posterior(10)
    one = integrate.quad(lambda t: t * post.pdf(t), 0, 1)[0]
    two = integrate.quad(lambda t: t**2 * post.pdf(t), 0, 1)[0]
    assert answer(glued, "bb-ex-predictive") == pytest.approx([one, two], rel=1e-8)
    assert two > one**2


def test_the_stubborn_observer_answer(glued):
    heads = np.cumsum(data.book_flips())
    n = np.arange(1, heads.size + 1)
    # (alpha + k) / (2 alpha + n) > 3/4 in integers: 4 (alpha + k) > 3 (2 alpha + n)
    expected = [int(n[np.argmax(4 * (alpha + heads) > 3 * (2 * alpha + n))]) for alpha in (5, 50)]
    assert answer(glued, "bb-ex-stubborn") == expected


def test_the_log_evidences_of_three_priors(glued):
    from scipy import integrate, special

    n = 50
    k = int(data.book_flips()[:n].sum())
    expected = []
    for a, b in [(5, 5), (1, 1), (8, 2)]:
        prior = stats.beta(a, b)
        integral = integrate.quad(lambda t: t**k * (1 - t) ** (n - k) * prior.pdf(t), 0, 1, points=[k / n],
                                  epsabs=0.0, epsrel=1e-11)[0]
        expected.append(np.log(special.comb(n, k)) + np.log(integral))
    assert answer(glued, "bb-ex-evidence") == pytest.approx(expected, abs=1e-7)


def test_the_mixture_prior_posterior(glued):
    from scipy import integrate

    n = 20
    k = int(data.book_flips()[:n].sum())
    fair, flat = stats.beta(50, 50), stats.beta(1, 1)

    def likelihood(t):
        return t**k * (1 - t) ** (n - k)

    def integral(function):  # the integrands are small: a relative tolerance only
        return integrate.quad(function, 0, 1, points=[0.5, k / n], epsabs=0.0, epsrel=1e-11)[0]

    fair_part = integral(lambda t: 0.5 * fair.pdf(t) * likelihood(t))
    flat_part = integral(lambda t: 0.5 * flat.pdf(t) * likelihood(t))
    first_moment = integral(lambda t: t * likelihood(t) * (0.5 * fair.pdf(t) + 0.5 * flat.pdf(t)))
    total = fair_part + flat_part
    assert answer(glued, "bb-ex-mixture") == pytest.approx([fair_part / total, first_moment / total], rel=1e-7)
