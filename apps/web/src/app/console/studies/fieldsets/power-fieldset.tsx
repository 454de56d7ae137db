'use client'
// Power before launch: expected accuracies per condition (prefilled from the chosen checkpoints' model-side handoff
// evaluation, editable), α, target power and heterogeneity; the simulated power against N (server/studies/power.ts,
// run here in the browser, and again by the server when the design is saved), the N needed and its cost.
import { useQuery } from '@tanstack/react-query'
import { useEffect, useRef, useState } from 'react'

import { Field, fieldAria } from '@/components/form-field'
import { formatMoney } from '@/components/format'
import { powerPlanSchema, type HandoffRule } from '@/server/api/routers/studies.schema'
import { DEFAULT_SIMULATIONS, POWER_TEST_TEXT, powerPlanFor, type PowerPlan } from '@/server/studies/power'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { DEFAULT_EXPECTED_ACCURACY, defaultPowerPlan } from '../design-defaults'
import { useChosenCheckpoints } from './conditions-fieldset'
import { DesignSection, ScaledNumberInput, blankToUndefined, useDesignForm } from './form-context'
import { PowerChart } from './power-chart'

/** An accuracy the researcher typed: the prefill leaves it alone (unless asked to). */
export const ENTERED_BY_HAND = 'entered by hand'

type Prefill = RouterOutputs['studies']['powerPrefill']
type Computed = { plan: PowerPlan & { elapsedMs: number } } | { problem: string }

const PLAN_FIELDS = [
  { name: 'powerPlan.alpha', id: 'powerPlan-alpha', label: 'α (two-sided)', hint: 'Significance level of the test, e.g. 0.05.' },
  { name: 'powerPlan.power', id: 'powerPlan-power', label: 'Target power', hint: 'The chance of detecting the difference if it is as expected, e.g. 0.8.' },
  {
    name: 'powerPlan.participantSd',
    id: 'powerPlan-participantSd',
    label: 'Participant heterogeneity (sd, logit)',
    hint: 'How much people differ in skill, on the log-odds scale; 0 = all alike.',
  },
  { name: 'powerPlan.problemSd', id: 'powerPlan-problemSd', label: 'Problem heterogeneity (sd, logit)', hint: 'How much problems differ in difficulty; 0 = all alike.' },
] as const

const finiteOr = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback)

/** The handoff rule as the prefill takes it, or null while it is not valid yet. */
function ruleInput(rule: { kind?: string; k?: unknown; f?: unknown } | undefined): HandoffRule | null {
  if (rule?.kind === 'step' && Number.isInteger(rule.k) && (rule.k as number) >= 0) return { kind: 'step', k: rule.k as number }
  if (rule?.kind === 'fraction' && typeof rule.f === 'number' && rule.f >= 0 && rule.f <= 1) return { kind: 'fraction', f: rule.f }
  return null
}

