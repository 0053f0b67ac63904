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

The comparison can only reveal a change between the windows larger than the standard
error of their means, and with one particle per step and a tiny learning rate a run
can creep towards the optimum far more slowly than that. :func:`check_parameters` applies the same test to every unconstrained
parameter of the guide, whose steps under Adam are about the learning rate and whose
jitter is therefore small: a parameter still drifting is caught there.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ._checks import check_integer, check_positive

__all__ = [
    "ConvergenceReport",
    "BATCHES",
    "check_convergence",
    "ParameterReport",
    "check_parameters",
    "SVIConvergence",
    "check_svi",
    "steps_to_convergence",
]


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


def _variance_of_mean(values: np.ndarray):
    """Variance of the mean of ``values`` (along the first axis, each column on its own),
    by batch means around their least-squares line."""
    values = np.asarray(values, dtype=float)
    means = values[: len(values) // BATCHES * BATCHES].reshape(BATCHES, -1, *values.shape[1:]).mean(axis=1)
    steps = np.arange(BATCHES, dtype=float)
    design = np.stack([np.ones(BATCHES), steps], axis=1)
    coefficients = np.linalg.lstsq(design, means.reshape(BATCHES, -1), rcond=None)[0]
    residuals = means.reshape(BATCHES, -1) - design @ coefficients
    variance = np.sum(residuals**2, axis=0) / (BATCHES - 2) / BATCHES
    return float(variance[0]) if values.ndim == 1 else variance.reshape(values.shape[1:])


def _compare_windows(values: np.ndarray, window: int, z: float, tolerance_floor: float):
    """The window test for a 1-D history, or for every column of a 2-D one at once."""
    earlier, last = values[-2 * window:-window], values[-window:]
    drop = earlier.mean(axis=0) - last.mean(axis=0)
    standard_error = np.sqrt(_variance_of_mean(earlier) + _variance_of_mean(last))
    tolerance = np.maximum(z * standard_error, tolerance_floor)
    if np.ndim(drop) == 0:
        return bool(abs(drop) <= tolerance), float(drop), float(standard_error), float(tolerance), float(last.mean())
    return np.abs(drop) <= tolerance, drop, standard_error, tolerance, last.mean(axis=0)


def _default_window(window, steps: int) -> int:
    return max(10, steps // 5) if window is None else window


def check_convergence(losses, *, window: int | None = None, z: float = 3.0, rtol: float = 1e-6) -> ConvergenceReport:
    """Check whether an SVI loss history has stopped changing, relative to its noise.

    Parameters
    ----------
    losses
        The loss at every step, a 1-D sequence of finite numbers, at least
        ``2 * window`` long (``SVIRunResult.losses`` in NumPyro, or the list of values
        ``svi.step`` returned in Pyro).
    window
        Steps per window (at least 10); by default a fifth of the run. Pick it well
        above the number of steps over which consecutive losses are correlated.
    z
        How many standard errors of drop still count as noise.
    rtol
        Relative tolerance that applies when the loss has (almost) no noise.

    Raises ``ValueError`` naming the argument for a history that is too short, not
    one-dimensional or not finite, or bad settings.
    """
    z = check_positive("z", z)
    rtol = check_positive("rtol", rtol)
    try:
        values = np.asarray(losses, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"losses must be a 1-D sequence of numbers: {error}") from None
    if values.ndim != 1:
        raise ValueError(f"losses must be one-dimensional, got an array of shape {values.shape}")
    window = check_integer("window", _default_window(window, len(values)), minimum=10)
    if len(values) < 2 * window:
        raise ValueError(f"losses must hold at least 2 * window = {2 * window} values, got {len(values)}; "
                         "run more steps or pass a smaller window")
    if not np.all(np.isfinite(values)):
        raise ValueError("losses must be finite; the run produced nan or inf (a learning rate too large?)")
    final_loss = float(values[-window:].mean())
    converged, drop, standard_error, tolerance, _ = _compare_windows(values, window, z, rtol * (1.0 + abs(final_loss)))
    return ConvergenceReport(converged, drop, standard_error, tolerance, final_loss, window)


@dataclass(frozen=True)
class ParameterReport:
    """The outcome of :func:`check_parameters`: every coordinate's verdict and the worst one.

    ``table`` has one row per parameter coordinate (``name[index]``) with its ``drift``
    (mean over the last window minus mean over the one before, in unconstrained units),
    the drift's ``standard_error``, ``drift / SE`` and ``converged``.
    """

    converged: bool
    worst: str
    table: object
    window: int

    def __str__(self) -> str:
        row = self.table.loc[self.worst]
        verdict = "every parameter is stable" if self.converged else f"NOT converged: {self.worst} is still moving"
        return (f"{verdict} (largest drift: {self.worst} by {row['drift']:.3g} over the last {self.window} steps, "
                f"{row['drift / SE']:.1f} standard errors)")


def check_parameters(history: dict, *, window: int | None = None, z: float = 10.0, atol: float = 0.01) -> ParameterReport:
    """Check that every unconstrained guide parameter has stopped drifting.

    ``history`` maps each parameter's name to its values after every step, an array of
    shape ``(steps, *shape)`` (``SVIRun.history`` of :func:`bayesbook.svi.run_svi`).
    Each coordinate gets the test of :func:`check_convergence`: its mean over the last
    ``window`` steps (by default a fifth of the run) against the mean over the
    ``window`` before, with batch-mean standard errors. It counts as stable when the
    drift is within ``z`` standard errors or below ``atol`` (in unconstrained units:
    0.01 in a log-scale parameter is a 1 % change). ``z`` defaults to 10, not 3:
    stochastic-gradient iterates wander like a random walk within a window, which
    batch means absorb only in part, and many coordinates are tested at once.

    Raises ``ValueError`` naming the argument for an empty or ragged history, a history
    shorter than ``2 * window`` steps, non-finite values or bad settings.
    """
    import pandas as pd

    z = check_positive("z", z)
    atol = check_positive("atol", atol)
    if not isinstance(history, dict) or not history:
        raise ValueError("history must be a non-empty dict of parameter name -> array of shape (steps, ...)")
    steps = len(np.asarray(next(iter(history.values()))))
    window = check_integer("window", _default_window(window, steps), minimum=10)
    labels, drifts, errors, verdicts = [], [], [], []
    for name, values in history.items():
        values = np.asarray(values, dtype=float)
        if values.ndim == 0 or len(values) < 2 * window:
            raise ValueError(f"history[{name!r}] must hold at least 2 * window = {2 * window} steps")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"history[{name!r}] must be finite")
        flat = values.reshape(len(values), -1)
        # the "drop" of the negated values is the drift: last window's mean minus the earlier one's
        converged, drift, standard_error, _, _ = _compare_windows(-flat, window, z, atol)
        labels += [name] if flat.shape[1] == 1 else [f"{name}[{index}]" for index in range(flat.shape[1])]
        drifts.append(drift)
        errors.append(standard_error)
        verdicts.append(converged)
    drift, standard_error = np.concatenate(drifts), np.concatenate(errors)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(standard_error > 0, np.abs(drift) / standard_error, np.inf)
    table = pd.DataFrame({"drift": drift, "standard error": standard_error, "drift / SE": ratio,
                          "converged": np.concatenate(verdicts)}, index=labels)
    unstable = table[~table["converged"]]
    worst = (unstable if len(unstable) else table)["drift / SE"].idxmax()
    return ParameterReport(bool(table["converged"].all()), worst, table, window)


@dataclass(frozen=True)
class SVIConvergence:
    """Both checks of one SVI run: ``converged`` only if the loss and every parameter are settled."""

    converged: bool
    loss: ConvergenceReport
    parameters: ParameterReport

    def __str__(self) -> str:
        return f"loss: {self.loss}\nparameters: {self.parameters}"


def check_svi(run, *, window: int | None = None) -> SVIConvergence:
    """:func:`check_convergence` on ``run.losses`` and :func:`check_parameters` on ``run.history``.

    ``run`` is a :class:`bayesbook.svi.SVIRun` (or anything with ``losses`` and
    ``history``); ``window`` as in those functions (default: a fifth of the run).
    """
    if not hasattr(run, "losses") or not hasattr(run, "history"):
        raise TypeError(f"run must be an SVIRun with losses and history, got {type(run).__name__}")
    loss = check_convergence(run.losses, window=window)
    parameters = check_parameters(run.history, window=window)
    return SVIConvergence(loss.converged and parameters.converged, loss, parameters)


def steps_to_convergence(run, *, checks: int = 20) -> int | None:
    """The fewest steps after which :func:`check_svi` passes, tried at ``checks`` evenly spaced points.

    The run's history is cut after ``k * steps / checks`` steps, ``k = 1, 2, ...``, and
    :func:`check_svi` (with its default window, a fifth of the steps so far) applied to
    each cut in turn. Returns the first number of steps at which it passes, or ``None``
    if it never does within the run. A cut is what a run of that many steps would have
    recorded only when the learning rate does not depend on the total number of steps
    (no decay); averaging the iterates changes nothing here, since the history holds
    the iterates themselves.
    """
    checks = check_integer("checks", checks, minimum=1)
    if not hasattr(run, "losses") or not hasattr(run, "history"):
        raise TypeError(f"run must be an SVIRun with losses and history, got {type(run).__name__}")
    steps = len(run.losses)
    records = len(next(iter(run.history.values())))
    if steps % records:
        raise ValueError(f"run: {records} history records do not divide its {steps} steps")
    every = steps // records
    for k in range(1, checks + 1):
        cut = k * records // checks
        if cut * every < 20 or cut < 20:
            continue
        part = SimpleNamespace(losses=run.losses[:cut * every],
                               history={name: value[:cut] for name, value in run.history.items()})
        if check_svi(part).converged:
            return cut * every
    return None
