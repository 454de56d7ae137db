'use client'
// The participant's part of a task: the reasoning's continuation and a final answer. Shared by the practice task and
// the real tasks. Answers are plain numbers or fractions (42, 1/2, 0.5: the verifier compares values); a participant
// who types TeX sees it typeset below the field — KaTeX's output (trust off), never the participant's own HTML.
import type { UseFormRegisterReturn } from 'react-hook-form'

import { Field, fieldAria } from '@/components/form-field'
import { renderMath } from '@/components/math-text'
import { MAX_ANSWER, MAX_CONTINUATION } from '@/server/api/routers/participant.schema'

import { FOCUS_RING } from './ui'

/** KaTeX's HTML for the answer, or null when it cannot be typeset (KaTeX then reports a katex-error span). */
export function answerPreviewHtml(tex: string): string | null {
  const html = renderMath(tex, false)
  return html === null || html.startsWith('<span class="katex-error"') ? null : html
}

/** Whether an answer is written in TeX (a command, $, ^, _ or braces), so that a typeset preview helps. */
export function looksLikeTex(answer: string): boolean {
  return /[\\$^_{}]/.test(answer)
}

/** The typeset answer, shown only while the answer is TeX: a plain 42 or 1/2 needs no preview. */
export function AnswerPreview({ id, tex }: { id: string; tex: string }) {
  const shown = looksLikeTex(tex)
  const html = shown ? answerPreviewHtml(tex) : null
  return (
    // the live region stays in the page (empty for plain answers), so a preview that appears is announced
    <div id={id} aria-live="polite" data-testid="answer-preview" data-shown={shown}>
      {shown ? (
        <div className="mt-2 flex min-h-10 flex-wrap items-center gap-2 rounded-md bg-slate-100 px-3 py-2 text-sm">
          <span className="text-slate-600">Shown as:</span>
          {html === null ? (
            <span className="text-slate-600">(cannot be shown yet)</span>
          ) : (
            // KaTeX output with trust off: the only HTML made from the answer. Inline math wraps at operators; an
            // unbreakable remainder is clipped rather than widening the page (the answer itself is in the field above)
            <span data-math="" className="max-w-full min-w-0 overflow-hidden text-base" dangerouslySetInnerHTML={{ __html: html }} />
          )}
        </div>
      ) : null}
    </div>
  )
}

export function ContinuationFields({
  idPrefix,
  continuation,
  answer,
  answerValue,
  errors,
  readOnly,
  live,
}: {
  idPrefix: string
  continuation: UseFormRegisterReturn
  answer: UseFormRegisterReturn
  /** the answer as typed, for the preview */
  answerValue: string
  errors: { continuation?: string; answer?: string }
  /** while the answer is being sent or after the time ran out (readOnly, so the form keeps the values) */
  readOnly?: boolean
  /** a live task: the field is the participant's writing while they have control, hidden while the AI writes */
  live?: { writing: boolean }
}) {
  const continuationId = `${idPrefix}-continuation`
  const answerId = `${idPrefix}-answer`
  return (
    <div className="space-y-4">
      <div hidden={live ? !live.writing : false}>
      <Field
        id={continuationId}
        label={live ? 'Your writing' : 'Continue the reasoning'}
        error={errors.continuation}
        hint={
          live
            ? 'You have control: continue the shared reasoning. Hand it back to the AI when you like, or finish it yourself.'
            : 'Pick up where the AI stopped and write the rest of the solution in your own words.'
        }
      >
        <textarea
          {...fieldAria(continuationId, errors.continuation, true)}
          {...continuation}
          className={`input min-h-48 w-full leading-relaxed ${FOCUS_RING}`}
          rows={10}
          maxLength={MAX_CONTINUATION}
          spellCheck={false}
          readOnly={readOnly}
        />
      </Field>
      </div>
      <Field id={answerId} label="Final answer" error={errors.answer} hint="Just the result, e.g. 42, 1/2 or 0.5.">
        <input
          {...fieldAria(answerId, errors.answer, true)}
          {...answer}
          className={`input w-full ${FOCUS_RING}`}
          type="text"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          maxLength={MAX_ANSWER}
          readOnly={readOnly}
          // Enter here would send the task before the ratings below are seen; the Submit button sends it
          onKeyDown={(e) => {
            if (e.key === 'Enter') e.preventDefault()
          }}
        />
      </Field>
      <AnswerPreview id={`${answerId}-preview`} tex={answerValue} />
    </div>
  )
}
