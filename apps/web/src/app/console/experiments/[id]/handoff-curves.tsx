'use client'
// The handoff curves of the report, overlaid per arm with their 95% bands, one chart per protocol (e.g. the senior
// writes the first k steps), each with its numbers in a table beside it.
import { IntervalLineChart } from '@/components/charts/interval-line-chart'

import { interval, num, type HandoffCurve } from './report'

export function HandoffCurves({ curves }: { curves: HandoffCurve[] }) {
  const protocols = [...new Set(curves.map((c) => c.protocol))]
  if (protocols.length === 0) return <p className="text-sm text-slate-600">No handoff curves in this report (the handoff suite was not run).</p>
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      {protocols.map((protocol) => {
        const mine = curves.filter((c) => c.protocol === protocol)
        return (
          <div key={protocol} className="space-y-2">
            <IntervalLineChart
              title={`Handoff: ${protocol}`}
              xLabel={protocol}
              yLabel="accuracy"
              yDomain={[0, 1]}
              testId={`handoff-${protocol}`}
              series={mine.map((c) => ({ name: c.arm, points: c.points.map((p) => ({ x: p.x, value: p.mean, low: p.low, high: p.high, n: 0 })) }))}
            />
            <details className="text-xs">
              <summary className="cursor-pointer text-slate-700">Numbers ({protocol})</summary>
              <table className="mt-1 w-full tabular-nums">
                <thead className="text-left text-slate-600">
                  <tr><th scope="col">Arm</th><th scope="col">x</th><th scope="col">Accuracy</th><th scope="col">95% interval</th></tr>
                </thead>
                <tbody>
                  {mine.flatMap((c) =>
                    c.points.map((p) => (
                      <tr key={`${c.arm}-${p.x}`}><td>{c.arm}</td><td>{p.x}</td><td>{num(p.mean)}</td><td>{interval(p.low, p.high)}</td></tr>
                    )),
                  )}
                </tbody>
              </table>
            </details>
          </div>
        )
      })}
    </div>
  )
}
