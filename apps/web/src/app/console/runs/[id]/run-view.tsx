'use client'
// The run page: status, progress and ETA, live metric charts, the log tail, cancel/resume, checkpoints and the
// full config. While the run is live it polls: the run row, new metric steps only, and new log lines only.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import Link from 'next/link'
import { useEffect, useMemo, useRef, useState } from 'react'

import { ProgressBar } from '@/components/progress-bar'
import { MetricChart } from '@/components/charts/metric-chart'
import { RUN_METRIC_CHARTS, runSeries } from '@/components/charts/run-metric-charts'
import { DataTable, type ColumnDef } from '@/components/data-table'
import { Breadcrumbs } from '@/components/breadcrumbs'
import { formatDate, formatDuration, formatNumber, plural } from '@/components/format'
import { LoadError } from '@/components/load-error'
import { StatusBadge } from '@/components/status-badge'
import { useTRPC, useTRPCClient, type RouterOutputs } from '@/trpc/react'

import { CheckpointSize, CheckpointSizeNote } from './checkpoint-size'
import { RunRollouts } from './run-rollouts'
import { RunTrackers } from './run-trackers'

type Run = RouterOutputs['runs']['get']
type MetricRow = RouterOutputs['runs']['metrics']['rows'][number]
type LogLine = RouterOutputs['runs']['logs']['lines'][number]
type Checkpoint = Run['checkpoints'][number]

const REFRESH_MS = 2000
const MAX_LOG_LINES = 500

/** Still changing: the worker may write progress, metrics or checkpoints. */
/** An ONNX export of one of the run's checkpoints is queued or running (the page polls until it is done). */
function exporting(run: Run | undefined): boolean {
  return run?.checkpoints.some((c) => c.onnx?.status === 'QUEUED' || c.onnx?.status === 'RUNNING') ?? false
}

function isLive(run: Run | undefined): boolean {
  if (!run) return false
  return run.status === 'QUEUED' || run.status === 'RUNNING' || run.job?.status === 'CANCEL_REQUESTED'
}

/** Loads every metric row once, then (while `live`) only the steps after the newest one it has. */
function useRunMetrics(id: string, live: boolean) {
  const client = useTRPCClient()
  const [state, setState] = useState<{ rows: MetricRow[]; total: number; stride: number; loaded: boolean }>({
    rows: [], total: 0, stride: 1, loaded: false,
  })
  const lastStep = useRef(0)
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = async () => {
      try {
        const page = await client.runs.metrics.query({ id, afterStep: lastStep.current })
        if (stopped) return
        if (page.rows.length) {
          lastStep.current = page.rows[page.rows.length - 1]!.step
          setState((s) => ({
            rows: [...s.rows.filter((r) => r.step < page.rows[0]!.step), ...page.rows],
            total: s.total + page.total,
            stride: Math.max(s.stride, page.stride),
            loaded: true,
          }))
        } else setState((s) => (s.loaded ? s : { ...s, loaded: true }))
      } catch {
        /* the run query shows errors; try again on the next tick */
      }
      if (!stopped && live) timer = setTimeout(poll, REFRESH_MS)
    }
    void poll()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [client, id, live])
  return state
}

/** The newest log lines, then (while `live`) the lines after the newest one it has. */
function useRunLogs(id: string, live: boolean) {
  const client = useTRPCClient()
  const [lines, setLines] = useState<LogLine[]>([])
  const after = useRef<string | undefined>(undefined)
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = async () => {
      try {
        const { lines: fresh } = await client.runs.logs.query({ id, after: after.current })
        if (stopped) return
        if (fresh.length) {
          after.current = fresh[fresh.length - 1]!.id
          setLines((old) => [...old, ...fresh].slice(-MAX_LOG_LINES))
        }
      } catch {
        /* retried on the next tick */
      }
      if (!stopped && live) timer = setTimeout(poll, REFRESH_MS)
    }
    void poll()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [client, id, live])
  return lines
}

/** Seconds left, from the pace of the last 20 logged steps; null until two steps are timed. */
function etaSeconds(rows: MetricRow[], currentStep: number, maxSteps: number): number | null {
  const timed = rows.filter((r) => r.elapsedSeconds != null).slice(-20)
  if (timed.length < 2) return null
  const first = timed[0]!
  const last = timed[timed.length - 1]!
  const perStep = (last.elapsedSeconds! - first.elapsedSeconds!) / (last.step - first.step)
  if (!(perStep > 0)) return null
  return Math.max(0, (maxSteps - currentStep) * perStep)
}


