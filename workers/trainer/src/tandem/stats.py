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

- `paired_bootstrap(a, b)`: the paired, multi-seed comparison of two arms (e.g. GRPO and Tandem RL, or the base
  model and a trained checkpoint) on the same problems; see its docstring and docs/statistics.md. Its random
  stream is `mulberry32_uniforms`, the generator of the console's statistics.ts, so the console's TypeScript port
  reproduces these intervals to rounding (checked against a golden file written by this module).

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


def _json_fields(estimate) -> dict:
    """An estimate's fields for JSON: NaN is not valid JSON, so an undefined figure is written as null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(estimate).items()}


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% bootstrap interval over n problems."""

    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict:
        return _json_fields(self)

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


# ---------------------------------------------------------------- paired, multi-seed comparison of two arms

_MULBERRY_STEP = 0x6D2B79F5


def mulberry32_uniforms(seed: int, count: int) -> np.ndarray:
    """The first `count` floats in [0, 1) of mulberry32 seeded with `seed`: the console's generator
    (apps/web/src/server/statistics.ts), so that both languages resample the same problems and seeds.

    Its state after draw i is seed + i * 0x6D2B79F5 (mod 2^32) and each output is a fixed mix of that state
    alone, so the whole stream is computed at once with uint32 arithmetic (which wraps like JavaScript's).
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    i = np.arange(1, count + 1, dtype=np.uint64)
    state = (((seed & 0xFFFFFFFF) + i * _MULBERRY_STEP) & 0xFFFFFFFF).astype(np.uint32)
    with np.errstate(over="ignore"):
        t = (state ^ (state >> np.uint32(15))) * (state | np.uint32(1))
        t = t ^ (t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61)))
        out = t ^ (t >> np.uint32(14))
    return out.astype(np.float64) / 4294967296.0


@dataclass(frozen=True)
class PairedEstimate:
    """B − A with its 95% interval (low, high) and 90% interval (low90, high90, for equivalence tests) over
    n problems, from seeds_a and seeds_b reports per arm."""

    value: float
    low: float
    high: float
    low90: float
    high90: float
    n: int
    seeds_a: int
    seeds_b: int

    def to_dict(self) -> dict:
        return _json_fields(self)


def _as_matrix(name: str, values, n: int | None) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty list of per-problem series (one per seed), got shape {x.shape}")
    if n is not None and x.shape[1] != n:
        raise ValueError(f"{name} has {x.shape[1]} problems per seed, expected {n}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds a value that is not a finite number")
    return x


def _percentile_interval(value: float, replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    replicates = replicates[np.isfinite(replicates)]
    if replicates.size == 0 or not math.isfinite(value):
        return value, value
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(min(low, value)), float(max(high, value))


def paired_bootstrap(
    a, b, a_den=None, b_den=None, n_boot: int = 2000, seed: int = 0, chunk: int = 256,
) -> PairedEstimate:
    """B − A for two arms measured on the same n problems, with a hierarchical bootstrap over seeds and problems.

    a[s][i] is seed s of arm A on problem i (S_a seeds; one "seed" for a base model), b likewise (S_b seeds);
    column i is the same problem in every row of both arms. Each arm's figure is a ratio of sums,
        R(x, d) = sum_s sum_i x[s][i] / sum_s sum_i d[s][i],
    with d = 1 everywhere unless a denominator is given (`a_den`, `b_den`: e.g. displaced-token counts for a
    shift-back share). With d = 1, R is the mean over problems of the mean over seeds, so
        value = R(b, b_den) − R(a, a_den) = mean_i (mean_s b[s][i] − mean_s a[s][i]).
    Resampling, n_boot times: S_a seeds of A drawn with replacement from A's seeds, S_b seeds of B from B's
    (seeds within their arm), then n problem indices drawn with replacement and applied to both arms at once
    (problems jointly: problem i of A stays paired with problem i of B, so their shared difficulty cancels).
    Draws come from `mulberry32_uniforms(seed)`, S_a + S_b + n per replicate in that order, index = floor(u * m).
    Intervals: percentiles 2.5/97.5 (95%) and 5/95 (90%) of the replicates, widened to contain the value;
    replicates with a zero denominator are skipped.
    """
    a = _as_matrix("a", a, None)
    n = a.shape[1]
    b = _as_matrix("b", b, n)
    a_den = np.ones_like(a) if a_den is None else _as_matrix("a_den", a_den, n)
    b_den = np.ones_like(b) if b_den is None else _as_matrix("b_den", b_den, n)
    if a_den.shape != a.shape or b_den.shape != b.shape:
        raise ValueError("each denominator needs one series per seed of its arm")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be a whole number >= 1, got {n_boot!r}")
    sa, sb = a.shape[0], b.shape[0]

    def ratio(num: float, den: float) -> float:
        return num / den if den != 0 else float("nan")

    value = ratio(b.sum(), b_den.sum()) - ratio(a.sum(), a_den.sum())
    width = sa + sb + n
    uniforms = mulberry32_uniforms(seed, n_boot * width).reshape(n_boot, width)
    replicates = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        u = uniforms[start : start + chunk]
        seeds_a = np.floor(u[:, :sa] * sa).astype(np.int64)
        seeds_b = np.floor(u[:, sa : sa + sb] * sb).astype(np.int64)
        problems = np.floor(u[:, sa + sb :] * n).astype(np.int64)
        sums = []
        for x, seeds in ((a, seeds_a), (a_den, seeds_a), (b, seeds_b), (b_den, seeds_b)):
            per_problem = x[seeds].sum(axis=1)  # [replicate, problem]: the drawn seeds' values added up
            sums.append(np.take_along_axis(per_problem, problems, axis=1).sum(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            ra = np.where(sums[1] != 0, sums[0] / np.where(sums[1] != 0, sums[1], 1), np.nan)
            rb = np.where(sums[3] != 0, sums[2] / np.where(sums[3] != 0, sums[3], 1), np.nan)
        replicates[start : start + len(u)] = rb - ra
    low, high = _percentile_interval(value, replicates, 0.95)
    low90, high90 = _percentile_interval(value, replicates, 0.90)
    return PairedEstimate(float(value), low, high, low90, high90, n, sa, sb)
