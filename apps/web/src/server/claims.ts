// The paper's claims for two arms of evaluations (one report per training seed, all on the same problems): a port of
// workers/trainer/src/tandem/claims.py and stats.paired_bootstrap, the one definition (docs/statistics.md). Ported
// rather than called through a worker job because the compare page recomputes the claims as the researcher moves
// evaluations between arms and edits the margin, from per-problem series the page already holds. The bootstrap
// draws from the same mulberry32 stream as the Python module, so test/claims.test.ts holds this port to the numbers
// and sentences of test/fixtures/claims-golden.json, which the Python module writes.
// Pure TypeScript, no server imports.
import type { PerProblem } from './evaluation-reports'
import { mulberry32 } from './statistics'

export const DEFAULT_MARGIN = 0.03
export const MIN_PROBLEMS = 30
export const MIN_SEEDS = 3
export const DEFAULT_N_BOOT = 2000

export type Verdict = 'supported' | 'refuted' | 'inconclusive' | 'not measured'

/** B − A with its 95% (low, high) and 90% (low90, high90) intervals over n problems and the seeds of each arm. */
export interface PairedEstimate {
  value: number
  low: number
  high: number
  low90: number
  high90: number
  n: number
  seeds_a: number
  seeds_b: number
}

export interface ArmReport {
  /** names the report in error messages (e.g. the checkpoint's label) */
  label: string
  perProblem: PerProblem | null
}

export interface Arm {
  name: string
  reports: ArmReport[]
  /** false for a base model: one "seed" by nature, no seed warning */
  trained?: boolean
}

export interface Claim {
  id: string
  title: string
  statement: string
  kind: 'equivalence' | 'superiority'
  metric: string | null
  direction: '≈' | '↑' | '↓' | null
  estimate: PairedEstimate | null
  n_problems: number
  seeds: Record<string, number> | null
  margin: number | null
  verdict: Verdict
  sentence: string
  warnings: string[]
}

// ---------------------------------------------------------------- the bootstrap

function checkMatrix(name: string, x: number[][], n: number | null): number {
  if (x.length === 0 || x[0]!.length === 0) throw new Error(`${name} must be a non-empty list of per-problem series (one per seed)`)
  const width = n ?? x[0]!.length
  for (const row of x) {
    if (row.length !== width) throw new Error(`${name} has ${row.length} problems per seed, expected ${width}`)
    if (!row.every((v) => Number.isFinite(v))) throw new Error(`${name} holds a value that is not a finite number`)
  }
  return width
}

function sum2(x: number[][]): number {
  let s = 0
  for (const row of x) for (const v of row) s += v
  return s
}

/** numpy's default (linear) percentile of sorted values, q in percent, with stats.py's tail arithmetic. */
function percentileInterval(value: number, replicates: number[], confidence: number): [number, number] {
  const finite = replicates.filter((r) => Number.isFinite(r)).sort((x, y) => x - y)
  if (finite.length === 0 || !Number.isFinite(value)) return [value, value]
  const tail = (100 * (1 - confidence)) / 2
  const at = (q: number) => {
    const pos = (finite.length - 1) * (q / 100)
    const lo = Math.floor(pos)
    const hi = Math.ceil(pos)
    return finite[lo]! + (finite[hi]! - finite[lo]!) * (pos - lo)
  }
  return [Math.min(at(tail), value), Math.max(at(100 - tail), value)]
}

/**
 * B − A on the same n problems, each arm's figure a ratio of sums over its seeds and problems (denominators 1 unless
 * given, i.e. the mean over problems of the mean over seeds). Resampling nBoot times from mulberry32(seed): S_a seeds
 * of A with replacement, S_b seeds of B, then n problems applied to both arms (pairs kept), in that order,
 * index = floor(u · m). 95% and 90% percentile intervals, widened to contain the value.
 */
