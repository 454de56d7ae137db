'use client'
// Texts: the consent text and the instructions participants read. The consent's bracketed placeholders ([DURATION],
// [PAYMENT], …) are listed until each is replaced: launch refuses while any is left.
import { useWatch } from 'react-hook-form'

import { Field, fieldAria } from '@/components/form-field'
import { unfilledPlaceholders } from '@/server/studies/text-placeholders'

import { DesignSection, useDesignForm } from './form-context'

export function TextsFieldset() {
  const { register, message, control } = useDesignForm()
  const consentText = useWatch({ control, name: 'consentText' }) ?? ''
  return (
    <DesignSection id="texts" title="Texts">
      <Field id="consentText" label="Consent text" error={message('consentText')} hint={<ConsentHint placeholders={unfilledPlaceholders(consentText)} />}>
        <textarea {...fieldAria('consentText', message('consentText'), true)} className="input min-h-48" {...register('consentText')} />
      </Field>
      <Field
        id="instructions"
        label="Instructions"
        error={message('instructions')}
        hint="Shown after consent, before the practice task. The page adds how many tasks there are and each task’s time limit, from the settings."
      >
        <textarea {...fieldAria('instructions', message('instructions'), true)} className="input min-h-32" {...register('instructions')} />
      </Field>
    </DesignSection>
  )
}

export function ConsentHint({ placeholders }: { placeholders: string[] }) {
  return (
    <>
      Shown first; the participant agrees or declines.{' '}
      {placeholders.length > 0 ? (
        <span className="font-medium text-amber-900" data-testid="consent-placeholders">
          Fill in before launch: {placeholders.join(', ')}.
        </span>
      ) : null}
    </>
  )
}
