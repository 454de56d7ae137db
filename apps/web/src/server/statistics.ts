// Statistics for the console: pure functions, no database, no server imports (deterministic for a seed). The study
// dashboard's intervals are 95%: Wilson for proportions, Student's t for means; the TRL − GRPO difference is tested by
// permuting condition labels within each participant and bounded by a participant (cluster) bootstrap; the junior's
// pooled accuracy gets a Wilson interval at its items' design effect, and people-vs-junior agreement over items is
// Pearson's r with a Fisher-z interval (docs/statistics.md, "People beside the junior").

/** A figure with its 95% interval over n observations; value and bounds are null when undefined (n = 0). */
export interface Interval {
  value: number | null
  low: number | null
  high: number | null
  n: number
}

/** One observation for the two-condition comparison: its participant (cluster), condition (A / B) and outcome. */
export interface GroupRow {
  cluster: string
  group: 'A' | 'B'
  y: number
}

// ---------------------------------------------------------------- basics

/** A small seeded generator (mulberry32): uniform floats in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Median: the middle value of the sorted values, or the mean of the two middle ones; null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Linear-interpolated percentile of sorted values (q in [0, 1]; numpy's default "linear" method). */
function percentile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

// ---------------------------------------------------------------- Student's t

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 coefficients; ~15 significant digits). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x) // reflection
  const z = x - 1
  let sum = c[0]!
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i)
  const t = z + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

/** Continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return h
}

/** Regularised incomplete beta I_x(a, b) = B(x; a, b) / B(a, b), for a, b > 0 and x in [0, 1]. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x))
  // the continued fraction converges fast for x < (a + 1) / (a + b + 2); otherwise use I_x(a, b) = 1 − I_{1−x}(b, a)
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b
}

/** Student's t CDF with df degrees of freedom: for t ≥ 0, P(T ≤ t) = 1 − ½ I_{df/(df+t²)}(df/2, ½); symmetric. */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error('tCdf needs df > 0')
  if (!Number.isFinite(df)) return normalCdf(t)
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5)
  return t >= 0 ? 1 - tail : tail
}

/** Standard normal CDF, Φ(z) = ½ erfc(−z/√2) (erfc: Numerical Recipes' erfcc, relative error < 1.2e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.5 * x)
  const erfc =
    t *
    Math.exp(
      -x * x - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
          t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return z >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc
}

/**
 * The p-quantile of Student's t with df > 0 degrees of freedom (df need not be an integer; Infinity = normal):
 * the t with tCdf(t, df) = p, found by bisection on the exact CDF above to ~1e-12 relative precision.
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error('tQuantile needs 0 < p < 1')
  if (!(df > 0)) throw new Error('tQuantile needs df > 0')
  if (p === 0.5) return 0
  if (p < 0.5) return -tQuantile(1 - p, df)
  let lo = 0
  let hi = 1
  while (tCdf(hi, df) < p) {
    lo = hi
    hi *= 2
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2
    if (tCdf(mid, df) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** The two-sided 95% critical value t_{0.975, df} (12.706 for df = 1, 2.228 for df = 10, → 1.960 as df → ∞). */
export function tCritical95(df: number): number {
  return tQuantile(0.975, df)
}

// ---------------------------------------------------------------- intervals

/**
 * Wilson score interval for a proportion k / n: with p̂ = k / n,
 *   centre = (p̂ + z²/2n) / (1 + z²/n),  half-width = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²).
 * Bounds stay inside [0, 1] (exactly 0 for k = 0, exactly 1 for k = n); n = 0 gives nulls.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): Interval {
  if (n === 0) return { value: null, low: null, high: null, n: 0 }
  if (!(n > 0) || successes < 0 || successes > n) throw new Error(`wilsonInterval needs 0 ≤ successes ≤ n (got ${successes} of ${n})`)
  const p = successes / n
  const z2 = z * z
  const denom = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / denom
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  return {
    value: p,
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === n ? 1 : Math.min(1, centre + half),
    n,
  }
}

/**
 * Mean with its 95% t interval: x̄ ± t_{0.975, n−1} · s / √n, s the sample standard deviation (n − 1 divisor).
 * n = 0: all null; n = 1: the value without bounds (no spread to estimate).
 */
export function meanInterval(values: readonly number[]): Interval {
  const n = values.length
  if (n === 0) return { value: null, low: null, high: null, n: 0 }
  const mean = values.reduce((s, v) => s + v, 0) / n
  if (n === 1) return { value: mean, low: null, high: null, n }
  const variance = values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / (n - 1)
  const half = tCritical95(n - 1) * Math.sqrt(variance / n)
  return { value: mean, low: mean - half, high: mean + half, n }
}

// ---------------------------------------------------------------- two conditions within participants

interface Cluster {
  /** the cluster's y values, A's then B's, each sorted (results do not depend on the order of the input rows) */
  ys: number[]
  /** how many of them carry label A */
  nA: number
  sumA: number
  sumB: number
}

