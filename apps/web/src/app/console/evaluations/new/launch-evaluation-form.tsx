'use client'
// The launch form: react-hook-form validated by the launch procedure's own zod schema; server field errors land
// under their fields. Settings are EvalSettings' fields with its defaults (evaluate.py).
import { zodResolver } from '@hookform/resolvers/zod'
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { Controller, get, useForm, type FieldErrors } from 'react-hook-form'
import type { z } from 'zod'

import { DataTable } from '@/components/data-table'
import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { Pagination } from '@/components/pagination'
import {
  EVAL_DEFAULTS,
  evalPresetValues,
  launchEvaluationSchema,
  MAX_LAUNCH_CHECKPOINTS,
  SUITE_HELP,
  SUITES,
} from '@/server/api/routers/evaluations.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'
import { DatasetOptions } from '@/components/dataset-options'

type FormInput = z.input<typeof launchEvaluationSchema>
type FormOutput = z.output<typeof launchEvaluationSchema>
type CheckpointRow = RouterOutputs['evaluations']['checkpoints']['items'][number]

const blankToUndefined = (v: unknown) => (v === '' || v == null ? undefined : Number(v))
const blankToNull = (v: unknown) => (v === '' || v == null ? null : Number(v))

interface SettingField {
  name: keyof typeof EVAL_DEFAULTS
  label: string
  hint: string
  step?: string
  kind?: 'int' | 'number' | 'optional-int' | 'list'
}

const GROUPS: { title: string; fields: SettingField[] }[] = [
  {
    title: 'Sampling',
    fields: [
      { name: 'k', label: 'k (samples per problem)', hint: 'Samples per problem in every suite; mean@k and pass@k use them.', kind: 'int' },
      { name: 'p_junior', label: 'p_junior', hint: 'Tandem suite: chance (0–1) that the junior writes each word.', step: 'any', kind: 'number' },
      { name: 'temperature', label: 'temperature', hint: 'Sampling temperature of every rollout (KL and log-probs are always at 1).', step: 'any', kind: 'number' },
      { name: 'top_p', label: 'top_p', hint: 'Nucleus sampling mass of every rollout; 1 = off.', step: 'any', kind: 'number' },
      { name: 'top_k', label: 'top_k (tokens)', hint: 'Sample from the k most likely tokens; 0 = off.', kind: 'int' },
      { name: 'max_new_tokens', label: 'max_new_tokens (tokens)', hint: 'Longest completion per sample.', kind: 'int' },
      { name: 'seed', label: 'seed', hint: 'Same seed, settings and problems give the same report.', kind: 'int' },
      { name: 'n_problems', label: 'n_problems (limit)', hint: 'Evaluate only the first N problems (by id); blank = the whole dataset.', kind: 'optional-int' },
    ],
  },
  {
    title: 'Handoff',
    fields: [
      { name: 'handoff_points', label: 'handoff_points (steps)', hint: 'Curve: the senior writes the first k steps, the junior the rest. Comma-separated k ≥ 0.', kind: 'list' },
      { name: 'handoff_fractions', label: 'handoff_fractions', hint: 'Curve: the junior continues the senior’s solo sample after this share of its steps. Comma-separated, 0–1.', kind: 'list' },
    ],
  },
  {
    title: 'Statistics and examples',
    fields: [
      { name: 'n_boot', label: 'n_boot (resamples)', hint: 'Bootstrap resamples of problems behind each 95% interval.', kind: 'int' },
      { name: 'n_examples', label: 'n_examples (problems)', hint: 'Problems whose first sample is kept as an example trace.', kind: 'int' },
      { name: 'displacement_threshold', label: 'displacement_threshold (nats)', hint: 'Displacement analysis: per-token KL above this counts as displaced.', step: 'any', kind: 'number' },
    ],
  },
  {
    title: 'Performance',
    fields: [
      { name: 'batch_size', label: 'batch_size (problems)', hint: 'Problems per batch (× k rows) in rollouts and scoring.', kind: 'int' },
      { name: 'chunk_tokens', label: 'chunk_tokens (positions)', hint: 'Token positions per full-vocabulary log-softmax; lower it if memory runs short.', kind: 'int' },
    ],
  },
]

