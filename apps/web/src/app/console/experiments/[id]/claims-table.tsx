// The claims table: each of the paper's claims as the paired multi-seed estimate, its 95% interval, the verdict, the
// sentence on how it was computed, and any warnings (e.g. fewer than 3 seeds).
import { interval, num, type Claim, type Verdict } from './report'

const VERDICT_STYLE: Record<Verdict, string> = {
  supported: 'bg-emerald-50 text-emerald-800 ring-emerald-300',
  refuted: 'bg-red-50 text-red-800 ring-red-300',
  inconclusive: 'bg-amber-50 text-amber-900 ring-amber-300',
  'not measured': 'bg-slate-100 text-slate-700 ring-slate-300',
}

export function ClaimsTable({ claims, margin }: { claims: Claim[]; margin: number }) {
  return (
    <div className="card overflow-x-auto p-0" tabIndex={0} role="region" aria-label="The paper’s claims">
      <table className="w-full text-sm" data-testid="claims-table">
        <caption className="px-3 py-2 text-left text-sm text-slate-600">
          Paired per problem across seeds; 95% intervals; “keeps its accuracy” is an equivalence test with margin ±{num(margin)}.
        </caption>
        <thead className="bg-slate-50 text-left text-slate-600">
          <tr>
            <th scope="col" className="px-3 py-2">Claim</th>
            <th scope="col" className="px-3 py-2">Arm vs</th>
            <th scope="col" className="px-3 py-2">Estimate</th>
            <th scope="col" className="px-3 py-2">95% interval</th>
            <th scope="col" className="px-3 py-2">Verdict</th>
            <th scope="col" className="px-3 py-2">How</th>
          </tr>
        </thead>
        <tbody>
          {claims.map((c) => (
            <tr key={`${c.id}-${c.arm}-${c.versus}`} className="border-t border-slate-100 align-top" data-testid={`claim-${c.id}`}>
              <th scope="row" className="px-3 py-2 text-left font-medium">{c.title}</th>
              <td className="px-3 py-2">{c.arm} vs {c.versus}</td>
              <td className="px-3 py-2 tabular-nums">{num(c.estimate, { signed: true })}{c.estimate != null && c.unit ? ` ${c.unit}` : ''}</td>
              <td className="px-3 py-2 tabular-nums">{interval(c.low, c.high, true)}</td>
              <td className="px-3 py-2">
                <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${VERDICT_STYLE[c.verdict] ?? VERDICT_STYLE['not measured']}`}
                  data-testid="claim-verdict">
                  {c.verdict}
                </span>
              </td>
              <td className="px-3 py-2 text-slate-700">
                {c.how}
                {c.warnings.length ? (
                  <ul className="mt-1 list-disc pl-4 text-amber-900">
                    {c.warnings.map((w) => (
                      <li key={w}>{w}</li>
                    ))}
                  </ul>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
