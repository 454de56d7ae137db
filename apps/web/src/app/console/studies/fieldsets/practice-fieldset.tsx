'use client'
// The practice task: a worked example before the real tasks (not scored). Participants are told whether their answer
// is right ("Not correct — the answer was 24"), compared by value like the real tasks' verifier.
import { Field, fieldAria } from '@/components/form-field'

import { DesignSection, useDesignForm } from './form-context'

export function PracticeFieldset() {
  const { register, message } = useDesignForm()
  return (
    <DesignSection
      id="practice"
      title="Practice task"
      description="A worked example before the real tasks; it is not scored. Participants then see whether their answer was right, and the expected answer."
    >
      <Field id="practice-problem" label="Practice problem" error={message('practice.problem')}>
        <textarea {...fieldAria('practice-problem', message('practice.problem'))} className="input min-h-20" {...register('practice.problem')} />
      </Field>
      <Field
        id="practice-reasoning"
        label="Worked reasoning"
        error={message('practice.reasoning')}
        hint="The senior’s part of the practice task, one step per line. Stop before the end, so participants have a step to continue."
      >
        <textarea {...fieldAria('practice-reasoning', message('practice.reasoning'), true)} className="input min-h-24" {...register('practice.reasoning')} />
      </Field>
      <Field
        id="practice-answer"
        label="Practice answer"
        error={message('practice.answer')}
        className="max-w-xs"
        hint="A number or fraction (24, 1/2) is compared by value."
      >
        <input {...fieldAria('practice-answer', message('practice.answer'), true)} className="input" autoComplete="off" {...register('practice.answer')} />
      </Field>
    </DesignSection>
  )
}
