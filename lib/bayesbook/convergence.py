"""Has an SVI run converged? A check of its loss history that needs no exact posterior.

SVI's loss (the negative ELBO, estimated from a few draws of the guide) is noisy, so
"the loss stopped going down" has to be judged against that noise. The check compares
the mean loss over the last ``window`` steps with the mean over the ``window`` steps
before them:

* the *drop* is ``mean(earlier window) - mean(last window)``;
* its *standard error* comes from batch means: each window is cut into ten batches,
  and the scatter of the batch means around a straight line through them gives the
  variance of the window's mean (batches absorb the correlation of neighbouring
  losses, the line keeps a steady trend from being mistaken for noise);
* the run counts as converged when the drop is within ``z`` standard errors of zero,
  or smaller than ``rtol * (1 + |mean loss|)`` (for losses with no noise at all).

A run still descending, however slowly, shows a drop many standard errors large; a
run that has reached its optimum only shows noise. A loss that *rises* between the
windows is not converged either (an optimiser whose steps are too large).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_integer, check_positive


@dataclass(frozen=True)
class ConvergenceReport:
    """The outcome of :func:`check_convergence`.

    Attributes
    ----------
    converged
        Whether the last two windows' mean losses agree within the tolerance.
    drop
        Mean loss of the earlier window minus that of the last window (positive: still
        going down).
    standard_error
        Standard error of ``drop`` from the scatter of the losses.
    tolerance
        The largest ``|drop|`` that counts as converged: ``max(z * standard_error,
        rtol * (1 + |final_loss|))``.
    final_loss
        Mean loss over the last window.
    window
        The window length, in steps.
    """

    converged: bool
    drop: float
    standard_error: float
    tolerance: float
    final_loss: float
    window: int

    def __str__(self) -> str:
        verdict = "converged" if self.converged else "NOT converged"
        return (f"{verdict}: the mean loss fell by {self.drop:.4g} over the last {self.window} steps "
                f"(standard error {self.standard_error:.2g}, tolerance {self.tolerance:.2g}); "
                f"final mean loss {self.final_loss:.6g}")


BATCHES = 10


def _variance_of_mean(values: np.ndarray) -> float:
    """Variance of the mean of ``values``, by batch means around their least-squares line."""
    means = values[: len(values) // BATCHES * BATCHES].reshape(BATCHES, -1).mean(axis=1)
    steps = np.arange(BATCHES, dtype=float)
    slope, intercept = np.polyfit(steps, means, 1)
    residuals = means - (intercept + slope * steps)
    return float(np.sum(residuals**2) / (BATCHES - 2) / BATCHES)


def check_convergence(losses, *, window: int = 200, z: float = 3.0, rtol: float = 1e-6) -> ConvergenceReport:
    """Check whether an SVI loss history has stopped changing, relative to its noise.

    Parameters
    ----------
    losses
        The loss at every step, a 1-D sequence of finite numbers, at least
        ``2 * window`` long (``SVIRunResult.losses`` in NumPyro, or the list of values
        ``svi.step`` returned in Pyro).
    window
        Steps per window (at least 10). Pick it well above the number of steps over
        which consecutive losses are correlated and well below the run's length.
    z
        How many standard errors of drop still count as noise.
    rtol
        Relative tolerance that applies when the loss has (almost) no noise.

    Raises ``ValueError`` naming the argument for a history that is too short, not
    one-dimensional or not finite, or bad settings.
    """
    window = check_integer("window", window, minimum=10)
    z = check_positive("z", z)
    rtol = check_positive("rtol", rtol)
    try:
        values = np.asarray(losses, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"losses must be a 1-D sequence of numbers: {error}") from None
    if values.ndim != 1:
        raise ValueError(f"losses must be one-dimensional, got an array of shape {values.shape}")
    if len(values) < 2 * window:
        raise ValueError(f"losses must hold at least 2 * window = {2 * window} values, got {len(values)}; "
                         "run more steps or pass a smaller window")
    if not np.all(np.isfinite(values)):
        raise ValueError("losses must be finite; the run produced nan or inf (a learning rate too large?)")
    earlier, last = values[-2 * window:-window], values[-window:]
    drop = float(earlier.mean() - last.mean())
    standard_error = float(np.sqrt(_variance_of_mean(earlier) + _variance_of_mean(last)))
    final_loss = float(last.mean())
    tolerance = max(z * standard_error, rtol * (1.0 + abs(final_loss)))
    return ConvergenceReport(abs(drop) <= tolerance, drop, standard_error, tolerance, final_loss, window)
