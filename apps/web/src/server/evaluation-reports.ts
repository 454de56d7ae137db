// Evaluation reports as the worker writes them (tandem/evaluate.py: metrics {name: {value, low, high, n}}, curves,
// histograms, per_problem), read defensively and compared side by side; the paper's claims are read from their
// per-problem series by claims.ts. Pure TypeScript, no server imports: the compare page runs the same code.
import { z } from 'zod'
import { mulberry32 } from './statistics'

const num = z.number().finite()
const maybeNum = num.nullable()

/** A figure with its 95% interval over n problems; null value = undefined estimate (e.g. an empty ratio). */
export const estimateSchema = z.object({ value: maybeNum, low: maybeNum, high: maybeNum, n: z.number().int().min(0) })
export type Estimate = z.infer<typeof estimateSchema>

const curveSchema = z.object({
  x_name: z.string(),
  points: z.array(estimateSchema.extend({ x: num })),
})
export type Curve = z.infer<typeof curveSchema>

const histogramSchema = z
  .object({
    edges: z.array(num).min(2),
    counts: z.array(z.number().int().min(0)),
    n: z.number().int().min(0),
    below: z.number().int().min(0).default(0),
    above: z.number().int().min(0).default(0),
  })
  .refine((h) => h.counts.length === h.edges.length - 1, 'one count per bin')
export type Histogram = z.infer<typeof histogramSchema>

export interface PerProblem {
  ids: (string | null)[]
  series: Record<string, number[]>
}

export interface ParsedReport {
  metrics: Record<string, Estimate>
  curves: Record<string, Curve>
  histograms: Record<string, Histogram>
  perProblem: PerProblem | null
  settings: Record<string, unknown> | null
  versions: Record<string, unknown> | null
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Entries of a JSON object that parse with `schema`; the rest are left out (a malformed entry must not break a page). */
function entries<T>(value: unknown, schema: z.ZodType<T>): Record<string, T> {
  const out: Record<string, T> = {}
  if (!isObject(value)) return out
  for (const [name, entry] of Object.entries(value)) {
    const parsed = schema.safeParse(entry)
    if (parsed.success) out[name] = parsed.data
  }
  return out
}

function parsePerProblem(value: unknown): PerProblem | null {
  if (!isObject(value) || !Array.isArray(value.ids)) return null
  const ids = value.ids.map((id) => (typeof id === 'string' ? id : id == null ? null : String(id)))
  const series: Record<string, number[]> = {}
  for (const [name, values] of Object.entries(value)) {
    if (name === 'ids' || !Array.isArray(values) || values.length !== ids.length) continue
    if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) series[name] = values as number[]
  }
  return { ids, series }
}

/** One evaluation_reports row: its metrics column and its full report JSON. */
export function parseReport(metrics: unknown, report: unknown): ParsedReport {
  const full = isObject(report) ? report : {}
  return {
    metrics: { ...entries(full.metrics, estimateSchema), ...entries(metrics, estimateSchema) },
    curves: entries(full.curves, curveSchema),
    histograms: entries(full.histograms, histogramSchema),
    perProblem: parsePerProblem(full.per_problem),
    settings: isObject(full.settings) ? full.settings : null,
    versions: isObject(full.versions) ? full.versions : null,
  }
}

/** Several reports of one evaluation run (one per suite set) as one; later reports win on a name clash. */
export function mergeReports(reports: ParsedReport[]): ParsedReport {
  const merged: ParsedReport = { metrics: {}, curves: {}, histograms: {}, perProblem: null, settings: null, versions: null }
  for (const r of reports) {
    Object.assign(merged.metrics, r.metrics)
    Object.assign(merged.curves, r.curves)
    Object.assign(merged.histograms, r.histograms)
    if (r.perProblem) {
      if (merged.perProblem && sameIds(merged.perProblem.ids, r.perProblem.ids)) {
        merged.perProblem = { ids: r.perProblem.ids, series: { ...merged.perProblem.series, ...r.perProblem.series } }
      } else merged.perProblem = r.perProblem
    }
    merged.settings = r.settings ?? merged.settings
    merged.versions = r.versions ?? merged.versions
  }
  return merged
}

function sameIds(a: (string | null)[], b: (string | null)[]): boolean {
  return a.length === b.length && a.every((id, i) => id !== null && id === b[i])
}

// ---------------------------------------------------------------- metric metadata

export interface MetricInfo {
  label: string
  /** 'higher' / 'lower' is better for the senior; null = neither (a description, not a score). */
  better: 'higher' | 'lower' | null
  unit?: string
  help: string
}

