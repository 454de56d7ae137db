'use client'
// Curves with their 95% intervals (recharts): one line per series (e.g. per checkpoint) and its interval drawn as a
// translucent band, for the handoff curves of an evaluation and for several evaluations overlaid.
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

import { valueAxis } from './axis'
import { seriesColor, tick } from './palette'

export interface IntervalPoint {
  x: number
  value: number | null
  low: number | null
  high: number | null
  n: number
}

export interface IntervalSeries {
  name: string
  points: IntervalPoint[]
}

export interface IntervalLineChartProps {
  title: string
  series: IntervalSeries[]
  xLabel: string
  yLabel: string
  /** at least this range, e.g. [0, 1] for accuracies (widened if the data go outside) */
  yDomain?: [number, number]
  testId?: string
  /** one sentence for screen readers on what the chart shows */
  description?: string
}

type Row = { x: number } & Record<string, number | [number, number] | null>

export function IntervalLineChart({ title, series, xLabel, yLabel, yDomain, testId, description }: IntervalLineChartProps) {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b)
  const rows: Row[] = xs.map((x) => {
    const row: Row = { x }
    series.forEach((s, i) => {
      const p = s.points.find((q) => q.x === x)
      row[`v${i}`] = p?.value ?? null
      row[`r${i}`] = p && p.low != null && p.high != null ? [p.low, p.high] : null
    })
    return row
  })
  const points = series.reduce((sum, s) => sum + s.points.filter((p) => p.value != null).length, 0)
  // the axis holds every value and interval end, with round ticks and room for its longest label
  const yAxis = valueAxis(
    series.flatMap((s) => s.points.flatMap((p) => [p.value, p.low, p.high].filter((v): v is number => v != null))),
    yDomain ?? 'auto',
  )
  return (
    <figure className="card p-3" data-testid={testId} data-points={points}>
      <figcaption className="px-1 text-sm font-medium">{title}</figcaption>
      <div
        className="h-64"
        role="img"
        aria-label={`${title}: ${yLabel} by ${xLabel}, ${series.length} series with 95% intervals as shaded bands.${description ? ` ${description}` : ''}`}
      >
        {points === 0 ? (
          <p className="flex h-full items-center justify-center text-xs text-slate-600">No points</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={rows} margin={{ top: 8, right: 12, bottom: 16, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
              <XAxis
                dataKey="x"
                type="number"
                domain={['dataMin', 'dataMax']}
                ticks={xs}
                tick={{ fontSize: 11 }}
                tickFormatter={tick}
                label={{ value: xLabel, position: 'insideBottom', offset: -8, fontSize: 11 }}
              />
              <YAxis
                type="number"
                domain={yAxis.domain}
                ticks={yAxis.ticks}
                tickFormatter={yAxis.format}
                width={yAxis.width}
                interval={0}
                allowDataOverflow
                tick={{ fontSize: 11 }}
              />
              <Tooltip
                labelFormatter={(x) => `${xLabel} = ${tick(Number(x))}`}
                formatter={(value, name) => {
                  if (Array.isArray(value)) return [`[${tick(Number(value[0]))}, ${tick(Number(value[1]))}]`, `${name} 95% interval`]
                  return [typeof value === 'number' ? tick(value) : String(value), name]
                }}
              />
              {series.length > 1 ? <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} /> : null}
              {series.map((s, i) => (
                <Area
                  key={`band-${i}`}
                  dataKey={`r${i}`}
                  name={`${s.name} interval`}
                  stroke="none"
                  fill={seriesColor(i)}
                  fillOpacity={0.15}
                  isAnimationActive={false}
                  legendType="none"
                  connectNulls
                />
              ))}
              {series.map((s, i) => (
                <Line
                  key={`line-${i}`}
                  dataKey={`v${i}`}
                  name={s.name}
                  stroke={seriesColor(i)}
                  strokeWidth={2}
                  dot={{ r: 3 }}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  )
}
