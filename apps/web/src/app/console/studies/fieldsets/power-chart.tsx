'use client'
// Power against the number of participants (recharts): the simulated curve, the target power as a horizontal line,
// and the N needed as a vertical one; N on a log axis, since the grid spans 10 to 1000.
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'

import { seriesColor } from '@/components/charts/palette'

export function PowerChart({ curve, target, nNeeded, label }: { curve: { n: number; power: number }[]; target: number; nNeeded: number | null; label: string }) {
  const summary =
    `Simulated power to detect ${label} against the number of participants, from ${curve[0]?.n ?? 0} to ${curve.at(-1)?.n ?? 0}; ` +
    `target ${Math.round(target * 100)}%` +
    (nNeeded === null ? ', not reached on this range.' : `, first reached at ${nNeeded} participants.`)
  return (
    <figure className="rounded-md border border-slate-200 p-3" data-testid="power-chart" data-points={curve.length}>
      <figcaption className="px-1 text-sm font-medium">Power against participants ({label})</figcaption>
      <div className="h-56" role="img" aria-label={summary}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={curve} margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
            <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
            <XAxis
              dataKey="n"
              type="number"
              scale="log"
              domain={['dataMin', 'dataMax']}
              ticks={curve.map((p) => p.n).filter((n, i, all) => all.length <= 8 || i % 2 === 0 || n === nNeeded)}
              tick={{ fontSize: 11 }}
              label={{ value: 'participants (N, log scale)', position: 'insideBottom', offset: -8, fontSize: 11 }}
            />
            <YAxis domain={[0, 1]} ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]} tick={{ fontSize: 11 }} width={36} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
            <Tooltip labelFormatter={(n) => `N = ${n}`} formatter={(value) => [`${Math.round(Number(value) * 100)}%`, 'power']} />
            <ReferenceLine y={target} stroke="#b45309" strokeDasharray="4 3" label={{ value: `target ${Math.round(target * 100)}%`, position: 'insideTopLeft', fontSize: 11, fill: '#92400e' }} />
            {nNeeded !== null ? <ReferenceLine x={nNeeded} stroke="#047857" strokeDasharray="4 3" label={{ value: `N = ${nNeeded}`, position: 'insideBottomRight', fontSize: 11, fill: '#065f46' }} /> : null}
            <Line type="monotone" dataKey="power" stroke={seriesColor(0)} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  )
}
