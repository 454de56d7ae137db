// A figure with its 95% interval, as every evaluation table shows it: "0.512 [0.431, 0.590]".
import type { Difference, Estimate } from '@/server/evaluation-reports'

export function formatFigure(value: number | null | undefined, digits = 3): string {
  if (value == null || !Number.isFinite(value)) return '—'
  return value.toFixed(digits)
}

export function formatEstimate(e: Estimate | null | undefined, digits = 3): string {
  if (!e || e.value == null) return '—'
  return `${formatFigure(e.value, digits)} [${formatFigure(e.low, digits)}, ${formatFigure(e.high, digits)}]`
}

export function EstimateCell({ estimate, digits = 3 }: { estimate: Estimate | null | undefined; digits?: number }) {
  if (!estimate || estimate.value == null) return <span className="text-slate-600">{estimate ? 'undefined' : '—'}</span>
  return (
    <span className="tabular-nums">
      <span className="font-medium">{formatFigure(estimate.value, digits)}</span>{' '}
      <span className="text-slate-600">
        [{formatFigure(estimate.low, digits)}, {formatFigure(estimate.high, digits)}]
      </span>
    </span>
  )
}

export function DifferenceCell({ difference, digits = 3 }: { difference: Difference | null; digits?: number }) {
  if (!difference) return <span className="text-slate-600">—</span>
  const sign = difference.value > 0 ? '+' : ''
  return (
    <span className="tabular-nums" title={difference.n > 0 ? `paired bootstrap over ${difference.n} problems` : 'reports not paired: point difference only'}>
      <span className="font-medium">
        {sign}
        {formatFigure(difference.value, digits)}
      </span>
      {difference.low != null && difference.high != null ? (
        <span className="text-slate-600">
          {' '}
          [{formatFigure(difference.low, digits)}, {formatFigure(difference.high, digits)}]
        </span>
      ) : null}
    </span>
  )
}
