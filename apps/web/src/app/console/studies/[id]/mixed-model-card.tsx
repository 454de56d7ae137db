'use client'
// The mixed-effects model's row of the dashboard (studies.analysis: the worker's newest cached fit, never fitted here):
// per condition the model's accuracy with its 95% interval beside the Wilson interval, each condition's effect as an
// odds ratio against the reference, when and on how many responses it was fitted and how many came since, and
// "Refit" (studies.refitModel: queues a fit unless one is queued) with the fitting job's state.
import { useMutation, useQuery } from '@tanstack/react-query'

import { formatDate, plural } from '@/components/format'
import type { Interval } from '@/server/statistics'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { formatValue, IntervalCell } from './interval'

type Analysis = RouterOutputs['studies']['analysis']

const POLL_WHILE_FITTING_MS = 3000

function formatP(p: number | null): string {
  return p == null ? '— (not finite)' : p < 0.001 ? '< 0.001' : formatValue(p)
}

/** An odds ratio to two decimals; null past what a number holds (a condition without a finite estimate). */
function formatOdds(value: number | null): string {
  return value == null ? '∞' : value.toFixed(2)
}

function JobState({ job }: { job: Analysis['job'] }) {
  if (!job || job.status === 'SUCCEEDED') return null
  const label = job.status === 'QUEUED' ? 'A fit is queued' : job.status === 'RUNNING' ? 'Fitting…' : `The last fit ${job.status === 'FAILED' ? 'failed' : 'was cancelled'}`
  return (
    <div className="text-sm" data-testid="mixed-model-job" aria-live="polite">
      <p className={job.status === 'FAILED' ? 'text-red-800' : 'text-slate-700'}>
        {label} (requested {formatDate(job.createdAt)}).
      </p>
      {job.error ? <pre className="mt-1 overflow-x-auto rounded bg-red-50 p-2 text-xs whitespace-pre-wrap text-red-800">{job.error}</pre> : null}
    </div>
  )
}

export function MixedModelCard({ id, wilson }: { id: string; wilson: { name: string; accuracy: Interval }[] }) {
  const trpc = useTRPC()
  const analysis = useQuery(
    trpc.studies.analysis.queryOptions(
      { id },
      { refetchInterval: (q) => (q.state.data?.job && ['QUEUED', 'RUNNING'].includes(q.state.data.job.status) ? POLL_WHILE_FITTING_MS : false) },
    ),
  )
  const refit = useMutation(trpc.studies.refitModel.mutationOptions({ onSuccess: () => void analysis.refetch() }))
  const fitting = analysis.data?.job?.status === 'QUEUED' || analysis.data?.job?.status === 'RUNNING'

  return (
    <section className="card space-y-3" aria-labelledby="mixed-model-heading" data-testid="mixed-model">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h3 id="mixed-model-heading" className="font-semibold">
          Mixed-effects model
        </h3>
        <button
          type="button"
          className="btn-secondary"
          disabled={refit.isPending || fitting}
          onClick={() => refit.mutate({ id })}
          data-testid="mixed-model-refit"
        >
          {refit.isPending ? 'Queueing…' : fitting ? 'Fit queued' : 'Refit'}
        </button>
      </div>
      {refit.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {refit.error.message}
        </p>
      ) : null}
      {analysis.isPending ? (
        <p className="text-sm text-slate-600">Loading the model…</p>
      ) : analysis.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {analysis.error.message}
        </p>
      ) : (
        <ModelBody analysis={analysis.data} wilson={wilson} />
      )}
      {analysis.data ? <JobState job={analysis.data.job} /> : null}
    </section>
  )
}

function ModelBody({ analysis, wilson }: { analysis: Analysis; wilson: { name: string; accuracy: Interval }[] }) {
  const fit = analysis.latest
  if (!fit) {
    return (
      <p className="text-sm text-slate-600" data-testid="mixed-model-none">
        Not fitted yet. The worker fits it after responses are verified; {analysis.currentResponses} verified response
        {analysis.currentResponses === 1 ? '' : 's'} of included participants so far.
      </p>
    )
  }
  const fitted = (
    <p className="text-xs text-slate-600" data-testid="mixed-model-fitted">
      Fitted on {plural(fit.responseCount, 'response')} at {formatDate(fit.createdAt)}
      {analysis.newSinceFit ? `; ${analysis.newSinceFit} new response${analysis.newSinceFit === 1 ? '' : 's'} since` : '; none new since'}.
    </p>
  )
  const result = fit.result
  if (!result) {
    return (
      <>
        <p className="text-sm text-red-800" data-testid="mixed-model-error">
          No estimates: {fit.error ?? 'the fit stored no result'}
        </p>
        {fitted}
      </>
    )
  }
  const modelOf = new Map(result.conditions.map((c) => [c.condition, c]))
  const names = [...new Set([...wilson.map((w) => w.name), ...result.conditions.map((c) => c.condition)])]
  return (
    <>
      <div className="overflow-x-auto">
        <table className="w-full text-sm" data-testid="mixed-model-conditions">
          <caption className="sr-only">Accuracy by condition: the model’s estimate beside the Wilson interval, each with its 95% interval</caption>
          <thead>
            <tr className="text-left text-xs text-slate-600">
              <th className="py-1 pr-4 font-medium">Condition</th>
              <th className="py-1 pr-4 font-medium">Wilson (verified responses)</th>
              <th className="py-1 font-medium">Mixed model [95%]</th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => {
              const w = wilson.find((c) => c.name === name)
              const m = modelOf.get(name)
              return (
                <tr key={name} className="border-t border-slate-100">
                  <td className="py-1 pr-4">
                    {name}
                    {name === result.reference ? <span className="ml-1 text-xs text-slate-600">(reference)</span> : null}
                  </td>
                  <td className="py-1 pr-4">{w ? <IntervalCell interval={w.accuracy} /> : '—'}</td>
                  <td className="py-1 tabular-nums">
                    {m ? (
                      <>
                        <span className="font-medium">{formatValue(m.accuracy)}</span>{' '}
                        <span className="text-slate-600">
                          [{formatValue(m.low)}, {formatValue(m.high)}]
                        </span>
                      </>
                    ) : (
                      <span className="text-slate-600">not in the fit</span>
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
      <ul className="space-y-1 text-sm" data-testid="mixed-model-effects">
        {result.effects.map((e) => (
          <li key={`${e.condition}-${e.versus}`} className="tabular-nums">
            <span className="font-medium">
              {e.condition} vs {e.versus}
            </span>
            : odds ratio {formatOdds(e.oddsRatio)} [{formatOdds(e.low)}, {formatOdds(e.high)}], p = {formatP(e.p)}
          </li>
        ))}
      </ul>
      {fitted}
      <p className="text-xs text-slate-600">
        {result.method}; <code>{result.formula}</code>; {result.library}; {result.participants} participants, {result.problems} problems; random-intercept
        SDs: participant {result.randomEffects.participantSd.toFixed(2)}, problem {result.randomEffects.problemSd.toFixed(2)} (log-odds).
      </p>
      {result.warnings.length ? (
        <ul className="list-disc pl-5 text-xs text-amber-800" data-testid="mixed-model-warnings">
          {result.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
    </>
  )
}
