'use client'
// The launch form: every TandemConfig field (from the trainer's spec, @tandem/config) with its default, unit
// and help, validated inline by the procedure's own schema (react-hook-form + zodResolver). "Launch pair"
// starts a TRL run and a GRPO run with the same base, seed and budget. "Paper settings" fills the paper's training
// settings (the trainer's `paper` preset).
import { zodResolver } from '@hookform/resolvers/zod'
import { useMutation } from '@tanstack/react-query'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { useForm, type FieldErrors, type Resolver, type UseFormRegister } from 'react-hook-form'

import { FormError } from '@/components/form-error'
import {
  CONFIG_FIELDS,
  CONFIG_GROUPS,
  launchPairSchema,
  launchRunSchema,
  type ConfigField,
  type LaunchRunInput,
} from '@/server/api/routers/runs.schema'
import { useTRPC } from '@/trpc/react'

import { formValue, presetFormValues } from './presets'

interface Option {
  id: string
  name: string
}

type Mode = 'single' | 'pair'
type Values = Record<string, unknown>

const P_JUNIOR_DEFAULT = CONFIG_FIELDS.find((f) => f.name === 'p_junior')?.default ?? 0.5

/** The form's starting values: the trainer's defaults, as the inputs hold them. */
function initialValues(baseModels: Option[], datasets: Option[]): Values {
  const values: Values = {
    name: '',
    algorithm: 'TRL',
    baseModelId: baseModels[0]?.id ?? '',
    juniorModelId: '',
    datasetId: (datasets.find((d) => d.name === 'digit-chains-train') ?? datasets.find((d) => d.name === 'arithmetic-train') ?? datasets[0])?.id ?? '',
  }
  for (const f of CONFIG_FIELDS) values[f.name] = formValue(f, f.default)
  return values
}

