'use client'
// The study designer, shared by "New study" and "Edit" (drafts only): react-hook-form validated by the procedure's
// own schema (studyDesignSchema), so a field is checked as it is typed and again on the server; server field errors
// land under their fields. On a failed submit the first invalid field (in page order) takes the focus.
import { zodResolver } from '@hookform/resolvers/zod'
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useRouter } from 'next/navigation'
import { useEffect, useRef, useState } from 'react'
import { Controller, get, useFieldArray, useForm, type FieldErrors } from 'react-hook-form'

import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { LoadError } from '@/components/load-error'
import {
  MAX_ATTENTION_CHECKS,
  MAX_CONDITIONS,
  PROLIFIC_PARAMS,
  studyDesignSchema,
  type AttentionCheck,
  type HandoffRule,
  type PracticeTask,
  type StudyDesign,
  type StudyDesignInput,
} from '@/server/api/routers/studies.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { randomCompletionCode, runCheckpointLabel, type DatasetOption } from './design-defaults'

type FormInput = StudyDesignInput
type CheckpointOption = RouterOutputs['evaluations']['checkpoints']['items'][number]
type Study = RouterOutputs['studies']['get']

const blankToUndefined = (v: unknown) => (v === '' || v == null ? undefined : Number(v))

/** A stored study as the designer's values (for editing a draft). */
export function designFromStudy(study: Study): FormInput {
  const rule = study.handoffRule as unknown as HandoffRule
  return {
    name: study.name,
    conditions: study.conditions.map((c) => ({ name: c.name, checkpointId: c.checkpointId, live: c.live })),
    datasetId: study.datasetId,
    problemCount: study.problemCount,
    seed: study.seed,
    // both numbers kept, so switching the rule's kind starts from something sensible
    handoffRule: { kind: rule.kind, k: rule.kind === 'step' ? rule.k : 2, f: rule.kind === 'fraction' ? rule.f : 0.5 } as HandoffRule,
    temperature: study.temperature,
    maxNewTokens: study.maxNewTokens,
    liveTokensPerSecond: study.liveTokensPerSecond,
    tasksPerParticipant: study.tasksPerParticipant,
    timeLimitSeconds: study.timeLimitSeconds,
    minSecondsPerTask: study.minSecondsPerTask,
    maxParticipants: study.maxParticipants,
    consentText: study.consentText,
    instructions: study.instructions,
    practice: study.practice as unknown as PracticeTask,
    attentionChecks: (Array.isArray(study.attentionChecks) ? (study.attentionChecks as unknown as AttentionCheck[]) : []).map((c) => ({
      ...c,
      options: [...c.options],
    })),
    completionCode: study.completionCode,
    redirectUrl: study.redirectUrl ?? '',
    urlParams: [...study.urlParams],
  }
}

/** "run · TRL · step 40" or "fixture (base)", as the picker lists checkpoints. */
export function checkpointOptionLabel(c: CheckpointOption): string {
  return c.runId && c.runName && c.algorithm
    ? runCheckpointLabel(c.runName, c.algorithm, c.step)
    : `${c.baseModelName ?? 'unknown model'} (base model, untrained)`
}

/**
 * A TRL and a GRPO checkpoint that belong together: the newest checkpoints of the two runs of a launched pair (same
 * base, seed and budget; the runs share a pair id), or else of a TRL and a GRPO run of the same base model.
 */
function suggestPair(options: CheckpointOption[]): { trl: CheckpointOption; grpo: CheckpointOption } | null {
  const newest = new Map<string, CheckpointOption>() // run id -> its newest checkpoint
  for (const c of options) {
    if (!c.runId) continue
    const seen = newest.get(c.runId)
    if (!seen || c.step > seen.step) newest.set(c.runId, c)
  }
  const runs = [...newest.values()]
  const trls = runs.filter((c) => c.algorithm === 'TRL')
  for (const same of [(a: CheckpointOption, b: CheckpointOption) => a.pairId != null && a.pairId === b.pairId,
                      (a: CheckpointOption, b: CheckpointOption) => a.baseModelId != null && a.baseModelId === b.baseModelId]) {
    for (const trl of trls) {
      const grpo = runs.find((c) => c.algorithm === 'GRPO' && same(trl, c))
      if (grpo) return { trl, grpo }
    }
  }
  return null
}

