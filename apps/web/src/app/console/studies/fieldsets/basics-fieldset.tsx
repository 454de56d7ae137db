'use client'
// Basics: the study's name (for researchers only) and the title participants see instead of it.
import { Field, fieldAria } from '@/components/form-field'
import { DEFAULT_PUBLIC_TITLE } from '@/server/api/routers/studies.schema'

import { DesignSection, useDesignForm } from './form-context'

export function BasicsFieldset() {
  const { register, message } = useDesignForm()
  return (
    <DesignSection id="basics" title="Basics">
      <Field id="name" label="Study name" error={message('name')} hint="For you and your colleagues; participants never see it (it may name the hypothesis).">
        <input {...fieldAria('name', message('name'), true)} className="input" autoComplete="off" {...register('name')} />
      </Field>
      <Field
        id="publicTitle"
        label="Title shown to participants"
        error={message('publicTitle')}
        hint={`The only title participants see: the consent page's heading, the browser tab and every page of the session. Blank: “${DEFAULT_PUBLIC_TITLE}”. Keep the hypothesis out of it.`}
      >
        <input
          {...fieldAria('publicTitle', message('publicTitle'), true)}
          className="input"
          autoComplete="off"
          placeholder={DEFAULT_PUBLIC_TITLE}
          {...register('publicTitle')}
        />
      </Field>
    </DesignSection>
  )
}
