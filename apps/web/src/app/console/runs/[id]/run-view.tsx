'use client'

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import Link from 'next/link'

import { formatBytes, formatDate, formatNumber } from '@/components/format'
import { StatusBadge } from '@/components/status-badge'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

type Run = RouterOutputs['runs']['get']

const REFRESH_MS = 2000

/** Still changing: the worker may write progress, metrics or checkpoints. */
function isLive(run: Run | undefined): boolean {
  if (!run) return false
  return run.status === 'QUEUED' || run.status === 'RUNNING' || run.job?.status === 'CANCEL_REQUESTED'
}

export function RunView({ id }: { id: string }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const runQuery = useQuery(
    trpc.runs.get.queryOptions(
      { id },
      { refetchInterval: (query) => (isLive(query.state.data) ? REFRESH_MS : false), staleTime: 0, retry: 1 },
    ),
  )
  const cancel = useMutation(
    trpc.runs.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.runs.get.queryKey({ id }) }),
    }),
  )

  if (runQuery.isPending) return <p className="text-sm text-slate-500">Loading run…</p>
  if (runQuery.isError) {
    return (
      <div className="card space-y-3">
        <p role="alert" className="text-sm text-red-700">
          {runQuery.error.data?.code === 'NOT_FOUND' ? 'There is no such run.' : runQuery.error.message}
        </p>
        <Link href="/console" className="btn-secondary">
          Back to runs
        </Link>
      </div>
    )
  }

  const run = runQuery.data
  const percent = run.maxSteps > 0 ? Math.min(100, Math.round((run.currentStep / run.maxSteps) * 100)) : 0
  const config = run.config as Record<string, unknown>

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <p className="text-sm text-slate-500">
            <Link href="/console" className="hover:underline">
              Runs
            </Link>{' '}
            / {run.id}
          </p>
          <h1 className="mt-1 text-2xl font-semibold" data-testid="run-name">
            {run.name}
          </h1>
          <p className="mt-1 text-sm text-slate-600">
            {run.algorithm} · p_junior {String(config.p_junior ?? '—')} · base model {run.baseModel.name} · dataset{' '}
            {run.dataset.name} · seed {run.seed} · by {run.owner.email}
          </p>
        </div>
        <div className="flex items-center gap-3">
          <StatusBadge status={run.status} testId="run-status" />
          {run.job?.status === 'CANCEL_REQUESTED' ? <StatusBadge status="CANCEL_REQUESTED" testId="job-status" /> : null}
          {run.canCancel ? (
            <button
              type="button"
              className="btn-danger"
              disabled={cancel.isPending}
              onClick={() => {
                if (window.confirm('Cancel this run? A running job stops after its current step.')) cancel.mutate({ id })
              }}
            >
              {cancel.isPending ? 'Cancelling…' : 'Cancel run'}
            </button>
          ) : null}
        </div>
      </div>
      {cancel.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {cancel.error.message}
        </p>
      ) : null}

      <section className="card space-y-2">
        <div className="flex justify-between text-sm">
          <span className="font-medium">Progress</span>
          <span className="tabular-nums text-slate-600" data-testid="run-progress">
            step {run.currentStep}/{run.maxSteps}
          </span>
        </div>
        <div
          className="h-2.5 w-full overflow-hidden rounded-full bg-slate-100"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={run.maxSteps}
          aria-valuenow={run.currentStep}
          aria-label="Training progress"
        >
          <div className="h-full rounded-full bg-indigo-600 transition-all" style={{ width: `${percent}%` }} />
        </div>
        <dl className="grid grid-cols-2 gap-2 pt-2 text-xs text-slate-500 sm:grid-cols-4">
          <div>
            <dt>Created</dt>
            <dd className="text-slate-700">{formatDate(run.createdAt)}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd className="text-slate-700">{formatDate(run.startedAt)}</dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd className="text-slate-700">{formatDate(run.finishedAt)}</dd>
          </div>
          <div>
            <dt>Job</dt>
            <dd className="text-slate-700">
              {run.job ? `${run.job.status.toLowerCase()} (attempt ${run.job.attempts})` : '—'}
              {run.job?.progressMessage ? ` · ${run.job.progressMessage}` : ''}
            </dd>
          </div>
        </dl>
        {run.error || run.job?.error ? (
          <pre className="mt-2 overflow-x-auto rounded bg-red-50 p-3 text-xs whitespace-pre-wrap text-red-800" data-testid="run-error">
            {run.error ?? run.job?.error}
          </pre>
        ) : null}
      </section>

      <section className="card overflow-x-auto p-0">
        <h2 className="px-5 pt-4 pb-2 font-semibold">Metrics</h2>
        {run.metrics.length === 0 ? (
          <p className="px-5 pb-5 text-sm text-slate-500">No steps logged yet.</p>
        ) : (
          <table className="data-table" data-testid="metrics-table">
            <thead>
              <tr>
                <th>Step</th>
                <th>Reward</th>
                <th>Accuracy</th>
                <th>KL</th>
                <th>Senior token share</th>
                <th>Zero-signal groups</th>
                <th>Tokens/s</th>
              </tr>
            </thead>
            <tbody className="tabular-nums">
              {run.metrics.map((m) => (
                <tr key={m.step} data-testid="metric-row">
                  <td>{m.step}</td>
                  <td>{formatNumber(m.reward)}</td>
                  <td>{formatNumber(m.accuracy)}</td>
                  <td>{formatNumber(m.kl, 4)}</td>
                  <td>{formatNumber(m.seniorTokenShare)}</td>
                  <td>
                    {m.zeroSignalGroups ?? '—'}
                    {m.groups != null ? ` / ${m.groups}` : ''}
                  </td>
                  <td>{formatNumber(m.tokensPerSecond, 1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card overflow-x-auto p-0">
        <h2 className="px-5 pt-4 pb-2 font-semibold">Checkpoints</h2>
        {run.checkpoints.length === 0 ? (
          <p className="px-5 pb-5 text-sm text-slate-500">No checkpoints yet.</p>
        ) : (
          <table className="data-table" data-testid="checkpoints-table">
            <thead>
              <tr>
                <th>Step</th>
                <th>Path</th>
                <th>SHA-256</th>
                <th>Size</th>
              </tr>
            </thead>
            <tbody>
              {run.checkpoints.map((c) => (
                <tr key={c.id} data-testid="checkpoint-row">
                  <td className="tabular-nums">{c.step}</td>
                  <td className="font-mono text-xs">{c.path}</td>
                  <td className="font-mono text-xs" title={c.sha256}>
                    {c.sha256.slice(0, 16)}…
                  </td>
                  <td className="tabular-nums">{formatBytes(c.sizeBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <details className="card text-sm">
        <summary className="cursor-pointer font-semibold">Config</summary>
        <pre className="mt-3 overflow-x-auto text-xs">{JSON.stringify(run.config, null, 2)}</pre>
      </details>
    </div>
  )
}
