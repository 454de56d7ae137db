// The study dashboard's statistics (pure): Wilson and t intervals against hand-computed values, the t quantile
// against tables, and the within-participant permutation test and participant bootstrap.
import { describe, expect, test } from 'vitest'

import {
  clusterBootstrapDifference,
  clusteredWilsonInterval,
  meanInterval,
  median,
  mulberry32,
  pairedPermutationTest,
  pearsonInterval,
  tCdf,
  tCritical95,
  tQuantile,
  wilsonInterval,
  type GroupRow,
} from '@/server/statistics'

describe('wilsonInterval', () => {
  test('matches hand-computed bounds', () => {
    // p̂ = 0.8, z² / n = 0.38416: centre = 0.99208 / 1.38416 = 0.71675, half = 1.41602 · √0.025604 = 0.22658
    const w = wilsonInterval(8, 10)
    expect(w.value).toBe(0.8)
    expect(w.n).toBe(10)
    expect(w.low).toBeCloseTo(0.4902, 3)
    expect(w.high).toBeCloseTo(0.9433, 3)
    // 3 of 4: centre = (0.75 + 0.4802) / 1.9604 = 0.62753, half = 1.96 / 1.9604 · √(0.046875 + 0.060025) = 0.32682
    const q = wilsonInterval(3, 4)
    expect(q.low).toBeCloseTo(0.3006, 3)
    expect(q.high).toBeCloseTo(0.9544, 3)
  })

  test('the edges: 0 of n starts at 0, n of n ends at 1, symmetric, n = 0 is undefined', () => {
    const none = wilsonInterval(0, 10)
    expect(none).toMatchObject({ value: 0, low: 0, n: 10 })
    expect(none.high).toBeCloseTo(0.2775, 3)
    const all = wilsonInterval(10, 10)
    expect(all).toMatchObject({ value: 1, high: 1, n: 10 })
    expect(all.low).toBeCloseTo(1 - 0.2775, 3)
    expect(wilsonInterval(0, 0)).toEqual({ value: null, low: null, high: null, n: 0 })
    const a = wilsonInterval(3, 17)
    const b = wilsonInterval(14, 17)
    expect(a.low!).toBeCloseTo(1 - b.high!, 12)
    expect(() => wilsonInterval(5, 4)).toThrow()
  })
})

describe('Student t', () => {
  test.each([
    [1, 12.706],
    [2, 4.303],
    [3, 3.182],
    [5, 2.571],
    [10, 2.228],
    [30, 2.042],
    [100, 1.984],
    [1e6, 1.96],
    [Infinity, 1.96],
  ])('t(0.975, df = %d) = %d', (df, expected) => {
    expect(Math.abs(tCritical95(df) - expected)).toBeLessThan(0.01)
    // and much closer than the brief's 0.01: tables give 3 decimals
    expect(Math.abs(tQuantile(0.975, df) - expected)).toBeLessThan(0.0006)
  })

  test('quantile and CDF are inverse and symmetric', () => {
    expect(tQuantile(0.995, 1)).toBeCloseTo(63.657, 2)
    expect(tQuantile(0.025, 4)).toBeCloseTo(-2.776, 3)
    expect(tQuantile(0.5, 7)).toBe(0)
    for (const df of [1, 2.5, 9, 40]) {
      for (const p of [0.6, 0.9, 0.975, 0.999]) expect(tCdf(tQuantile(p, df), df)).toBeCloseTo(p, 9)
    }
    expect(tCdf(0, 3)).toBeCloseTo(0.5, 12)
    expect(tCdf(-1.5, 6)).toBeCloseTo(1 - tCdf(1.5, 6), 12)
  })
})

describe('meanInterval and median', () => {
  test('[1, 2, 3, 4, 5] = 3 ± t(0.975, 4) · √(2.5 / 5)', () => {
    const m = meanInterval([1, 2, 3, 4, 5])
    const half = 2.776 * Math.sqrt(2.5 / 5)
    expect(m.value).toBe(3)
    expect(m.n).toBe(5)
    expect(m.low).toBeCloseTo(3 - half, 3)
    expect(m.high).toBeCloseTo(3 + half, 3)
  })

  test('no values: undefined; one value: no bounds; constant values: zero width', () => {
    expect(meanInterval([])).toEqual({ value: null, low: null, high: null, n: 0 })
    expect(meanInterval([4.5])).toEqual({ value: 4.5, low: null, high: null, n: 1 })
    expect(meanInterval([2, 2, 2])).toEqual({ value: 2, low: 2, high: 2, n: 3 })
  })

  test('median', () => {
    expect(median([])).toBeNull()
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    const values = [5, 1]
    median(values)
    expect(values).toEqual([5, 1]) // not sorted in place
  })

  test('mulberry32 is reproducible and uniform-ish', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const xs = Array.from({ length: 1000 }, () => a())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1)
    expect(mulberry32(43)()).not.toBe(mulberry32(42)())
  })
})