// ---------------------------------------------------------------- the form

export function StudyForm({
  mode,
  studyId,
  datasets,
  initialValues,
}: {
  mode: 'create' | 'edit'
  /** the draft being edited (mode "edit") */
  studyId?: string
  datasets: DatasetOption[]
  initialValues: FormInput
}) {
  const trpc = useTRPC()
  const router = useRouter()
  const formRef = useRef<HTMLFormElement>(null)
  const [formError, setFormError] = useState<string | null>(null)
  const [, setFocusRequest] = useState(0)
  const form = useForm<FormInput, unknown, StudyDesign>({
    resolver: zodResolver(studyDesignSchema),
    mode: 'onTouched',
    shouldFocusError: false, // the first invalid field in page order is focused below instead
    defaultValues: initialValues,
  })
  const { register, handleSubmit, control, setError, setValue, watch, formState } = form
  const errors = formState.errors as FieldErrors<FormInput>
  const message = (name: string): string | undefined => {
    const e = get(errors, name) as { message?: string; root?: { message?: string } } | undefined
    return e?.message ?? e?.root?.message
  }

  // after a failed submit, the first field marked invalid (in page order) takes the focus. In the browser: once the
  // submit's errors are rendered (submitCount changes in the same update; a field checked on blur may be marked
  // earlier). From the server: once setError's marks are rendered.
  const focusFirstInvalid = () => {
    const first = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? formRef.current?.querySelector<HTMLElement>('[data-form-error]')
    first?.focus()
    return !!first
  }
  const submitCount = formState.submitCount
  useEffect(() => {
    if (submitCount > 0) focusFirstInvalid()
  }, [submitCount])
  const serverFocusPending = useRef(false)
  useEffect(() => {
    if (serverFocusPending.current && focusFirstInvalid()) serverFocusPending.current = false
  })
  const requestFocus = () => {
    serverFocusPending.current = true
    setFocusRequest((n) => n + 1) // a render, in case nothing else re-renders
    // an error without a field to focus (e.g. only a message) must not take the focus on some later render
    setTimeout(() => {
      serverFocusPending.current = false
    }, 2000)
  }

  const onServerError = (error: { message: string; data?: { fieldErrors?: Record<string, string[]> | null } | null }) => {
    const raw = error.data?.fieldErrors ?? null
    // update's input nests the design: "design.problemCount" is the form's "problemCount"; "_form" is the form's own
    const formLevel = raw?._form?.join(' ')
    const fieldErrors = raw
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => k !== '_form' && k !== 'id').map(([k, v]) => [k.replace(/^design\./, ''), v]))
      : null
    const hasFields = fieldErrors && Object.keys(fieldErrors).length > 0
    const text = showServerErrors({ message: error.message, data: { fieldErrors: hasFields ? fieldErrors : null } }, setError)
    setFormError(formLevel && !hasFields ? formLevel : text)
    requestFocus()
  }
  const create = useMutation(
    trpc.studies.create.mutationOptions({ onSuccess: ({ id }) => router.push(`/console/studies/${id}`), onError: onServerError }),
  )
  const update = useMutation(
    trpc.studies.update.mutationOptions({ onSuccess: ({ id }) => router.push(`/console/studies/${id}`), onError: onServerError }),
  )
  const pending = create.isPending || update.isPending

  const conditions = useFieldArray({ control, name: 'conditions' })
  const checks = useFieldArray({ control, name: 'attentionChecks' })
  const ruleKind = watch('handoffRule.kind')
  const datasetId = watch('datasetId')
  const dataset = datasets.find((d) => d.id === datasetId)
  const tasks = watch('tasksPerParticipant')

  return (
    <form
      ref={formRef}
      className="space-y-6"
      noValidate
      aria-label={mode === 'create' ? 'New study' : 'Edit study'}
      onSubmit={handleSubmit(
        (values) => {
          setFormError(null)
          if (mode === 'create') create.mutate(values)
          else update.mutate({ id: studyId!, design: values })
        },
        () => {
          setFormError('Fix the fields marked below.')
        },
      )}
    >
      <FormError message={formError} />

      <section className="card space-y-4" aria-labelledby="basics-heading">
        <h2 id="basics-heading" className="font-semibold">
          Basics
        </h2>
        <Field id="name" label="Study name" error={message('name')} hint="For you and your colleagues; participants do not see it.">
          <input {...fieldAria('name', message('name'), true)} className="input" autoComplete="off" {...register('name')} />
        </Field>
      </section>

      <section className="card space-y-4" aria-labelledby="conditions-heading">
        <div>
          <h2 id="conditions-heading" className="font-semibold">
            Conditions
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            Each condition is a senior checkpoint whose reasoning participants continue ({conditions.fields.length} of at most{' '}
            {MAX_CONDITIONS}). Assignment balances conditions and problems across participants. A live condition's senior
            writes while the participant watches (it needs the live model service; its checkpoint is exported to ONNX at
            launch): the participant takes over at any moment, or at the handoff point below, and may hand back.
          </p>
        </div>
        <CheckpointChooser
          values={watch('conditions').map((c) => c.checkpointId)}
          onUse={(trl, grpo) => {
            const rows = [
              { name: 'TRL', checkpointId: trl },
              { name: 'GRPO', checkpointId: grpo },
            ]
            conditions.replace(rows)
          }}
        >
          {(options) => (
            <>
              <ol className="space-y-3">
                {conditions.fields.map((row, i) => {
                  const nameId = `conditions-${i}-name`
                  const checkpointId = `conditions-${i}-checkpointId`
                  const nameError = message(`conditions.${i}.name`)
                  const checkpointError = message(`conditions.${i}.checkpointId`)
                  return (
                    <li key={row.id} className="grid gap-3 rounded-md border border-slate-200 p-3 sm:grid-cols-[minmax(0,12rem)_minmax(0,1fr)_auto] sm:items-start" data-testid="condition-row">
                      <Field id={nameId} label={`Condition ${i + 1} name`} error={nameError}>
                        <input {...fieldAria(nameId, nameError)} className="input" autoComplete="off" {...register(`conditions.${i}.name`)} />
                      </Field>
                      <Field id={checkpointId} label={`Condition ${i + 1} checkpoint`} error={checkpointError}>
                        {/* controlled, so the choice shows once its option has loaded (e.g. when editing) */}
                        <Controller
                          control={control}
                          name={`conditions.${i}.checkpointId`}
                          render={({ field }) => (
                            <select
                              {...fieldAria(checkpointId, checkpointError)}
                              className="input"
                              name={field.name}
                              ref={field.ref}
                              value={field.value ?? ''}
                              onChange={field.onChange}
                              onBlur={field.onBlur}
                            >
                              <option value="">Choose a checkpoint…</option>
                              {field.value && !options.some((c) => c.id === field.value) ? <option value={field.value}>{field.value}</option> : null}
                              {options.map((c) => (
                                <option key={c.id} value={c.id}>
                                  {checkpointOptionLabel(c)}
                                </option>
                              ))}
                            </select>
                          )}
                        />
                      </Field>
                      <div className="flex flex-wrap items-center gap-3 sm:pt-6">
                        <label className="flex items-center gap-2 text-sm" title="The AI writes while the participant watches; they take over and may hand back">
                          <input type="checkbox" className="h-4 w-4" {...register(`conditions.${i}.live`)} data-testid={`condition-${i}-live`} />
                          Live
                        </label>
                        <button
                          type="button"
                          className="btn-secondary"
                          disabled={conditions.fields.length <= 1}
                          onClick={() => conditions.remove(i)}
                          aria-label={`Remove condition ${i + 1}`}
                        >
                          Remove
                        </button>
                      </div>
                    </li>
                  )
                })}
              </ol>
              {message('conditions') ? (
                <p id="conditions-error" className="field-error" data-testid="conditions-error" data-form-error tabIndex={-1}>
                  {message('conditions')}
                </p>
              ) : null}
              <button
                type="button"
                className="btn-secondary"
                disabled={conditions.fields.length >= MAX_CONDITIONS}
                onClick={() => conditions.append({ name: `Condition ${conditions.fields.length + 1}`, checkpointId: '', live: false })}
              >
                Add condition
              </button>
            </>
          )}
        </CheckpointChooser>
      </section>

      <section className="card space-y-4" aria-labelledby="problems-heading">
        <h2 id="problems-heading" className="font-semibold">
          Problems
        </h2>
        <div className="grid gap-4 sm:grid-cols-3">
          <Field id="datasetId" label="Dataset" error={message('datasetId')}>
            <select {...fieldAria('datasetId', message('datasetId'))} className="input" {...register('datasetId')}>
              {datasets.length === 0 ? <option value="">(no datasets registered)</option> : null}
              {datasets.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({d.rowCount} problems)
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="problemCount"
            label="Number of problems"
            error={message('problemCount')}
            hint={`A seeded sample of the dataset${dataset ? ` (at most ${dataset.rowCount})` : ''}; every condition gets the same problems.`}
          >
            <input
              {...fieldAria('problemCount', message('problemCount'), true)}
              className="input"
              type="number"
              inputMode="numeric"
              step={1}
              {...register('problemCount', { setValueAs: blankToUndefined })}
            />
          </Field>
          <Field id="seed" label="Seed" error={message('seed')} hint="Picks the problems and seeds the senior traces.">
            <input
              {...fieldAria('seed', message('seed'), true)}
              className="input"
              type="number"
              inputMode="numeric"
              step={1}
              {...register('seed', { setValueAs: blankToUndefined })}
            />
          </Field>
        </div>
      </section>

      <section className="card space-y-4" aria-labelledby="handoff-heading">
        <h2 id="handoff-heading" className="font-semibold">
          Handoff
        </h2>
        <fieldset className="space-y-3">
          <legend className="label">Where the senior’s reasoning stops and the participant takes over</legend>
          <div className="space-y-2">
            <label className="flex items-start gap-2 text-sm">
              <input type="radio" className="mt-0.5" value="step" {...register('handoffRule.kind')} />
              <span>
                <span className="font-medium">After step k</span>{' '}
                <span className="text-slate-600">— the participant sees the senior’s first k reasoning steps (k = 0: none).</span>
              </span>
            </label>
            <label className="flex items-start gap-2 text-sm">
              <input type="radio" className="mt-0.5" value="fraction" {...register('handoffRule.kind')} />
              <span>
                <span className="font-medium">At fraction f</span>{' '}
                <span className="text-slate-600">— the participant sees that share (0–1) of the steps of the senior’s solo trace.</span>
              </span>
            </label>
          </div>
          {ruleKind === 'fraction' ? (
            <Field id="handoffRule-f" label="Fraction f (0–1)" error={message('handoffRule.f')} className="max-w-xs">
              <input
                {...fieldAria('handoffRule-f', message('handoffRule.f'))}
                className="input"
                type="number"
                inputMode="decimal"
                step="any"
                {...register('handoffRule.f', { setValueAs: blankToUndefined })}
              />
            </Field>
          ) : (
            <Field id="handoffRule-k" label="Step k" error={message('handoffRule.k')} className="max-w-xs">
              <input
                {...fieldAria('handoffRule-k', message('handoffRule.k'))}
                className="input"
                type="number"
                inputMode="numeric"
                step={1}
                {...register('handoffRule.k', { setValueAs: blankToUndefined })}
              />
            </Field>
          )}
        </fieldset>
      </section>

      <section className="card space-y-4" aria-labelledby="traces-heading">
        <div>
          <h2 id="traces-heading" className="font-semibold">
            Senior traces
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            At launch the worker samples one solo trace per condition and problem with these settings and stores it with its seed.
            A live condition&apos;s senior samples with the same temperature while the participant watches, within the same token budget.
          </p>
        </div>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field id="temperature" label="Temperature" error={message('temperature')} hint="Sampling temperature, 0–2.">
            <input
              {...fieldAria('temperature', message('temperature'), true)}
              className="input"
              type="number"
              inputMode="decimal"
              step="any"
              {...register('temperature', { setValueAs: blankToUndefined })}
            />
          </Field>
          <Field id="maxNewTokens" label="Max new tokens" error={message('maxNewTokens')} hint="Longest senior trace, 8–1024 tokens.">
            <input
              {...fieldAria('maxNewTokens', message('maxNewTokens'), true)}
              className="input"
              type="number"
              inputMode="numeric"
              step={1}
              {...register('maxNewTokens', { setValueAs: blankToUndefined })}
            />
          </Field>
          <Field
            id="liveTokensPerSecond"
            label="Live reading pace (tokens/s)"
            error={message('liveTokensPerSecond')}
            hint="Live conditions only: the senior's words reach the participant at most this fast, so they can read along (0 = as generated)."
          >
            <input
              {...fieldAria('liveTokensPerSecond', message('liveTokensPerSecond'), true)}
              className="input"
              type="number"
              inputMode="decimal"
              step="any"
              {...register('liveTokensPerSecond', { setValueAs: blankToUndefined })}
            />
          </Field>
        </div>
      </section>

      <section className="card space-y-4" aria-labelledby="participants-heading">
        <h2 id="participants-heading" className="font-semibold">
          Participants
        </h2>
        <div className="grid gap-4 sm:grid-cols-3">
          <Field
            id="tasksPerParticipant"
            label="Tasks per participant"
            error={message('tasksPerParticipant')}
            hint="At most the number of problems: nobody sees a problem twice."
          >
            <input
              {...fieldAria('tasksPerParticipant', message('tasksPerParticipant'), true)}
              className="input"
              type="number"
              inputMode="numeric"
              step={1}
              {...register('tasksPerParticipant', { setValueAs: blankToUndefined })}
            />
          </Field>
          <Field
            id="timeLimitSeconds"
            label="Time limit per task (s)"
            error={message('timeLimitSeconds')}
            hint="Measured on the server; at the limit the task is submitted as it is."
          >
            <input
              {...fieldAria('timeLimitSeconds', message('timeLimitSeconds'), true)}
              className="input"
              type="number"
              inputMode="numeric"
              step={1}
              {...register('timeLimitSeconds', { setValueAs: blankToUndefined })}
            />
          </Field>
          <Field
            id="minSecondsPerTask"
            label="Minimum seconds per task"
            error={message('minSecondsPerTask')}
            hint="A participant whose median time per task is below this is excluded as implausibly fast."
          >
            <input
              {...fieldAria('minSecondsPerTask', message('minSecondsPerTask'), true)}
              className="input"
              type="number"
              inputMode="numeric"
              step={1}
              {...register('minSecondsPerTask', { setValueAs: blankToUndefined })}
            />
          </Field>
          <Field
            id="maxParticipants"
            label="Maximum participants"
            error={message('maxParticipants')}
            hint="Once this many have consented, the study link says the study is full. Blank: no cap."
          >
            <input
              {...fieldAria('maxParticipants', message('maxParticipants'), true)}
              className="input"
              type="number"
              inputMode="numeric"
              min={1}
              step={1}
              {...register('maxParticipants', { setValueAs: blankToUndefined })}
            />
          </Field>
        </div>
      </section>

      <section className="card space-y-4" aria-labelledby="texts-heading">
        <h2 id="texts-heading" className="font-semibold">
          Texts
        </h2>
        <Field id="consentText" label="Consent text" error={message('consentText')} hint="Shown first; the participant agrees or declines.">
          <textarea {...fieldAria('consentText', message('consentText'), true)} className="input min-h-32" {...register('consentText')} />
        </Field>
        <Field id="instructions" label="Instructions" error={message('instructions')} hint="Shown after consent, before the practice task.">
          <textarea {...fieldAria('instructions', message('instructions'), true)} className="input min-h-32" {...register('instructions')} />
        </Field>
      </section>

      <section className="card space-y-4" aria-labelledby="practice-heading">
        <div>
          <h2 id="practice-heading" className="font-semibold">
            Practice task
          </h2>
          <p className="mt-1 text-sm text-slate-600">A worked example before the real tasks; it is not scored.</p>
        </div>
        <Field id="practice-problem" label="Practice problem" error={message('practice.problem')}>
          <textarea {...fieldAria('practice-problem', message('practice.problem'))} className="input min-h-20" {...register('practice.problem')} />
        </Field>
        <Field
          id="practice-reasoning"
          label="Worked reasoning"
          error={message('practice.reasoning')}
          hint="The reasoning shown as the senior’s part of the practice task; one step per line."
        >
          <textarea {...fieldAria('practice-reasoning', message('practice.reasoning'), true)} className="input min-h-24" {...register('practice.reasoning')} />
        </Field>
        <Field id="practice-answer" label="Practice answer" error={message('practice.answer')} className="max-w-xs">
          <input {...fieldAria('practice-answer', message('practice.answer'))} className="input" autoComplete="off" {...register('practice.answer')} />
        </Field>
      </section>

      <section className="card space-y-4" aria-labelledby="attention-heading">
        <div>
          <h2 id="attention-heading" className="font-semibold">
            Attention checks
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            A question with one right option, shown after a given task ({checks.fields.length} of at most {MAX_ATTENTION_CHECKS}). A wrong
            answer excludes the participant from the analysis (their data are kept).
          </p>
        </div>
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
                  <Field
                    id={`${prefix}-afterTask`}
                    label="After task"
                    error={afterError}
                    hint={typeof tasks === 'number' && Number.isFinite(tasks) ? `1–${tasks}` : undefined}
                  >
                    <input
                      {...fieldAria(`${prefix}-afterTask`, afterError, typeof tasks === 'number' && Number.isFinite(tasks))}
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
      </section>

      <section className="card space-y-4" aria-labelledby="completion-heading">
        <h2 id="completion-heading" className="font-semibold">
          Completion
        </h2>
        <div className="grid gap-4 sm:grid-cols-2">
          <div>
            <Field
              id="completionCode"
              label="Completion code"
              error={message('completionCode')}
              hint="Shown at the end, for the participant to paste into the recruiting platform."
            >
              <div className="flex gap-2">
                <input
                  {...fieldAria('completionCode', message('completionCode'), true)}
                  className="input font-mono"
                  autoComplete="off"
                  {...register('completionCode')}
                />
                <button
                  type="button"
                  className="btn-secondary shrink-0"
                  onClick={() => setValue('completionCode', randomCompletionCode(), { shouldValidate: true, shouldDirty: true })}
                >
                  Generate
                </button>
              </div>
            </Field>
          </div>
          <Field
            id="redirectUrl"
            label="Redirect URL (optional)"
            error={message('redirectUrl')}
            hint="Where the participant goes at the end, e.g. https://app.prolific.com/submissions/complete?cc=CODE."
          >
            <input
              {...fieldAria('redirectUrl', message('redirectUrl'), true)}
              className="input"
              type="url"
              inputMode="url"
              autoComplete="off"
              {...register('redirectUrl')}
            />
          </Field>
        </div>
        <Controller
          control={control}
          name="urlParams"
          render={({ field }) => (
            <UrlParamsEditor value={field.value ?? []} onChange={field.onChange} errors={errors} message={message} />
          )}
        />
      </section>

      <div className="flex flex-wrap justify-end gap-3">
        <Link href={mode === 'edit' && studyId ? `/console/studies/${studyId}` : '/console/studies'} className="btn-secondary">
          Cancel
        </Link>
        <button type="submit" className="btn-primary" disabled={pending}>
          {pending ? 'Saving…' : mode === 'create' ? 'Create study' : 'Save changes'}
        </button>
      </div>
    </form>
  )
}

