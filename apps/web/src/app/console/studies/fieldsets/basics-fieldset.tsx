'use client'
// Basics: the study's name (for researchers only).
import { Field, fieldAria } from '@/components/form-field'

import { DesignSection, useDesignForm } from './form-context'

export function BasicsFieldset() {
  const { register, message } = useDesignForm()
  return (
    <DesignSection id="basics" title="Basics">
      <Field id="name" label="Study name" error={message('name')} hint="For you and your colleagues; participants do not see it.">
        <input {...fieldAria('name', message('name'), true)} className="input" autoComplete="off" {...register('name')} />
      </Field>
    </DesignSection>
  )
}
