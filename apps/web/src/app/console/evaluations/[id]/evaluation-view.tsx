'use client'
// One evaluation: its job's progress while it runs (polled, no reload), then every metric with its 95% interval,
// the handoff curves, the drift and surprisal histograms, and the example traces it stored.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'

import { Breadcrumbs } from '@/components/breadcrumbs'
import { ProgressBar } from '@/components/progress-bar'
import { LoadError } from '@/components/load-error'

import { HistogramChart } from '@/components/charts/histogram-chart'
import { IntervalLineChart } from '@/components/charts/interval-line-chart'
import { DataTable } from '@/components/data-table'
import { formatDate } from '@/components/format'
import { StatusBadge } from '@/components/status-badge'
import {
  CURVE_AXES, HISTOGRAM_AXES, METRIC_INFO, metricLabel, orderCurveNames, orderMetricNames, type Curve, type Estimate, type Histogram,
} from '@/server/evaluation-reports'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { VerdictBadge } from '../../traces/verdict-badge'
import { EstimateCell } from '../estimate'

type Evaluation = RouterOutputs['evaluations']['get']
type TraceRow = RouterOutputs['traces']['list']['items'][number]

const REFRESH_MS = 2000

function isLive(e: Evaluation | undefined): boolean {
  return !!e && (e.status === 'QUEUED' || e.status === 'RUNNING')
}

