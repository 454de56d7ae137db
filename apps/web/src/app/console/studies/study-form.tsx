'use client'
// The study designer, shared by "New study" and "Edit" (drafts only): the form shell — react-hook-form validated by
// the procedure's own schema (studyDesignSchema), submit, and errors — composing one fieldset per part of the design
// (./fieldsets). A field is checked as it is typed and again on the server; server field errors land under their
// fields. On a failed submit the first invalid field (in page order) takes the focus.
import { zodResolver } from '@hookform/resolvers/zod'
import { useMutation, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useRouter } from 'next/navigation'
import { useEffect, useRef, useState } from 'react'
import { FormProvider, useForm } from 'react-hook-form'

import { FormError } from '@/components/form-error'
import { showServerErrors } from '@/components/form-field'
import { LoadError } from '@/components/load-error'
import {
  CURRENCIES,
  studyDesignSchema,
  type AttentionCheck,
  type Currency,
  type HandoffRule,
  type PowerPlanInput,
  type PracticeTask,
  type StudyDesign,
} from '@/server/api/routers/studies.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { type DatasetOption } from './design-defaults'
import { AttentionFieldset } from './fieldsets/attention-fieldset'
import { BasicsFieldset } from './fieldsets/basics-fieldset'
import { CompletionPayFieldset } from './fieldsets/completion-pay-fieldset'
import { ConditionsFieldset } from './fieldsets/conditions-fieldset'
import type { FormInput } from './fieldsets/form-context'
import { HandoffFieldset } from './fieldsets/handoff-fieldset'
import { PowerFieldset } from './fieldsets/power-fieldset'
import { PracticeFieldset } from './fieldsets/practice-fieldset'
import { ProblemsFieldset } from './fieldsets/problems-fieldset'
import { TextsFieldset } from './fieldsets/texts-fieldset'
import { TimingFieldset } from './fieldsets/timing-fieldset'
import { TracesFieldset } from './fieldsets/traces-fieldset'

export { checkpointOptionLabel } from './fieldsets/conditions-fieldset'

type Study = RouterOutputs['studies']['get']

/** The inputs of a stored power plan (the stored plan also holds what the simulation made of them). */
function powerPlanInputOf(stored: unknown): PowerPlanInput | null {
  if (!stored || typeof stored !== 'object') return null
  const p = stored as Partial<PowerPlanInput>
  return {
    alpha: p.alpha ?? 0.05,
    power: p.power ?? 0.8,
    accuracies: { ...(p.accuracies ?? {}) },
    participantSd: p.participantSd ?? 0.5,
    problemSd: p.problemSd ?? 0.5,
    sources: { ...(p.sources ?? {}) },
  }
}

/** A stored study as the designer's values (for editing a draft). */
export function designFromStudy(study: Study): FormInput {
  const rule = study.handoffRule as unknown as HandoffRule
  return {
    name: study.name,
    publicTitle: study.publicTitle ?? '',
    requireParticipantId: study.requireParticipantId,
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
    screenedOutCode: study.screenedOutCode ?? '',
    screenedOutRedirectUrl: study.screenedOutRedirectUrl ?? '',
    timedOutCode: study.timedOutCode ?? '',
    timedOutRedirectUrl: study.timedOutRedirectUrl ?? '',
    urlParams: [...study.urlParams],
    sessionTimeLimitSeconds: study.sessionTimeLimitSeconds,
    refillDropouts: study.refillDropouts,
    juniorSamples: study.juniorSamples,
    currency: (CURRENCIES as readonly string[]).includes(study.currency) ? (study.currency as Currency) : 'GBP',
    basePayCents: study.basePayCents,
    bonusPerCorrectCents: study.bonusPerCorrectCents,
    bonusCapCents: study.bonusCapCents,
    powerPlan: powerPlanInputOf(study.powerPlan),
  }
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
  const { handleSubmit, setError, formState } = form

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

  return (
    <FormProvider {...form}>
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
        <BasicsFieldset />
        <ConditionsFieldset />
        <ProblemsFieldset datasets={datasets} />
        <HandoffFieldset />
        <TracesFieldset />
        <TimingFieldset />
        <TextsFieldset />
        <PracticeFieldset />
        <AttentionFieldset />
        <CompletionPayFieldset />
        <PowerFieldset />
        <div className="flex flex-wrap justify-end gap-3">
          <Link href={mode === 'edit' && studyId ? `/console/studies/${studyId}` : '/console/studies'} className="btn-secondary">
            Cancel
          </Link>
          <button type="submit" className="btn-primary" disabled={pending}>
            {pending ? 'Saving…' : mode === 'create' ? 'Create study' : 'Save changes'}
          </button>
        </div>
      </form>
    </FormProvider>
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
