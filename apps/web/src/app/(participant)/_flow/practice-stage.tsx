'use client'
// The practice task: the same screen as a real task (problem, the AI's reasoning, continuation, final answer),
// without ratings or a clock. Once sent, the server keeps the answer and the session view carries its result until
// the first task starts, so the result ("Not correct — the answer was 24") is still there after a reload; the task
// stage shows it (PracticeReview) before the first task's clock starts.
import { zodResolver } from '@hookform/resolvers/zod'
import { useState } from 'react'
import { useForm, useWatch } from 'react-hook-form'
import type { z } from 'zod'

import { FormError } from '@/components/form-error'
import { showServerErrors } from '@/components/form-field'
import { MathText } from '@/components/math-text'
import { practiceSchema } from '@/server/api/routers/participant.schema'
import type { PracticeVerdict } from '@/server/studies/practice-check'

import { asFlowError, type ParticipantBackend, type SessionView } from './backend'
import { ContinuationFields } from './continuation-fields'
import { HandoffTask } from './handoff-task'
import { failureMessage, withRetry } from './retry'
import { FOCUS_RING, Notice, StageHeading } from './ui'

const practiceAnswerSchema = practiceSchema.omit({ token: true })
type PracticeInput = z.input<typeof practiceAnswerSchema>
type PracticeOutput = z.output<typeof practiceAnswerSchema>

/** The practice with the participant's result (the session view's, between the practice and the first task). */
export type ReviewedPractice = NonNullable<SessionView['practice']> & { result: NonNullable<NonNullable<SessionView['practice']>['result']> }

export function PracticeStage({
  backend,
  token,
  practice,
  onDone,
}: {
  backend: ParticipantBackend
  token: string
  practice: { problem: string; reasoning: string }
  /** sent: the next view shows the result */
  onDone: () => void
}) {
  const form = useForm<PracticeInput, unknown, PracticeOutput>({
    resolver: zodResolver(practiceAnswerSchema),
    defaultValues: { continuation: '', answer: '' },
  })
  const { register, control, handleSubmit, formState, setError } = form
  const answerValue = useWatch({ control, name: 'answer' }) ?? ''
  const [state, setState] = useState<'idle' | 'sending' | 'retrying' | 'sent'>('idle')
  const [formError, setFormError] = useState<string | null>(null)

  async function submit(values: PracticeOutput) {
    setFormError(null)
    setState('sending')
    try {
      await withRetry(() => backend.submitPractice({ token, ...values }), { onRetry: () => setState('retrying') })
      setState('sent')
      onDone()
    } catch (e) {
      const error = asFlowError(e)
      setFormError(
        error.fieldErrors
          ? showServerErrors({ message: error.message, data: { fieldErrors: error.fieldErrors } }, setError)
          : failureMessage(error, 'Your answer is still here.'),
      )
      setState('idle')
    }
  }

  return (
    <div className="space-y-6">
      <div className="space-y-2">
        <StageHeading>Practice</StageHeading>
        <p className="leading-relaxed text-slate-700">
          A worked example before the study. An AI started solving the problem below and stopped part-way. Continue its
          reasoning in your own words and give a final answer. This practice is not scored.
        </p>
      </div>
      <HandoffTask problem={practice.problem} reasoning={practice.reasoning} />
      <form noValidate className="space-y-6" onSubmit={handleSubmit(submit)}>
        <ContinuationFields
          idPrefix="practice"
          continuation={register('continuation')}
          answer={register('answer')}
          answerValue={answerValue}
          errors={{ continuation: formState.errors.continuation?.message, answer: formState.errors.answer?.message }}
          readOnly={state !== 'idle'}
        />
        <FormError message={formError} />
        {state === 'retrying' ? <Notice>Connection problem — still trying to send your answer…</Notice> : null}
        <button type="submit" className={`btn-primary ${FOCUS_RING}`} disabled={state !== 'idle'}>
          {state === 'idle' ? 'Check my answer' : 'Checking…'}
        </button>
      </form>
    </div>
  )
}

/** What the participant is told about their practice answer. */
export function verdictText(verdict: PracticeVerdict): { lead: string; after: string } {
  switch (verdict) {
    case 'correct':
      return { lead: 'Correct — the answer was', after: '.' }
    case 'incorrect':
      return { lead: 'Not correct — the answer was', after: '.' }
    case 'different':
      return { lead: 'The answer was', after: '. Yours could not be checked as written: in the study, give just the result, e.g. 42 or 1/2.' }
  }
}

/** The practice's result, then the practice as the participant did it; "Start the study" starts the first task. */
export function PracticeReview({ practice, onStart }: { practice: ReviewedPractice; onStart: () => void }) {
  const { result } = practice
  const { lead, after } = verdictText(result.verdict)
  return (
    <div className="space-y-6">
      <StageHeading>Practice</StageHeading>
      <section aria-labelledby="practice-result-heading" className="card space-y-3" data-testid="practice-result" data-verdict={result.verdict}>
        <h2 id="practice-result-heading" className="text-lg font-semibold">
          How did it go?
        </h2>
        <p data-testid="practice-verdict">
          {lead} <MathText text={result.expected} className="font-semibold" />
          {after}
        </p>
        <p className="text-sm text-slate-700">In the study itself you will not be told whether your answers are correct.</p>
        <button type="button" className={`btn-primary ${FOCUS_RING}`} onClick={onStart}>
          Start the study
        </button>
      </section>
      <section aria-labelledby="practice-yours-heading" className="space-y-4">
        <h2 id="practice-yours-heading" className="text-lg font-semibold">
          Your practice
        </h2>
        <HandoffTask problem={practice.problem} reasoning={practice.reasoning} />
        <dl className="space-y-3">
          <div>
            <dt className="font-medium">Your continuation</dt>
            <dd className="mt-1 leading-relaxed whitespace-pre-wrap text-slate-800" data-testid="practice-given-continuation">
              {result.continuation.trim() || '(none)'}
            </dd>
          </div>
          <div>
            <dt className="font-medium">Your answer</dt>
            <dd className="mt-1 text-slate-800" data-testid="practice-given-answer">
              <MathText text={result.answer} />
            </dd>
          </div>
        </dl>
      </section>
    </div>
  )
}
