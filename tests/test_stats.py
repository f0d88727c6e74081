"""The statistics of the transfer matrix against naive implementations and hand-computed numbers."""
import numpy as np
import pytest

from pathzero.agents.common.stats import Estimate, bootstrap, iqm, mean_interval, normalised_ratio, stratified


def naive_iqm(values):
    x = sorted(np.ravel(values))
    cut = len(x) // 4
    return float(np.mean(x[cut:len(x) - cut]))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 15, 40])
def test_iqm_matches_the_naive_trimmed_mean(n):
    values = np.random.default_rng(n).normal(size=n)
    assert iqm(values) == pytest.approx(naive_iqm(values))


def test_iqm_ignores_outliers_the_mean_does_not():
    values = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 100.0])
    assert iqm(values) == pytest.approx(1.0, abs=0.03) and values.mean() > 13


def test_a_mean_interval_covers_the_mean_and_shrinks_with_more_seeds():
    rng = np.random.default_rng(0)
    few, many = rng.normal(5, 1, size=5), rng.normal(5, 1, size=200)
    small, large = mean_interval(few), mean_interval(many)
    assert small.low < few.mean() < small.high and large.low < many.mean() < large.high
    assert large.high - large.low < small.high - small.low
    assert mean_interval(np.array([3.0])) == Estimate(3.0, None, None)  # one seed: no interval


def test_bootstrap_is_the_naive_resampling_loop():
    values = np.array([1.0, 4.0, 2.0, 8.0])
    est = bootstrap(lambda i: values[i].max(), len(values), reps=500, seed=3)
    picks = np.random.default_rng(3).integers(0, 4, size=(500, 4))
    naive = [values[p].max() for p in picks]
    assert (est.low, est.high) == (np.percentile(naive, 2.5), np.percentile(naive, 97.5))


def test_normalised_ratio_by_hand_and_paired_by_seed():
    method, control = np.array([6.0, 8.0]), np.array([3.0, 5.0])
    ratio, margin = normalised_ratio(method, control, floor=1.0)
    assert ratio.value == pytest.approx((7 - 1) / (4 - 1)) and margin.value == pytest.approx(3.0)
    # when the floor is 0 the score is the paper's ratio of means
    assert normalised_ratio(method, control, floor=0.0)[0].value == pytest.approx(7 / 4)
    # negative returns (Pong) give a defined score
    pong = normalised_ratio(np.array([-15.0, -13.0]), np.array([-18.0, -17.0]), floor=-20.5)
    assert pong[0].value == pytest.approx((-14 + 20.5) / (-17.5 + 20.5))
    # seeds resampled together: a method always 1 above its control gives a tight interval
    rng = np.random.default_rng(1)
    control = rng.normal(10, 3, size=6)
    tight = normalised_ratio(control + 1, control, floor=0.0)[0]
    loose = normalised_ratio(rng.permutation(control) + 1, rng.normal(10, 3, size=6), floor=0.0)[0]
    assert tight.high - tight.low < loose.high - loose.low
    with pytest.raises(ValueError, match="one value per seed"):
        normalised_ratio(np.ones(3), np.ones(2), floor=0.0)


def test_a_margin_that_straddles_zero_says_so():
    _, margin = normalised_ratio(np.array([1.0, 2.0, 0.5]), np.array([-0.5, 0.6, 0.1]), floor=0.0)
    assert margin.low < 0 < margin.high and not margin.excludes(0.0)
    assert Estimate(1.3, 1.1, 1.6).excludes(1.0) and not Estimate(1.3, 0.9, 1.6).excludes(1.0)


def test_stratified_resamples_runs_within_each_task():
    scores = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])  # [runs, tasks]
    est = stratified(scores, reps=300, seed=0)
    assert est.value == pytest.approx(naive_iqm(scores))
    rng = np.random.default_rng(0)
    naive = []
    for _ in range(300):
        picks = rng.integers(0, 3, size=(3, 2))
        naive.append(naive_iqm(scores[picks, np.arange(2)]))
    assert est.low == pytest.approx(np.percentile(naive, 2.5)) and est.high == pytest.approx(np.percentile(naive, 97.5))
