'use client'
// The experiment page: every run's progress, training curves per arm with a band over seeds, held-out accuracy of each
// arm against the base, the claims table, the handoff curves overlaid per arm — each chart with its numbers as text —
// and cancel / resume / clone / download. Polls while anything of it is queued or running.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import Link from 'next/link'

import { formatDate } from '@/components/format'
import { LoadError } from '@/components/load-error'
import { ProgressBar } from '@/components/progress-bar'
import { StatusBadge } from '@/components/status-badge'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { ClaimsTable } from './claims-table'
import { HandoffCurves } from './handoff-curves'
import { HeldOutChart } from './held-out-chart'
import { parseReport } from './report'
import { SeedBandChart, type BandSeries } from './seed-band-chart'

const REFRESH_MS = 3000
const LIVE = ['QUEUED', 'RUNNING', 'CANCEL_REQUESTED']

type Experiment = RouterOutputs['experiments']['get']
type Curves = RouterOutputs['experiments']['curves']

/** Anything queued or running, or every run done but the report not yet written. */
function isLive(e: Experiment | undefined): boolean {
  if (!e) return false
  const active = e.runs.some((r) => r.job && LIVE.includes(r.job.status)) || e.evaluations.some((v) => v.job && LIVE.includes(v.job.status))
  return active || (LIVE.includes(e.status) && e.report == null)
}

const CURVES: { key: 'reward' | 'accuracy' | 'kl' | 'seniorShare' | 'completionLength'; title: string; digits?: number; domain?: [number, number] }[] = [
  { key: 'reward', title: 'Reward (team)', domain: [0, 1] },
  { key: 'accuracy', title: 'Accuracy', domain: [0, 1] },
  { key: 'kl', title: 'KL to reference', digits: 4 },
  { key: 'seniorShare', title: 'Senior token share', domain: [0, 1] },
  { key: 'completionLength', title: 'Response length (tokens)', digits: 1 },
]

function bandSeries(curves: Curves | undefined, key: (typeof CURVES)[number]['key']): BandSeries[] {
  return (curves?.arms ?? []).map((a) => ({
    arm: a.arm,
    points: a.points.map((p) => ({ step: p.step, seeds: p.seeds, ...p[key] })),
  }))
}