/** The first error among a list's items (e.g. an option that is too long), for a field that edits the whole list. */
function firstItemError(errors: FieldErrors<FormInput>, name: string): string | undefined {
  const list = get(errors, name) as Record<string, { message?: string }> | { message?: string }[] | undefined
  if (!list || typeof list !== 'object') return undefined
  for (const value of Object.values(list)) {
    if (value && typeof value === 'object' && typeof value.message === 'string') return value.message
  }
  return undefined
}

/** A textarea that edits a list of strings, one per line (blank lines ignored); the text is kept as typed. */
function LinesTextarea({
  value,
  onChange,
  onBlur,
  inputRef,
  ...rest
}: {
  value: string[]
  onChange: (lines: string[]) => void
  onBlur: () => void
  inputRef: React.Ref<HTMLTextAreaElement>
} & Omit<React.TextareaHTMLAttributes<HTMLTextAreaElement>, 'value' | 'onChange' | 'onBlur'>) {
  const [text, setText] = useState(() => value.join('\n'))
  return (
    <textarea
      {...rest}
      ref={inputRef}
      value={text}
      onBlur={onBlur}
      onChange={(e) => {
        setText(e.target.value)
        onChange(
          e.target.value
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean),
        )
      }}
    />
  )
}

/** The accepted URL parameters as a list of inputs; the first one names the participant. */
function UrlParamsEditor({
  value,
  onChange,
  errors,
  message,
}: {
  value: string[]
  onChange: (value: string[]) => void
  errors: FieldErrors<FormInput>
  message: (name: string) => string | undefined
}) {
  const listError = message('urlParams')
  return (
    <fieldset className="space-y-2" aria-describedby={listError ? 'urlParams-error' : 'urlParams-hint'}>
      <legend className="label">Accepted URL parameters</legend>
      <p id="urlParams-hint" className="text-xs text-slate-600">
        Read from the study link and stored with the participant. The first one names the participant (their id on the recruiting
        platform, e.g. PROLIFIC_PID); a second visit with the same id resumes the same session.
      </p>
      {value.length === 0 ? <p className="text-sm text-slate-600">None: participants are anonymous.</p> : null}
      <ol className="space-y-2">
        {value.map((param, i) => {
          const id = `urlParams-${i}`
          const error = message(`urlParams.${i}`)
          const invalid = !!error || !!listError
          return (
            <li key={i} className="flex flex-wrap items-start gap-2">
              <div className="min-w-0 flex-1">
                <label htmlFor={id} className="sr-only">
                  URL parameter {i + 1}
                  {i === 0 ? ' (names the participant)' : ''}
                </label>
                <div className="flex items-center gap-2">
                  <input
                    id={id}
                    className="input font-mono"
                    autoComplete="off"
                    value={param}
                    aria-invalid={invalid ? true : undefined}
                    aria-describedby={error ? `${id}-error` : listError ? 'urlParams-error' : undefined}
                    onChange={(e) => onChange(value.map((p, j) => (j === i ? e.target.value : p)))}
                  />
                  {i === 0 ? <span className="shrink-0 text-xs text-slate-600">participant id</span> : null}
                </div>
                {error ? (
                  <p id={`${id}-error`} className="field-error" data-testid={`${id}-error`}>
                    {error}
                  </p>
                ) : null}
              </div>
              <button
                type="button"
                className="btn-secondary"
                onClick={() => onChange(value.filter((_, j) => j !== i))}
                aria-label={`Remove URL parameter ${param || i + 1}`}
              >
                Remove
              </button>
            </li>
          )
        })}
      </ol>
      {listError ? (
        <p id="urlParams-error" className="field-error" data-testid="urlParams-error">
          {listError}
        </p>
      ) : null}
      <div className="flex flex-wrap gap-2">
        <button type="button" className="btn-secondary" disabled={value.length >= 10} onClick={() => onChange([...value, ''])}>
          Add parameter
        </button>
        <button type="button" className="btn-secondary" onClick={() => onChange([...PROLIFIC_PARAMS])}>
          Reset to Prolific’s
        </button>
      </div>
      {errors.urlParams && !listError && !value.some((_, i) => message(`urlParams.${i}`)) ? (
        <p className="field-error">Check the URL parameters.</p>
      ) : null}
    </fieldset>
  )
}

