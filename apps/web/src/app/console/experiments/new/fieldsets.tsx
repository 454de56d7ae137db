'use client'
// The new-experiment form's fieldsets, one component each: models, data, budget (with Paper settings), arms, seeds,
// evaluation. Field names are the procedure's own (`config.max_steps`, `arms.1.overrides.p_junior`,
// `evaluation.settings.k`), so the schema's and the server's errors land on the field that caused them.
import { get, useFieldArray, type FieldErrors, type UseFormReturn } from 'react-hook-form'

import { fieldAria, Field } from '@/components/form-field'
import { ARM_ALGORITHMS, MAX_ARMS } from '@/server/api/routers/experiments.schema'
import { SUITES, SUITE_HELP } from '@/server/api/routers/evaluations.schema'
import { CONFIG_FIELDS, CONFIG_GROUPS, type ConfigField } from '@/server/api/routers/runs.schema'

import { presetFormValues } from '../../runs/new/presets'

export type Values = Record<string, unknown>
type Form = UseFormReturn<Values>
export interface Option {
  id: string
  name: string
}

const errorOf = (errors: FieldErrors<Values>, name: string): string | undefined => {
  const e = get(errors, name) as { message?: unknown } | undefined
  return typeof e?.message === 'string' ? e.message : undefined
}

/** An input id from a field name (dots are valid in ids but awkward in CSS selectors). */
const idOf = (name: string) => name.replaceAll('.', '-')

function Select({ form, name, label, options, hint }: { form: Form; name: string; label: string; options: { value: string; label: string }[]; hint?: string }) {
  const error = errorOf(form.formState.errors, name)
  return (
    <Field id={idOf(name)} label={label} error={error} hint={hint}>
      <select className="input" {...fieldAria(idOf(name), error, Boolean(hint))} {...form.register(name)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>{o.label}</option>
        ))}
      </select>
    </Field>
  )
}

export function ModelsFieldset({ form, baseModels }: { form: Form; baseModels: Option[] }) {
  return (
    <fieldset className="space-y-3">
      <legend className="text-base font-semibold">Models</legend>
      <div className="grid gap-4 sm:grid-cols-2">
        <Select form={form} name="baseModelId" label="Base model (senior)" options={baseModels.map((m) => ({ value: m.id, label: m.name }))} />
        <Select form={form} name="juniorModelId" label="Junior model" hint="Frozen; it must share the senior's tokenizer."
          options={[{ value: '', label: 'A frozen copy of the base model (self-paired, default)' }, ...baseModels.map((m) => ({ value: m.id, label: m.name }))]} />
      </div>
    </fieldset>
  )
}

export function DataFieldset({ form, datasets }: { form: Form; datasets: (Option & { rowCount: number })[] }) {
  const options = datasets.map((d) => ({ value: d.id, label: `${d.name} (${d.rowCount} problems)` }))
  return (
    <fieldset className="space-y-3 border-t border-slate-200 pt-4">
      <legend className="text-base font-semibold">Data</legend>
      <div className="grid gap-4 sm:grid-cols-2">
        <Select form={form} name="datasetId" label="Training split" options={options} />
        <Select form={form} name="evalDatasetId" label="Held-out split" hint="Every final checkpoint and the base are evaluated on it." options={options} />
      </div>
    </fieldset>
  )
}

/** One TandemConfig field of the shared budget, under `config.<name>`. */
function BudgetInput({ form, field: f }: { form: Form; field: ConfigField }) {
  const name = `config.${f.name}`
  const id = idOf(name)
  const error = errorOf(form.formState.errors, name)
  const hint = `${f.help} Default ${f.default === null ? 'unset' : String(f.default)}${f.unit ? ` ${f.unit}` : ''}.`
  const aria = fieldAria(id, error, true)
  let control: React.ReactNode
  if (f.choices) {
    control = (
      <select className="input" {...aria} {...form.register(name)}>
        {f.choices.map((c) => (
          <option key={c} value={c}>{c}</option>
        ))}
      </select>
    )
  } else if (f.type === 'bool') {
    control = (
      <select className="input" {...aria} {...form.register(name, { setValueAs: (v: string) => (v === 'auto' ? null : v === 'true') })}>
        <option value="auto">auto (unset)</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    )
  } else {
    control = (
      <input className="input" type="number" step={f.type === 'int' ? 1 : 'any'} inputMode={f.type === 'int' ? 'numeric' : 'decimal'}
        placeholder={f.default === null ? 'unset' : undefined} {...aria} {...form.register(name, { valueAsNumber: true })} />
    )
  }
  return (
    <Field id={id} label={f.name} error={error} hint={hint}>
      {control}
    </Field>
  )
}

