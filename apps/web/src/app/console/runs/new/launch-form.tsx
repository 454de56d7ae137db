'use client'

import { useMutation } from '@tanstack/react-query'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { z } from 'zod'

import {
  DEFAULT_MAX_COMPLETION_LENGTH,
  DEFAULT_P_JUNIOR,
  DEFAULT_SAVE_STEPS,
  launchRunSchema,
  type Algorithm,
  type LaunchRunInput,
} from '@/server/api/routers/runs.schema'
import { useTRPC } from '@/trpc/react'
import { FormError } from '@/components/form-error'

interface Option {
  id: string
  name: string
}

type Values = Record<
  | 'name' | 'baseModelId' | 'datasetId' | 'max_steps' | 'num_generations' | 'per_device_train_batch_size'
  | 'learning_rate' | 'seed' | 'p_junior' | 'save_steps' | 'max_completion_length',
  string
> & { algorithm: Algorithm }

type Errors = Partial<Record<string, string[]>>

const NUMBER_FIELDS = [
  'max_steps', 'num_generations', 'per_device_train_batch_size', 'learning_rate', 'seed', 'save_steps', 'max_completion_length',
] as const

/** Form strings to the procedure's input: numbers where numbers go, blanks left out (the schema says what is missing). */
function toInput(values: Values): LaunchRunInput {
  const num = (text: string) => (text.trim() === '' ? undefined : Number(text))
  const input: Record<string, unknown> = {
    name: values.name,
    algorithm: values.algorithm,
    baseModelId: values.baseModelId,
    datasetId: values.datasetId,
  }
  for (const field of NUMBER_FIELDS) input[field] = num(values[field])
  input.p_junior = values.algorithm === 'GRPO' ? 0 : num(values.p_junior)
  return input as LaunchRunInput
}

