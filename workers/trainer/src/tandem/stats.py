"""The statistics behind every evaluation figure: point estimates with 95% bootstrap intervals over problems.

Problems are the unit of resampling. Samples of one problem (k completions, their tokens) are not
independent of each other, so resampling tokens or completions would understate the uncertainty; we
resample whole problems, with replacement, n_boot times.

- `bootstrap_mean(x)`: value = mean over problems of a per-problem number x_i (e.g. c_i/k, or the mean
  per-token KL of problem i). Interval = 2.5th and 97.5th percentiles of the means of resampled problem sets
  (percentile bootstrap).
- `bootstrap_ratio(a, b)`: value = sum_i a_i / sum_i b_i, a ratio of sums pooled over problems (e.g. displaced
  tokens that shift back / displaced tokens, where each problem contributes its own token counts). Problems
  are still resampled as units, so tokens that cluster within a problem widen the interval as they should.
  Resamples whose denominator sums to 0 are skipped; if the full denominator is 0 the value is undefined (NaN,
  written as null in JSON).
- `pass_at_k(n, c, k)`: the unbiased estimator of Chen et al. (2021), 1 - C(n-c, k) / C(n, k): the chance that
  at least one of k completions drawn without replacement from n samples (c of them correct) is correct.
  Computed exactly with integers.
- `histogram(values, bins)`: edges and counts for JSON reports.

Intervals are widened, if needed, to contain the point estimate: with very few problems (or identical
values, where floating-point sums of resamples differ from the mean in the last bit) a percentile can land a
hair beyond it. So low <= value <= high always holds for a defined estimate. With one problem the interval is
the point itself (there is nothing to resample).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% bootstrap interval over n problems."""

    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict:
        # NaN is not valid JSON: an undefined estimate is written as null.
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Estimate":
        nan = float("nan")
        return cls(*(nan if d.get(k) is None else d[k] for k in ("value", "low", "high")), int(d["n"]))

    def map(self, fn) -> "Estimate":
        """Apply a monotone function to value and bounds (a decreasing one swaps the bounds)."""
        a, b = fn(self.low), fn(self.high)
        return Estimate(fn(self.value), min(a, b), max(a, b), self.n)


def _resample_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _interval(value: float, replicates: np.ndarray, n: int) -> Estimate:
    replicates = replicates[np.isfinite(replicates)]
    if n == 1 or replicates.size == 0:
        return Estimate(value, value, value, n)
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return Estimate(value, float(min(low, value)), float(max(high, value)), n)


def bootstrap_mean(per_problem: Sequence[float], n_boot: int = 2000, seed: int = 0) -> Estimate:
    """Mean of per-problem values with a percentile-bootstrap interval (problems resampled)."""
    x = np.asarray(per_problem, dtype=np.float64)
    if x.size == 0:
        raise ValueError("bootstrap_mean needs at least one problem")
    value = float(x.mean())
    return _interval(value, x[_resample_indices(x.size, n_boot, seed)].mean(axis=1), x.size)


def bootstrap_ratio(
    numerators: Sequence[float], denominators: Sequence[float], n_boot: int = 2000, seed: int = 0
) -> Estimate:
    """sum(numerators) / sum(denominators), one pair per problem, problems resampled as units."""
    a = np.asarray(numerators, dtype=np.float64)
    b = np.asarray(denominators, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{a.size} numerators but {b.size} denominators")
    if a.size == 0:
        raise ValueError("bootstrap_ratio needs at least one problem")
    total = b.sum()
    if total == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, a.size)
    value = float(a.sum() / total)
    idx = _resample_indices(a.size, n_boot, seed)
    num, den = a[idx].sum(axis=1), b[idx].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = np.where(den != 0, num / np.where(den != 0, den, 1), np.nan)
    return _interval(value, replicates, a.size)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k) (exact)."""
    if not (0 <= c <= n) or not (1 <= k <= n):
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:  # every draw of k contains a correct sample
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


def histogram(values: Sequence[float], bins: int | Sequence[float] = 20) -> dict:
    """Counts of values per bin, for JSON reports.

    `bins` is a number of equal-width bins spanning the data, or the bin edges themselves. Bins are
    [e_i, e_i+1), the last one closed; values outside the edges are counted in `below` / `above`, so
    sum(counts) + below + above == n.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if isinstance(bins, int):
        if bins < 1:
            raise ValueError(f"bins must be >= 1, got {bins}")
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must be an increasing sequence of at least two numbers")
    counts, _ = np.histogram(x, bins=edges)
    return {
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "n": int(x.size),
        "below": int((x < edges[0]).sum()),
        "above": int((x > edges[-1]).sum()),
    }