export function pairedSeedBootstrap(
  a: number[][], b: number[][], aDen: number[][] | null = null, bDen: number[][] | null = null, nBoot = DEFAULT_N_BOOT, seed = 0,
): PairedEstimate {
  const n = checkMatrix('a', a, null)
  checkMatrix('b', b, n)
  const ones = (x: number[][]) => x.map((row) => row.map(() => 1))
  const ad = aDen ?? ones(a)
  const bd = bDen ?? ones(b)
  if (ad.length !== a.length || bd.length !== b.length) throw new Error('each denominator needs one series per seed of its arm')
  checkMatrix('aDen', ad, n)
  checkMatrix('bDen', bd, n)
  if (!Number.isInteger(nBoot) || nBoot < 1) throw new Error(`nBoot must be a whole number >= 1, got ${nBoot}`)
  const sa = a.length
  const sb = b.length
  const ratio = (num: number, den: number) => (den !== 0 ? num / den : Number.NaN)
  const value = ratio(sum2(b), sum2(bd)) - ratio(sum2(a), sum2(ad))
  const rand = mulberry32(seed)
  const replicates = new Array<number>(nBoot)
  const seedsA = new Array<number>(sa)
  const seedsB = new Array<number>(sb)
  for (let r = 0; r < nBoot; r++) {
    for (let j = 0; j < sa; j++) seedsA[j] = Math.floor(rand() * sa)
    for (let j = 0; j < sb; j++) seedsB[j] = Math.floor(rand() * sb)
    let an = 0, ae = 0, bn = 0, be = 0
    for (let j = 0; j < n; j++) {
      const i = Math.floor(rand() * n)
      for (const s of seedsA) {
        an += a[s]![i]!
        ae += ad[s]![i]!
      }
      for (const s of seedsB) {
        bn += b[s]![i]!
        be += bd[s]![i]!
      }
    }
    replicates[r] = ratio(bn, be) - ratio(an, ae)
  }
  const [low, high] = percentileInterval(value, replicates, 0.95)
  const [low90, high90] = percentileInterval(value, replicates, 0.9)
  return { value, low, high, low90, high90, n, seeds_a: sa, seeds_b: sb }
}

// ---------------------------------------------------------------- verdicts

/** direction +1: the claim is B > A; −1: B < A (on the 95% interval of B − A). */
export function superiorityVerdict(e: PairedEstimate, direction: 1 | -1): Verdict {
  const [low, high] = direction > 0 ? [e.low, e.high] : [-e.high, -e.low]
  return low > 0 ? 'supported' : high < 0 ? 'refuted' : 'inconclusive'
}

/** Two one-sided tests at α = 0.05: 90% interval inside (−margin, margin) → supported; 95% wholly outside → refuted. */
export function equivalenceVerdict(e: PairedEstimate, margin: number): Verdict {
  if (-margin < e.low90 && e.high90 < margin) return 'supported'
  if (e.low > margin || e.high < -margin) return 'refuted'
  return 'inconclusive'
}

export function checkMargin(margin: number): number {
  if (!Number.isFinite(margin) || margin <= 0) throw new Error(`margin must be a number > 0 (e.g. 0.03 for ±3 points), got ${margin}`)
  return margin
}

// ---------------------------------------------------------------- claims

interface ClaimSpec {
  id: string
  title: string
  statement: (a: string, b: string) => string
  kind: 'equivalence' | 'superiority'
  /** the first metric every report carries decides: numerator, denominator, direction of the shown estimate, sign */
  metrics: { num: string; den: string | null; direction: 1 | -1 | 0; sign: 1 | -1 }[]
  source: 'arms' | 'displacement'
  suite: string
}

export const CLAIMS: ClaimSpec[] = [
  { id: 'solo', title: 'Solo accuracy is kept', statement: (a, b) => `${b} ≈ ${a} on solo accuracy (mean@k)`, kind: 'equivalence',
    metrics: [{ num: 'solo_mean_at_k', den: null, direction: 0, sign: 1 }], source: 'arms', suite: 'solo' },
  { id: 'handoff', title: 'Handoff robustness', statement: (a, b) => `${b} > ${a} when senior and junior alternate reasoning steps`, kind: 'superiority',
    metrics: [{ num: 'handoff_alternating', den: null, direction: 1, sign: 1 }, { num: 'handoff_mean', den: null, direction: 1, sign: 1 }], source: 'arms', suite: 'handoff' },
  { id: 'drift', title: 'Lower drift', statement: (a, b) => `${b} < ${a} in mean per-token KL(senior ‖ junior) on its own solo samples`, kind: 'superiority',
    metrics: [{ num: 'drift_kl', den: null, direction: -1, sign: 1 }], source: 'arms', suite: 'drift' },
  { id: 'displacement', title: 'Displacement beyond the seed null', statement: (_a, b) => `${b}'s shift-back share exceeds that of a second GRPO seed`, kind: 'superiority',
    metrics: [{ num: 'shift_back', den: 'displaced', direction: 1, sign: 1 }], source: 'displacement', suite: 'displacement' },
  { id: 'displacement_kl', title: 'KL to base reduced beyond the seed null', statement: (_a, b) => `${b}'s KL reduction (own samples) exceeds that of a second GRPO seed`, kind: 'superiority',
    metrics: [{ num: 'kl_to_base_trl_own', den: 'kl_to_base_grpo', direction: 1, sign: -1 }], source: 'displacement', suite: 'displacement' },
  { id: 'legibility', title: 'Higher legibility', statement: (a, b) => `${b}'s solo chains of thought cost the junior less cross-entropy per token than ${a}'s`, kind: 'superiority',
    metrics: [{ num: 'legibility_cross_entropy', den: null, direction: -1, sign: 1 }, { num: 'legibility_logprob', den: null, direction: 1, sign: 1 }], source: 'arms', suite: 'legibility' },
]

