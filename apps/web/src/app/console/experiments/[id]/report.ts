// The claims report the worker's EXPERIMENT_REPORT job writes into experiments.report (version 1), as the page reads
// it. Unknown versions are shown as such rather than half-drawn.
export interface ReportArm {
  name: string
  algorithm: 'GRPO' | 'TANDEM'
  pJunior: number
  seeds: number[]
  runIds: string[]
  evaluationRunIds: string[]
}

export interface HeldOut {
  arm: string
  metric: string
  value: number | null
  low: number | null
  high: number | null
  n: number
  minusBase: null | { value: number | null; low: number | null; high: number | null; verdict: string }
}

export type Verdict = 'supported' | 'refuted' | 'inconclusive' | 'not measured'

export interface Claim {
  id: string
  title: string
  arm: string
  versus: string
  estimate: number | null
  low: number | null
  high: number | null
  unit: string
  verdict: Verdict
  how: string
  warnings: string[]
}

export interface HandoffCurve {
  arm: string
  protocol: string
  points: { x: number; mean: number | null; low: number | null; high: number | null }[]
}

export interface ExperimentReport {
  version: 1
  computedAt: string
  margin: number
  arms: ReportArm[]
  heldOut: HeldOut[]
  claims: Claim[]
  handoffCurves: HandoffCurve[]
}

/** The report, or why it cannot be drawn. */
export function parseReport(value: unknown): { report: ExperimentReport } | { problem: string } | null {
  if (value == null) return null
  const r = value as Partial<ExperimentReport>
  if (r.version !== 1) return { problem: `This report has version ${String(r.version)}; this page reads version 1.` }
  return {
    report: {
      version: 1,
      computedAt: String(r.computedAt ?? ''),
      margin: typeof r.margin === 'number' ? r.margin : Number.NaN,
      arms: r.arms ?? [],
      heldOut: r.heldOut ?? [],
      claims: r.claims ?? [],
      handoffCurves: r.handoffCurves ?? [],
    },
  }
}

/** A number as the tables print it: 3 decimals, a leading sign for differences. */
export function num(value: number | null | undefined, { signed = false, digits = 3 } = {}): string {
  if (value == null || !Number.isFinite(value)) return '—'
  const text = value.toFixed(digits)
  return signed && value > 0 ? `+${text}` : text
}

export const interval = (low: number | null | undefined, high: number | null | undefined, signed = false) =>
  low == null || high == null ? '—' : `[${num(low, { signed })}, ${num(high, { signed })}]`
