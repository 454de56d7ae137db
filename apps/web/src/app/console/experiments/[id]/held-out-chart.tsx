// Held-out solo accuracy of each arm and of the base (report.heldOut): a dot-and-whisker row per arm on one 0–1 scale,
// drawn with plain elements so the table that carries it is the text a screen reader and a copy-paste get.
import { interval, num, type HeldOut } from './report'

const pct = (v: number | null) => `${Math.max(0, Math.min(1, v ?? 0)) * 100}%`

export function HeldOutChart({ rows }: { rows: HeldOut[] }) {
  return (
    <div className="card overflow-x-auto p-0" tabIndex={0} role="region" aria-label="Held-out accuracy against the base">
      <table className="w-full text-sm" data-testid="held-out-table">
        <caption className="px-3 py-2 text-left text-sm text-slate-600">
          Held-out solo accuracy (mean@k over problems and seeds) with 95% intervals; the difference to the base is paired per problem.
        </caption>
        <thead className="bg-slate-50 text-left text-slate-600">
          <tr>
            <th scope="col" className="px-3 py-2">Arm</th>
            <th scope="col" className="px-3 py-2">Accuracy</th>
            <th scope="col" className="px-3 py-2">95% interval</th>
            <th scope="col" className="w-1/3 px-3 py-2">On 0 – 1</th>
            <th scope="col" className="px-3 py-2">Minus base</th>
            <th scope="col" className="px-3 py-2">n</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.arm}-${r.metric}`} className="border-t border-slate-100">
              <th scope="row" className="px-3 py-2 text-left font-medium">{r.arm}</th>
              <td className="px-3 py-2 tabular-nums">{num(r.value)}</td>
              <td className="px-3 py-2 tabular-nums">{interval(r.low, r.high)}</td>
              <td className="px-3 py-2">
                <div className="relative h-4 rounded bg-slate-100" aria-hidden="true">
                  {r.low != null && r.high != null ? (
                    <div className="absolute top-1.5 h-1 rounded bg-indigo-300" style={{ left: pct(r.low), width: `calc(${pct(r.high)} - ${pct(r.low)})` }} />
                  ) : null}
                  {r.value != null ? <div className="absolute top-0.5 h-3 w-1 -translate-x-1/2 rounded bg-indigo-700" style={{ left: pct(r.value) }} /> : null}
                </div>
              </td>
              <td className="px-3 py-2 tabular-nums">
                {r.minusBase ? `${num(r.minusBase.value, { signed: true })} ${interval(r.minusBase.low, r.minusBase.high, true)} · ${r.minusBase.verdict}` : '—'}
              </td>
              <td className="px-3 py-2 tabular-nums">{r.n}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
