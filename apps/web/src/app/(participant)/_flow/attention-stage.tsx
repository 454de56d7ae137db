'use client'
// An attention check between tasks: one question, its options as a radio group, "Continue".
import { zodResolver } from '@hookform/resolvers/zod'
import { useState } from 'react'
import { useForm } from 'react-hook-form'
import { z } from 'zod'

import { FormError } from '@/components/form-error'
import { attentionSchema } from '@/server/api/routers/participant.schema'

import { asFlowError, type AttentionView, type ParticipantBackend } from './backend'
import { failureMessage, withRetry } from './retry'
import { FOCUS_RING, Notice, StageHeading } from './ui'

const answerSchema = attentionSchema.pick({ answer: true })
type AnswerForm = z.infer<typeof answerSchema>

export function AttentionStage({
  backend,
  token,
  attention,
  onDone,
  onStale,
}: {
  backend: ParticipantBackend
  token: string
  attention: AttentionView
  onDone: () => void
  onStale: () => void
}) {
  const form = useForm<AnswerForm>({ resolver: zodResolver(answerSchema), defaultValues: { answer: '' } })
  const { register, handleSubmit, formState } = form
  const [state, setState] = useState<'idle' | 'sending' | 'retrying'>('idle')
  const [formError, setFormError] = useState<string | null>(null)
  const error = formState.errors.answer?.message
  const describedBy = error ? 'attention-error' : undefined

  async function submit({ answer }: AnswerForm) {
    setFormError(null)
    setState('sending')
    try {
      // a repeated answer changes nothing on the server, so a retry after a lost reply is safe
      await withRetry(() => backend.answerAttention({ token, checkId: attention.checkId, answer }), { onRetry: () => setState('retrying') })
      onDone()
    } catch (e) {
      const err = asFlowError(e)
      setFormError(failureMessage(err, 'Your choice is still here.'))
      setState('idle')
      if (err.code === 'PRECONDITION_FAILED' || err.code === 'UNAUTHORIZED') onStale()
    }
  }

  return (
    <div className="space-y-6">
      <StageHeading>A quick question</StageHeading>
      <form noValidate className="space-y-4" onSubmit={handleSubmit(submit)}>
        <fieldset aria-describedby={describedBy}>
          <legend className="mb-3 leading-relaxed font-medium text-slate-900">{attention.prompt}</legend>
          <div className="space-y-2">
            {attention.options.map((option, i) => (
              <label
                key={option}
                className={`flex cursor-pointer items-start gap-3 rounded-md border px-3 py-2 has-checked:border-indigo-600 has-checked:bg-indigo-50 ${
                  error ? 'border-red-500' : 'border-slate-300'
                }`}
              >
                <input
                  type="radio"
                  value={option}
                  {...register('answer')}
                  id={`attention-option-${i}`}
                  aria-describedby={describedBy}
                  className={`mt-1 h-4 w-4 accent-indigo-600 ${FOCUS_RING}`}
                />
                <span className="break-words">{option}</span>
              </label>
            ))}
          </div>
          {error ? (
            <p id="attention-error" className="field-error" data-testid="attention-error">
              {error}
            </p>
          ) : null}
        </fieldset>
        <FormError message={formError} />
        {state === 'retrying' ? <Notice>Connection problem — still trying to send your answer…</Notice> : null}
        <button type="submit" className={`btn-primary ${FOCUS_RING}`} disabled={state !== 'idle'}>
          {state === 'idle' ? 'Continue' : 'Sending…'}
        </button>
      </form>
    </div>
  )
}
