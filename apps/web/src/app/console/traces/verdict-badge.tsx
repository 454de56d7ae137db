// The verifier's verdict as a badge: colour and the word (so it does not rely on colour alone).
const VERDICT_STYLE: Record<string, string> = {
  CORRECT: 'bg-emerald-50 text-emerald-800 ring-emerald-300',
  INCORRECT: 'bg-red-50 text-red-800 ring-red-300',
  UNPARSEABLE: 'bg-amber-50 text-amber-900 ring-amber-300',
}

export function VerdictBadge({ verdict, testId }: { verdict: string | null; testId?: string }) {
  if (!verdict) return <span className="text-slate-600">—</span>
  return (
    <span data-testid={testId} className={`inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${VERDICT_STYLE[verdict] ?? ''}`}>
      {verdict.toLowerCase()}
    </span>
  )
}