export function LaunchForm({ baseModels, datasets }: { baseModels: Option[]; datasets: (Option & { rowCount: number })[] }) {
  const trpc = useTRPC()
  const router = useRouter()
  const [mode, setMode] = useState<Mode>('single')
  const [formError, setFormError] = useState<string | null>(null)
  const form = useForm<Values>({
    // the schema parses the form's values (numbers, 'auto' for unset booleans) into the procedure's input
    resolver: (values, context, options) =>
      (zodResolver(mode === 'pair' ? launchPairSchema : launchRunSchema) as unknown as Resolver<Values>)(values, context, options),
    defaultValues: initialValues(baseModels, datasets),
    mode: 'onTouched',
  })
  const { register, handleSubmit, formState, setError, setValue, watch } = form
  const algorithm = watch('algorithm') as 'TRL' | 'GRPO'
  const grpoOnly = mode === 'single' && algorithm === 'GRPO'
  const [presetNote, setPresetNote] = useState<string | null>(null)
  const applyPaperPreset = () => {
    const values = presetFormValues('paper', { grpo: grpoOnly })
    for (const [name, value] of Object.entries(values)) setValue(name, value, { shouldDirty: true, shouldValidate: true })
    setPresetNote(`Filled ${Object.keys(values).join(', ')} from the paper's training settings; the learning rate is yours to choose.`)
  }

  const showServerErrors = (error: { message: string; data?: { fieldErrors?: Record<string, string[]> | null } | null }) => {
    const fieldErrors = error.data?.fieldErrors ?? null
    for (const [field, messages] of Object.entries(fieldErrors ?? {})) setError(field, { message: messages.join(' ') })
    setFormError(fieldErrors ? 'Fix the fields marked below.' : error.message)
  }
  const launch = useMutation(
    trpc.runs.launch.mutationOptions({ onSuccess: ({ id }) => router.push(`/console/runs/${id}`), onError: showServerErrors }),
  )
  const launchPair = useMutation(
    trpc.runs.launchPair.mutationOptions({
      onSuccess: ({ trl }) => router.push(`/console/runs/${trl.id}`),
      onError: showServerErrors,
    }),
  )
  const pending = launch.isPending || launchPair.isPending

  const onValid = (values: Values) => {
    setFormError(null)
    if (mode === 'pair') {
      const { algorithm: _ignored, ...rest } = values
      launchPair.mutate(rest as never)
    } else launch.mutate(values as LaunchRunInput)
  }

  const noModels = baseModels.length === 0
  const noDatasets = datasets.length === 0
  const errors = formState.errors

  return (
    <form
      onSubmit={handleSubmit(onValid, () => setFormError('Fix the fields marked below.'))}
      className="card space-y-6"
      noValidate
      aria-label="Launch training"
    >
      <FormError message={formError} />
      {noModels || noDatasets ? (
        <p className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800">
          {noModels ? 'No validated base models. ' : ''}
          {noDatasets ? 'No datasets. ' : ''}
          Register them under Models and Datasets, or run <code>tandem seed</code> (workers/trainer).
        </p>
      ) : null}

      <fieldset className="space-y-2">
        <legend className="label">What to launch</legend>
        <div className="flex flex-wrap gap-4 text-sm">
          {(
            [
              ['single', 'One run'],
              ['pair', 'A TRL/GRPO pair (same base, seed and budget)'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="flex items-center gap-2">
              <input type="radio" name="mode" value={value} checked={mode === value} onChange={() => setMode(value)} />
              {label}
            </label>
          ))}
        </div>
      </fieldset>

      <div className="grid gap-4 sm:grid-cols-2">
        <div className="sm:col-span-2">
          <TextField id="name" label={mode === 'pair' ? 'Pair name' : 'Run name'} register={register} errors={errors}
            hint={mode === 'pair' ? 'The runs are named “<name> · TRL” and “<name> · GRPO”.' : undefined}
            inputProps={{ placeholder: 'e.g. arith-seed0', autoComplete: 'off' }} />
        </div>

        {mode === 'single' ? (
          <fieldset>
            <legend className="label">Algorithm</legend>
            <div className="flex gap-4 pt-1">
              {(['TRL', 'GRPO'] as const).map((value) => (
                <label key={value} className="flex items-center gap-2 text-sm">
                  <input
                    type="radio"
                    value={value}
                    {...register('algorithm', {
                      onChange: () => setValue('p_junior', value === 'GRPO' ? 0 : P_JUNIOR_DEFAULT, { shouldValidate: true }),
                    })}
                  />
                  {value}
                </label>
              ))}
            </div>
            <ErrorText name="algorithm" errors={errors} />
          </fieldset>
        ) : (
          <p className="self-end text-sm text-slate-600">
            TRL uses p_junior below; GRPO the same config with p_junior = 0.
          </p>
        )}

        <SelectField id="baseModelId" label="Base model (senior)" register={register} errors={errors}
          options={baseModels.map((m) => ({ value: m.id, label: m.name }))} empty={noModels ? '(none validated)' : undefined} />
        <SelectField id="juniorModelId" label="Junior model" register={register} errors={errors}
          hint="Frozen while the senior trains; it must share the senior's tokenizer."
          options={[{ value: '', label: 'A frozen copy of the base model (default)' }, ...baseModels.map((m) => ({ value: m.id, label: m.name }))]} />
        <SelectField id="datasetId" label="Dataset" register={register} errors={errors}
          options={datasets.map((d) => ({ value: d.id, label: `${d.name} (${d.rowCount} problems)` }))}
          empty={noDatasets ? '(none)' : undefined} />
      </div>

      <div className="flex flex-wrap items-center gap-3 border-t border-slate-200 pt-4">
        <button type="button" className="btn-secondary" onClick={applyPaperPreset} data-testid="preset-paper">
          Paper settings
        </button>
        <p className="text-sm text-slate-500" role="status" data-testid="preset-note">
          {presetNote ?? 'Temperature 0.6, no KL term, 8 completions for 16 prompts per step, clip 0.2, the paper’s handoff rule.'}
        </p>
      </div>

      {CONFIG_GROUPS.map((group) => (
        <fieldset key={group.id} className="space-y-3 border-t border-slate-200 pt-4">
          <legend className="text-base font-semibold">{group.title}</legend>
          <p className="text-sm text-slate-500">{group.description}</p>
          <div className="grid gap-4 sm:grid-cols-2">
            {CONFIG_FIELDS.filter((f) => f.group === group.id).map((f) => (
              <ConfigInput key={f.name} field={f} register={register} errors={errors}
                disabled={f.name === 'p_junior' && grpoOnly}
                note={f.name === 'p_junior' && grpoOnly ? 'GRPO: the senior writes every word.' : undefined} />
            ))}
          </div>
        </fieldset>
      ))}

      <div className="flex justify-end gap-3">
        <button type="submit" className="btn-primary" disabled={pending}>
          {pending ? 'Launching…' : mode === 'pair' ? 'Launch pair' : 'Launch run'}
        </button>
      </div>
    </form>
  )
}

// ---------------------------------------------------------------- inputs

interface FieldProps {
  register: UseFormRegister<Values>
  errors: FieldErrors<Values>
}

function ErrorText({ name, errors }: { name: string; errors: FieldErrors<Values> }) {
  const message = errors[name]?.message
  if (!message) return null
  return (
    <p id={`${name}-error`} className="field-error" data-testid={`${name}-error`}>
      {String(message)}
    </p>
  )
}

function Hint({ id, text }: { id: string; text?: string }) {
  return text ? (
    <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
      {text}
    </p>
  ) : null
}

function describedBy(id: string, errors: FieldErrors<Values>, hint?: string) {
  return [errors[id] ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ') || undefined
}

function TextField({ id, label, hint, inputProps, register, errors }: FieldProps & {
  id: string; label: string; hint?: string; inputProps?: React.InputHTMLAttributes<HTMLInputElement>
}) {
  return (
    <div>
      <label htmlFor={id} className="label">{label}</label>
      <input id={id} className="input" aria-invalid={errors[id] ? true : undefined}
        aria-describedby={describedBy(id, errors, hint)} {...inputProps} {...register(id)} />
      <Hint id={id} text={hint} />
      <ErrorText name={id} errors={errors} />
    </div>
  )
}

function SelectField({ id, label, options, empty, hint, register, errors }: FieldProps & {
  id: string; label: string; options: { value: string; label: string }[]; empty?: string; hint?: string
}) {
  return (
    <div>
      <label htmlFor={id} className="label">{label}</label>
      <select id={id} className="input" aria-invalid={errors[id] ? true : undefined}
        aria-describedby={describedBy(id, errors, hint)} {...register(id)}>
        {empty ? <option value="">{empty}</option> : null}
        {options.map((o) => (
          <option key={o.value} value={o.value}>{o.label}</option>
        ))}
      </select>
      <Hint id={id} text={hint} />
      <ErrorText name={id} errors={errors} />
    </div>
  )
}

/** One TandemConfig field: a number box, a choice or a tri-state boolean, labelled by its config name. */
function ConfigInput({ field: f, disabled, note, register, errors }: FieldProps & {
  field: ConfigField; disabled?: boolean; note?: string
}) {
  const defaultText = f.default === null ? 'unset' : String(f.default)
  const hint = note ?? `${f.help} Default ${defaultText}${f.unit ? ` ${f.unit}` : ''}.`
  const label = (
    <label htmlFor={f.name} className="label">
      <span className="font-mono">{f.name}</span>
      {f.unit ? <span className="ml-1 font-normal text-slate-500">({f.unit})</span> : null}
    </label>
  )
  const common = {
    id: f.name,
    className: 'input',
    disabled,
    'aria-invalid': errors[f.name] ? true : undefined,
    'aria-describedby': describedBy(f.name, errors, hint),
  }
  let control: React.ReactNode
  if (f.choices) {
    control = (
      <select {...common} {...register(f.name)}>
        {f.choices.map((c) => (
          <option key={c} value={c}>{c}</option>
        ))}
      </select>
    )
  } else if (f.type === 'bool') {
    control = (
      <select {...common} {...register(f.name, { setValueAs: (v: string) => (v === 'auto' ? null : v === 'true') })}>
        <option value="auto">auto (unset)</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    )
  } else {
    control = (
      <input {...common} type="number" inputMode={f.type === 'int' ? 'numeric' : 'decimal'}
        step={f.type === 'int' ? 1 : 'any'} min={f.minimum ?? undefined} max={f.maximum ?? undefined}
        placeholder={f.default === null ? 'unset' : undefined}
        {...register(f.name, { valueAsNumber: true })} />
    )
  }
  return (
    <div>
      {label}
      {control}
      <Hint id={f.name} text={hint} />
      <ErrorText name={f.name} errors={errors} />
    </div>
  )
}
