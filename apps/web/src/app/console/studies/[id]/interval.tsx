// A figure with its 95% interval and n, as the study pages show it: "0.512 [0.431, 0.590] (n = 40)".
import type { Interval } from '@/server/statistics'

export function formatValue(value: number | null | undefined, digits = 3): string {
  if (value == null || !Number.isFinite(value)) return '—'
  return value.toFixed(digits)
}

export function formatInterval(i: Interval, digits = 3): string {
  if (i.value == null) return `— (n = ${i.n})`
  const bounds = i.low != null && i.high != null ? ` [${formatValue(i.low, digits)}, ${formatValue(i.high, digits)}]` : ''
  return `${formatValue(i.value, digits)}${bounds} (n = ${i.n})`
}

export function IntervalCell({ interval, digits = 3 }: { interval: Interval; digits?: number }) {
  if (interval.value == null) {
    return <span className="tabular-nums text-slate-600">— (n = {interval.n})</span>
  }
  return (
    <span className="tabular-nums">
      <span className="font-medium">{formatValue(interval.value, digits)}</span>{' '}
      {interval.low != null && interval.high != null ? (
        <span className="text-slate-600">
          [{formatValue(interval.low, digits)}, {formatValue(interval.high, digits)}]
        </span>
      ) : null}{' '}
      <span className="text-slate-600">(n = {interval.n})</span>
    </span>
  )
}
