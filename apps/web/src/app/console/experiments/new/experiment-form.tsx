'use client'
// The new-experiment form: one fieldset per part of the design (models, data, budget, arms, seeds, evaluation),
// validated inline by the procedure's own schema (react-hook-form + zodResolver), prefilled from `clone` when the
// page was opened with ?clone=<experiment id>.
import { zodResolver } from '@hookform/resolvers/zod'
import { useMutation } from '@tanstack/react-query'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { useForm, type Resolver } from 'react-hook-form'

import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { FormError } from '@/components/form-error'
import { createExperimentSchema, DEFAULT_ARMS, DEFAULT_EVALUATION, DEFAULT_SEEDS, runCount } from '@/server/api/routers/experiments.schema'
import { CONFIG_FIELDS } from '@/server/api/routers/runs.schema'
import { useTRPC } from '@/trpc/react'

import { formValue } from '../../runs/new/presets'
import { ArmsFieldset, BudgetFieldset, DataFieldset, EvaluationFieldset, ModelsFieldset, SeedsFieldset, type Option, type Values } from './fieldsets'

/** A stored design (from clone), or nothing for a fresh form. */
export interface Design {
  name: string
  baseModelId: string
  juniorModelId?: string
  datasetId: string
  evalDatasetId: string
  config: Record<string, number | string | boolean | null>
  arms: { name: string; algorithm: 'GRPO' | 'TANDEM'; overrides: Record<string, unknown> }[]
  seeds: number[]
  evaluation: { suites: string[]; settings: Record<string, unknown> }
  clonedFromId?: string
}

const listText = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v ?? ''))

/** The form's values: the inputs hold numbers (NaN = blank), choice strings, lists as "0, 1, 2". */
function initialValues(baseModels: Option[], datasets: Option[], design: Design | null): Values {
  const byName = (name: string) => datasets.find((d) => d.name === name)?.id
  const config: Record<string, unknown> = {}
  for (const f of CONFIG_FIELDS) {
    if (f.name === 'seed') continue
    config[f.name] = formValue(f, design ? (design.config[f.name] ?? f.default) : f.default)
  }
  const settings = { ...DEFAULT_EVALUATION.settings, ...(design?.evaluation.settings ?? {}) } as Record<string, unknown>
  return {
    name: design?.name ?? '',
    baseModelId: design?.baseModelId ?? baseModels[0]?.id ?? '',
    juniorModelId: design?.juniorModelId ?? '',
    datasetId: design?.datasetId ?? byName('digit-chains-train') ?? datasets[0]?.id ?? '',
    evalDatasetId: design?.evalDatasetId ?? byName('digit-chains-eval') ?? datasets[0]?.id ?? '',
    config,
    arms: (design?.arms ?? DEFAULT_ARMS).map((a) => ({
      name: a.name,
      algorithm: a.algorithm,
      overrides: {
        p_junior: a.overrides.p_junior ?? Number.NaN,
        handoff_rule: a.overrides.handoff_rule ?? '',
        junior_token_weight: a.overrides.junior_token_weight ?? Number.NaN,
      },
    })),
    seeds: (design?.seeds ?? DEFAULT_SEEDS).join(', '),
    evaluation: {
      suites: design?.evaluation.suites ?? DEFAULT_EVALUATION.suites,
      settings: { ...settings, handoff_points: listText(settings.handoff_points), handoff_fractions: listText(settings.handoff_fractions) },
    },
    clonedFromId: design?.clonedFromId ?? '',
  }
}

/** "0, 1, 2" -> [0, 1, 2]; a part that is not a number stays NaN so the schema names it. */
function parseSeeds(text: unknown): unknown {
  if (typeof text !== 'string') return text
  return text.trim() === '' ? [] : text.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part.trim())))
}

const schemaResolver = zodResolver(createExperimentSchema as never) as unknown as Resolver<Values>

export function ExperimentForm({ baseModels, datasets, design }: { baseModels: Option[]; datasets: (Option & { rowCount: number })[]; design: Design | null }) {
  const trpc = useTRPC()
  const router = useRouter()
  const [formError, setFormError] = useState<string | null>(null)
  const form = useForm<Values>({
    resolver: (values, context, options) => schemaResolver({ ...values, seeds: parseSeeds(values.seeds) }, context, options),
    defaultValues: initialValues(baseModels, datasets, design),
    mode: 'onTouched',
  })
  const create = useMutation(
    trpc.experiments.create.mutationOptions({
      onSuccess: ({ id }) => router.push(`/console/experiments/${id}`),
      onError: (error) => setFormError(showServerErrors(error, form.setError)),
    }),
  )
  const arms = (form.watch('arms') as unknown[]) ?? []
  const seeds = parseSeeds(form.watch('seeds'))
  const runs = Array.isArray(seeds) ? runCount({ arms, seeds }) : 0
  const nameError = form.formState.errors.name?.message as string | undefined

  return (
    <form
      className="card space-y-6"
      noValidate
      aria-label="New experiment"
      onSubmit={form.handleSubmit(
        (values) => {
          setFormError(null)
          create.mutate(values as never)
        },
        () => setFormError('Fix the fields marked below.'),
      )}
    >
      <FormError message={formError} />
      {design?.clonedFromId ? (
        <p className="rounded-md border border-indigo-200 bg-indigo-50 px-3 py-2 text-sm text-indigo-900">
          Prefilled from experiment “{design.name.replace(/ \(copy\)$/, '')}”; change what you want to re-run.
        </p>
      ) : null}
      <Field id="name" label="Experiment name" error={nameError} hint="Runs are named “<name> · <arm> · s<seed>”.">
        <input className="input" autoComplete="off" placeholder="e.g. paper-replication" {...fieldAria('name', nameError, true)} {...form.register('name')} />
      </Field>
      <ModelsFieldset form={form} baseModels={baseModels} />
      <DataFieldset form={form} datasets={datasets} />
      <BudgetFieldset form={form} />
      <ArmsFieldset form={form} />
      <SeedsFieldset form={form} />
      <EvaluationFieldset form={form} />
      <div className="flex flex-wrap items-center justify-end gap-3 border-t border-slate-200 pt-4">
        <p className="text-sm text-slate-600" aria-live="polite" data-testid="run-count">
          {runs} training run{runs === 1 ? '' : 's'}, {runs + 1} evaluations (each final checkpoint and the base)
        </p>
        <button type="submit" className="btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Launching…' : 'Launch experiment'}
        </button>
      </div>
    </form>
  )
}
