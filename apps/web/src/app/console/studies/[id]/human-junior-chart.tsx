'use client'
// People beside the frozen junior, per condition and handoff step, on one chart (recharts): two series per condition —
// people's accuracy (solid) and the junior's on the same cut traces (dashed) — each point with its 95% interval as an
// error bar. The two series of a condition share its colour and sit a little apart on the x axis, so their bars do not
// hide each other. The figures are also in the chart's accessible summary.
import { CartesianGrid, ComposedChart, ErrorBar, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

import { seriesColor, tick } from '@/components/charts/palette'
import type { Interval } from '@/server/statistics'

import { formatInterval } from './interval'

export interface HandoffStepPoint {
  conditionId: string
  name: string
  handoffStep: number
  /** people: Wilson over verified responses */
  accuracy: Interval
  /** the junior: pooled samples, items as the units */
  junior: Interval
}

interface SeriesPoint {
  x: number
  step: number
  value: number
  error: [number, number]
  interval: Interval
}

const SPREAD = 0.08 // x offset between neighbouring series at one step

function seriesPoints(points: HandoffStepPoint[], pick: (p: HandoffStepPoint) => Interval, offset: number): SeriesPoint[] {
  return points.flatMap((p) => {
    const interval = pick(p)
    if (interval.value == null) return []
    const error: [number, number] =
      interval.low != null && interval.high != null ? [interval.value - interval.low, interval.high - interval.value] : [0, 0]
    return [{ x: p.handoffStep + offset, step: p.handoffStep, value: interval.value, error, interval }]
  })
}

export function HumanJuniorChart({ points, conditions, testId }: { points: HandoffStepPoint[]; conditions: { conditionId: string; name: string }[]; testId?: string }) {
  const seriesCount = conditions.length * 2
  const series = conditions.flatMap((c, i) => {
    const own = points.filter((p) => p.conditionId === c.conditionId)
    const offset = (k: number) => (i * 2 + k - (seriesCount - 1) / 2) * SPREAD
    return [
      { key: `${c.conditionId}-people`, name: `${c.name} · people`, color: seriesColor(i), dashed: false, data: seriesPoints(own, (p) => p.accuracy, offset(0)) },
      { key: `${c.conditionId}-junior`, name: `${c.name} · junior`, color: seriesColor(i), dashed: true, data: seriesPoints(own, (p) => p.junior, offset(1)) },
    ]
  })
  const steps = [...new Set(points.map((p) => p.handoffStep))].sort((a, b) => a - b)
  const plotted = series.reduce((n, s) => n + s.data.length, 0)
  const summary = conditions
    .map((c) => {
      const own = points.filter((p) => p.conditionId === c.conditionId)
      if (own.length === 0) return `${c.name}: no handoff steps`
      return `${c.name}: ${own.map((p) => `step ${p.handoffStep} people ${formatInterval(p.accuracy)}, junior ${formatInterval(p.junior)}`).join('; ')}`
    })
    .join('. ')
  const title = 'People beside the junior, by handoff step'
  return (
    <figure className="card p-3" data-testid={testId} data-points={plotted}>
      <figcaption className="px-1 text-sm font-medium">{title}</figcaption>
      <div className="h-72" role="img" aria-label={`${title}: accuracy with 95% intervals as error bars, people solid, junior dashed. ${summary}.`}>
        {plotted === 0 ? (
          <p className="flex h-full items-center justify-center text-xs text-slate-600">No verified responses or junior samples yet</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart margin={{ top: 8, right: 12, bottom: 16, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
              <XAxis
                dataKey="x"
                type="number"
                domain={[(steps[0] ?? 0) - 0.5, (steps[steps.length - 1] ?? 0) + 0.5]}
                ticks={steps}
                tick={{ fontSize: 11 }}
                tickFormatter={tick}
                label={{ value: 'handoff step (senior steps shown)', position: 'insideBottom', offset: -8, fontSize: 11 }}
              />
              <YAxis domain={[0, 1]} tick={{ fontSize: 11 }} width={44} tickFormatter={tick} />
              <Tooltip
                labelFormatter={() => ''}
                formatter={(_value, name, item) => {
                  const p = item.payload as SeriesPoint
                  return [`step ${p.step}: ${formatInterval(p.interval)}`, name]
                }}
              />
              <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} />
              {series.map((s) => (
                <Line
                  key={s.key}
                  data={s.data}
                  dataKey="value"
                  name={s.name}
                  stroke={s.color}
                  strokeWidth={2}
                  strokeDasharray={s.dashed ? '5 4' : undefined}
                  dot={{ r: 3, fill: s.dashed ? '#ffffff' : s.color }}
                  isAnimationActive={false}
                  connectNulls
                >
                  <ErrorBar dataKey="error" width={6} strokeWidth={1.5} stroke={s.color} direction="y" isAnimationActive={false} />
                </Line>
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  )
}
