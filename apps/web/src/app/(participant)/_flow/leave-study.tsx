'use client'
// "Leave the study": the participant may stop at any point of a running session. A confirm step first (a stray click
// must not end anyone's session); then the server records the session as returned and the page shows its end.
import { useState } from 'react'

import { FormError } from '@/components/form-error'

import { asFlowError, type ParticipantBackend } from './backend'
import { failureMessage, withRetry } from './retry'
import { FOCUS_RING } from './ui'

export function LeaveStudy({ backend, token, onLeft }: { backend: ParticipantBackend; token: string; onLeft: () => void }) {
  const [state, setState] = useState<'closed' | 'confirming' | 'sending'>('closed')
  const [error, setError] = useState<string | null>(null)

  async function leave() {
    setError(null)
    setState('sending')
    try {
      // leaving twice changes nothing on the server, so a retry after a lost reply is safe
      await withRetry(() => backend.leave(token))
      onLeft()
    } catch (e) {
      setError(failureMessage(asFlowError(e), 'You are still in the study.'))
      setState('confirming')
    }
  }

  if (state === 'closed') {
    return (
      <div className="border-t border-slate-200 pt-4">
        <button type="button" className={`text-sm text-slate-600 underline hover:text-slate-900 ${FOCUS_RING}`} onClick={() => setState('confirming')}>
          Leave the study
        </button>
      </div>
    )
  }
  return (
    <section aria-labelledby="leave-heading" className="card space-y-3 border-amber-300" data-testid="leave-confirm">
      <h2 id="leave-heading" className="text-lg font-semibold">
        Leave the study?
      </h2>
      <p className="text-sm leading-relaxed text-slate-700">
        Your answers so far are kept, but you cannot come back to this session, and leaving gives no completion code. If you came from
        Prolific, return your submission there afterwards.
      </p>
      <FormError message={error} />
      <div className="flex flex-wrap gap-3">
        <button type="button" className={`btn-primary ${FOCUS_RING}`} disabled={state === 'sending'} onClick={() => void leave()}>
          {state === 'sending' ? 'Leaving…' : 'Yes, leave the study'}
        </button>
        <button type="button" className={`btn-secondary ${FOCUS_RING}`} disabled={state === 'sending'} onClick={() => setState('closed')}>
          Stay
        </button>
      </div>
    </section>
  )
}