/** `participants` participants, each answering `perGroup` tasks in A and in B, with outcome yA / yB (functions of i, j). */
function design(participants: number, perGroup: number, yA: (i: number, j: number) => number, yB: (i: number, j: number) => number) {
  const rows: GroupRow[] = []
  for (let i = 0; i < participants; i++) {
    for (let j = 0; j < perGroup; j++) {
      rows.push({ cluster: `p${i}`, group: 'A', y: yA(i, j) })
      rows.push({ cluster: `p${i}`, group: 'B', y: yB(i, j) })
    }
  }
  return rows
}

describe('pairedPermutationTest', () => {
  test('identical groups: estimate 0, p = 1', () => {
    const rows = design(12, 3, (i, j) => (i + j) % 2, (i, j) => (i + j) % 2)
    const result = pairedPermutationTest(rows, { permutations: 999 })
    expect(result).toEqual({ estimate: 0, pValue: 1, permutations: 999, nClusters: 12 })
  })

  test('similar groups: a large p-value', () => {
    // A and B differ by one answer in 40 per group
    const rows = design(20, 2, (i, j) => (i * 2 + j) % 3 === 0 ? 1 : 0, (i, j) => ((i * 2 + j) % 3 === 0 || (i === 0 && j === 1) ? 1 : 0))
    const result = pairedPermutationTest(rows, { permutations: 2000 })
    expect(result.estimate).toBeCloseTo(-1 / 40, 12)
    expect(result.pValue).toBeGreaterThan(0.5)
  })

  test('clearly different groups: p < 0.01; estimate is the exact difference of means over responses', () => {
    // A: 3 of 4 right; B: 1 of 4 right, for every one of 15 participants
    const rows = design(15, 4, (_i, j) => (j < 3 ? 1 : 0), (_i, j) => (j < 1 ? 1 : 0))
    const result = pairedPermutationTest(rows)
    expect(result.estimate).toBe(0.5)
    expect(result.permutations).toBe(5000)
    expect(result.nClusters).toBe(15)
    expect(result.pValue).toBeLessThan(0.01)
    expect(result.pValue).toBeGreaterThanOrEqual(1 / 5001)
  })

  test('the estimate weights responses, not participants (unbalanced counts)', () => {
    const rows: GroupRow[] = [
      { cluster: 'p1', group: 'A', y: 1 },
      { cluster: 'p1', group: 'A', y: 1 },
      { cluster: 'p1', group: 'A', y: 0 },
      { cluster: 'p1', group: 'B', y: 0 },
      { cluster: 'p2', group: 'A', y: 0 },
      { cluster: 'p2', group: 'B', y: 1 },
      { cluster: 'p2', group: 'B', y: 1 },
    ]
    // A: 2 of 4, B: 2 of 3
    expect(pairedPermutationTest(rows, { permutations: 100 }).estimate).toBeCloseTo(0.5 - 2 / 3, 12)
  })

  test('labels are shuffled only within a participant: a participant who saw one condition adds nothing to the noise', () => {
    // every participant saw only A or only B: no permutation can change anything, so p = 1 whatever the difference
    const rows: GroupRow[] = [
      ...Array.from({ length: 10 }, (_, i) => ({ cluster: `a${i}`, group: 'A' as const, y: 1 })),
      ...Array.from({ length: 10 }, (_, i) => ({ cluster: `b${i}`, group: 'B' as const, y: 0 })),
    ]
    expect(pairedPermutationTest(rows, { permutations: 500 })).toMatchObject({ estimate: 1, pValue: 1, nClusters: 20 })
  })

  test('reproducible for a seed, whatever the order of the rows; other seeds differ slightly', () => {
    const rows = design(10, 3, (i, j) => ((i + j) % 3 === 0 ? 1 : 0), (i, j) => ((i * j) % 4 === 0 ? 1 : 0))
    const first = pairedPermutationTest(rows, { permutations: 3000, seed: 7 })
    expect(pairedPermutationTest([...rows].reverse(), { permutations: 3000, seed: 7 })).toEqual(first)
    const other = pairedPermutationTest(rows, { permutations: 3000, seed: 8 })
    expect(other.estimate).toBe(first.estimate)
    expect(Math.abs(other.pValue - first.pValue)).toBeLessThan(0.05)
    // non-integer outcomes too: sums are taken in a fixed order, so even the last bit does not depend on row order
    const times = design(9, 3, (i, j) => 0.1 * i + 0.37 * j, (i, j) => 0.13 * i + 0.29 * j + 0.05)
    const shuffled = [...times].sort((x, y) => (x.y * 7919) % 1 - (y.y * 7919) % 1)
    expect(pairedPermutationTest(shuffled, { permutations: 500, seed: 1 })).toEqual(pairedPermutationTest(times, { permutations: 500, seed: 1 }))
    expect(clusterBootstrapDifference(shuffled, { seed: 1 })).toEqual(clusterBootstrapDifference(times, { seed: 1 }))
  })

  test('needs both groups', () => {
    expect(() => pairedPermutationTest([{ cluster: 'p', group: 'A', y: 1 }])).toThrow()
  })
})