/**
 * Loads the checkpoints a condition can use (evaluations.checkpoints: hf-safetensors weights of runs and base models,
 * searchable, plus the chosen ones wherever they are in the list) and suggests a TRL/GRPO pair of the same base.
 */
function CheckpointChooser({
  values,
  onUse,
  children,
}: {
  values: string[]
  onUse: (trlCheckpointId: string, grpoCheckpointId: string) => void
  children: (options: CheckpointOption[]) => React.ReactNode
}) {
  const trpc = useTRPC()
  const [search, setSearch] = useState('')
  const list = useQuery(
    trpc.evaluations.checkpoints.queryOptions({ page: 1, pageSize: 100, search: search.trim() || undefined }, { placeholderData: keepPreviousData }),
  )
  const chosenIds = [...new Set(values.filter(Boolean))]
  const chosen = useQuery(
    trpc.evaluations.checkpoints.queryOptions({ ids: chosenIds, page: 1, pageSize: 50 }, { enabled: chosenIds.length > 0, placeholderData: keepPreviousData }),
  )
  const unfiltered = useQuery(trpc.evaluations.checkpoints.queryOptions({ page: 1, pageSize: 100 }))
  const options = new Map<string, CheckpointOption>()
  for (const c of [...(chosen.data?.items ?? []), ...(list.data?.items ?? [])]) options.set(c.id, c)
  const sorted = [...options.values()].sort((a, b) => checkpointOptionLabel(a).localeCompare(checkpointOptionLabel(b)) || a.step - b.step)
  const suggestion = suggestPair(unfiltered.data?.items ?? [])
  const alreadyUsed = suggestion && values.includes(suggestion.trl.id) && values.includes(suggestion.grpo.id)

  return (
    <div className="space-y-3">
      <div className="rounded-md border border-indigo-200 bg-indigo-50 px-3 py-2 text-sm text-indigo-950" data-testid="pair-hint">
        <p>
          Tip: compare a <span className="font-medium">TRL</span> senior with a <span className="font-medium">GRPO</span> senior of the same
          base model (the two runs of a launched pair share base, seed and budget), so the difference is the training alone.
        </p>
        {suggestion ? (
          <p className="mt-1 flex flex-wrap items-center gap-2">
            <span>
              Suggested: {checkpointOptionLabel(suggestion.trl)} and {checkpointOptionLabel(suggestion.grpo)}.
            </span>
            {alreadyUsed ? null : (
              <button type="button" className="btn-secondary py-1" onClick={() => onUse(suggestion.trl.id, suggestion.grpo.id)}>
                Use these two
              </button>
            )}
          </p>
        ) : null}
      </div>
      <div className="max-w-md">
        <label htmlFor="checkpoint-search" className="label">
          Filter checkpoints
        </label>
        <input
          id="checkpoint-search"
          type="search"
          className="input"
          placeholder="run or base model name"
          aria-describedby="checkpoint-search-hint"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <p id="checkpoint-search-hint" className="mt-1 text-xs text-slate-600">
          {list.isError
            ? `Checkpoints could not be loaded: ${list.error.message}`
            : list.data
              ? `${list.data.total} checkpoint${list.data.total === 1 ? '' : 's'} match${list.data.total > 100 ? ' (the newest 100 are listed)' : ''}; the lists below show them.`
              : 'Loading checkpoints…'}
        </p>
      </div>
      {children(sorted)}
    </div>
  )
}

