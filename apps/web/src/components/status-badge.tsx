// A status as people say it ("Cancelling", not CANCEL_REQUESTED), coloured by its kind. The stored value stays on
// data-status for tests and scripts.
const STYLES: Record<string, string> = {
  QUEUED: 'bg-slate-100 text-slate-700 ring-slate-300',
  RUNNING: 'bg-blue-50 text-blue-700 ring-blue-300',
  SUCCEEDED: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  FAILED: 'bg-red-50 text-red-700 ring-red-300',
  CANCEL_REQUESTED: 'bg-amber-50 text-amber-700 ring-amber-300',
  CANCELLED: 'bg-amber-50 text-amber-800 ring-amber-300',
  // base models, dataset uploads, accounts
  PENDING: 'bg-slate-100 text-slate-700 ring-slate-300',
  VALID: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  INVALID: 'bg-red-50 text-red-700 ring-red-300',
  IMPORTED: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  ACTIVE: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  INVITED: 'bg-blue-50 text-blue-700 ring-blue-300',
  'INVITE EXPIRED': 'bg-amber-50 text-amber-800 ring-amber-300',
  DISABLED: 'bg-red-50 text-red-700 ring-red-300',
  // studies and their exports
  DRAFT: 'bg-slate-100 text-slate-700 ring-slate-300',
  GENERATING: 'bg-blue-50 text-blue-700 ring-blue-300',
  OPEN: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  PAUSED: 'bg-amber-50 text-amber-800 ring-amber-300',
  CLOSED: 'bg-slate-200 text-slate-800 ring-slate-400',
  READY: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
}

// where the word is not the stored value in sentence case
const WORDS: Record<string, string> = {
  CANCEL_REQUESTED: 'Cancelling',
}

/** A stored status in words: CANCEL_REQUESTED → "Cancelling", SUCCEEDED → "Succeeded", INVITE EXPIRED → "Invite expired". */
export function statusText(status: string): string {
  const key = status.toUpperCase()
  if (WORDS[key]) return WORDS[key]
  const words = key.replace(/_/g, ' ').trim().toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  const key = status.toUpperCase()
  return (
    <span
      data-testid={testId}
      data-status={key}
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${STYLES[key] ?? STYLES.QUEUED}`}
    >
      {statusText(status)}
    </span>
  )
}