export function LaunchForm({ baseModels, datasets }: { baseModels: Option[]; datasets: (Option & { rowCount: number })[] }) {
  const trpc = useTRPC()
  const router = useRouter()
  const [values, setValues] = useState<Values>({
    name: '',
    algorithm: 'TRL',
    baseModelId: baseModels[0]?.id ?? '',
    datasetId: (datasets.find((d) => d.name === 'arithmetic-train') ?? datasets[0])?.id ?? '',
    max_steps: '60',
    num_generations: '8',
    per_device_train_batch_size: '32',
    learning_rate: '0.0001',
    seed: '0',
    p_junior: String(DEFAULT_P_JUNIOR),
    save_steps: String(DEFAULT_SAVE_STEPS),
    max_completion_length: String(DEFAULT_MAX_COMPLETION_LENGTH),
  })
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string | null>(null)

  const launch = useMutation(
    trpc.runs.launch.mutationOptions({
      onSuccess: ({ id }) => router.push(`/console/runs/${id}`),
      onError: (error) => {
        const fieldErrors = error.data?.fieldErrors ?? null
        setErrors(fieldErrors ?? {})
        setFormError(fieldErrors ? 'Fix the fields marked below.' : error.message)
      },
    }),
  )

  function set<K extends keyof Values>(key: K, value: Values[K]) {
    setValues((v) => ({ ...v, [key]: value }))
  }

  function onSubmit(event: React.FormEvent) {
    event.preventDefault()
    const input = toInput(values)
    const parsed = launchRunSchema.safeParse(input)
    if (!parsed.success) {
      setErrors(z.flattenError(parsed.error).fieldErrors)
      setFormError('Fix the fields marked below.')
      return
    }
    setErrors({})
    setFormError(null)
    launch.mutate(input)
  }

  const field = (key: keyof Values, label: string, props: React.InputHTMLAttributes<HTMLInputElement> = {}, hint?: string) => (
    <div>
      <label htmlFor={key} className="label">
        {label}
      </label>
      <input
        id={key}
        name={key}
        className="input"
        value={values[key]}
        onChange={(e) => set(key, e.target.value)}
        aria-invalid={errors[key] ? true : undefined}
        aria-describedby={errors[key] ? `${key}-error` : undefined}
        {...props}
      />
      {hint && !errors[key] ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
      <FieldError id={`${key}-error`} messages={errors[key]} />
    </div>
  )

  const noModels = baseModels.length === 0
  const noDatasets = datasets.length === 0

  return (
    <form onSubmit={onSubmit} className="card space-y-6" noValidate>
      <FormError message={formError} />
      {noModels || noDatasets ? (
        <p className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800">
          {noModels ? 'No base models are registered. ' : ''}
          {noDatasets ? 'No datasets are registered. ' : ''}
          Run <code>tandem seed</code> (workers/trainer) to add the default model and datasets.
        </p>
      ) : null}

      <div className="grid gap-4 sm:grid-cols-2">
        <div className="sm:col-span-2">{field('name', 'Run name', { placeholder: 'e.g. trl-arith-seed0', autoComplete: 'off' })}</div>

        <fieldset>
          <legend className="label">Algorithm</legend>
          <div className="flex gap-4 pt-1">
            {(['TRL', 'GRPO'] as const).map((algorithm) => (
              <label key={algorithm} className="flex items-center gap-2 text-sm">
                <input
                  type="radio"
                  name="algorithm"
                  value={algorithm}
                  checked={values.algorithm === algorithm}
                  onChange={() =>
                    setValues((v) => ({
                      ...v,
                      algorithm,
                      p_junior: algorithm === 'GRPO' ? '0' : v.p_junior === '0' ? String(DEFAULT_P_JUNIOR) : v.p_junior,
                    }))
                  }
                />
                {algorithm}
              </label>
            ))}
          </div>
          <FieldError id="algorithm-error" messages={errors.algorithm} />
        </fieldset>

        {field(
          'p_junior',
          'p_junior',
          { type: 'number', step: 'any', min: 0, max: 1, disabled: values.algorithm === 'GRPO' },
          values.algorithm === 'GRPO' ? 'GRPO: the senior writes every word.' : 'Chance the junior writes each word.',
        )}

        <div>
          <label htmlFor="baseModelId" className="label">
            Base model
          </label>
          <select
            id="baseModelId"
            name="baseModelId"
            className="input"
            value={values.baseModelId}
            onChange={(e) => set('baseModelId', e.target.value)}
            aria-invalid={errors.baseModelId ? true : undefined}
          >
            {noModels ? <option value="">(none registered)</option> : null}
            {baseModels.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
          <FieldError id="baseModelId-error" messages={errors.baseModelId} />
        </div>

        <div>
          <label htmlFor="datasetId" className="label">
            Dataset
          </label>
          <select
            id="datasetId"
            name="datasetId"
            className="input"
            value={values.datasetId}
            onChange={(e) => set('datasetId', e.target.value)}
            aria-invalid={errors.datasetId ? true : undefined}
          >
            {noDatasets ? <option value="">(none registered)</option> : null}
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.rowCount} problems)
              </option>
            ))}
          </select>
          <FieldError id="datasetId-error" messages={errors.datasetId} />
        </div>

        {field('max_steps', 'max_steps', { type: 'number', min: 1, step: 1 })}
        {field('num_generations', 'num_generations', { type: 'number', min: 2, step: 1 }, 'Completions per prompt (the group).')}
        {field('per_device_train_batch_size', 'per_device_train_batch_size', { type: 'number', min: 1, step: 1 }, 'A multiple of num_generations.')}
        {field('learning_rate', 'learning_rate', { type: 'number', step: 'any', min: 0 })}
        {field('seed', 'seed', { type: 'number', min: 0, step: 1 })}
        {field('save_steps', 'save_steps', { type: 'number', min: 1, step: 1 }, 'Checkpoint every N steps (the final step is always saved).')}
        {field('max_completion_length', 'max_completion_length', { type: 'number', min: 1, step: 1 })}
      </div>

      <div className="flex justify-end gap-3">
        <button type="submit" className="btn-primary" disabled={launch.isPending}>
          {launch.isPending ? 'Launching…' : 'Launch run'}
        </button>
      </div>
    </form>
  )
}

function FieldError({ id, messages }: { id: string; messages?: string[] }) {
  if (!messages?.length) return null
  return (
    <p id={id} className="field-error" data-testid={id}>
      {messages.join(' ')}
    </p>
  )
}
