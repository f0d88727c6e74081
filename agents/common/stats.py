"""Intervals over seeds: percentile bootstrap, ratios of means, and the interquartile mean.

What a transfer matrix reports is a few seeds per cell; these are the statistics it reports them
with. The aggregate follows Agarwal et al. (2021, "Deep RL at the edge of the statistical
precipice"): the interquartile mean (IQM) over all runs of all tasks, with a *stratified* bootstrap
(the runs of each task are resampled within that task). The `rliable` package implements the same;
pathzero computes it here because rliable 1.2.0, the newest release, fails with the current `arch`
(8.0 rejects its `random_state` keyword) and `arch` 7.2 does not import under pandas 3.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

REPS = 2000  # bootstrap resamples
LEVEL = 0.95


class Estimate(NamedTuple):
    """A point estimate with its 95% percentile-bootstrap interval (None and None with < 2 samples)."""

    value: float
    low: float | None
    high: float | None

    def excludes(self, x: float) -> bool:
        """Whether the interval lies wholly above or below x."""
        return self.low is not None and (self.low > x or self.high < x)


def percentiles(samples: np.ndarray) -> tuple[float, float]:
    """The bounds of the central LEVEL (95%) of bootstrap samples: a percentile interval."""
    tail = (1 - LEVEL) / 2 * 100
    return float(np.percentile(samples, tail)), float(np.percentile(samples, 100 - tail))


def bootstrap(stat: Callable[[np.ndarray], float], n: int, reps: int = REPS, seed: int = 0) -> Estimate:
    """`stat(indices)` over all n samples, and its interval over resamples of the indices with
    replacement. Samples that belong together (a method's and its control's run with the same
    seed) are resampled together by indexing both with the same indices."""
    value = float(stat(np.arange(n)))
    if n < 2:
        return Estimate(value, None, None)
    picks = np.random.default_rng(seed).integers(0, n, size=(reps, n))
    low, high = percentiles(np.array([stat(p) for p in picks]))
    return Estimate(value, low, high)


def mean_interval(values: np.ndarray, reps: int = REPS, seed: int = 0) -> Estimate:
    values = np.asarray(values, dtype=float)
    return bootstrap(lambda i: values[i].mean(), len(values), reps, seed)


def normalised_ratio(method: np.ndarray, control: np.ndarray, floor: float, reps: int = REPS,
                     seed: int = 0) -> tuple[Estimate, Estimate]:
    """(mean(method) - floor) / (mean(control) - floor), paired by seed, and the interval of the
    denominator mean(control) - floor (the control's margin over the floor).

    Both arrays hold one value per seed, in the same seed order.
    """
    method, control = np.asarray(method, dtype=float), np.asarray(control, dtype=float)
    if method.shape != control.shape:
        raise ValueError(f"method and control need one value per seed each, got {method.shape} and {control.shape}")

    def ratio(i: np.ndarray) -> float:
        margin = control[i].mean() - floor
        return (method[i].mean() - floor) / margin if margin != 0 else np.nan

    margin = bootstrap(lambda i: control[i].mean() - floor, len(control), reps, seed)
    return bootstrap(ratio, len(method), reps, seed), margin


def iqm(values: np.ndarray) -> float:
    """Interquartile mean: the mean of all values after cutting the lowest and highest quarter
    (int(n / 4) values at each end, as rliable's `aggregate_iqm` does with scipy's trim_mean)."""
    from scipy.stats import trim_mean

    x = np.asarray(values, dtype=float).ravel()
    return float(trim_mean(x, 0.25)) if x.size else float("nan")


def stratified(scores: np.ndarray, stat: Callable[[np.ndarray], float] = iqm, reps: int = REPS,
               seed: int = 0) -> Estimate:
    """`stat` (default: the IQM) of scores [runs, tasks], with a stratified bootstrap interval: each
    task's runs are resampled within that task."""
    scores = np.asarray(scores, dtype=float)
    runs, tasks = scores.shape
    value = float(stat(scores))
    if runs < 2:
        return Estimate(value, None, None)
    rng = np.random.default_rng(seed)
    columns = np.arange(tasks)
    samples = np.empty(reps)
    for r in range(reps):
        picks = rng.integers(0, runs, size=(runs, tasks))
        samples[r] = stat(scores[picks, columns])
    low, high = percentiles(samples)
    return Estimate(value, low, high)
