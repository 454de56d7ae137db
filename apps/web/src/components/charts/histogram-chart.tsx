'use client'
// Histograms as the worker writes them ({edges, counts, n, below, above}) as recharts bar charts. Several series
// (checkpoints) share fixed edges, so they are drawn side by side per bin, as shares of their own n: checkpoints
// with different sample sizes stay comparable.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

import { seriesColor, tick } from './palette'

export interface HistogramSeries {
  name: string
  edges: number[]
  counts: number[]
  n: number
  below?: number
  above?: number
}

export interface HistogramChartProps {
  title: string
  series: HistogramSeries[]
  xLabel: string
  testId?: string
}

/** Bins of the first series' edges, with "< first" and "≥ last" bins when any series has values outside. */
export function histogramRows(series: HistogramSeries[]) {
  const edges = series[0]?.edges ?? []
  const sameEdges = series.every((s) => s.edges.length === edges.length && s.edges.every((e, i) => e === edges[i]))
  if (!sameEdges) throw new Error('histograms to overlay must share their edges')
  const anyBelow = series.some((s) => (s.below ?? 0) > 0)
  const anyAbove = series.some((s) => (s.above ?? 0) > 0)
  const bins: { label: string; count: (s: HistogramSeries) => number }[] = []
  if (anyBelow) bins.push({ label: `< ${tick(edges[0]!)}`, count: (s) => s.below ?? 0 })
  for (let i = 0; i < edges.length - 1; i++) bins.push({ label: `${tick(edges[i]!)}–${tick(edges[i + 1]!)}`, count: (s) => s.counts[i] ?? 0 })
  if (anyAbove) bins.push({ label: `≥ ${tick(edges[edges.length - 1]!)}`, count: (s) => s.above ?? 0 })
  return bins.map((bin) => {
    const row: Record<string, string | number> = { bin: bin.label }
    series.forEach((s, i) => {
      row[`s${i}`] = s.n > 0 ? bin.count(s) / s.n : 0
      row[`c${i}`] = bin.count(s)
    })
    return row
  })
}

export function HistogramChart({ title, series, xLabel, testId }: HistogramChartProps) {
  const comparable = series.length > 0 && series.every((s) => s.edges.length === series[0]!.edges.length && s.edges.every((e, i) => e === series[0]!.edges[i]))
  const rows = comparable ? histogramRows(series) : []
  const total = series.reduce((sum, s) => sum + s.n, 0)
  return (
    <figure className="card p-3" data-testid={testId} data-bins={rows.length}>
      <figcaption className="px-1 text-sm font-medium">{title}</figcaption>
      <div
        className="h-64"
        role="img"
        aria-label={`${title}: share of values per bin of ${xLabel}, ${series.map((s) => `${s.name} (n = ${s.n})`).join(', ')}.`}
      >
        {!comparable ? (
          <p className="flex h-full items-center justify-center text-xs text-slate-600">These histograms use different bins and cannot be overlaid.</p>
        ) : total === 0 ? (
          <p className="flex h-full items-center justify-center text-xs text-slate-600">No values</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={rows} margin={{ top: 8, right: 12, bottom: 16, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="bin" tick={{ fontSize: 10 }} interval={0} angle={-30} textAnchor="end" height={48} label={{ value: xLabel, position: 'insideBottom', offset: -12, fontSize: 11 }} />
              <YAxis tick={{ fontSize: 11 }} width={44} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
              <Tooltip
                formatter={(value, name, item) => {
                  const index = Number(String(item.dataKey).slice(1))
                  const count = (item.payload as Record<string, number>)[`c${index}`]
                  return [`${(Number(value) * 100).toFixed(1)}% (${count})`, name]
                }}
              />
              {series.length > 1 ? <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} /> : null}
              {series.map((s, i) => (
                <Bar key={i} dataKey={`s${i}`} name={s.name} fill={seriesColor(i)} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  )
}