export function BudgetFieldset({ form }: { form: Form }) {
  const applyPaper = () => {
    const values = presetFormValues('paper')
    for (const [name, value] of Object.entries(values)) form.setValue(`config.${name}` as never, value as never, { shouldDirty: true, shouldValidate: true })
  }
  return (
    <fieldset className="space-y-3 border-t border-slate-200 pt-4">
      <legend className="text-base font-semibold">Budget (shared by every run)</legend>
      <div className="flex flex-wrap items-center gap-3">
        <button type="button" className="btn-secondary" onClick={applyPaper} data-testid="preset-paper">Paper settings</button>
        <p className="text-sm text-slate-600">
          Temperature 0.6, no KL term, 8 completions per prompt, clip 0.2, the paper’s handoff rule. Each run’s seed is one of
          the seeds below; an arm may set its own p_junior, handoff rule and junior token weight.
        </p>
      </div>
      {CONFIG_GROUPS.map((group) => (
        <details key={group.id} className="rounded-md border border-slate-200 p-3" open={group.id === 'grpo'}>
          <summary className="cursor-pointer text-sm font-medium">{group.title}: {group.description}</summary>
          <div className="mt-3 grid gap-4 sm:grid-cols-2">
            {CONFIG_FIELDS.filter((f) => f.group === group.id && f.name !== 'seed').map((f) => (
              <BudgetInput key={f.name} form={form} field={f} />
            ))}
          </div>
        </details>
      ))}
    </fieldset>
  )
}

const HANDOFF_RULES = CONFIG_FIELDS.find((f) => f.name === 'handoff_rule')?.choices ?? []

export function ArmsFieldset({ form }: { form: Form }) {
  const arms = useFieldArray({ control: form.control, name: 'arms' as never })
  const armsError = errorOf(form.formState.errors, 'arms') ?? (get(form.formState.errors, 'arms.root.message') as string | undefined)
  return (
    <fieldset className="space-y-3 border-t border-slate-200 pt-4">
      <legend className="text-base font-semibold">Arms</legend>
      <p className="text-sm text-slate-600">
        At least one GRPO arm (every claim is measured against it); TANDEM arms at one or more p_junior; ablations with another
        handoff rule or junior token weight. Blank overrides take the budget’s value.
      </p>
      {armsError ? <p className="field-error" role="alert" data-testid="arms-error">{armsError}</p> : null}
      <ol className="space-y-3">
        {arms.fields.map((arm, i) => {
          const prefix = `arms.${i}`
          const err = (name: string) => errorOf(form.formState.errors, `${prefix}.${name}`)
          return (
            <li key={arm.id} className="grid gap-3 rounded-md border border-slate-200 p-3 sm:grid-cols-5" data-testid={`arm-${i}`}>
              <Field id={idOf(`${prefix}.name`)} label={`Arm ${i + 1} name`} error={err('name')}>
                <input className="input" autoComplete="off" {...fieldAria(idOf(`${prefix}.name`), err('name'))} {...form.register(`${prefix}.name`)} />
              </Field>
              <Field id={idOf(`${prefix}.algorithm`)} label="Algorithm" error={err('algorithm')}>
                <select className="input" {...fieldAria(idOf(`${prefix}.algorithm`), err('algorithm'))} {...form.register(`${prefix}.algorithm`)}>
                  {ARM_ALGORITHMS.map((a) => (
                    <option key={a} value={a}>{a}</option>
                  ))}
                </select>
              </Field>
              <Field id={idOf(`${prefix}.overrides.p_junior`)} label="p_junior" error={err('overrides.p_junior')}>
                <input className="input" type="number" step="any" min={0} max={1} placeholder="budget’s"
                  {...fieldAria(idOf(`${prefix}.overrides.p_junior`), err('overrides.p_junior'))}
                  {...form.register(`${prefix}.overrides.p_junior`, { valueAsNumber: true })} />
              </Field>
              <Field id={idOf(`${prefix}.overrides.handoff_rule`)} label="handoff_rule" error={err('overrides.handoff_rule')}>
                <select className="input" {...fieldAria(idOf(`${prefix}.overrides.handoff_rule`), err('overrides.handoff_rule'))} {...form.register(`${prefix}.overrides.handoff_rule`)}>
                  <option value="">budget’s</option>
                  {HANDOFF_RULES.map((r) => (
                    <option key={r} value={r}>{r}</option>
                  ))}
                </select>
              </Field>
              <div className="flex items-end gap-2">
                <Field id={idOf(`${prefix}.overrides.junior_token_weight`)} label="junior_token_weight" error={err('overrides.junior_token_weight')} className="flex-1">
                  <input className="input" type="number" step="any" min={0} max={1} placeholder="budget’s"
                    {...fieldAria(idOf(`${prefix}.overrides.junior_token_weight`), err('overrides.junior_token_weight'))}
                    {...form.register(`${prefix}.overrides.junior_token_weight`, { valueAsNumber: true })} />
                </Field>
                <button type="button" className="btn-secondary" onClick={() => arms.remove(i)} disabled={arms.fields.length <= 1}
                  aria-label={`Remove arm ${i + 1}`}>
                  Remove
                </button>
              </div>
            </li>
          )
        })}
      </ol>
      <button type="button" className="btn-secondary" disabled={arms.fields.length >= MAX_ARMS}
        onClick={() => arms.append({ name: `tandem-${arms.fields.length + 1}`, algorithm: 'TANDEM', overrides: {} } as never)}>
        Add arm
      </button>
    </fieldset>
  )
}

