'use client'
// The study's instructions, then "Continue" (recorded on the server; a reload after it goes on to the practice).
// Above the researcher's text, a line from the study's settings says how many tasks there are and how long they take.
import { useState } from 'react'

import { FormError } from '@/components/form-error'

import { asFlowError, type ParticipantBackend } from './backend'
import { failureMessage, withRetry } from './retry'
import { FOCUS_RING, Notice, Prose, StageHeading } from './ui'

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

/** "5 minutes", "1 minute 30 seconds", "45 seconds". */
export function durationText(seconds: number): string {
  const minutes = Math.floor(seconds / 60)
  const rest = seconds % 60
  if (minutes === 0) return plural(rest, 'second', 'seconds')
  return rest === 0 ? plural(minutes, 'minute', 'minutes') : `${plural(minutes, 'minute', 'minutes')} ${plural(rest, 'second', 'seconds')}`
}

/** How many tasks, each one's limit and the longest the tasks take together, from the study's settings. */
export function studyLengthText({ tasks, timeLimitSeconds }: { tasks: number; timeLimitSeconds: number }): string {
  const each = `${tasks === 1 ? 'It has' : 'Each has'} a time limit of ${durationText(timeLimitSeconds)}`
  const total = tasks > 1 ? `, so the tasks take at most ${plural(Math.ceil((tasks * timeLimitSeconds) / 60), 'minute', 'minutes')} in all` : ''
  return `After a short practice there ${tasks === 1 ? 'is 1 task' : `are ${tasks} tasks`}. ${each}${total}.`
}

export function InstructionsStage({
  backend,
  token,
  instructions,
  length,
  onDone,
}: {
  backend: ParticipantBackend
  token: string
  instructions: string
  /** the session's number of tasks and each task's limit (the session view's progress.total, study.timeLimitSeconds) */
  length?: { tasks: number; timeLimitSeconds: number }
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
      {length && length.tasks > 0 ? (
        <p className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 leading-relaxed text-slate-800" data-testid="study-length">
          {studyLengthText(length)}
        </p>
      ) : null}
      <Prose text={instructions} testId="instructions" />
      <FormError message={error} />
      {state === 'retrying' ? <Notice>Connection problem — still trying…</Notice> : null}
      <button type="button" className={`btn-primary ${FOCUS_RING}`} onClick={() => void next()} disabled={state !== 'idle'}>
        {state === 'idle' ? 'Continue' : 'Loading…'}
      </button>
    </div>
  )
}
