'use client'
// A training curve per arm with a band over seeds (recharts): the line is the mean over seeds at each step, the band
// its min–max (not a confidence interval: with 2–3 seeds a band says more than an interval would). The numbers beside
// it, for screen readers and copy-paste, are each arm's last step and the full series in a collapsible table.
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

import { seriesColor, tick } from '@/components/charts/palette'

export interface BandPoint {
  step: number
  seeds: number
  mean: number | null
  low: number | null
  high: number | null
}

export interface BandSeries {
  arm: string
  points: BandPoint[]
}

type Row = { step: number } & Record<string, number | [number, number] | null>

const fmt = (v: number | null, digits: number) => (v == null ? '—' : v.toFixed(digits))

export function SeedBandChart({ title, series, digits = 3, yDomain, testId }: {
  title: string; series: BandSeries[]; digits?: number; yDomain?: [number, number]; testId?: string
}) {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.step)))].sort((a, b) => a - b)
  const rows: Row[] = steps.map((step) => {
    const row: Row = { step }
    series.forEach((s, i) => {
      const p = s.points.find((q) => q.step === step)
      row[`m${i}`] = p?.mean ?? null
      row[`b${i}`] = p && p.low != null && p.high != null ? [p.low, p.high] : null
    })
    return row
  })
  const points = series.reduce((sum, s) => sum + s.points.filter((p) => p.mean != null).length, 0)
  const lastOf = (s: BandSeries) => [...s.points].reverse().find((p) => p.mean != null)
  return (
    <figure className="card space-y-2 p-3" data-testid={testId} data-points={points}>
      <figcaption className="px-1 text-sm font-medium">{title}</figcaption>
      <div className="h-48" role="img"
        aria-label={`${title} over training steps, one line per arm (mean over seeds) with its min–max over seeds as a band; the numbers follow.`}>
        {points === 0 ? (
          <p className="flex h-full items-center justify-center text-xs text-slate-600">No steps logged yet</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
              <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} />
              <YAxis domain={yDomain ?? ['auto', 'auto']} tick={{ fontSize: 11 }} width={44} tickFormatter={tick} />
              <Tooltip
                labelFormatter={(s) => `step ${s}`}
                formatter={(value, name) =>
                  Array.isArray(value) ? [`${tick(Number(value[0]))} – ${tick(Number(value[1]))}`, String(name)] : [typeof value === 'number' ? tick(value) : String(value), String(name)]
                }
              />
              <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} />
              {series.map((s, i) => (
                <Area key={`b${i}`} dataKey={`b${i}`} name={`${s.arm} min–max over seeds`} stroke="none" fill={seriesColor(i)} fillOpacity={0.15}
                  isAnimationActive={false} legendType="none" connectNulls />
              ))}
              {series.map((s, i) => (
                <Line key={`m${i}`} dataKey={`m${i}`} name={s.arm} stroke={seriesColor(i)} strokeWidth={2} dot={steps.length < 30}
                  isAnimationActive={false} connectNulls />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
      <table className="w-full text-xs tabular-nums" data-testid={testId ? `${testId}-numbers` : undefined}>
        <caption className="sr-only">{title}: each arm at its last logged step</caption>
        <thead className="text-left text-slate-600">
          <tr><th scope="col">Arm</th><th scope="col">Step</th><th scope="col">Mean</th><th scope="col">Min – max</th><th scope="col">Seeds</th></tr>
        </thead>
        <tbody>
          {series.map((s) => {
            const last = lastOf(s)
            return (
              <tr key={s.arm}>
                <th scope="row" className="text-left font-normal">{s.arm}</th>
                <td>{last?.step ?? '—'}</td>
                <td>{fmt(last?.mean ?? null, digits)}</td>
                <td>{last ? `${fmt(last.low, digits)} – ${fmt(last.high, digits)}` : '—'}</td>
                <td>{last?.seeds ?? '—'}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {points > 0 ? (
        <details className="text-xs">
          <summary className="cursor-pointer text-slate-700">Every step ({title})</summary>
          <table className="mt-1 w-full tabular-nums">
            <thead className="text-left text-slate-600">
              <tr><th scope="col">Arm</th><th scope="col">Step</th><th scope="col">Mean</th><th scope="col">Min</th><th scope="col">Max</th><th scope="col">Seeds</th></tr>
            </thead>
            <tbody>
              {series.flatMap((s) =>
                s.points.map((p) => (
                  <tr key={`${s.arm}-${p.step}`}>
                    <td>{s.arm}</td><td>{p.step}</td><td>{fmt(p.mean, digits)}</td><td>{fmt(p.low, digits)}</td><td>{fmt(p.high, digits)}</td><td>{p.seeds}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </details>
      ) : null}
    </figure>
  )
}
