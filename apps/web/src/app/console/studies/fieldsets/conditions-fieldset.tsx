'use client'
// Conditions: each a senior checkpoint (optionally live), chosen from the lab's checkpoints, with a suggested TRL/GRPO
// pair of the same base.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Controller, useFieldArray } from 'react-hook-form'

import { Field, fieldAria } from '@/components/form-field'
import { MAX_CONDITIONS } from '@/server/api/routers/studies.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { runCheckpointLabel } from '../design-defaults'
import { DesignSection, useDesignForm } from './form-context'
import { plural } from '@/components/format'

export type CheckpointOption = RouterOutputs['evaluations']['checkpoints']['items'][number]

/** "run · TRL · step 40" or "fixture (base)", as the picker lists checkpoints. */
export function checkpointOptionLabel(c: CheckpointOption): string {
  return c.runId && c.runName && c.algorithm
    ? runCheckpointLabel(c.runName, c.algorithm, c.step)
    : `${c.baseModelName ?? 'unknown model'} (base model, untrained)`
}

/** The chosen checkpoints as the evaluations router describes them (shared cache with the chooser's own query). */
export function useChosenCheckpoints(ids: string[]) {
  const trpc = useTRPC()
  const chosenIds = [...new Set(ids.filter(Boolean))]
  return useQuery(
    trpc.evaluations.checkpoints.queryOptions({ ids: chosenIds, page: 1, pageSize: 50 }, { enabled: chosenIds.length > 0, placeholderData: keepPreviousData }),
  )
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

export function ConditionsFieldset() {
  const { register, control, watch, message } = useDesignForm()
  const conditions = useFieldArray({ control, name: 'conditions' })
  return (
    <DesignSection
      id="conditions"
      title="Conditions"
      description={
        <>
          Each condition is a senior checkpoint whose reasoning participants continue ({conditions.fields.length} of at most {MAX_CONDITIONS}).
          Assignment balances conditions and problems across participants. A live condition&apos;s senior writes while the participant watches
          (it needs the live model service; its checkpoint is exported to ONNX at launch): the participant takes over at any moment, or at the
          handoff point below, and may hand back.
        </>
      }
    >
      <CheckpointChooser
        values={watch('conditions').map((c) => c.checkpointId)}
        onUse={(trl, grpo) =>
          conditions.replace([
            { name: 'TRL', checkpointId: trl },
            { name: 'GRPO', checkpointId: grpo },
          ])
        }
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
    </DesignSection>
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
  const chosen = useChosenCheckpoints(values)
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
              ? `${plural(list.data.total, 'checkpoint')} match${list.data.total > 100 ? ' (the newest 100 are listed)' : ''}; the lists below show them.`
              : 'Loading checkpoints…'}
        </p>
      </div>
      {children(sorted)}
    </div>
  )
}