function problemIds(report: ArmReport): string[] {
  const ids = report.perProblem?.ids
  if (!ids || ids.length === 0) throw new Error(`${report.label}: no per_problem ids (a report from before paired comparisons; evaluate again)`)
  if (ids.some((i) => i === null) || new Set(ids).size !== ids.length) throw new Error(`${report.label}: per_problem ids must be present and distinct to pair problems`)
  return ids as string[]
}

/** The problem ids every report shares, in the first report's order; reports on other problems are an error naming them. */
export function alignedIds(arms: Arm[]): string[] {
  let first: { label: string; ids: string[]; set: Set<string> } | null = null
  for (const arm of arms) {
    for (const report of arm.reports) {
      const ids = problemIds(report)
      if (!first) {
        first = { label: report.label, ids, set: new Set(ids) }
        continue
      }
      const these = new Set(ids)
      const missing = first.ids.filter((i) => !these.has(i)).length
      const extra = ids.filter((i) => !first!.set.has(i)).length
      if (missing || extra) {
        throw new Error(`${report.label} and ${first.label} are not on the same problems (${missing} of ${first.label}'s problems missing, ${extra} others): paired comparisons need the same evaluation set`)
      }
    }
  }
  if (!first) throw new Error('no reports to compare')
  return first.ids
}

function series(arm: Arm, name: string, ids: string[]): { rows: number[][] | null; lacking: string | null } {
  const rows: number[][] = []
  for (const report of arm.reports) {
    const values = report.perProblem?.series[name]
    if (!values) return { rows: null, lacking: report.label }
    const position = new Map(report.perProblem!.ids.map((id, j) => [id, j]))
    rows.push(ids.map((id) => values[position.get(id)!]!))
  }
  return { rows, lacking: null }
}