export function SeedsFieldset({ form }: { form: Form }) {
  const error = errorOf(form.formState.errors, 'seeds') ?? errorOf(form.formState.errors, 'seeds.0')
  return (
    <fieldset className="space-y-3 border-t border-slate-200 pt-4">
      <legend className="text-base font-semibold">Seeds</legend>
      <Field id="seeds" label="Seeds (comma-separated)" error={error} hint="Every arm runs once per seed; 3 or more for the multi-seed intervals.">
        <input className="input" autoComplete="off" inputMode="numeric" {...fieldAria('seeds', error, true)} {...form.register('seeds')} />
      </Field>
    </fieldset>
  )
}

const EVAL_FIELDS: { name: string; label: string; step?: string; list?: boolean; nullable?: boolean }[] = [
  { name: 'k', label: 'k (samples per problem)' },
  { name: 'temperature', label: 'temperature', step: 'any' },
  { name: 'top_p', label: 'top_p', step: 'any' },
  { name: 'top_k', label: 'top_k' },
  { name: 'max_new_tokens', label: 'max_new_tokens' },
  { name: 'p_junior', label: 'p_junior (tandem suite)', step: 'any' },
  { name: 'n_problems', label: 'n_problems (blank: all)', nullable: true },
  { name: 'seed', label: 'seed' },
  { name: 'handoff_points', label: 'handoff_points (steps the senior writes)', list: true },
  { name: 'handoff_fractions', label: 'handoff_fractions', list: true },
]

export function EvaluationFieldset({ form }: { form: Form }) {
  const suitesError = errorOf(form.formState.errors, 'evaluation.suites')
  return (
    <fieldset className="space-y-3 border-t border-slate-200 pt-4">
      <legend className="text-base font-semibold">Evaluation (every final checkpoint and the base)</legend>
      <fieldset>
        <legend className="label">Suites</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {SUITES.map((s) => (
            <label key={s} className="flex items-start gap-2 text-sm">
              <input type="checkbox" value={s} className="mt-1" {...form.register('evaluation.suites')} />
              <span><span className="font-medium">{s}</span>: {SUITE_HELP[s]}</span>
            </label>
          ))}
        </div>
        {suitesError ? <p className="field-error" id="evaluation-suites-error">{suitesError}</p> : null}
      </fieldset>
      <div className="grid gap-4 sm:grid-cols-2">
        {EVAL_FIELDS.map((f) => {
          const name = `evaluation.settings.${f.name}`
          const error = errorOf(form.formState.errors, name)
          return (
            <Field key={f.name} id={idOf(name)} label={f.label} error={error}>
              {f.list ? (
                <input className="input" autoComplete="off" {...fieldAria(idOf(name), error)} {...form.register(name)} />
              ) : (
                <input className="input" type="number" step={f.step ?? 1} {...fieldAria(idOf(name), error)}
                  {...form.register(name, { setValueAs: (v: unknown) => (v === '' || v === null ? (f.nullable ? null : Number.NaN) : Number(v)) })} />
              )}
            </Field>
          )
        })}
      </div>
    </fieldset>
  )
}
