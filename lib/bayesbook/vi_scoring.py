"""Exact scores of a fitted guide, for the coin model's one-dimensional posteriors.

* :func:`guide_log_density` — the guide's log density (NumPy, float64, from SciPy's
  special functions), for either family of :mod:`bayesbook.vi` on an interval;
* :func:`guide_kl` — ``KL(q || p) = ∫ q (log q - log p)`` between a guide and the exact
  posterior, by quadrature on the posterior's Gauss–Legendre grid;
* :func:`best_guide` — the smallest KL the family can reach, by deterministic
  optimisation of that quadrature KL (the family's *approximation* error; what SVI
  adds on top is its *optimisation* error);
* :func:`importance_check` — the Pareto-smoothed importance sampling diagnostic
  k-hat of Yao et al. (2018) and the importance sampling ESS, from draws of the
  guide and the unnormalised posterior: checks a reader can run without knowing
  the posterior.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from ._checks import check_choice, check_integer
from .vi import FAMILIES, PARAMETERS, to_natural, to_unconstrained

__all__ = [
    "guide_log_density",
    "guide_kl",
    "best_guide",
    "sample_guide",
    "pareto_khat",
    "importance_check",
    "psis_khat",
]


def _log_normal_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for ``a < b``, accurate in both tails."""
    # In the upper tail use the mirror image: Phi(b) - Phi(a) = Phi(-a) - Phi(-b).
    upper = a > 0
    low, high = np.where(upper, -b, a), np.where(upper, -a, b)
    log_high, log_low = special.log_ndtr(high), special.log_ndtr(low)
    return log_high + np.log1p(-np.exp(log_low - log_high))


def guide_log_density(family: str, params: dict, support: tuple[float, float]):
    """The guide's log density as a function of ``theta`` (``-inf`` outside ``support``)."""
    family = check_choice("family", family, FAMILIES)
    low, high = float(support[0]), float(support[1])
    width = high - low

    if family == "beta":
        alpha, beta = float(params["alpha"]), float(params["beta"])

        def inside(theta):
            x = (theta - low) / width
            return (special.xlogy(alpha - 1, x) + special.xlog1py(beta - 1, -x)
                    - special.betaln(alpha, beta) - np.log(width))
    else:
        loc, scale = float(params["loc"]), float(params["scale"])
        log_mass = float(_log_normal_mass(np.asarray((low - loc) / scale), np.asarray((high - loc) / scale)))

        def inside(theta):
            z = (theta - loc) / scale
            return -0.5 * z**2 - 0.5 * np.log(2 * np.pi) - np.log(scale) - log_mass

    def log_density(theta):
        theta = np.asarray(theta, dtype=float)
        is_inside = (theta >= low) & (theta <= high)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(is_inside, inside(np.where(is_inside, theta, 0.5 * (low + high))), -np.inf)

    return log_density


def guide_kl(family: str, params: dict, posterior) -> float:
    """``KL(q || p)`` from the guide to the exact ``posterior`` (a ``QuadraturePosterior``).

    The guide must live on the posterior's support. The integral uses the posterior's
    quadrature grid; both log densities are evaluated there exactly.
    """
    log_q = guide_log_density(family, params, posterior.support)(posterior.grid)
    log_p = posterior.grid_log_pdf
    q = np.exp(log_q)
    integrand = np.where(q > 0, q * (log_q - log_p), 0.0)
    return float(np.sum(posterior.weights * integrand))


def _moment_start(family: str, posterior) -> dict[str, float]:
    """Natural parameters matching the posterior's mean and sd (a starting point)."""
    low, high = posterior.support
    if family == "truncated_normal":
        return {"loc": posterior.mean, "scale": posterior.sd}
    width = high - low
    mean, variance = (posterior.mean - low) / width, (posterior.sd / width) ** 2
    common = mean * (1 - mean) / variance - 1
    return {"alpha": max(mean * common, 0.05), "beta": max((1 - mean) * common, 0.05)}