interface Grouped {
  clusters: Cluster[]
  nA: number
  nB: number
  sumA: number
  sumB: number
}

const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0)

function groupRows(rows: readonly GroupRow[]): Grouped {
  const byCluster = new Map<string, { a: number[]; b: number[] }>()
  for (const row of rows) {
    if (!Number.isFinite(row.y)) throw new Error('every y must be a finite number')
    let c = byCluster.get(row.cluster)
    if (!c) byCluster.set(row.cluster, (c = { a: [], b: [] }))
    ;(row.group === 'A' ? c.a : c.b).push(row.y)
  }
  const byValue = (x: number, y: number) => x - y
  const clusters = [...byCluster.keys()].sort().map((key): Cluster => {
    const { a, b } = byCluster.get(key)!
    a.sort(byValue)
    b.sort(byValue)
    return { ys: [...a, ...b], nA: a.length, sumA: sum(a), sumB: sum(b) }
  })
  return {
    clusters,
    nA: clusters.reduce((s, c) => s + c.nA, 0),
    nB: clusters.reduce((s, c) => s + c.ys.length - c.nA, 0),
    sumA: sum(clusters.map((c) => c.sumA)),
    sumB: sum(clusters.map((c) => c.sumB)),
  }
}

export interface PermutationResult {
  /** mean y over A's rows minus mean y over B's rows */
  estimate: number
  /** two-sided: (1 + #{|d*| ≥ |d|}) / (1 + permutations) */
  pValue: number
  permutations: number
  nClusters: number
}

/**
 * Permutation test of "the condition makes no difference" for a within-participant design. The statistic is
 * d = ȳ_A − ȳ_B over all rows (responses). Each permutation shuffles the A/B labels among the rows of each
 * participant separately, so every participant keeps its own counts of A and B (and the totals stay fixed);
 * participants who saw one condition only contribute the same to every permutation.
 * Two-sided p = (1 + #{|d*| ≥ |d|}) / (1 + permutations) (never 0; ties count, up to floating-point noise).
 * Throws when either group has no rows.
 */
export function pairedPermutationTest(
  rows: readonly GroupRow[],
  { permutations = 5000, seed = 0 }: { permutations?: number; seed?: number } = {},
): PermutationResult {
  const g = groupRows(rows)
  if (g.nA === 0 || g.nB === 0) throw new Error('pairedPermutationTest needs rows in both groups')
  const total = g.sumA + g.sumB
  const estimate = g.sumA / g.nA - g.sumB / g.nB
  const observed = Math.abs(estimate)
  const tolerance = 1e-9 * (1 + observed)

  // clusters with both labels are shuffled; the others add a fixed amount to A's sum
  let fixedSumA = 0
  const mixed: { ys: number[]; draw: number; drawIsA: boolean; sum: number }[] = []
  for (const c of g.clusters) {
    const m = c.ys.length
    if (c.nA === 0) continue
    if (c.nA === m) fixedSumA += c.sumA
    // draw the smaller of the two label sets; the rest of the cluster gets the other label
    else mixed.push({ ys: [...c.ys], draw: Math.min(c.nA, m - c.nA), drawIsA: c.nA <= m - c.nA, sum: c.sumA + c.sumB })
  }
  const rand = mulberry32(seed)
  let extreme = 0
  for (let p = 0; p < permutations; p++) {
    let sumA = fixedSumA
    for (const c of mixed) {
      // a uniformly random subset of `draw` rows (partial Fisher–Yates; any starting order gives a uniform subset)
      const ys = c.ys
      const m = ys.length
      let drawn = 0
      for (let i = 0; i < c.draw; i++) {
        const j = i + Math.floor(rand() * (m - i))
        const y = ys[j]!
        ys[j] = ys[i]!
        ys[i] = y
        drawn += y
      }
      sumA += c.drawIsA ? drawn : c.sum - drawn
    }
    const dStar = sumA / g.nA - (total - sumA) / g.nB
    if (Math.abs(dStar) >= observed - tolerance) extreme++
  }
  return { estimate, pValue: (1 + extreme) / (1 + permutations), permutations, nClusters: g.clusters.length }
}

/**
 * 95% percentile-bootstrap interval of ȳ_A − ȳ_B, resampling participants (clusters) with replacement: each
 * replicate draws as many clusters as there are, pools their rows and takes the difference of the two means;
 * replicates in which a group has no rows are skipped. Interval = 2.5th and 97.5th percentiles of the replicates,
 * widened if needed to contain the estimate (as tandem/stats.py does). Nulls when no replicate had both groups.
 */
