'use client'
// Item by item (condition × problem): people's success rate (y) against the junior's on the same cut trace (x), one
// dot per item with both, its area growing with the number of verified human responses; the diagonal is perfect
// agreement. Above the chart: Pearson's r over the items with its 95% interval and n items.
import { CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts'

import { seriesColor, tick } from '@/components/charts/palette'
import type { Interval } from '@/server/statistics'

import { formatInterval } from './interval'
import { plural } from '@/components/format'

export interface AgreementItem {
  itemId: string
  conditionId: string
  conditionName: string
  problemExternalId: string
  handoffStep: number | null
  human: Interval
  junior: { correct: number; samples: number; accuracy: number } | null
}

interface Dot {
  junior: number
  people: number
  responses: number
  label: string
  detail: string
}

export function ItemAgreementScatter({
  items,
  conditions,
  correlation,
  method,
  testId,
}: {
  items: AgreementItem[]
  conditions: { conditionId: string; name: string }[]
  correlation: Interval
  method: string
  testId?: string
}) {
  const plotted = items.filter((i) => i.junior !== null && i.human.value != null)
  const groups = conditions.map((c, index) => ({
    name: c.name,
    color: seriesColor(index),
    dots: plotted
      .filter((i) => i.conditionId === c.conditionId)
      .map(
        (i): Dot => ({
          junior: i.junior!.accuracy,
          people: i.human.value!,
          responses: i.human.n,
          label: `${c.name}, problem ${i.problemExternalId}${i.handoffStep != null ? ` (step ${i.handoffStep})` : ''}`,
          detail: `people ${formatInterval(i.human)}; junior ${i.junior!.correct} of ${i.junior!.samples}`,
        }),
      ),
  }))
  const maxResponses = Math.max(1, ...plotted.map((i) => i.human.n))
  const r = correlation
  const rText =
    r.value == null
      ? `r not defined (n = ${plural(r.n, 'item')} with both; it needs 3 and some spread in each)`
      : `r = ${r.value.toFixed(2)}${r.low != null && r.high != null ? ` [${r.low.toFixed(2)}, ${r.high.toFixed(2)}]` : ''} (n = ${r.n} items)`
  const title = 'Item by item: people against the junior'
  return (
    <figure className="card space-y-1 p-3" data-testid={testId} data-points={plotted.length}>
      <figcaption className="px-1">
        <span className="text-sm font-medium">{title}</span>
        <span className="block text-sm tabular-nums" data-testid="agreement-correlation">
          {rText}
        </span>
        <span className="block text-xs text-slate-600">{method} Dot area: verified human responses on the item.</span>
      </figcaption>
      <div className="h-72" role="img" aria-label={`${title}: each item's share of correct human responses against the junior's share of correct samples. ${rText}.`}>
        {plotted.length === 0 ? (
          <p className="flex h-full items-center justify-center text-xs text-slate-600">No item has both verified responses and junior samples yet</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ScatterChart margin={{ top: 8, right: 12, bottom: 16, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
              <XAxis
                dataKey="junior"
                type="number"
                domain={[0, 1]}
                tick={{ fontSize: 11 }}
                tickFormatter={tick}
                label={{ value: 'junior: share of samples correct', position: 'insideBottom', offset: -8, fontSize: 11 }}
              />
              <YAxis dataKey="people" type="number" domain={[0, 1]} tick={{ fontSize: 11 }} width={44} tickFormatter={tick} />
              <ZAxis dataKey="responses" type="number" domain={[0, maxResponses]} range={[30, 300]} />
              <ReferenceLine
                segment={[
                  { x: 0, y: 0 },
                  { x: 1, y: 1 },
                ]}
                stroke="#94a3b8"
                strokeDasharray="4 4"
                ifOverflow="extendDomain"
              />
              <Tooltip
                content={({ active, payload }) => {
                  const dot = active ? (payload?.[0]?.payload as Dot | undefined) : undefined
                  return dot ? (
                    <div className="rounded border border-slate-200 bg-white px-2 py-1 text-xs shadow-sm">
                      <p className="font-medium">{dot.label}</p>
                      <p className="tabular-nums">{dot.detail}</p>
                    </div>
                  ) : null
                }}
              />
              {groups.length > 1 ? <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} /> : null}
              {groups.map((g) => (
                <Scatter key={g.name} name={g.name} data={g.dots} fill={g.color} fillOpacity={0.7} isAnimationActive={false} />
              ))}
            </ScatterChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  )
}