export function LaunchEvaluationForm({
  initialCheckpointIds,
  datasets,
}: {
  initialCheckpointIds: string[]
  datasets: { id: string; name: string; rowCount: number }[]
}) {
  const trpc = useTRPC()
  const router = useRouter()
  const [formError, setFormError] = useState<string | null>(null)
  const defaultDataset = (datasets.find((d) => d.name === 'digit-chains-eval') ?? datasets.find((d) => d.name === 'arithmetic-eval') ?? datasets[0])?.id ?? ''
  const form = useForm<FormInput, unknown, FormOutput>({
    resolver: zodResolver(launchEvaluationSchema),
    mode: 'onTouched',
    defaultValues: {
      checkpointIds: initialCheckpointIds.slice(0, MAX_LAUNCH_CHECKPOINTS),
      juniorCheckpointId: null,
      suites: [...SUITES],
      datasetId: defaultDataset,
      settings: {
        ...EVAL_DEFAULTS,
        handoff_points: EVAL_DEFAULTS.handoff_points.join(', '),
        handoff_fractions: EVAL_DEFAULTS.handoff_fractions.join(', '),
      },
    },
  })
  const { register, handleSubmit, control, setError, formState } = form
  const errors = formState.errors as FieldErrors<FormInput>
  const message = (name: string): string | undefined => (get(errors, name) as { message?: string } | undefined)?.message

  const launch = useMutation(
    trpc.evaluations.launch.mutationOptions({
      onSuccess: ({ ids }) => router.push(ids.length === 1 ? `/console/evaluations/${ids[0]}` : '/console/evaluations'),
      onError: (error) => {
        // "suites.1" -> "suites": an entry's error belongs under its list
        const fieldErrors = error.data?.fieldErrors
          ? Object.fromEntries(Object.entries(error.data.fieldErrors).map(([k, v]) => [k.replace(/\.\d+$/, ''), v]))
          : null
        setFormError(showServerErrors({ message: error.message, data: { fieldErrors } }, setError))
      },
    }),
  )

  const juniors = useQuery(trpc.evaluations.checkpoints.queryOptions({ page: 1, pageSize: 100 }))

  return (
    <form
      className="space-y-6"
      noValidate
      onSubmit={handleSubmit(
        (values) => {
          setFormError(null)
          launch.mutate(values)
        },
        () => setFormError('Fix the fields marked below.'),
      )}
    >
      <FormError message={formError} />

      <section className="card space-y-4">
        <h2 className="font-semibold">Checkpoints</h2>
        <Controller
          control={control}
          name="checkpointIds"
          render={({ field }) => (
            <CheckpointPicker value={field.value ?? []} onChange={field.onChange} error={message('checkpointIds')} />
          )}
        />
        <Field
          id="juniorCheckpointId"
          label="Junior"
          error={message('juniorCheckpointId')}
          hint="The frozen model that co-writes, takes over and reads the senior’s text."
        >
          <select
            {...fieldAria('juniorCheckpointId', message('juniorCheckpointId'), true)}
            className="input"
            {...register('juniorCheckpointId', { setValueAs: (v: string) => (v ? v : null) })}
          >
            <option value="">Default: the checkpoint’s run junior (its base model)</option>
            {(juniors.data?.items ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </Field>
      </section>

      <section className="card space-y-4">
        <h2 className="font-semibold">Data and suites</h2>
        <Field id="datasetId" label="Dataset" error={message('datasetId')}>
          <select {...fieldAria('datasetId', message('datasetId'))} className="input" {...register('datasetId')}>
            <DatasetOptions datasets={datasets} />
          </select>
        </Field>
        <fieldset aria-describedby={message('suites') ? 'suites-error' : undefined}>
          <legend className="label">Suites</legend>
          <div className="grid gap-2 sm:grid-cols-2">
            {SUITES.map((suite) => (
              <label key={suite} className="flex items-start gap-2 text-sm">
                <input type="checkbox" className="mt-0.5 h-4 w-4" value={suite} {...register('suites')} />
                <span>
                  <span className="font-medium">{suite}</span> <span className="text-slate-600">— {SUITE_HELP[suite]}</span>
                </span>
              </label>
            ))}
          </div>
          {message('suites') ? (
            <p id="suites-error" className="field-error" data-testid="suites-error">
              {message('suites')}
            </p>
          ) : null}
        </fieldset>
      </section>

      {GROUPS.map((group) => (
        <fieldset key={group.title} className="card">
          <legend className="px-1 font-semibold">{group.title}</legend>
          {group.title === 'Sampling' ? (
            <p className="mb-3 text-sm">
              <button
                type="button"
                className="btn-secondary"
                data-testid="eval-preset-paper"
                onClick={() => {
                  for (const [key, value] of Object.entries(evalPresetValues('paper'))) {
                    form.setValue(`settings.${key as keyof typeof EVAL_DEFAULTS}`, value as never, { shouldValidate: true })
                  }
                }}
              >
                Paper settings
              </button>{' '}
              The paper’s evaluation sampling: temperature 0.7, top-p 0.8, top-k 20.
            </p>
          ) : null}
          <div className="grid gap-4 sm:grid-cols-2">
            {group.fields.map((f) => {
              const name = `settings.${f.name}` as const
              const id = `settings-${f.name}`
              const error = message(name)
              const defaultText = Array.isArray(EVAL_DEFAULTS[f.name])
                ? (EVAL_DEFAULTS[f.name] as number[]).join(', ')
                : EVAL_DEFAULTS[f.name] === null
                  ? 'blank'
                  : String(EVAL_DEFAULTS[f.name])
              return (
                <Field key={f.name} id={id} label={f.label} error={error} hint={`${f.hint} Default: ${defaultText}.`}>
                  <input
                    {...fieldAria(id, error, true)}
                    className="input"
                    autoComplete="off"
                    {...(f.kind === 'list'
                      ? { type: 'text', inputMode: 'decimal' as const }
                      : { type: 'number', step: f.step ?? '1', inputMode: f.step ? ('decimal' as const) : ('numeric' as const) })}
                    {...register(name, f.kind === 'list' ? {} : { setValueAs: f.kind === 'optional-int' ? blankToNull : blankToUndefined })}
                  />
                </Field>
              )
            })}
            {group.title === 'Performance' ? (
              <Field id="settings-bf16" label="bf16" error={message('settings.bf16')} hint="Automatic: bf16 on CUDA, float32 on CPU. Default: automatic.">
                <select
                  {...fieldAria('settings-bf16', message('settings.bf16'), true)}
                  className="input"
                  {...register('settings.bf16', { setValueAs: (v: unknown) => (v === 'true' || v === true ? true : v === 'false' || v === false ? false : null) })}
                >
                  <option value="">automatic</option>
                  <option value="true">on (bf16)</option>
                  <option value="false">off (float32)</option>
                </select>
              </Field>
            ) : null}
          </div>
        </fieldset>
      ))}

      <div className="flex justify-end">
        <button type="submit" className="btn-primary" disabled={launch.isPending}>
          {launch.isPending ? 'Launching…' : 'Launch evaluation'}
        </button>
      </div>
    </form>
  )
}

/** Pick up to MAX_LAUNCH_CHECKPOINTS checkpoints from a searchable, server-paged list; the picked ones stay listed above. */
function CheckpointPicker({ value, onChange, error }: { value: string[]; onChange: (ids: string[]) => void; error?: string }) {
  const trpc = useTRPC()
  const [search, setSearch] = useState('')
  const [page, setPage] = useState(1)
  const list = useQuery(
    trpc.evaluations.checkpoints.queryOptions({ page, pageSize: 8, search: search.trim() || undefined }, { placeholderData: keepPreviousData }),
  )
  // labels of the chosen ones, which may not be on the page shown (e.g. preselected from a link)
  const chosen = useQuery(
    trpc.evaluations.checkpoints.queryOptions({ ids: value, page: 1, pageSize: 50 }, { enabled: value.length > 0, placeholderData: keepPreviousData }),
  )
  const labels = new Map((chosen.data?.items ?? []).map((c) => [c.id, c.label]))
  const unknown = chosen.data ? value.filter((id) => !labels.has(id)) : []
  const toggle = (id: string) => onChange(value.includes(id) ? value.filter((v) => v !== id) : [...value, id])

  return (
    <div className="space-y-3" aria-describedby={error ? 'checkpointIds-error' : undefined}>
      <div>
        <p className="label" id="chosen-checkpoints-label">
          Chosen ({value.length}/{MAX_LAUNCH_CHECKPOINTS})
        </p>
        {value.length === 0 ? (
          <p className="text-sm text-slate-600">None yet: tick checkpoints below.</p>
        ) : (
          <ul className="flex flex-wrap gap-2" aria-labelledby="chosen-checkpoints-label" data-testid="chosen-checkpoints">
            {value.map((id) => (
              <li key={id} className="flex items-center gap-1 rounded-full bg-indigo-50 py-1 pr-1 pl-3 text-sm text-indigo-900 ring-1 ring-indigo-200">
                {labels.get(id) ?? id}
                <button type="button" className="rounded-full px-2 text-indigo-800 hover:bg-indigo-100" onClick={() => toggle(id)} aria-label={`Remove ${labels.get(id) ?? id}`}>
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        {unknown.length ? (
          <p className="mt-1 text-sm text-amber-800">
            Not an evaluable checkpoint: {unknown.join(', ')} (remove it to launch).
          </p>
        ) : null}
        {error ? (
          <p id="checkpointIds-error" className="field-error" data-testid="checkpointIds-error">
            {error}
          </p>
        ) : null}
      </div>
      <div>
        <label htmlFor="checkpoint-search" className="label">
          Find checkpoints
        </label>
        <input
          id="checkpoint-search"
          type="search"
          className="input"
          placeholder="run or base model name"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value)
            setPage(1)
          }}
        />
      </div>
      {list.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {list.error.message}
        </p>
      ) : (
        <div className="rounded-md border border-slate-200">
          <DataTable<CheckpointRow>
            testId="checkpoint-option"
            caption="Evaluable checkpoints"
            data={list.data?.items ?? []}
            getRowId={(c) => c.id}
            empty={list.isPending ? 'Loading checkpoints…' : 'No hf-safetensors checkpoints match.'}
            columns={[
              {
                id: 'pick',
                header: () => <span className="sr-only">Choose</span>,
                cell: (c) => (
                  <input
                    type="checkbox"
                    className="h-4 w-4"
                    checked={value.includes(c.row.original.id)}
                    disabled={!value.includes(c.row.original.id) && value.length >= MAX_LAUNCH_CHECKPOINTS}
                    onChange={() => toggle(c.row.original.id)}
                    aria-label={`Evaluate ${c.row.original.label}`}
                  />
                ),
              },
              { header: 'Checkpoint', cell: (c) => c.row.original.label },
              { header: 'Algorithm', cell: (c) => c.row.original.algorithm ?? 'base' },
              { header: 'Step', cell: (c) => <span className="tabular-nums">{c.row.original.step}</span> },
            ]}
          />
        </div>
      )}
      {list.data ? <Pagination info={list.data} noun="checkpoint" onPage={setPage} /> : null}
    </div>
  )
}