/** Python's f"{x:+.3f}" (or f"{x:+.2e}" below 1e-3), so sentences read the same in both languages. */
export function fmtSigned(x: number): string {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '+'
  const ax = Math.abs(x)
  if (ax >= 1e-3 || x === 0) return sign + ax.toFixed(3)
  const [mant, exp] = ax.toExponential(2).split('e') as [string, string]
  const e = Number(exp)
  return `${sign}${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
}

/** Python's f"{x:g}" for the margins people type (up to 6 significant digits). */
export function fmtG(x: number): string {
  return String(Number(x.toPrecision(6)))
}

function warningsFor(e: PairedEstimate, a: Arm, b: Arm): string[] {
  const out: string[] = []
  if (e.n < MIN_PROBLEMS) out.push(`only ${e.n} problems (fewer than ${MIN_PROBLEMS}): the interval is rough`)
  for (const [arm, seeds] of [[a, e.seeds_a], [b, e.seeds_b]] as const) {
    if ((arm.trained ?? true) && seeds < MIN_SEEDS) {
      out.push(`${arm.name} has ${seeds} seed${seeds !== 1 ? 's' : ''} (fewer than ${MIN_SEEDS}): ${
        seeds === 1 ? 'the interval covers evaluation noise only, not training-seed variation' : 'training-seed variation is poorly estimated'
      }`)
    }
  }
  return out
}

function sentence(spec: ClaimSpec, metric: string, e: PairedEstimate, verdict: Verdict, a: Arm, b: Arm, margin: number, nBoot: number, den: string | null, sign: number): string {
  const what = `${b.name} − ${a.name} in ${metric}${den ? ` / ${den} (ratio of sums)` : ''}${sign < 0 ? ' as a reduction (negated)' : ''}`
  const scheme = `over ${e.n} paired problems and ${e.seeds_a} vs ${e.seeds_b} seeds, hierarchical bootstrap (${nBoot} resamples of seeds within arm and problems jointly)`
  const m = fmtG(margin)
  if (spec.kind === 'equivalence') {
    const i90 = `[${fmtSigned(e.low90)}, ${fmtSigned(e.high90)}]`
    const rule =
      verdict === 'supported' ? `its 90% interval ${i90} lies inside ±${m}`
      : verdict === 'refuted' ? `its 95% interval [${fmtSigned(e.low)}, ${fmtSigned(e.high)}] lies wholly outside ±${m}`
      : `its 90% interval ${i90} is not inside ±${m} and its 95% interval is not wholly outside`
    return `${what} = ${fmtSigned(e.value)} ${scheme}; two one-sided tests at α = 0.05: ${rule}.`
  }
  const side = verdict === 'supported' ? 'excludes 0 on the claimed side' : verdict === 'refuted' ? 'excludes 0 on the opposite side' : 'contains 0'
  return `${what} = ${fmtSigned(e.value)} [${fmtSigned(e.low)}, ${fmtSigned(e.high)}] (95%) ${scheme}; the interval ${side}.`
}

function notMeasured(spec: ClaimSpec, aName: string, bName: string, why: string): Claim {
  return {
    id: spec.id, title: spec.title, statement: spec.statement(aName, bName), kind: spec.kind, metric: null, direction: null,
    estimate: null, n_problems: 0, seeds: null, margin: null, verdict: 'not measured', sentence: why, warnings: [],
  }
}

function evaluateClaim(spec: ClaimSpec, a: Arm, b: Arm, margin: number, nBoot: number, seed: number): Claim {
  const ids = alignedIds([a, b])
  const lacking: string[] = []
  for (const { num, den, direction, sign } of spec.metrics) {
    const xa = series(a, num, ids)
    const xb = series(b, num, ids)
    let da: ReturnType<typeof series> = { rows: null, lacking: null }
    let db: ReturnType<typeof series> = { rows: null, lacking: null }
    let miss = xa.lacking ?? xb.lacking
    if (den && xa.rows && xb.rows) {
      da = series(a, den, ids)
      db = series(b, den, ids)
      miss = da.lacking ?? db.lacking
    }
    if (!xa.rows || !xb.rows || (den && (!da.rows || !db.rows))) {
      lacking.push(`${num} (missing in ${miss})`)
      continue
    }
    let e = pairedSeedBootstrap(xa.rows, xb.rows, da.rows, db.rows, nBoot, seed)
    if (sign < 0) e = { ...e, value: -e.value, low: -e.high, high: -e.low, low90: -e.high90, high90: -e.low90 }
    if (!Number.isFinite(e.value)) {
      lacking.push(`${num} (undefined: nothing in its denominator)`)
      continue
    }
    const verdict = spec.kind === 'equivalence' ? equivalenceVerdict(e, margin) : superiorityVerdict(e, direction as 1 | -1)
    return {
      id: spec.id, title: spec.title, statement: spec.statement(a.name, b.name), kind: spec.kind,
      metric: den ? `${num}/${den}` : num,
      direction: spec.kind === 'equivalence' ? '≈' : direction > 0 ? '↑' : '↓',
      estimate: e, n_problems: e.n, seeds: { [a.name]: e.seeds_a, [b.name]: e.seeds_b },
      margin: spec.kind === 'equivalence' ? margin : null, verdict,
      sentence: sentence(spec, num, e, verdict, a, b, margin, nBoot, den, sign),
      warnings: warningsFor(e, a, b),
    }
  }
  return notMeasured(spec, a.name, b.name, `Not measured: no report pair carries ${lacking.join(' or ')}; run the ${spec.suite} suite on every checkpoint.`)
}

/**
 * The paper's claims for arm B (e.g. TRL) against arm A (e.g. GRPO), and for displacement reports against null reports
 * (GRPO seed vs GRPO seed). Missing arms give "not measured"; reports on different problems throw, naming them.
 */
export function paperClaims(
  a: Arm | null, b: Arm | null, displacement: Arm | null = null, nullArm: Arm | null = null,
  margin = DEFAULT_MARGIN, nBoot = DEFAULT_N_BOOT, seed = 0,
): Claim[] {
  checkMargin(margin)
  const aName = a?.name ?? 'A'
  const bName = b?.name ?? 'B'
  return CLAIMS.map((spec) => {
    if (spec.source === 'arms') {
      if (!a?.reports.length || !b?.reports.length) return notMeasured(spec, aName, bName, 'Not measured: give reports for both arms.')
      return evaluateClaim(spec, a, b, margin, nBoot, seed)
    }
    if (!displacement?.reports.length || !nullArm?.reports.length) {
      return notMeasured(spec, aName, bName, 'Not measured: needs displacement reports (GRPO seed vs TRL seed) and null reports (GRPO seed a vs GRPO seed b in the trl slot) from `tandem eval --suite displacement`.')
    }
    return { ...evaluateClaim(spec, nullArm, displacement, margin, nBoot, seed), statement: spec.statement(aName, bName) }
  })
}