export function ExperimentView({ id }: { id: string }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const query = useQuery(
    trpc.experiments.get.queryOptions({ id }, { refetchInterval: (q) => (isLive(q.state.data) ? REFRESH_MS : false), staleTime: 0, retry: 1 }),
  )
  const live = isLive(query.data)
  const curves = useQuery(trpc.experiments.curves.queryOptions({ id }, { refetchInterval: live ? REFRESH_MS : false, enabled: query.isSuccess }))
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.experiments.get.queryKey({ id }) })
  const cancel = useMutation(trpc.experiments.cancel.mutationOptions({ onSettled: refresh }))
  const resume = useMutation(trpc.experiments.resume.mutationOptions({ onSettled: refresh }))

  if (query.isPending) return <p className="text-sm text-slate-600">Loading experiment…</p>
  if (query.isError) return <LoadError title={null} noun="experiment" error={query.error} backHref="/console/experiments" backLabel="Back to experiments" />

  const e = query.data
  const parsed = parseReport(e.report)
  const stepsDone = e.runs.reduce((s, r) => s + Math.min(r.currentStep, r.maxSteps), 0)
  const stepsAll = e.runs.reduce((s, r) => s + r.maxSteps, 0)
  const actionError = cancel.error?.message ?? resume.error?.message ?? null

  return (
    <div className="space-y-8">
      <header className="space-y-3">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold">{e.name}</h1>
          <StatusBadge status={e.status} testId="experiment-status" />
        </div>
        <p className="text-sm text-slate-600">
          Base {e.baseModel.name}; junior {e.juniorModel?.name ?? 'a frozen copy of the base'}; trained on {e.dataset.name}, evaluated on{' '}
          {e.evalDataset.name}; arms {e.arms.map((a) => `${a.name} (${a.algorithm})`).join(', ')}; seeds {e.seeds.join(', ')}. By {e.owner.email},{' '}
          {formatDate(e.createdAt)}
          {e.clonedFrom ? <> — a clone of <Link className="text-indigo-700 underline" href={`/console/experiments/${e.clonedFrom.id}`}>{e.clonedFrom.name}</Link></> : null}.
        </p>
        <div className="max-w-xl space-y-1">
          <ProgressBar value={stepsDone} max={stepsAll} label="Training steps of all runs" valueText={`${stepsDone} of ${stepsAll} steps`} testId="experiment-progress" />
          <p className="text-xs tabular-nums text-slate-600">{stepsDone} of {stepsAll} training steps · {e.evaluations.filter((v) => v.status === 'SUCCEEDED').length} of {e.runs.length + 1} evaluations done</p>
        </div>
        <div className="flex flex-wrap gap-3">
          {e.mayControl ? (
            <>
              <button type="button" className="btn-secondary" disabled={!e.canCancel || cancel.isPending} onClick={() => cancel.mutate({ id })}>
                Cancel experiment
              </button>
              <button type="button" className="btn-secondary" disabled={!e.canResume || resume.isPending} onClick={() => resume.mutate({ id })}>
                Resume experiment
              </button>
            </>
          ) : null}
          <Link className="btn-secondary" href={`/console/experiments/new?clone=${e.id}`}>Clone</Link>
          <a className="btn-secondary" href={`/api/experiments/${e.id}/archive`} download data-testid="download-archive">Download archive (.zip)</a>
        </div>
        {actionError ? <p role="alert" className="text-sm text-red-700">{actionError}</p> : null}
      </header>

      <section aria-labelledby="runs-heading" className="space-y-3">
        <h2 id="runs-heading" className="text-lg font-semibold">Runs</h2>
        <div className="card overflow-x-auto p-0" tabIndex={0} role="region" aria-label="Runs of the experiment">
          <table className="w-full text-sm" data-testid="experiment-runs">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr>
                <th scope="col" className="px-3 py-2">Arm</th>
                <th scope="col" className="px-3 py-2">Seed</th>
                <th scope="col" className="px-3 py-2">Status</th>
                <th scope="col" className="px-3 py-2">Step</th>
                <th scope="col" className="px-3 py-2">Run</th>
              </tr>
            </thead>
            <tbody>
              {e.runs.map((r) => (
                <tr key={r.id} className="border-t border-slate-100">
                  <td className="px-3 py-2">{r.armName}</td>
                  <td className="px-3 py-2 tabular-nums">{r.seed}</td>
                  <td className="px-3 py-2"><StatusBadge status={r.status} />{r.error ? <span className="ml-2 text-xs text-red-700">{r.error}</span> : null}</td>
                  <td className="px-3 py-2 tabular-nums">{r.currentStep}/{r.maxSteps}</td>
                  <td className="px-3 py-2"><Link className="text-indigo-700 hover:underline" href={`/console/runs/${r.id}`}>{r.name}</Link></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <details className="text-sm">
          <summary className="cursor-pointer text-slate-700">Evaluations ({e.evaluations.length})</summary>
          <ul className="mt-2 space-y-1">
            {e.evaluations.map((v) => (
              <li key={v.id} className="flex flex-wrap items-center gap-2">
                <StatusBadge status={v.status} />
                <Link className="text-indigo-700 hover:underline" href={`/console/evaluations/${v.id}`}>
                  {v.arm === 'base' ? 'base' : `${v.arm ?? 'run'} · s${v.seed} · step ${v.step}`}
                </Link>
              </li>
            ))}
          </ul>
        </details>
      </section>

      <section aria-labelledby="curves-heading" className="space-y-3">
        <h2 id="curves-heading" className="text-lg font-semibold">Training curves</h2>
        <p className="text-sm text-slate-600">
          Per arm: the mean over seeds at each step, and the min–max over seeds as a band.
          {curves.data && curves.data.stride > 1 ? ` Every ${curves.data.stride}th step is drawn (each run’s last step kept).` : ''}
        </p>
        <div className="grid gap-4 lg:grid-cols-2">
          {CURVES.map((c) => (
            <SeedBandChart key={c.key} title={c.title} series={bandSeries(curves.data, c.key)} digits={c.digits} yDomain={c.domain} testId={`curve-${c.key}`} />
          ))}
        </div>
      </section>

      <section aria-labelledby="claims-heading" className="space-y-4">
        <h2 id="claims-heading" className="text-lg font-semibold">Results</h2>
        {parsed == null ? (
          <p className="card text-sm text-slate-600" data-testid="report-pending">
            The claims are computed when every run is trained and every evaluation is in{live ? ' — this page updates by itself' : ''}.
          </p>
        ) : 'problem' in parsed ? (
          <p role="alert" className="card text-sm text-red-700">{parsed.problem}</p>
        ) : (
          <>
            <p className="text-sm text-slate-600">Computed {formatDate(parsed.report.computedAt)}.</p>
            <h3 className="font-medium">Held-out accuracy against the base</h3>
            <HeldOutChart rows={parsed.report.heldOut} />
            <h3 className="font-medium">The paper’s claims</h3>
            <ClaimsTable claims={parsed.report.claims} margin={parsed.report.margin} />
            <h3 className="font-medium">Handoff curves</h3>
            <HandoffCurves curves={parsed.report.handoffCurves} />
          </>
        )}
      </section>
    </div>
  )
}