export function RunView({ id }: { id: string }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const runQuery = useQuery(
    trpc.runs.get.queryOptions(
      { id },
      { refetchInterval: (query) => (isLive(query.state.data) || exporting(query.state.data) ? REFRESH_MS : false), staleTime: 0, retry: 1 },
    ),
  )
  const live = isLive(runQuery.data)
  const metrics = useRunMetrics(id, live)
  const logs = useRunLogs(id, live)
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.runs.get.queryKey({ id }) })
  const cancel = useMutation(trpc.runs.cancel.mutationOptions({ onSettled: refresh }))
  const resume = useMutation(trpc.runs.resume.mutationOptions({ onSettled: refresh }))
  const exportOnnx = useMutation(trpc.runs.exportOnnx.mutationOptions({ onSettled: refresh }))
  const exportMutate = exportOnnx.mutate

  const checkpointColumns = useMemo<ColumnDef<Checkpoint>[]>(
    () => [
      { header: 'Step', accessorKey: 'step', cell: (c) => <span className="tabular-nums">{c.row.original.step}</span> },
      { header: 'Format', accessorKey: 'format' },
      { header: 'Size', cell: (c) => <CheckpointSize sizeBytes={c.row.original.sizeBytes} path={c.row.original.path} /> },
      {
        header: 'SHA-256',
        cell: (c) => (
          <code className="text-xs" title={c.row.original.sha256}>
            {c.row.original.sha256.slice(0, 12)}…
          </code>
        ),
      },
      { header: 'Saved', cell: (c) => formatDate(c.row.original.createdAt) },
      {
        header: 'Actions',
        cell: (c) =>
          c.row.original.format === 'hf-safetensors' ? (
            <span className="flex flex-wrap items-center gap-x-3 gap-y-1">
              <Link className="text-indigo-700 hover:underline" href={`/console/evaluations/new?checkpoint=${c.row.original.id}`}>
                Evaluate
              </Link>
              <OnnxExportAction checkpoint={c.row.original} onExport={() => exportMutate({ checkpointId: c.row.original.id })} />
            </span>
          ) : (
            <span className="text-slate-600">for live sessions</span>
          ),
      },
    ],
    [exportMutate],
  )

  if (runQuery.isPending) return <p className="text-sm text-slate-500">Loading run…</p>
  if (runQuery.isError) {
    return <LoadError title={null} noun="run" error={runQuery.error} backHref="/console" backLabel="Back to runs" />
  }

  const run = runQuery.data
  const config = run.config as Record<string, unknown>
  const eta = run.status === 'RUNNING' ? etaSeconds(metrics.rows, run.currentStep, run.maxSteps) : null
  const recent = metrics.rows.slice(-10).reverse()

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <Breadcrumbs trail={[{ href: '/console', label: 'Runs' }]} current={run.name} />
          <h1 className="mt-1 text-2xl font-semibold break-words" data-testid="run-name">
            {run.name}
          </h1>
          <p className="mt-1 text-sm text-slate-600">
            {run.algorithm} · p_junior {String(config.p_junior ?? '—')} · base model {run.baseModel.name} · junior{' '}
            {run.juniorModel?.name ?? 'frozen copy of the base'} · dataset {run.dataset.name} · seed {run.seed} · by{' '}
            {run.owner.email}
          </p>
          {run.pair.length ? (
            <p className="mt-1 text-sm" data-testid="run-pair">
              Pair:{' '}
              {run.pair.map((p) => (
                <Link key={p.id} href={`/console/runs/${p.id}`} className="text-indigo-700 hover:underline">
                  {p.name} ({p.algorithm}, {p.status.toLowerCase()})
                </Link>
              ))}{' '}
              ·{' '}
              <Link href={`/console/compare/runs?ids=${run.id},${run.pair[0]!.id}`} className="text-indigo-700 hover:underline">
                Compare curves
              </Link>
            </p>
          ) : null}
        </div>
        <div className="flex flex-wrap items-center gap-3">
          <StatusBadge status={run.job?.status === 'CANCEL_REQUESTED' ? 'CANCEL_REQUESTED' : run.status} testId="run-status" />
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
          {run.canResume ? (
            <button type="button" className="btn-primary" disabled={resume.isPending} onClick={() => resume.mutate({ id })}>
              {resume.isPending ? 'Resuming…' : 'Resume run'}
            </button>
          ) : null}
        </div>
      </div>
      {cancel.isError || resume.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {(cancel.error ?? resume.error)?.message}
        </p>
      ) : null}

      <section className="card space-y-2" aria-labelledby="progress-heading">
        <div className="flex flex-wrap justify-between gap-2 text-sm">
          <h2 id="progress-heading" className="font-medium">
            Progress
          </h2>
          <span className="tabular-nums text-slate-600">
            <span data-testid="run-progress">
              step {run.currentStep}/{run.maxSteps}
            </span>
            {eta !== null ? <span data-testid="run-eta"> · about {formatDuration(eta)} left</span> : null}
          </span>
        </div>
        <ProgressBar value={run.currentStep} max={run.maxSteps} label="Training progress" />
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

      <section aria-labelledby="charts-heading" className="space-y-3">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h2 id="charts-heading" className="text-lg font-semibold">
            Training curves
          </h2>
          <p className="text-xs text-slate-500" data-testid="metrics-summary">
            {plural(metrics.total, 'step')} logged
            {metrics.stride > 1 ? ` · drawn every ${metrics.stride}th step` : ''}
            {live ? ' · updating live' : ''}
          </p>
        </div>
        <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-4" data-testid="run-charts">
          {RUN_METRIC_CHARTS.map((c) => (
            <MetricChart key={c.id} title={c.title} series={[runSeries(run.name, metrics.rows, c)]} scale={c.scale}
              emptyText={c.never?.(config)} testId="metric-chart" />
          ))}
        </div>
      </section>

      <section className="card p-0" aria-labelledby="recent-heading">
        <h2 id="recent-heading" className="px-5 pt-4 pb-2 font-semibold">
          Latest steps
        </h2>
        <DataTable<MetricRow>
          testId="metric"
          data={recent}
          getRowId={(r) => String(r.step)}
          empty="No steps logged yet."
          columns={[
            { header: 'Step', accessorKey: 'step' },
            { header: 'Reward', cell: (c) => formatNumber(c.row.original.reward) },
            { header: 'Accuracy', cell: (c) => formatNumber(c.row.original.accuracy) },
            { header: 'KL', cell: (c) => formatNumber(c.row.original.kl, 4) },
            { header: 'Clip', cell: (c) => formatNumber(c.row.original.clipFraction, 4) },
            { header: 'Senior share', cell: (c) => formatNumber(c.row.original.seniorTokenShare) },
            {
              header: 'Zero-signal groups',
              cell: (c) =>
                `${c.row.original.zeroSignalGroups ?? '—'}${c.row.original.groups != null ? ` / ${c.row.original.groups}` : ''}`,
            },
            { header: 'Tokens/s', cell: (c) => formatNumber(c.row.original.tokensPerSecond, 1) },
          ]}
        />
      </section>

      <RunRollouts runId={id} live={live} />

      <RunTrackers outputDir={run.outputDir} config={config} />

      <section className="card space-y-2" aria-labelledby="log-heading">
        <h2 id="log-heading" className="font-semibold">
          Log
        </h2>
        <LogTail lines={logs} />
      </section>

      <section className="card p-0" aria-labelledby="checkpoints-heading">
        <h2 id="checkpoints-heading" className="px-5 pt-4 pb-2 font-semibold">
          Checkpoints
        </h2>
        <DataTable<Checkpoint>
          testId="checkpoint"
          data={run.checkpoints}
          getRowId={(c) => c.id}
          columns={checkpointColumns}
          empty="No checkpoints yet."
        />
        <CheckpointSizeNote paths={run.checkpoints.map((c) => c.path)} />
        {exportOnnx.error ? (
          <p className="field-error" role="alert">
            ONNX export not queued: {exportOnnx.error.message}
          </p>
        ) : null}
      </section>

      <details className="card text-sm" data-testid="run-config">
        <summary className="cursor-pointer font-semibold">Full config</summary>
        <DataTable<[string, unknown]>
          data={Object.entries(config)}
          getRowId={([k]) => k}
          caption="The run's TandemConfig"
          columns={[
            { header: 'Field', cell: (c) => <code>{c.row.original[0]}</code> },
            { header: 'Value', cell: (c) => <code>{JSON.stringify(c.row.original[1])}</code> },
          ]}
        />
      </details>
    </div>
  )
}