export function PowerFieldset() {
  const trpc = useTRPC()
  const { register, watch, setValue, getValues, errors, message } = useDesignForm()
  const conditions = watch('conditions')
  const names = conditions.map((c) => c.name)
  const checkpointIds = conditions.map((c) => c.checkpointId)
  const plan = watch('powerPlan')
  const rule = ruleInput(watch('handoffRule'))
  const [prefillVersion, setPrefillVersion] = useState(0)

  // accuracies are kept by condition name: follow renames (by position), additions and removals
  const namesKey = JSON.stringify(names)
  const previousNames = useRef(names)
  useEffect(() => {
    const current = getValues('powerPlan')
    const before = previousNames.current
    previousNames.current = names
    if (!current) return
    const accuracies: Record<string, number> = {}
    const sources: Record<string, string> = {}
    names.forEach((name, i) => {
      const from = name in current.accuracies ? name : before[i]
      accuracies[name] = (from !== undefined ? current.accuracies[from] : undefined) ?? DEFAULT_EXPECTED_ACCURACY
      const source = from !== undefined ? current.sources?.[from] : undefined
      if (source) sources[name] = source
    })
    if (JSON.stringify(accuracies) !== JSON.stringify(current.accuracies)) {
      setValue('powerPlan.accuracies', accuracies, { shouldDirty: true })
      setValue('powerPlan.sources', sources)
      setPrefillVersion((v) => v + 1)
    }
  }, [namesKey]) // the names' text, not the array (a new one every render)

  const allChosen = checkpointIds.length > 0 && checkpointIds.every(Boolean)
  const prefill = useQuery(
    trpc.studies.powerPrefill.queryOptions({ checkpointIds, handoffRule: rule ?? { kind: 'step', k: 0 } }, { enabled: allChosen && rule !== null && !!plan, staleTime: 60_000 }),
  )
  const applyPrefill = (data: Prefill, overrideHandEntries: boolean) => {
    const current = getValues('powerPlan')
    if (!current) return
    const accuracies = { ...current.accuracies }
    const sources = { ...current.sources }
    getValues('conditions').forEach((c) => {
      const found = data.find((p) => p.checkpointId === c.checkpointId)
      if (!found || (!overrideHandEntries && sources[c.name] === ENTERED_BY_HAND)) return
      if (found.accuracy !== null) accuracies[c.name] = found.accuracy
      sources[c.name] = found.source
    })
    setValue('powerPlan.accuracies', accuracies, { shouldDirty: true, shouldValidate: true })
    setValue('powerPlan.sources', sources)
    setPrefillVersion((v) => v + 1)
  }
  useEffect(() => {
    if (prefill.data) applyPrefill(prefill.data, false)
  }, [prefill.data])

  // the simulation, re-run a moment after the inputs stop changing (it takes a few hundred milliseconds)
  const chosen = useChosenCheckpoints(checkpointIds)
  const algorithmOf = new Map((chosen.data?.items ?? []).map((c) => [c.id, c.algorithm ?? null]))
  const study = {
    conditions: conditions.map((c) => ({ name: c.name, algorithm: algorithmOf.get(c.checkpointId) ?? null })),
    problemCount: watch('problemCount'),
    tasksPerParticipant: watch('tasksPerParticipant'),
    currency: watch('currency') ?? 'GBP',
    basePayCents: finiteOr(watch('basePayCents'), 0),
    bonusPerCorrectCents: finiteOr(watch('bonusPerCorrectCents'), 0),
    bonusCapCents: finiteOr(watch('bonusCapCents'), -1) >= 0 ? (watch('bonusCapCents') as number) : null,
  }
  const inputsKey = JSON.stringify({ study, plan: plan ? { ...plan, sources: undefined } : null })
  const [computed, setComputed] = useState<Computed | null>(null)
  useEffect(() => {
    if (!plan) return
    const timer = setTimeout(() => {
      const parsed = powerPlanSchema.safeParse(plan)
      if (!parsed.success) return setComputed({ problem: 'Fix the power plan’s fields to see the power.' })
      if (!Number.isInteger(study.problemCount) || !Number.isInteger(study.tasksPerParticipant)) {
        return setComputed({ problem: 'Give the number of problems and the tasks per participant to see the power.' })
      }
      try {
        setComputed({ plan: powerPlanFor({ ...study, problemCount: study.problemCount as number, tasksPerParticipant: study.tasksPerParticipant as number }, parsed.data) })
      } catch (error) {
        setComputed({ problem: `No power computed: ${(error as Error).message}` })
      }
    }, 400)
    return () => clearTimeout(timer)
  }, [inputsKey]) // what the simulation reads, as text

  const description = (
    <>
      How many participants the study needs to detect the difference between the two compared conditions (the dashboard’s{' '}
      {computed && 'plan' in computed && computed.plan.compared ? computed.plan.compared.label : 'TRL − GRPO'}) at your α and power. Each point
      simulates {DEFAULT_SIMULATIONS} studies of the design as it stands (tasks per participant, problems, the Latin square), with the expected
      accuracies below. The test: {POWER_TEST_TEXT} The plan is saved with the study and frozen into its preregistration at launch.
    </>
  )

  if (!plan) {
    return (
      <DesignSection id="power" title="Power" description={description}>
        <button type="button" className="btn-secondary" onClick={() => setValue('powerPlan', defaultPowerPlan(names), { shouldDirty: true })}>
          Add a power plan
        </button>
      </DesignSection>
    )
  }

  const accuraciesError = message('powerPlan.accuracies')
  return (
    <DesignSection id="power" title="Power" description={description}>
      <div className="grid gap-4 sm:grid-cols-4">
        {PLAN_FIELDS.map(({ name, id, label, hint }) => (
          <Field key={id} id={id} label={label} error={message(name)} hint={hint}>
            <input
              {...fieldAria(id, message(name), true)}
              className="input"
              type="number"
              inputMode="decimal"
              step="any"
              {...register(name, { setValueAs: blankToUndefined })}
            />
          </Field>
        ))}
      </div>
      <fieldset className="space-y-2" aria-describedby={accuraciesError ? 'powerPlan-accuracies-error' : 'powerPlan-accuracies-hint'}>
        <legend className="label">Expected accuracy per condition</legend>
        <p id="powerPlan-accuracies-hint" className="text-xs text-slate-600">
          The share of tasks a typical participant gets right on a typical problem, 0–1. Prefilled from the checkpoint’s model-side handoff
          evaluation (the junior finishing after the senior, at the point nearest this study’s handoff rule); edit it to your expectation.
          {prefill.isFetching ? ' Looking up evaluations…' : ''}
          {prefill.isError ? ` The evaluations could not be read: ${prefill.error.message}` : ''}
        </p>
        <ul className="grid gap-3 sm:grid-cols-2">
          {names.map((name, i) => {
            const id = `powerPlan-accuracy-${i}`
            // by key, not by a dotted path: a condition name may contain dots
            const error = errors.powerPlan?.accuracies?.[name]?.message
            return (
              <li key={`${name}-${i}`} data-testid="power-accuracy-row">
                <Field id={id} label={`Expected accuracy: ${name || `condition ${i + 1}`}`} error={error} hint={plan.sources?.[name] ?? 'default (no evaluation looked up yet)'}>
                  <ScaledNumberInput
                    key={`${name}-${prefillVersion}`}
                    {...fieldAria(id, error, true)}
                    className="input"
                    autoComplete="off"
                    scale={1}
                    decimals={3}
                    blank={undefined}
                    value={plan.accuracies[name]}
                    inputRef={null}
                    onBlur={() => undefined}
                    onChange={(value) => {
                      const current = getValues('powerPlan')!
                      setValue('powerPlan.accuracies', { ...current.accuracies, [name]: value as number }, { shouldDirty: true, shouldValidate: true })
                      setValue('powerPlan.sources', { ...current.sources, [name]: ENTERED_BY_HAND })
                    }}
                  />
                </Field>
              </li>
            )
          })}
        </ul>
        {accuraciesError ? (
          <p id="powerPlan-accuracies-error" className="field-error" data-testid="powerPlan-accuracies-error" data-form-error tabIndex={-1}>
            {accuraciesError}
          </p>
        ) : null}
        {prefill.data?.some((p) => p.accuracy !== null) ? (
          <button type="button" className="btn-secondary" onClick={() => applyPrefill(prefill.data!, true)}>
            Use the evaluations’ accuracies
          </button>
        ) : null}
      </fieldset>
      <PowerResult computed={computed} />
    </DesignSection>
  )
}