export function EvaluationView({ id }: { id: string }) {
  const trpc = useTRPC()
  const query = useQuery(
    trpc.evaluations.get.queryOptions({ id }, { refetchInterval: (q) => (isLive(q.state.data) ? REFRESH_MS : false), staleTime: 0, retry: 1 }),
  )
  const live = isLive(query.data)
  const status = query.data?.status
  // the worker stores the example traces with the report: fetched once the evaluation is no longer running
  const traces = useQuery(
    trpc.traces.list.queryOptions(
      { evaluationRunId: id, page: 1, pageSize: 20 },
      { enabled: status !== undefined && !live, staleTime: 0 },
    ),
  )

  if (query.isPending) return <p className="text-sm text-slate-600">Loading evaluation…</p>
  if (query.isError) {
    return <LoadError title="Evaluation" noun="evaluation" error={query.error} backHref="/console/evaluations" backLabel="Back to evaluations" />
  }

  const e = query.data
  const settings = e.settings
  const metrics: Record<string, Estimate> = Object.assign({}, ...e.reports.map((r) => r.metrics))
  const curves: Record<string, Curve> = Object.assign({}, ...e.reports.map((r) => r.curves))
  const histograms: Record<string, Histogram> = Object.assign({}, ...e.reports.map((r) => r.histograms))
  const progress = e.job ? Math.round(Math.min(1, Math.max(0, e.job.progress)) * 100) : 0

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <Breadcrumbs trail={[{ href: '/console/evaluations', label: 'Evaluations' }]} current={e.checkpoint.label} />
          <h1 className="mt-1 text-2xl font-semibold break-words" data-testid="evaluation-title">
            {e.checkpoint.label}
          </h1>
          <p className="mt-1 text-sm text-slate-600">
            {e.suites.join(', ')} · dataset {e.dataset?.name ?? '—'} · junior {e.juniorCheckpoint?.label ?? 'the run’s junior (base model)'} · k{' '}
            {String(settings.k ?? '—')} · seed {String(settings.seed ?? '—')}
            {settings.n_problems != null ? ` · first ${String(settings.n_problems)} problems` : ''} · by {e.createdByEmail ?? '—'},{' '}
            {formatDate(e.createdAt)}
          </p>
        </div>
        <StatusBadge status={e.status} testId="evaluation-status" />
      </div>

      {live || e.status === 'FAILED' || e.status === 'CANCELLED' ? (
        <section className="card space-y-2" aria-labelledby="progress-heading">
          <div className="flex justify-between text-sm">
            <h2 id="progress-heading" className="font-medium">
              Progress
            </h2>
            <span className="tabular-nums text-slate-600" data-testid="evaluation-progress">
              {progress}%{e.job?.progressMessage ? ` · ${e.job.progressMessage}` : ''}
            </span>
          </div>
          <ProgressBar value={progress} max={100} label="Evaluation progress" />
          <p className="text-xs text-slate-600">
            {e.job ? `Job ${e.job.status.toLowerCase()} (attempt ${e.job.attempts})` : 'No job'} · this page updates by itself.
          </p>
          {e.job?.error ? (
            <pre className="overflow-x-auto rounded bg-red-50 p-3 text-xs whitespace-pre-wrap text-red-800" data-testid="evaluation-error">
              {e.job.error}
            </pre>
          ) : null}
        </section>
      ) : null}

      {e.reports.length > 0 ? (
        <>
          <section className="card p-0" aria-labelledby="metrics-heading">
            <h2 id="metrics-heading" className="px-5 pt-4 pb-2 font-semibold">
              Metrics <span className="text-sm font-normal text-slate-600">(value [95% interval], n problems)</span>
            </h2>
            <DataTable<{ name: string; estimate: Estimate }>
              testId="metric"
              caption="Metrics with 95% intervals"
              data={orderMetricNames(Object.keys(metrics)).map((name) => ({ name, estimate: metrics[name]! }))}
              getRowId={(r) => r.name}
              columns={[
                {
                  header: 'Metric',
                  cell: (c) => (
                    <span>
                      <span className="font-medium">{metricLabel(c.row.original.name)}</span>
                      <span className="block font-mono text-xs text-slate-600">{c.row.original.name}</span>
                    </span>
                  ),
                },
                { header: 'Value [95% interval]', cell: (c) => <EstimateCell estimate={c.row.original.estimate} /> },
                { header: 'n', cell: (c) => <span className="tabular-nums">{c.row.original.estimate.n}</span> },
                {
                  header: 'About',
                  cell: (c) => {
                    const info = METRIC_INFO[c.row.original.name]
                    return (
                      <span className="text-xs whitespace-normal text-slate-600">
                        {info ? `${info.help}${info.unit ? ` (${info.unit})` : ''}${info.better ? ` ${info.better === 'higher' ? 'Higher' : 'Lower'} is better.` : ''}` : ''}
                      </span>
                    )
                  },
                },
              ]}
            />
          </section>

          {Object.keys(curves).length ? (
            <section className="space-y-3" aria-labelledby="curves-heading">
              <h2 id="curves-heading" className="font-semibold">
                Handoff curves
              </h2>
              <div className="grid gap-4 lg:grid-cols-2">
                {orderCurveNames(Object.keys(curves)).map((name) => [name, curves[name]!] as const).map(([name, curve]) => (
                  <IntervalLineChart
                    key={name}
                    testId={`curve-${name}`}
                    title={CURVE_AXES[name]?.title ?? name}
                    xLabel={CURVE_AXES[name]?.x ?? curve.x_name}
                    yLabel={CURVE_AXES[name]?.y ?? 'value'}
                    yDomain={[0, 1]}
                    series={[{ name: e.checkpoint.label, points: curve.points }]}
                    description={curve.points.map((p) => `${curve.x_name}=${p.x}: ${p.value?.toFixed(3) ?? 'undefined'}`).join('; ')}
                  />
                ))}
              </div>
            </section>
          ) : null}

          {Object.keys(histograms).length ? (
            <section className="space-y-3" aria-labelledby="histograms-heading">
              <h2 id="histograms-heading" className="font-semibold">
                Distributions
              </h2>
              <div className="grid gap-4 lg:grid-cols-2">
                {Object.entries(histograms).map(([name, h]) => (
                  <HistogramChart
                    key={name}
                    testId={`histogram-${name}`}
                    title={`${HISTOGRAM_AXES[name]?.title ?? name} (n = ${h.n})`}
                    xLabel={HISTOGRAM_AXES[name]?.x ?? name}
                    series={[{ name: e.checkpoint.label, ...h }]}
                  />
                ))}
              </div>
            </section>
          ) : null}
        </>
      ) : e.status === 'SUCCEEDED' ? (
        <p className="card text-sm text-slate-600">The evaluation finished without a report.</p>
      ) : null}

      <section className="card p-0" aria-labelledby="examples-heading">
        <div className="flex flex-wrap items-center justify-between gap-2 px-5 pt-4 pb-2">
          <h2 id="examples-heading" className="font-semibold">
            Example traces <span className="text-sm font-normal text-slate-600">({e.traceCount})</span>
          </h2>
          {e.traceCount > 0 ? (
            <Link href={`/console/traces?evaluationRunId=${e.id}`} className="text-sm text-indigo-700 hover:underline">
              All traces of this evaluation
            </Link>
          ) : null}
        </div>
        <DataTable<TraceRow>
          testId="example-trace"
          caption="Example traces of this evaluation"
          data={traces.data?.items ?? []}
          getRowId={(t) => t.id}
          empty={live ? 'Examples appear when the evaluation finishes.' : 'No example traces.'}
          columns={[
            {
              header: 'Problem',
              cell: (c) => (
                <Link href={`/console/traces/${c.row.original.id}`} className="block max-w-md truncate text-indigo-700 hover:underline">
                  {c.row.original.problem.problem}
                </Link>
              ),
            },
            { header: 'Schedule', cell: (c) => c.row.original.schedule },
            { header: 'Verdict', cell: (c) => <VerdictBadge verdict={c.row.original.verdict} /> },
          ]}
        />
      </section>

      <details className="card text-sm">
        <summary className="cursor-pointer font-semibold">Settings and versions</summary>
        <pre className="mt-3 overflow-x-auto text-xs">{JSON.stringify({ settings, versions: e.reports.at(-1)?.versions ?? null }, null, 2)}</pre>
      </details>
    </div>
  )
}