export const METRIC_INFO: Record<string, MetricInfo> = {
  solo_mean_at_k: { label: 'Solo accuracy (mean@k)', better: 'higher', help: 'Senior alone; mean share of correct samples per problem.' },
  solo_pass_at_k: { label: 'Solo pass@k', better: 'higher', help: 'Share of problems with at least one correct sample.' },
  tandem_accuracy: { label: 'Tandem accuracy', better: 'higher', help: 'Word-level co-generation at p_junior.' },
  tandem_senior_share: { label: 'Tandem senior token share', better: null, help: 'Senior-written tokens / all tokens.' },
  handoff_alternating: { label: 'Handoff: alternating steps', better: 'higher', help: 'Steps alternate senior, junior, senior, …' },
  handoff_mean: { label: 'Handoff robustness (mean over k)', better: 'higher', help: 'Mean of the senior-first-k curve.' },
  drift_kl: { label: 'Drift: KL(senior ‖ junior)', better: 'lower', unit: 'nats/token', help: 'Mean per-token KL on solo samples.' },
  legibility_cross_entropy: { label: 'Legibility: junior cross-entropy', better: 'lower', unit: 'nats/token', help: 'The junior’s teacher-forced mean cross-entropy per token over the senior’s solo chains of thought (per sample, then per problem).' },
  legibility_logprob: { label: 'Legibility: junior log-prob', better: 'higher', unit: 'nats/token', help: 'Junior’s mean log-prob of senior tokens, pooled over a problem’s tokens.' },
  legibility_perplexity: { label: 'Legibility: junior perplexity', better: 'lower', help: 'exp(−junior log-prob).' },
}

/** Titles and axes of the curves and histograms the worker writes. */
export const CURVE_AXES: Record<string, { title: string; x: string; y: string }> = {
  handoff_senior_first_k: { title: 'Handoff: the senior writes the first k steps, the junior the rest', x: 'k (senior steps)', y: 'accuracy' },
  handoff_fraction: { title: 'Handoff: the junior continues the senior’s solo sample after a share f of its steps', x: 'f (share of steps)', y: 'accuracy' },
}

export const HISTOGRAM_AXES: Record<string, { title: string; x: string }> = {
  drift_kl: { title: 'Drift: per-token KL(senior ‖ junior)', x: 'KL (nats)' },
  legibility_token_surprisal: { title: 'Legibility: the junior’s surprisal of each senior token', x: 'surprisal (nats)' },
}

/** Curves in reading order: the senior-first-k curve, the fraction curve, then any others alphabetically. */
export function orderCurveNames(names: Iterable<string>): string[] {
  const known = Object.keys(CURVE_AXES)
  const set = new Set(names)
  return [...known.filter((n) => set.has(n)), ...[...set].filter((n) => !known.includes(n)).sort()]
}

export function metricLabel(name: string): string {
  return METRIC_INFO[name]?.label ?? name
}

/** Metrics in a stable, meaningful order: the known ones as listed above, then the rest alphabetically. */
export function orderMetricNames(names: Iterable<string>): string[] {
  const known = Object.keys(METRIC_INFO)
  const set = new Set(names)
  return [...known.filter((n) => set.has(n)), ...[...set].filter((n) => !known.includes(n)).sort()]
}

// ---------------------------------------------------------------- differences

export interface Difference {
  /** b − a */
  value: number
  /** 95% interval of the paired difference (bootstrap over shared problems); null when the reports cannot be paired. */
  low: number | null
  high: number | null
  /** problems paired (0 when unpaired) */
  n: number
}


function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/**
 * Mean of b_i − a_i over problems with its 95% percentile-bootstrap interval, resampling problems (the method of
 * tandem/stats.py, applied to the per-problem differences so that the two checkpoints' shared problem
 * difficulty cancels). The interval is widened to contain the mean, as stats.py does.
 */
export function pairedBootstrap(a: number[], b: number[], nBoot = 2000, seed = 0): Difference {
  if (a.length !== b.length || a.length === 0) throw new Error('pairedBootstrap needs two equally long, non-empty series')
  const diffs = a.map((x, i) => b[i]! - x)
  const n = diffs.length
  const mean = diffs.reduce((s, d) => s + d, 0) / n
  if (n === 1) return { value: mean, low: mean, high: mean, n }
  const rand = mulberry32(seed)
  const means = new Array<number>(nBoot)
  for (let r = 0; r < nBoot; r++) {
    let sum = 0
    for (let j = 0; j < n; j++) sum += diffs[Math.floor(rand() * n)]!
    means[r] = sum / n
  }
  means.sort((x, y) => x - y)
  return { value: mean, low: Math.min(mean, percentile(means, 0.025)), high: Math.max(mean, percentile(means, 0.975)), n }
}

/** b − a for one metric: paired over problems when both reports carry its per-problem series on the same problems. */
export function difference(name: string, a: ParsedReport, b: ParsedReport): Difference | null {
  const ea = a.metrics[name]
  const eb = b.metrics[name]
  if (ea?.value == null || eb?.value == null) return null
  const sa = a.perProblem?.series[name]
  const sb = b.perProblem?.series[name]
  if (sa && sb && a.perProblem && b.perProblem && sameIds(a.perProblem.ids, b.perProblem.ids)) {
    return pairedBootstrap(sa, sb)
  }
  return { value: eb.value - ea.value, low: null, high: null, n: 0 }
}
