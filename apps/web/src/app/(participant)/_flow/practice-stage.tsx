'use client'
// The practice task: the same screen as a real task (problem, the AI's reasoning, continuation, final answer with
// its preview), without ratings or a clock; then the expected answer, and the study starts.
import { zodResolver } from '@hookform/resolvers/zod'
import { useState } from 'react'
import { useForm, useWatch } from 'react-hook-form'
import type { z } from 'zod'

import { FormError } from '@/components/form-error'
import { showServerErrors } from '@/components/form-field'
import { MathText } from '@/components/math-text'
import { practiceSchema } from '@/server/api/routers/participant.schema'

import { asFlowError, type ParticipantBackend } from './backend'
import { ContinuationFields } from './continuation-fields'
import { HandoffTask } from './handoff-task'
import { failureMessage, withRetry } from './retry'
import { FOCUS_RING, Notice, StageHeading } from './ui'

const practiceAnswerSchema = practiceSchema.omit({ token: true })
type PracticeInput = z.input<typeof practiceAnswerSchema>
type PracticeOutput = z.output<typeof practiceAnswerSchema>

/** A rough check only: the same text, ignoring spaces, case and surrounding $…$. */
export function roughlySame(given: string, expected: string): boolean {
  const norm = (s: string) => s.replace(/\s+/g, '').replace(/^\$+|\$+$/g, '').toLowerCase()
  return norm(given) !== '' && norm(given) === norm(expected)
}

export function PracticeStage({
  backend,
  token,
  practice,
  onDone,
}: {
  backend: ParticipantBackend
  token: string
  practice: { problem: string; reasoning: string }
  onDone: () => void
}) {
  const form = useForm<PracticeInput, unknown, PracticeOutput>({
    resolver: zodResolver(practiceAnswerSchema),
    defaultValues: { continuation: '', answer: '' },
  })
  const { register, control, handleSubmit, formState, setError } = form
  const answerValue = useWatch({ control, name: 'answer' }) ?? ''
  const [state, setState] = useState<'idle' | 'sending' | 'retrying'>('idle')
  const [formError, setFormError] = useState<string | null>(null)
  const [result, setResult] = useState<{ expected: string; given: string } | null>(null)

  async function submit(values: PracticeOutput) {
    setFormError(null)
    setState('sending')
    try {
      const { expectedAnswer } = await withRetry(() => backend.submitPractice({ token, ...values }), { onRetry: () => setState('retrying') })
      setResult({ expected: expectedAnswer, given: values.answer })
    } catch (e) {
      const error = asFlowError(e)
      setFormError(
        error.fieldErrors
          ? showServerErrors({ message: error.message, data: { fieldErrors: error.fieldErrors } }, setError)
          : failureMessage(error, 'Your answer is still here.'),
      )
    } finally {
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
          readOnly={result !== null}
        />
        <FormError message={formError} />
        {state === 'retrying' ? <Notice>Connection problem — still trying to send your answer…</Notice> : null}
        {result ? null : (
          <button type="submit" className={`btn-primary ${FOCUS_RING}`} disabled={state !== 'idle'}>
            {state === 'idle' ? 'Check my answer' : 'Sending…'}
          </button>
        )}
      </form>
      {result ? <PracticeResult {...result} onDone={onDone} /> : null}
    </div>
  )
}

function PracticeResult({ expected, given, onDone }: { expected: string; given: string; onDone: () => void }) {
  const same = roughlySame(given, expected)
  return (
    <section aria-labelledby="practice-result-heading" className="card space-y-3" data-testid="practice-result">
      <h2 id="practice-result-heading" className="text-lg font-semibold">
        How did it go?
      </h2>
      <p role="status">
        The expected answer was <MathText text={expected} className="font-mono font-semibold" />.
      </p>
      <p className="text-sm text-slate-700" data-testid="practice-match">
        {same ? 'Your answer matches it' : 'Your answer is written differently'} (a rough check: only the text is compared, so an
        equivalent answer written another way shows as different).
      </p>
      <button type="button" className={`btn-primary ${FOCUS_RING}`} onClick={onDone} autoFocus>
        Start the study
      </button>
    </section>
  )
}