/** The newest log lines, kept scrolled to the bottom unless the reader scrolled up. */
function LogTail({ lines }: { lines: LogLine[] }) {
  const box = useRef<HTMLPreElement>(null)
  const pinned = useRef(true)
  useEffect(() => {
    if (box.current && pinned.current) box.current.scrollTop = box.current.scrollHeight
  }, [lines])
  if (lines.length === 0) return <p className="text-sm text-slate-500">No log lines yet.</p>
  return (
    <pre
      ref={box}
      role="log"
      aria-label="Worker log"
      tabIndex={0}
      data-testid="run-log"
      onScroll={(e) => {
        const el = e.currentTarget
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24
      }}
      className="max-h-72 overflow-auto rounded bg-slate-900 p-3 text-xs leading-5 whitespace-pre-wrap text-slate-100"
    >
      {lines.map((l) => `${new Date(l.createdAt).toISOString().slice(11, 19)}  ${l.line}`).join('\n')}
    </pre>
  )
}

/** Export to ONNX (for live study conditions), or where that export stands. */
function OnnxExportAction({ checkpoint, onExport }: { checkpoint: Checkpoint; onExport: () => void }) {
  const state = checkpoint.onnx
  if (state?.status === 'exported') return <span className="text-emerald-800" data-testid="onnx-state">ONNX exported</span>
  if (state?.status === 'QUEUED' || state?.status === 'RUNNING') {
    return (
      <span className="text-slate-600" data-testid="onnx-state">
        {state.status === 'QUEUED' ? 'ONNX export queued…' : 'exporting to ONNX…'}
      </span>
    )
  }
  return (
    <span className="flex flex-wrap items-center gap-x-2">
      <button type="button" className="text-indigo-700 hover:underline" onClick={onExport} data-testid="onnx-export">
        {state?.status === 'FAILED' ? 'Retry ONNX export' : 'Export to ONNX'}
      </button>
      {state?.status === 'FAILED' ? (
        <span className="text-xs text-red-700" data-testid="onnx-state" title={state.error ?? undefined}>
          failed{state.error ? `: ${state.error.slice(0, 120)}` : ''}
        </span>
      ) : null}
    </span>
  )
}
