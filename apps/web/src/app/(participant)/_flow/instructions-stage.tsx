'use client'
// The study's instructions, then "Continue" (recorded on the server; a reload after it goes on to the practice).
import { useState } from 'react'

import { FormError } from '@/components/form-error'

import { asFlowError, type ParticipantBackend } from './backend'
import { failureMessage, withRetry } from './retry'
import { FOCUS_RING, Notice, Prose, StageHeading } from './ui'

export function InstructionsStage({
  backend,
  token,
  instructions,
  onDone,
}: {
  backend: ParticipantBackend
  token: string
  instructions: string
  onDone: () => void
}) {
  const [state, setState] = useState<'idle' | 'sending' | 'retrying'>('idle')
  const [error, setError] = useState<string | null>(null)

  async function next() {
    setError(null)
    setState('sending')
    try {
      await withRetry(() => backend.finishInstructions(token), { onRetry: () => setState('retrying') })
      onDone()
    } catch (e) {
      setError(failureMessage(asFlowError(e), ''))
      setState('idle')
    }
  }

  return (
    <div className="space-y-6">
      <StageHeading>Instructions</StageHeading>
      <Prose text={instructions} testId="instructions" />
      <FormError message={error} />
      {state === 'retrying' ? <Notice>Connection problem — still trying…</Notice> : null}
      <button type="button" className={`btn-primary ${FOCUS_RING}`} onClick={() => void next()} disabled={state !== 'idle'}>
        {state === 'idle' ? 'Continue' : 'Loading…'}
      </button>
    </div>
  )
}