def best_guide(family: str, posterior) -> tuple[dict[str, float], float]:
    """The member of ``family`` closest to ``posterior`` in ``KL(q || p)``, and that KL.

    Nelder–Mead on the unconstrained parameters, started from moment matching; the
    result is deterministic.
    """
    family = check_choice("family", family, FAMILIES)
    names = PARAMETERS[family]
    reference = _moment_start(family, posterior)
    start = to_unconstrained(family, reference, reference)

    def objective(vector):
        params = to_natural(family, dict(zip(names, vector)), reference)
        value = guide_kl(family, params, posterior)
        return value if np.isfinite(value) else 1e10

    result = optimize.minimize(
        objective, np.array([start[name] for name in names]), method="Nelder-Mead",
        options={"xatol": 1e-5, "fatol": 1e-8, "maxiter": 2000},
    )
    best = to_natural(family, dict(zip(names, result.x)), reference)
    return best, guide_kl(family, best, posterior)


def sample_guide(family: str, params: dict, support: tuple[float, float], num_draws: int, seed: int) -> np.ndarray:
    """``num_draws`` draws of the guide (NumPy's generator, seeded)."""
    family = check_choice("family", family, FAMILIES)
    num_draws = check_integer("num_draws", num_draws, minimum=1)
    rng = np.random.default_rng(check_integer("seed", seed, minimum=0))
    low, high = support
    if family == "beta":
        return low + (high - low) * rng.beta(params["alpha"], params["beta"], size=num_draws)
    from scipy import stats

    loc, scale = params["loc"], params["scale"]
    return stats.truncnorm((low - loc) / scale, (high - loc) / scale, loc=loc, scale=scale).rvs(num_draws, random_state=rng)


def pareto_khat(log_weights) -> float:
    """The Pareto shape k-hat of the upper tail of importance weights, from their logarithms.

    PSIS (Vehtari et al. 2024) with arviz-stats. Its ``psislw`` is written for PSIS-LOO,
    whose input is the log-likelihood of a draw and whose log weights are its negative
    (the ratio ``1 / p(y_i | theta)``), so the log weights are passed in negated.
    """
    from arviz_stats.base import array_stats

    values = np.asarray(log_weights, dtype=float)
    if values.ndim != 1 or values.size < 10:
        raise ValueError(f"log_weights must be a 1-d array of at least 10 values, got shape {values.shape}")
    _, khat = array_stats.psislw(-values)
    return float(khat)


def importance_check(family: str, params: dict, posterior, *, num_draws: int = 5000, seed: int = 0) -> dict[str, float]:
    """Two checks of a guide that need only the unnormalised posterior ``p(theta, Y)``.

    Draws ``theta_i`` from the guide and forms the importance weights
    ``w_i = p(theta_i, Y) / q(theta_i)``:

    * ``khat``: the Pareto shape of the weights' upper tail (PSIS, Yao et al. 2018,
      :func:`pareto_khat`). Above ``min(1 - 1 / log10(num_draws), 0.7)`` (Vehtari et
      al. 2024) importance sampling from the guide is unreliable, and so is the ESS
      below: the guide's tails may be lighter than the posterior's, or, where the
      weights are bounded, the draws have not yet reached their bound.
    * ``ess_fraction``: the effective sample size of the weights, ``(sum w)^2 / sum w^2``,
      as a fraction of ``num_draws``. Near 1 the guide is close to the posterior; near 0
      only a few draws carry the weight, as happens when the guide is far too wide or
      in the wrong place.
    """
    draws = sample_guide(family, params, posterior.support, num_draws, seed)
    log_weights = (posterior.log_pdf(draws) + posterior.log_evidence
                   - guide_log_density(family, params, posterior.support)(draws))
    khat = pareto_khat(log_weights)
    normalised = np.exp(log_weights - log_weights.max())
    ess = normalised.sum() ** 2 / np.sum(normalised**2)
    return {"khat": khat, "ess_fraction": float(ess / num_draws)}


def psis_khat(family: str, params: dict, posterior, *, num_draws: int = 5000, seed: int = 0) -> float:
    """PSIS k-hat of the guide as an importance-sampling proposal (see :func:`importance_check`)."""
    return importance_check(family, params, posterior, num_draws=num_draws, seed=seed)["khat"]
