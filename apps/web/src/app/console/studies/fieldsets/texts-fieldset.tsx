'use client'
// Texts: the consent text and the instructions participants read.
import { Field, fieldAria } from '@/components/form-field'

import { DesignSection, useDesignForm } from './form-context'

export function TextsFieldset() {
  const { register, message } = useDesignForm()
  return (
    <DesignSection id="texts" title="Texts">
      <Field id="consentText" label="Consent text" error={message('consentText')} hint="Shown first; the participant agrees or declines.">
        <textarea {...fieldAria('consentText', message('consentText'), true)} className="input min-h-32" {...register('consentText')} />
      </Field>
      <Field id="instructions" label="Instructions" error={message('instructions')} hint="Shown after consent, before the practice task.">
        <textarea {...fieldAria('instructions', message('instructions'), true)} className="input min-h-32" {...register('instructions')} />
      </Field>
    </DesignSection>
  )
}
