'use client'
// A training-metric line chart (recharts): one series over steps, redrawn as rows arrive.
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

export interface MetricChartProps<T extends { step: number }> {
  title: string
  rows: T[]
  value: (row: T) => number | null | undefined
  /** digits in the tooltip */
  digits?: number
  /** fixed y-domain, e.g. [0, 1] for shares */
  domain?: [number, number]
  color?: string
  testId?: string
  /** what an empty chart says (default: no data yet) */
  emptyText?: string
}

export function MetricChart<T extends { step: number }>({
  title, rows, value, digits = 3, domain, color = '#4f46e5', testId, emptyText = 'No data yet',
}: MetricChartProps<T>) {
  const data = rows.map((r) => ({ step: r.step, value: value(r) ?? null }))
  const points = data.filter((d) => d.value !== null).length
  const last = [...data].reverse().find((d) => d.value !== null)
  return (
    <figure className="card p-3" data-testid={testId} data-points={points}>
      <figcaption className="flex items-baseline justify-between px-1 text-sm">
        <span className="font-medium">{title}</span>
        <span className="tabular-nums text-slate-600">{last ? last.value!.toFixed(digits) : '—'}</span>
      </figcaption>
      <div className="h-40" role="img" aria-label={`${title} over training steps${last ? `, latest ${last.value!.toFixed(digits)} at step ${last.step}` : `: ${emptyText}`}`}>
        {points === 0 ? (
          <p className="flex h-full items-center justify-center px-2 text-center text-xs text-slate-600">{emptyText}</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
              <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={{ fontSize: 11 }} allowDecimals={false} />
              <YAxis domain={domain ?? ['auto', 'auto']} tick={{ fontSize: 11 }} width={48} tickFormatter={(v: number) => Number(v.toPrecision(3)).toString()} />
              <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(digits) : String(v))} labelFormatter={(s) => `step ${s}`} />
              <Line type="monotone" dataKey="value" name={title} stroke={color} strokeWidth={2} dot={points < 30} isAnimationActive={false} connectNulls />
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  )
}