/** The simulated curve, N needed and its cost, or why there is none. */
function PowerResult({ computed }: { computed: Computed | null }) {
  if (!computed) return <p className="text-sm text-slate-600">Simulating…</p>
  if ('problem' in computed) return <p className="text-sm text-slate-700" data-testid="power-note">{computed.problem}</p>
  const { plan } = computed
  if (plan.note) return <p className="text-sm text-slate-700" data-testid="power-note">{plan.note}</p>
  const money = (cents: number) => formatMoney(cents, plan.currency)
  return (
    <div className="space-y-3" data-testid="power-result">
      <PowerChart curve={plan.curve} target={plan.power} nNeeded={plan.nNeeded} label={plan.compared?.label ?? ''} />
      <dl className="grid gap-2 text-sm sm:grid-cols-3">
        <div>
          <dt className="text-slate-600">Participants needed</dt>
          <dd className="font-medium" data-testid="power-n-needed">
            {plan.nNeeded === null ? `Not reached by ${plan.curve.at(-1)?.n ?? 0}` : plan.nNeeded}
          </dd>
        </div>
        <div>
          <dt className="text-slate-600">Cost</dt>
          <dd className="font-medium" data-testid="power-cost">
            {plan.costCents === null
              ? '—'
              : `${money(plan.costCents)} = ${plan.nNeeded} × (${money(plan.costCents / plan.nNeeded! - plan.expectedBonusCents)} base + ${money(plan.expectedBonusCents)} expected bonus)`}
          </dd>
        </div>
        <div>
          <dt className="text-slate-600">Simulation</dt>
          <dd>
            {plan.simulations} studies per N, seed {plan.seed}; {plan.elapsedMs} ms in this browser
          </dd>
        </div>
      </dl>
      <details className="text-sm">
        <summary className="cursor-pointer text-slate-700">Power at each N</summary>
        <table className="mt-2 text-xs">
          <thead>
            <tr>
              <th scope="col" className="pr-4 text-left">N</th>
              <th scope="col" className="text-left">Power</th>
            </tr>
          </thead>
          <tbody>
            {plan.curve.map((p) => (
              <tr key={p.n}>
                <td className="pr-4">{p.n}</td>
                <td>{p.power.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <p className="text-xs text-slate-600">
        The expected bonus is simulated from the same accuracies under your bonus rule and cap (screened-out participants, who get none, are not
        subtracted). Below about 30 responses per condition the z-test rejects somewhat more often than α, so power there is flattering.
      </p>
    </div>
  )
}
