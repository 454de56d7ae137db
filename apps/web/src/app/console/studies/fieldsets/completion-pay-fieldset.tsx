'use client'
// Completion and pay: a code and redirect per outcome (completed, screened out, timed out), the accepted URL
// parameters, and the pay — base pay per participant, a bonus per verified correct answer and its cap, in one
// currency, typed as money and stored in the smallest unit.
import { Controller } from 'react-hook-form'

import { Field, fieldAria } from '@/components/form-field'
import { CURRENCIES } from '@/server/api/routers/studies.schema'

import { randomCompletionCode } from '../design-defaults'
import { DesignSection, ScaledNumberInput, useDesignForm } from './form-context'
import { UrlParamsEditor } from './url-params-editor'

type CodeName = 'completionCode' | 'screenedOutCode' | 'timedOutCode'
type RedirectName = 'redirectUrl' | 'screenedOutRedirectUrl' | 'timedOutRedirectUrl'

const OUTCOMES: { code: CodeName; redirect: RedirectName; codeLabel: string; redirectLabel: string; when: string; newCodeLabel: string }[] = [
  {
    code: 'completionCode',
    redirect: 'redirectUrl',
    codeLabel: 'Completion code',
    redirectLabel: 'Redirect URL (optional)',
    when: 'Shown at the end, for the participant to paste into the recruiting platform.',
    newCodeLabel: 'Generate',
  },
  {
    code: 'screenedOutCode',
    redirect: 'screenedOutRedirectUrl',
    codeLabel: 'Screened-out code',
    redirectLabel: 'Screened-out redirect URL (optional)',
    when: 'For a participant whose session ended at the second failed attention check. Blank: they are told there is no code.',
    newCodeLabel: 'New code for screened out',
  },
  {
    code: 'timedOutCode',
    redirect: 'timedOutRedirectUrl',
    codeLabel: 'Timed-out code',
    redirectLabel: 'Timed-out redirect URL (optional)',
    when: 'For a participant who ran past the whole-session time limit. Blank: they are told there is no code.',
    newCodeLabel: 'New code for timed out',
  },
]

const MONEY_FIELDS = [
  { name: 'basePayCents', label: 'Base pay per participant', hint: 'What each participant who completes is paid (the power panel’s cost uses it).', blank: undefined },
  { name: 'bonusPerCorrectCents', label: 'Bonus per verified correct answer', hint: 'Only answers the verifier judged correct count.', blank: undefined },
  { name: 'bonusCapCents', label: 'Bonus cap per participant (optional)', hint: 'The most bonus one participant can get. Blank: no cap.', blank: null },
] as const

export function CompletionPayFieldset() {
  const { register, control, setValue, watch, message } = useDesignForm()
  const currency = watch('currency') ?? 'GBP'
  return (
    <DesignSection
      id="completion"
      title="Completion and pay"
      description="Each outcome has its own code, so the recruiting platform tells them apart; the codes must differ."
    >
      <ol className="space-y-4">
        {OUTCOMES.map(({ code, redirect, codeLabel, redirectLabel, when, newCodeLabel }) => (
          <li key={code} className="grid gap-4 sm:grid-cols-2" data-testid={`outcome-${code}`}>
            <Field id={code} label={codeLabel} error={message(code)} hint={when}>
              <div className="flex gap-2">
                <input {...fieldAria(code, message(code), true)} className="input font-mono" autoComplete="off" {...register(code)} />
                <button
                  type="button"
                  className="btn-secondary shrink-0"
                  // the completed outcome's button keeps its one-word name; the others add their outcome to the visible text
                  aria-label={newCodeLabel === 'Generate' ? undefined : newCodeLabel}
                  onClick={() => setValue(code, randomCompletionCode(), { shouldValidate: true, shouldDirty: true })}
                >
                  {newCodeLabel === 'Generate' ? 'Generate' : 'New code'}
                </button>
              </div>
            </Field>
            <Field
              id={redirect}
              label={redirectLabel}
              error={message(redirect)}
              hint={code === 'completionCode' ? 'Where the participant goes at the end, e.g. https://app.prolific.com/submissions/complete?cc=CODE.' : 'Where this participant goes instead.'}
            >
              <input {...fieldAria(redirect, message(redirect), true)} className="input" type="url" inputMode="url" autoComplete="off" {...register(redirect)} />
            </Field>
          </li>
        ))}
      </ol>
      <UrlParamsEditor />
      <div className="grid gap-4 sm:grid-cols-4">
        <Field id="currency" label="Currency" error={message('currency')}>
          <select {...fieldAria('currency', message('currency'))} className="input" {...register('currency')}>
            {CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </Field>
        {MONEY_FIELDS.map(({ name, label, hint, blank }) => (
          <Controller
            key={name}
            control={control}
            name={name}
            render={({ field }) => (
              <Field id={name} label={`${label} (${currency})`} error={message(name)} hint={hint}>
                <ScaledNumberInput
                  {...fieldAria(name, message(name), true)}
                  className="input"
                  autoComplete="off"
                  scale={100}
                  decimals={2}
                  blank={blank}
                  value={field.value}
                  onChange={field.onChange}
                  onBlur={field.onBlur}
                  inputRef={field.ref}
                />
              </Field>
            )}
          />
        ))}
      </div>
    </DesignSection>
  )
}
