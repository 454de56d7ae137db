// The training curves of a run, one chart per metric, shared by the run page and the compare-runs page so a metric
// has one title and one axis rule everywhere. Shares (reward, accuracy, senior token share, zero-signal groups)
// are drawn on 0–1; a clip fraction from 0 to just above its data.
import type { ValueScale } from './axis'
import type { MetricSeries } from './metric-chart'

/** One step of runs.metrics (the fields the charts read). */
export interface RunMetricRow {
  step: number
  reward: number | null
  accuracy: number | null
  kl: number | null
  clipFraction: number | null
  seniorTokenShare: number | null
  zeroSignalGroups: number | null
  groups: number | null
  tokensPerSecond: number | null
  loss: number | null
}

export interface RunMetricChart {
  /** stable id for test ids and keys */
  id: string
  title: string
  value: (row: RunMetricRow) => number | null
  scale: ValueScale
  /** why a chart stays empty for this run's config, when it always will */
  never?: (config: Record<string, unknown>) => string | undefined
}

export const RUN_METRIC_CHARTS: readonly RunMetricChart[] = [
  { id: 'reward', title: 'Reward (team)', value: (r) => r.reward, scale: 'share' },
  { id: 'accuracy', title: 'Accuracy', value: (r) => r.accuracy, scale: 'share' },
  {
    id: 'kl', title: 'KL to reference', value: (r) => r.kl, scale: 'auto',
    never: (config) => (config.beta === 0 ? 'Not computed: beta is 0 (no KL term, as in the paper)' : undefined),
  },
  { id: 'clip-fraction', title: 'Clip fraction', value: (r) => r.clipFraction, scale: 'small-share' },
  { id: 'senior-token-share', title: 'Senior token share', value: (r) => r.seniorTokenShare, scale: 'share' },
  {
    id: 'zero-signal-share', title: 'Zero-signal groups (share)',
    value: (r) => (r.zeroSignalGroups != null && r.groups ? r.zeroSignalGroups / r.groups : null),
    scale: 'share',
  },
  { id: 'tokens-per-second', title: 'Tokens per second', value: (r) => r.tokensPerSecond, scale: 'auto' },
  { id: 'loss', title: 'Loss', value: (r) => r.loss, scale: 'auto' },
]

/** A run's rows as one chart's series. */
export function runSeries(name: string, rows: readonly RunMetricRow[], chart: RunMetricChart): MetricSeries {
  return { name, points: rows.map((r) => ({ step: r.step, value: chart.value(r) })) }
}
