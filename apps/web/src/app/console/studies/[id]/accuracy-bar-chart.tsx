'use client'
// Accuracy per condition as bars with their 95% intervals as error bars (recharts). The figures are also in a table
// beside the chart, so the chart itself is an image with a summary for screen readers.
import { Bar, BarChart, CartesianGrid, Cell, ErrorBar, Rectangle, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

import { seriesColor, tick } from '@/components/charts/palette'
import type { Interval } from '@/server/statistics'

import { formatInterval } from './interval'

export interface AccuracyBar {
  name: string
  interval: Interval
}

export function AccuracyBarChart({ title, bars, testId }: { title: string; bars: AccuracyBar[]; testId?: string }) {
  const rows = bars.map((b, i) => ({
    name: b.name,
    value: b.interval.value,
    // ErrorBar takes the distances below and above the value
    error:
      b.interval.value != null && b.interval.low != null && b.interval.high != null
        ? [b.interval.value - b.interval.low, b.interval.high - b.interval.value]
        : [0, 0],
    interval: b.interval,
    color: seriesColor(i),
  }))
  const withValue = rows.filter((r) => r.value != null).length
  return (
    <figure className="card p-3" data-testid={testId} data-bars={withValue}>
      <figcaption className="px-1 text-sm font-medium">{title}</figcaption>
      <div
        className="h-64"
        role="img"
        aria-label={`${title}: accuracy with 95% intervals as error bars. ${bars.map((b) => `${b.name}: ${formatInterval(b.interval)}`).join('; ')}.`}
      >
        {withValue === 0 ? (
          <p className="flex h-full items-center justify-center text-xs text-slate-600">No verified responses yet</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={rows} margin={{ top: 8, right: 12, bottom: 8, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="name" tick={{ fontSize: 11 }} interval={0} />
              <YAxis domain={[0, 1]} tick={{ fontSize: 11 }} width={44} tickFormatter={tick} />
              <Tooltip
                formatter={(_value, _name, item) => {
                  const interval = (item.payload as { interval: Interval }).interval
                  return [formatInterval(interval), 'accuracy [95% interval]']
                }}
              />
              {/* a shape of its own, so a bar of height 0 (accuracy 0) is kept and still gets its interval */}
              <Bar dataKey="value" name="accuracy" isAnimationActive={false} shape={(props: React.ComponentProps<typeof Rectangle>) => <Rectangle {...props} />}>
                {rows.map((r) => (
                  <Cell key={r.name} fill={r.color} />
                ))}
                <ErrorBar dataKey="error" width={8} strokeWidth={1.5} stroke="#0f172a" direction="y" isAnimationActive={false} />
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  )
}
