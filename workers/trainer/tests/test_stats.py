"""The metric formulas: pass@k, bootstrap intervals over problems, histograms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tandem.stats import Estimate, bootstrap_mean, bootstrap_ratio, histogram, pass_at_k

# ---------------------------------------------------------------- pass@k


@pytest.mark.parametrize(
    "n, c, k, expected",
    [
        (4, 1, 2, 1 - 3 / 6),  # 1 - C(3,2)/C(4,2)
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (10, 3, 1, 0.3),  # pass@1 = c/n
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (6, 2, 3, 1 - 4 / 20),  # 1 - C(4,3)/C(6,3)
    ],
)
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-15)


def test_pass_at_k_edge_cases():
    assert pass_at_k(8, 0, 1) == 0.0 and pass_at_k(8, 0, 8) == 0.0  # c = 0: never
    assert pass_at_k(8, 8, 1) == 1.0 and pass_at_k(8, 8, 8) == 1.0  # c = n: always
    assert pass_at_k(8, 1, 8) == 1.0  # k = n: any correct sample is drawn
    assert pass_at_k(5, 3, 3) == 1.0  # n - c < k: every draw holds a correct one
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0


def test_pass_at_k_exact_for_large_counts():
    # Floating-point products would drift here; the exact form gives 1 - 1/C(200, 100) rounded once.
    assert pass_at_k(200, 100, 100) == 1 - 1 / math.comb(200, 100)


@pytest.mark.parametrize("n, c, k", [(4, 5, 1), (4, -1, 1), (4, 1, 0), (4, 1, 5)])
def test_pass_at_k_rejects_bad_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


# ---------------------------------------------------------------- bootstrap_mean


def test_bootstrap_mean_contains_mean_and_is_deterministic():
    x = np.random.default_rng(1).random(50)
    e = bootstrap_mean(x, seed=3)
    assert e.value == pytest.approx(x.mean())
    assert e.low < e.value < e.high and e.n == 50
    assert bootstrap_mean(x, seed=3) == e
    assert bootstrap_mean(x, seed=4) != e  # a different seed resamples differently


def test_bootstrap_mean_narrows_with_more_problems():
    rng = np.random.default_rng(0)
    small, large = bootstrap_mean(rng.random(20)), bootstrap_mean(rng.random(2000))
    assert large.high - large.low < (small.high - small.low) / 4  # width ~ 1/sqrt(n): 10x more -> ~ 1/10


def test_bootstrap_mean_width_matches_standard_error():
    x = np.random.default_rng(2).normal(size=400)
    e = bootstrap_mean(x, n_boot=4000)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert (e.high - e.low) == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_bootstrap_mean_single_and_empty():
    assert bootstrap_mean([0.25]) == Estimate(0.25, 0.25, 0.25, 1)
    with pytest.raises(ValueError):
        bootstrap_mean([])


def test_bootstrap_mean_constant_values_interval_holds_the_value():
    # Resample means of identical floats can differ from the mean in the last bit; the interval is widened.
    e = bootstrap_mean([0.1] * 7)
    assert e.low <= e.value <= e.high and e.high - e.low < 1e-12


# ---------------------------------------------------------------- bootstrap_ratio


def test_bootstrap_ratio_is_a_ratio_of_sums():
    e = bootstrap_ratio([1, 9], [10, 10])
    assert e.value == pytest.approx(0.5)  # (1 + 9) / 20
    e = bootstrap_ratio([1, 1], [1, 9])
    assert e.value == pytest.approx(0.2)  # not the mean of ratios, (1 + 1/9) / 2
    assert e.low <= e.value <= e.high


def test_bootstrap_ratio_respects_clustering():
    # 30 problems with 100 tokens each; within a problem the tokens are all displaced or none are.
    rng = np.random.default_rng(0)
    flags = rng.random(30) < 0.5
    numerators, denominators = flags * 100, np.full(30, 100)
    clustered = bootstrap_ratio(numerators, denominators)
    # Pretending the 3000 tokens are independent gives the same value but a far too narrow interval.
    as_if_independent = bootstrap_mean(np.repeat(flags.astype(float), 100))
    assert clustered.value == pytest.approx(as_if_independent.value)
    assert clustered.high - clustered.low > 4 * (as_if_independent.high - as_if_independent.low)


def test_bootstrap_ratio_zero_denominators():
    e = bootstrap_ratio([0, 0, 3], [0, 0, 4])  # problems without displaced tokens add nothing
    assert e.value == pytest.approx(0.75) and e.low <= e.value <= e.high and e.n == 3
    undefined = bootstrap_ratio([0, 0], [0, 0])
    assert math.isnan(undefined.value)
    d = undefined.to_dict()
    assert d == {"value": None, "low": None, "high": None, "n": 2}
    json.dumps(d, allow_nan=False)
    with pytest.raises(ValueError):
        bootstrap_ratio([1], [1, 2])
    with pytest.raises(ValueError):
        bootstrap_ratio([], [])


def test_estimate_dict_roundtrip_and_monotone_map():
    e = Estimate(-2.0, -3.0, -1.0, 5)
    assert Estimate.from_dict(e.to_dict()) == e
    perplexity = e.map(lambda x: math.exp(-x))  # decreasing: bounds swap
    assert perplexity.low == pytest.approx(math.exp(1)) and perplexity.high == pytest.approx(math.exp(3))
    assert perplexity.value == pytest.approx(math.exp(2)) and perplexity.n == 5


# ---------------------------------------------------------------- histogram


def test_histogram_counts_and_overflow():
    h = histogram([0.0, 0.05, 0.5, 0.99, 1.0, 2.0, -1.0], [0.0, 0.1, 1.0])
    assert h["edges"] == [0.0, 0.1, 1.0]
    assert h["counts"] == [2, 3] and h["below"] == 1 and h["above"] == 1 and h["n"] == 7
    h = histogram([1, 2, 3, 4], 3)
    assert len(h["edges"]) == 4 and sum(h["counts"]) == 4 and h["edges"][0] == 1 and h["edges"][-1] == 4
    assert sum(histogram([5.0, 5.0], 4)["counts"]) == 2  # constant data still gets a bin
    assert histogram([], 2)["n"] == 0
    json.dumps(h, allow_nan=False)
    with pytest.raises(ValueError):
        histogram([1.0], [1.0, 0.0])
