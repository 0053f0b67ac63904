"""Exact posteriors: the ground truth every approximation in the book is scored against.

Chapter 1 needs the closed forms: the Beta posterior of a Beta prior after
Binomial data, and the Kullback–Leibler divergence between two Beta
distributions (used later to score variational approximations).
"""

from __future__ import annotations

from scipy import special, stats

from ._checks import check_counts, check_positive


def beta_posterior(alpha: float, beta: float, k: int, n: int) -> stats.rv_continuous:
    """Posterior of ``theta`` under a Beta(``alpha``, ``beta``) prior after ``k`` successes in ``n`` trials.

    Bayes' rule gives ``Beta(alpha + k, beta + n - k)``.

    Returns
    -------
    scipy.stats frozen distribution
        Use ``.mean()``, ``.std()``, ``.pdf(x)``, ``.interval(0.95)`` and so on.

    Raises
    ------
    ValueError
        If ``alpha`` or ``beta`` is not > 0, ``n`` < 0, or ``k`` is outside 0..``n``.
    TypeError
        If ``k`` or ``n`` is not an integer.
    """
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta)
    k, n = check_counts(k, n)
    return stats.beta(alpha + k, beta + n - k)


def beta_kl(alpha_p: float, beta_p: float, alpha_q: float, beta_q: float) -> float:
    """Kullback–Leibler divergence KL(p || q) from Beta(``alpha_q``, ``beta_q``) to Beta(``alpha_p``, ``beta_p``).

    .. math::

        \\mathrm{KL}(p\\,\\|\\,q) = \\log\\frac{B(\\alpha_q,\\beta_q)}{B(\\alpha_p,\\beta_p)}
        + (\\alpha_p-\\alpha_q)\\,\\psi(\\alpha_p) + (\\beta_p-\\beta_q)\\,\\psi(\\beta_p)
        + (\\alpha_q-\\alpha_p+\\beta_q-\\beta_p)\\,\\psi(\\alpha_p+\\beta_p),

    where :math:`B` is the Beta function and :math:`\\psi` the digamma function.
    The result is 0 when the two distributions are equal and positive otherwise.
    """
    alpha_p = check_positive("alpha_p", alpha_p)
    beta_p = check_positive("beta_p", beta_p)
    alpha_q = check_positive("alpha_q", alpha_q)
    beta_q = check_positive("beta_q", beta_q)
    value = (
        special.betaln(alpha_q, beta_q)
        - special.betaln(alpha_p, beta_p)
        + (alpha_p - alpha_q) * special.digamma(alpha_p)
        + (beta_p - beta_q) * special.digamma(beta_p)
        + (alpha_q - alpha_p + beta_q - beta_p) * special.digamma(alpha_p + beta_p)
    )
    # Rounding can leave a tiny negative number when p == q; KL is never negative.
    return max(float(value), 0.0)


def beta_binomial_log_evidence(alpha: float, beta: float, k: int, n: int) -> float:
    """Log marginal likelihood ``log p(k)`` of ``k`` successes in ``n`` trials under a Beta prior.

    .. math::

        p(k) = \\int_0^1 \\binom{n}{k}\\theta^k(1-\\theta)^{n-k}\\,p(\\theta)\\,d\\theta
             = \\binom{n}{k}\\frac{B(\\alpha+k,\\ \\beta+n-k)}{B(\\alpha,\\beta)},

    the Beta-Binomial probability of ``k``. The integral is over the *prior*
    ``p(theta)``.
    """
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta)
    k, n = check_counts(k, n)
    return float(stats.betabinom.logpmf(k, n, alpha, beta))