describe('clusterBootstrapDifference', () => {
  test('the interval contains the estimate and is reproducible', () => {
    const rows = design(25, 3, (i, j) => ((i + j) % 4 !== 0 ? 1 : 0), (i, j) => ((i + 2 * j) % 2 === 0 ? 1 : 0))
    const { estimate } = pairedPermutationTest(rows, { permutations: 10 })
    const interval = clusterBootstrapDifference(rows, { seed: 3 })
    expect(interval.low!).toBeLessThanOrEqual(estimate)
    expect(interval.high!).toBeGreaterThanOrEqual(estimate)
    expect(interval.high! - interval.low!).toBeGreaterThan(0)
    expect(interval.high! - interval.low!).toBeLessThan(1)
    expect(clusterBootstrapDifference([...rows].reverse(), { seed: 3 })).toEqual(interval)
  })

  test('identical outcomes give a zero-width interval; no data gives nulls', () => {
    expect(clusterBootstrapDifference(design(5, 2, () => 1, () => 0))).toEqual({ low: 1, high: 1 })
    expect(clusterBootstrapDifference([{ cluster: 'p', group: 'B', y: 1 }])).toEqual({ low: null, high: null })
  })

  test('replicates in which a group is empty are skipped, not counted as 0', () => {
    // one participant per condition: a replicate drawing the same participant twice has one group only
    const rows: GroupRow[] = [
      { cluster: 'a', group: 'A', y: 1 },
      { cluster: 'b', group: 'B', y: 0 },
    ]
    expect(clusterBootstrapDifference(rows, { replicates: 200 })).toEqual({ low: 1, high: 1 })
  })
})

describe('clusteredWilsonInterval (the junior’s accuracy, items as the units)', () => {
  const bounds = (i: { low: number | null; high: number | null }) => ({ low: i.low, high: i.high })

  test('a hand-computed case: ρ = 0.2, n_eff = 10', () => {
    // p = 10/16; MSB = 4·(0.125² + 0.375² + 0.375² + 0.125²)/3 = 0.41667; MSW = (0.75 + 0.75 + 0 + 1)/12 = 0.20833;
    // n₀ = (16 − 64/16)/3 = 4; ρ = (0.41667 − 0.20833)/(0.41667 + 3·0.20833) = 0.2; deff = 1 + 3·0.2 = 1.6
    const c = clusteredWilsonInterval([
      { successes: 3, trials: 4 },
      { successes: 1, trials: 4 },
      { successes: 4, trials: 4 },
      { successes: 2, trials: 4 },
    ])
    expect(c.value).toBe(0.625)
    expect(c.n).toBe(4)
    expect(c.effectiveN).toBeCloseTo(10, 12)
    const w = wilsonInterval(6.25, 10)
    expect(c.low).toBeCloseTo(w.low!, 12)
    expect(c.high).toBeCloseTo(w.high!, 12)
    // wider than treating the 16 samples as independent, narrower than one observation per item
    expect(c.high! - c.low!).toBeGreaterThan(wilsonInterval(10, 16).high! - wilsonInterval(10, 16).low!)
    expect(c.high! - c.low!).toBeLessThan(wilsonInterval(2.5, 4).high! - wilsonInterval(2.5, 4).low!)
  })

  test('samples that always agree within an item count once per item; items alike count every sample', () => {
    const agreeing = clusteredWilsonInterval([
      { successes: 4, trials: 4 },
      { successes: 0, trials: 4 },
      { successes: 4, trials: 4 },
      { successes: 0, trials: 4 },
    ])
    expect(agreeing.effectiveN).toBeCloseTo(4, 12)
    expect(bounds(agreeing)).toEqual(bounds(wilsonInterval(2, 4)))
    // every item at 2 of 4: no item-to-item variation (ρ estimated below 0, cut to 0)
    const alike = clusteredWilsonInterval([
      { successes: 2, trials: 4 },
      { successes: 2, trials: 4 },
      { successes: 2, trials: 4 },
    ])
    expect(alike.effectiveN).toBe(12)
    expect(bounds(alike)).toEqual(bounds(wilsonInterval(6, 12)))
    // nothing varies at all: ρ = 0, and the interval still has width (never [1, 1])
    const perfect = clusteredWilsonInterval([
      { successes: 4, trials: 4 },
      { successes: 4, trials: 4 },
    ])
    expect(perfect).toMatchObject({ value: 1, high: 1, n: 2, effectiveN: 8 })
    expect(perfect.low).toBeCloseTo(wilsonInterval(8, 8).low!, 12)
    expect(perfect.low!).toBeLessThan(1)
  })

  test('one item: ρ cannot be estimated and is taken as 1 (one observation); no trials: nulls; bad counts throw', () => {
    const one = clusteredWilsonInterval([{ successes: 3, trials: 4 }])
    expect(one).toMatchObject({ value: 0.75, n: 1, effectiveN: 1 })
    expect(bounds(one)).toEqual(bounds(wilsonInterval(0.75, 1)))
    expect(clusteredWilsonInterval([])).toEqual({ value: null, low: null, high: null, n: 0, effectiveN: null })
    // clusters without trials are left out
    expect(clusteredWilsonInterval([{ successes: 0, trials: 0 }]).n).toBe(0)
    expect(() => clusteredWilsonInterval([{ successes: 5, trials: 4 }])).toThrow(/0 ≤ successes ≤ trials/)
    expect(() => clusteredWilsonInterval([{ successes: 1.5, trials: 4 }])).toThrow()
  })
})

