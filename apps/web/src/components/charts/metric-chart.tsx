'use client'
// A training-metric line chart (recharts): one run's series over steps, or several runs' overlaid (compare runs),
// redrawn as rows arrive. Straight lines between logged steps (a smoothed curve would invent values between two or
// three points), a dot on each point while a series is short, an x axis labelled "step", and axes from ./axis:
// round ticks, labels never cut, shares on 0–1.
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

import { formatValue, stepAxis, valueAxis, type ValueScale } from './axis'
import { seriesColor } from './palette'

export interface MetricPoint {
  step: number
  value: number | null | undefined
}

export interface MetricSeries {
  /** the run's name (in the legend and tooltip) */
  name: string
  points: MetricPoint[]
}

/** A series with fewer points than this gets a dot on each, so two or three points read as points. */
export const DOTS_BELOW = 30

const finiteOrNull = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** What the chart draws, computed without a browser: rows by step (one column per series), axes, latest values. */
export function metricChartModel(series: MetricSeries[], scale: ValueScale = 'auto') {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.step)))].sort((a, b) => a - b)
  const rowAt = new Map(steps.map((step) => [step, { step } as Record<string, number | null>]))
  series.forEach((s, i) => {
    for (const row of rowAt.values()) row[`s${i}`] = null
    for (const p of s.points) rowAt.get(p.step)![`s${i}`] = finiteOrNull(p.value)
  })
  const drawn = series.map((s) => s.points.filter((p) => finiteOrNull(p.value) !== null) as { step: number; value: number }[])
  return {
    rows: [...rowAt.values()],
    x: stepAxis(drawn.flat().map((p) => p.step)),
    y: valueAxis(drawn.flat().map((p) => p.value), scale),
    /** each series' newest drawn point, or null */
    latest: drawn.map((points) => points.at(-1) ?? null),
    points: drawn.reduce((sum, points) => sum + points.length, 0),
    dots: drawn.map((points) => points.length < DOTS_BELOW),
    /** recharts' curve type: straight segments, no smoothing */
    curve: 'linear' as const,
  }
}

export interface MetricChartProps {
  title: string
  series: MetricSeries[]
  /** 'share' for 0–1 metrics, 'small-share' for shares that stay near 0, else 'auto' */
  scale?: ValueScale
  testId?: string
  /** what an empty chart says (default: no data yet) */
  emptyText?: string
}

export function MetricChart({ title, series, scale = 'auto', testId, emptyText = 'No data yet' }: MetricChartProps) {
  const model = metricChartModel(series, scale)
  const single = series.length === 1
  const latestText = (i: number) => {
    const p = model.latest[i]
    return p ? `${formatValue(p.value)} at step ${p.step}` : 'no data yet'
  }
  const description =
    model.points === 0
      ? `${title}: ${emptyText}`
      : single
        ? `${title} over training steps, latest ${latestText(0)}`
        : `${title} over training steps: ${series.map((s, i) => `${s.name} ${latestText(i)}`).join('; ')}`
  return (
    <figure className="card min-w-0 p-3" data-testid={testId} data-points={model.points} data-series={series.length}>
      <figcaption className="flex items-baseline justify-between gap-2 px-1 text-sm">
        <span className="font-medium">{title}</span>
        {single ? <span className="tabular-nums text-slate-600">{model.latest[0] ? formatValue(model.latest[0].value) : '—'}</span> : null}
      </figcaption>
      {!single && series.length ? (
        <ul className="flex flex-wrap gap-x-3 gap-y-0.5 px-1 pt-1 text-xs text-slate-700" aria-hidden="true" data-testid="chart-legend">
          {series.map((s, i) => (
            <li key={i} className="inline-flex min-w-0 items-center gap-1">
              <span className="inline-block h-2.5 w-2.5 shrink-0 rounded-sm" style={{ background: seriesColor(i) }} />
              <span className="break-all">{s.name}</span>
              <span className="tabular-nums text-slate-600">{model.latest[i] ? formatValue(model.latest[i]!.value) : '—'}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="h-44 overflow-hidden" role="img" aria-label={description}>
        {model.points === 0 ? (
          <p className="flex h-full items-center justify-center px-2 text-center text-xs text-slate-600">{emptyText}</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={model.rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
              <XAxis
                dataKey="step"
                type="number"
                domain={model.x.domain}
                ticks={model.x.ticks}
                tickFormatter={model.x.format}
                allowDecimals={false}
                tick={{ fontSize: 11 }}
                height={34}
                label={{ value: 'step', position: 'insideBottom', offset: 0, fontSize: 11, fill: '#475569' }}
              />
              <YAxis
                type="number"
                domain={model.y.domain}
                ticks={model.y.ticks}
                tickFormatter={model.y.format}
                width={model.y.width}
                interval={0}
                allowDataOverflow
                tick={{ fontSize: 11 }}
              />
              <Tooltip
                formatter={(v, name) => [typeof v === 'number' ? formatValue(v) : String(v), name]}
                labelFormatter={(step) => `step ${step}`}
              />
              {series.map((s, i) => (
                <Line
                  key={i}
                  type={model.curve}
                  dataKey={`s${i}`}
                  name={s.name}
                  stroke={seriesColor(i)}
                  strokeWidth={2}
                  dot={model.dots[i] ? { r: 2.5 } : false}
                  activeDot={{ r: 4 }}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  )
}