export function clusterBootstrapDifference(
  rows: readonly GroupRow[],
  { replicates = 2000, seed = 0 }: { replicates?: number; seed?: number } = {},
): { low: number | null; high: number | null } {
  const g = groupRows(rows)
  if (g.nA === 0 || g.nB === 0) return { low: null, high: null }
  const estimate = g.sumA / g.nA - g.sumB / g.nB
  const clusters = g.clusters.map((c) => ({ nA: c.nA, nB: c.ys.length - c.nA, sumA: c.sumA, sumB: c.sumB }))
  const k = clusters.length
  const rand = mulberry32(seed)
  const diffs: number[] = []
  for (let r = 0; r < replicates; r++) {
    let nA = 0
    let nB = 0
    let sumA = 0
    let sumB = 0
    for (let i = 0; i < k; i++) {
      const c = clusters[Math.floor(rand() * k)]!
      nA += c.nA
      nB += c.nB
      sumA += c.sumA
      sumB += c.sumB
    }
    if (nA > 0 && nB > 0) diffs.push(sumA / nA - sumB / nB)
  }
  if (diffs.length === 0) return { low: null, high: null }
  diffs.sort((x, y) => x - y)
  return { low: Math.min(estimate, percentile(diffs, 0.025)), high: Math.max(estimate, percentile(diffs, 0.975)) }
}

// ---------------------------------------------------------------- clustered proportions and correlation

/** One cluster of binary trials (e.g. one study item and the junior's k samples on it). */
export interface ClusterCount {
  successes: number
  trials: number
}

/**
 * A pooled proportion over clusters (Σ successes / Σ trials) with a 95% Wilson interval whose sample size is the
 * Kish effective size n_eff = N / (1 + (n̄ − 1)·ρ): N trials in K clusters of mean size n̄, and ρ the intra-cluster
 * correlation from one-way ANOVA (Donner: ρ = (MSB − MSW) / (MSB + (n₀ − 1)·MSW), n₀ = (N − Σnᵢ²/N) / (K − 1)),
 * cut to [0, 1]. So the clusters, not the trials, are the units: trials that always agree within a cluster (ρ = 1)
 * count as one observation per cluster (n_eff = K); independent ones (ρ = 0) as themselves (n_eff = N). ρ = 0 when
 * nothing varies (MSB = MSW = 0); one cluster leaves ρ unestimable and is taken as ρ = 1 (n_eff = 1).
 * Returns n = K (clusters with trials), value = the pooled proportion; nulls for no trials.
 */
export function clusteredWilsonInterval(clusters: readonly ClusterCount[]): Interval & { effectiveN: number | null } {
  const used = clusters.filter((c) => c.trials > 0)
  for (const c of used) {
    if (!(Number.isInteger(c.trials) && Number.isInteger(c.successes) && c.successes >= 0 && c.successes <= c.trials)) {
      throw new Error(`clusteredWilsonInterval needs 0 ≤ successes ≤ trials, whole numbers (got ${c.successes} of ${c.trials})`)
    }
  }
  const K = used.length
  const N = sum(used.map((c) => c.trials))
  if (K === 0) return { value: null, low: null, high: null, n: 0, effectiveN: null }
  const p = sum(used.map((c) => c.successes)) / N
  let rho: number
  if (K === 1) rho = 1
  else {
    const msb = sum(used.map((c) => c.trials * (c.successes / c.trials - p) ** 2)) / (K - 1)
    // within a cluster, Σ (y − ȳᵢ)² of 0/1 values is sᵢ − sᵢ²/nᵢ
    const msw = N > K ? sum(used.map((c) => c.successes - (c.successes * c.successes) / c.trials)) / (N - K) : 0
    const n0 = (N - sum(used.map((c) => c.trials * c.trials)) / N) / (K - 1)
    const denominator = msb + (n0 - 1) * msw
    rho = denominator > 0 ? Math.min(1, Math.max(0, (msb - msw) / denominator)) : 0
  }
  const effectiveN = N / (1 + (N / K - 1) * rho)
  const w = wilsonInterval(p * effectiveN, effectiveN)
  return { value: p, low: w.low, high: w.high, n: K, effectiveN }
}

/**
 * Pearson's r of paired values with its 95% Fisher-z interval: z = atanh(r), bounds tanh(z ± 1.96 / √(n − 3)).
 * Unweighted: every pair counts once. n < 3, or either variable constant: value null; n = 3: the value without bounds
 * (√(n − 3) = 0); |r| = 1 gives [r, r].
 */
export function pearsonInterval(pairs: readonly { x: number; y: number }[], z = 1.96): Interval {
  const n = pairs.length
  for (const p of pairs) if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new Error('pearsonInterval needs finite x and y')
  if (n < 3) return { value: null, low: null, high: null, n }
  const mx = sum(pairs.map((p) => p.x)) / n
  const my = sum(pairs.map((p) => p.y)) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (const { x, y } of pairs) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
    syy += (y - my) ** 2
  }
  if (sxx === 0 || syy === 0) return { value: null, low: null, high: null, n }
  const r = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)))
  if (n === 3) return { value: r, low: null, high: null, n }
  if (Math.abs(r) === 1) return { value: r, low: r, high: r, n }
  const centre = Math.atanh(r)
  const half = z / Math.sqrt(n - 3)
  return { value: r, low: Math.tanh(centre - half), high: Math.tanh(centre + half), n }
}