describe('pearsonInterval (people beside the junior, item by item)', () => {
  test('r and its Fisher-z interval against hand-computed values', () => {
    const xs = [0, 0.25, 0.5, 0.75, 1, 0.5]
    const ys = [0.1, 0.2, 0.6, 0.5, 0.9, 0.3]
    const c = pearsonInterval(xs.map((x, i) => ({ x, y: ys[i]! })))
    // numpy: corrcoef = 0.91273; tanh(atanh(r) ± 1.96/√3)
    expect(c.n).toBe(6)
    expect(c.value).toBeCloseTo(0.9127305, 6)
    expect(c.low).toBeCloseTo(0.3902004, 6)
    expect(c.high).toBeCloseTo(0.9905533, 6)
    // symmetric in x and y, and unchanged by the order of the pairs
    expect(pearsonInterval(xs.map((x, i) => ({ x: ys[i]!, y: x })))).toEqual(c)
    expect(pearsonInterval(xs.map((x, i) => ({ x, y: ys[i]! })).reverse()).value).toBeCloseTo(c.value!, 12)
  })

  test('the same pairs twice: the same r, an interval from n − 3 = 9', () => {
    const xs = [0, 0.25, 0.5, 0.75, 1, 0.5]
    const ys = [0.1, 0.2, 0.6, 0.5, 0.9, 0.3]
    const twice = pearsonInterval([...xs, ...xs].map((x, i) => ({ x, y: ys[i % 6]! })))
    expect(twice.n).toBe(12)
    expect(twice.value).toBeCloseTo(0.9127305, 6)
    // tanh(atanh(0.91273) ± 1.96/3)
    expect(twice.low).toBeCloseTo(0.7115466, 6)
    expect(twice.high).toBeCloseTo(0.9755978, 6)
  })

  test('edges: too few items, a constant variable, a perfect line, bad input', () => {
    expect(pearsonInterval([])).toEqual({ value: null, low: null, high: null, n: 0 })
    expect(pearsonInterval([{ x: 0, y: 0 }, { x: 1, y: 1 }])).toEqual({ value: null, low: null, high: null, n: 2 })
    expect(pearsonInterval([{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 2, y: 3 }])).toMatchObject({ low: null, high: null, n: 3 })
    expect(pearsonInterval([0, 1, 2, 3].map((x) => ({ x, y: 0.5 })))).toEqual({ value: null, low: null, high: null, n: 4 })
    expect(pearsonInterval([0, 1, 2, 3].map((x) => ({ x, y: 1 - x / 4 })))).toEqual({ value: -1, low: -1, high: -1, n: 4 })
    expect(() => pearsonInterval([{ x: Number.NaN, y: 0 }])).toThrow(/finite/)
  })
})
