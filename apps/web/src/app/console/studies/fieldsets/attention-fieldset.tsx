'use client'
// Attention checks: a question with one right option, shown after a given task.
import { Controller, useFieldArray } from 'react-hook-form'

import { Field, fieldAria } from '@/components/form-field'
import { MAX_ATTENTION_CHECKS } from '@/server/api/routers/studies.schema'

import { DesignSection, LinesTextarea, blankToUndefined, firstItemError, useDesignForm } from './form-context'

export function AttentionFieldset() {
  const { register, control, watch, errors, message } = useDesignForm()
  const checks = useFieldArray({ control, name: 'attentionChecks' })
  const tasks = watch('tasksPerParticipant')
  const knownTasks = typeof tasks === 'number' && Number.isFinite(tasks)
  return (
    <DesignSection
      id="attention"
      title="Attention checks"
      description={
        <>
          A question with one right option, shown after a given task ({checks.fields.length} of at most {MAX_ATTENTION_CHECKS}). A wrong answer
          excludes the participant from the analysis (their data are kept); a second wrong answer ends the session as screened out (Prolific
          accepts a rejection only after two failed checks).
        </>
      }
    >
      {checks.fields.length === 0 ? <p className="text-sm text-slate-600">No attention checks.</p> : null}
      <ol className="space-y-4">
        {checks.fields.map((row, i) => {
          const prefix = `attentionChecks-${i}`
          const afterError = message(`attentionChecks.${i}.afterTask`)
          const promptError = message(`attentionChecks.${i}.prompt`)
          const optionsError = message(`attentionChecks.${i}.options`) ?? firstItemError(errors, `attentionChecks.${i}.options`)
          const correctError = message(`attentionChecks.${i}.correct`)
          const idError = message(`attentionChecks.${i}.id`)
          return (
            <li key={row.id} className="space-y-3 rounded-md border border-slate-200 p-3" data-testid="attention-check-row">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h3 className="text-sm font-semibold">Attention check {i + 1}</h3>
                <button type="button" className="btn-secondary" onClick={() => checks.remove(i)} aria-label={`Remove attention check ${i + 1}`}>
                  Remove
                </button>
              </div>
              {idError ? (
                <p className="field-error" data-form-error tabIndex={-1}>
                  {idError}
                </p>
              ) : null}
              <div className="grid gap-3 sm:grid-cols-[minmax(0,10rem)_minmax(0,1fr)]">
                <Field id={`${prefix}-afterTask`} label="After task" error={afterError} hint={knownTasks ? `1–${tasks}` : undefined}>
                  <input
                    {...fieldAria(`${prefix}-afterTask`, afterError, knownTasks)}
                    className="input"
                    type="number"
                    inputMode="numeric"
                    step={1}
                    {...register(`attentionChecks.${i}.afterTask`, { setValueAs: blankToUndefined })}
                  />
                </Field>
                <Field id={`${prefix}-prompt`} label="Question" error={promptError}>
                  <input {...fieldAria(`${prefix}-prompt`, promptError)} className="input" autoComplete="off" {...register(`attentionChecks.${i}.prompt`)} />
                </Field>
              </div>
              <div className="grid gap-3 sm:grid-cols-2">
                <Controller
                  control={control}
                  name={`attentionChecks.${i}.options`}
                  render={({ field }) => (
                    <Field id={`${prefix}-options`} label="Options (one per line)" error={optionsError} hint="2–6 different options.">
                      <LinesTextarea
                        {...fieldAria(`${prefix}-options`, optionsError, true)}
                        className="input min-h-24"
                        value={field.value ?? []}
                        onChange={field.onChange}
                        onBlur={field.onBlur}
                        inputRef={field.ref}
                      />
                    </Field>
                  )}
                />
                <Field id={`${prefix}-correct`} label="Correct option" error={correctError} hint="Exactly as written in the options.">
                  <input {...fieldAria(`${prefix}-correct`, correctError, true)} className="input" autoComplete="off" {...register(`attentionChecks.${i}.correct`)} />
                </Field>
              </div>
            </li>
          )
        })}
      </ol>
      {message('attentionChecks') ? (
        <p className="field-error" data-form-error tabIndex={-1}>
          {message('attentionChecks')}
        </p>
      ) : null}
      <button
        type="button"
        className="btn-secondary"
        disabled={checks.fields.length >= MAX_ATTENTION_CHECKS}
        onClick={() => {
          const used = new Set(watch('attentionChecks')?.map((c) => c.id) ?? [])
          let n = checks.fields.length + 1
          while (used.has(`check-${n}`)) n++
          checks.append({ id: `check-${n}`, afterTask: 1, prompt: '', options: [], correct: '' })
        }}
      >
        Add attention check
      </button>
    </DesignSection>
  )
}
