'use client'
// Participants and timing: tasks each, the per-task and whole-session time limits, the too-fast exclusion, the cap on
// participants, and whether dropouts' design rows go to the next arrivals.
import { Controller } from 'react-hook-form'

import { Field, fieldAria } from '@/components/form-field'

import { derivedSessionTimeLimitSeconds, SESSION_ALLOWANCE_SECONDS } from '@/server/studies/outcomes'
import { DesignSection, ScaledNumberInput, blankToUndefined, useDesignForm } from './form-context'

const WHOLE_NUMBER_FIELDS = [
  { name: 'tasksPerParticipant', label: 'Tasks per participant', hint: 'At most the number of problems: nobody sees a problem twice.' },
  { name: 'timeLimitSeconds', label: 'Time limit per task (s)', hint: 'Measured on the server; at the limit the task is submitted as it is.' },
  {
    name: 'minSecondsPerTask',
    label: 'Minimum seconds per task',
    hint: 'A participant whose median time per task is below this is excluded as implausibly fast.',
  },
  { name: 'maxParticipants', label: 'Maximum participants', hint: 'Once this many have consented, the study link says the study is full. Blank: no cap.' },
] as const

const minutes = (seconds: number) => Number((seconds / 60).toFixed(1)).toString()

export function TimingFieldset() {
  const { register, control, watch, message } = useDesignForm()
  const tasks = watch('tasksPerParticipant')
  const taskLimit = watch('timeLimitSeconds')
  const derived =
    typeof tasks === 'number' && Number.isFinite(tasks) && typeof taskLimit === 'number' && Number.isFinite(taskLimit)
      ? derivedSessionTimeLimitSeconds(tasks, taskLimit)
      : null
  const sessionError = message('sessionTimeLimitSeconds')
  return (
    <DesignSection id="participants" title="Participants and timing">
      <div className="grid gap-4 sm:grid-cols-3">
        {WHOLE_NUMBER_FIELDS.map(({ name, label, hint }) => (
          <Field key={name} id={name} label={label} error={message(name)} hint={hint}>
            <input
              {...fieldAria(name, message(name), true)}
              className="input"
              type="number"
              inputMode="numeric"
              min={name === 'maxParticipants' ? 1 : undefined}
              step={1}
              {...register(name, { setValueAs: blankToUndefined })}
            />
          </Field>
        ))}
        <Controller
          control={control}
          name="sessionTimeLimitSeconds"
          render={({ field }) => (
            <Field
              id="sessionTimeLimitSeconds"
              label="Whole-session time limit (min)"
              error={sessionError}
              hint={
                derived === null
                  ? `From consent to the last task. Blank: every task’s limit plus ${SESSION_ALLOWANCE_SECONDS / 60} minutes.`
                  : `From consent to the last task; past it the session ends as timed out. Blank: ${minutes(derived)} min (${tasks} tasks × ${taskLimit} s + ${SESSION_ALLOWANCE_SECONDS / 60} min for consent, instructions, practice and checks).`
              }
            >
              <ScaledNumberInput
                {...fieldAria('sessionTimeLimitSeconds', sessionError, true)}
                className="input"
                autoComplete="off"
                placeholder={derived === null ? undefined : minutes(derived)}
                scale={60}
                decimals={1}
                blank={null}
                value={field.value}
                onChange={field.onChange}
                onBlur={field.onBlur}
                inputRef={field.ref}
              />
            </Field>
          )}
        />
      </div>
      <div>
        <label className="flex items-center gap-2 text-sm font-medium">
          <input type="checkbox" className="h-4 w-4" aria-describedby="refillDropouts-hint" {...register('refillDropouts')} data-testid="refill-dropouts" />
          Refill dropouts
        </label>
        <p id="refillDropouts-hint" className="mt-1 text-xs text-slate-600">
          A participant who consents and then leaves (returned, timed out or screened out) frees their row of the design for the next arrival, so
          every condition × problem cell still reaches its count. Off: pure arrival order.
        </p>
      </div>
    </DesignSection>
  )
}