// ---------------------------------------------------------------- editing a draft

/** The edit page's body: loads the study, then the designer with its values (drafts only). */
export function EditStudy({ id, datasets }: { id: string; datasets: DatasetOption[] }) {
  const trpc = useTRPC()
  const study = useQuery(trpc.studies.get.queryOptions({ id }, { retry: 1, staleTime: 0, refetchOnWindowFocus: false }))
  if (study.isPending) return <p className="text-sm text-slate-600">Loading study…</p>
  if (study.isError) {
    return <LoadError title="Edit study" noun="study" error={study.error} backHref="/console/studies" backLabel="Back to studies" />
  }
  const s = study.data
  return (
    <div className="space-y-6">
      <div>
        <p className="text-sm text-slate-600">
          <Link href="/console/studies" className="hover:underline">
            Studies
          </Link>{' '}
          /{' '}
          <Link href={`/console/studies/${s.id}`} className="hover:underline">
            {s.name}
          </Link>
        </p>
        <h1 className="mt-1 text-2xl font-semibold">Edit study</h1>
      </div>
      {s.canEdit ? (
        <StudyForm mode="edit" studyId={s.id} datasets={datasets} initialValues={designFromStudy(s)} />
      ) : (
        <div className="card space-y-3">
          <p role="alert" className="text-sm text-slate-700">
            {s.mayControl
              ? `This study is ${s.status.toLowerCase()}; only a draft can be edited.`
              : 'Only the study’s owner or an admin can edit it.'}
          </p>
          <Link href={`/console/studies/${s.id}`} className="btn-secondary">
            Back to the study
          </Link>
        </div>
      )}
    </div>
  )
}
