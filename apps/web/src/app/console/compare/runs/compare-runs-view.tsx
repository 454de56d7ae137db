'use client'
// Training runs overlaid, as W&B compares runs: one chart per metric with every chosen run's curve in its own colour
// (a TRL/GRPO pair by default, up to eight runs), their summaries side by side, and the settings that differ
// between them. While any of them trains, the page refreshes itself.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'

import { Breadcrumbs } from '@/components/breadcrumbs'
import { MetricChart } from '@/components/charts/metric-chart'
import { seriesColor } from '@/components/charts/palette'
import { RUN_METRIC_CHARTS, runSeries } from '@/components/charts/run-metric-charts'
import { DataTable, type ColumnDef } from '@/components/data-table'
import { StatusBadge } from '@/components/status-badge'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { runSummaryColumns } from './run-summary-columns'
import { CompareError } from '../compare-error'

type Comparison = RouterOutputs['runs']['compare']
type ComparedRun = Comparison['runs'][number]
type Difference = Comparison['differences'][number]

const REFRESH_MS = 5000

const training = (data: Comparison | undefined) => data?.runs.some((r) => r.status === 'QUEUED' || r.status === 'RUNNING') ?? false

export function CompareRunsView({ ids }: { ids: string[] }) {
  const trpc = useTRPC()
  const query = useQuery(
    trpc.runs.compare.queryOptions({ ids }, { retry: false, refetchInterval: (q) => (training(q.state.data) ? REFRESH_MS : false) }),
  )

  if (query.isPending) return <p className="text-sm text-slate-600">Loading runs…</p>
  if (query.isError) {
    const messages = query.error.data?.fieldErrors?.ids ?? [query.error.message]
    return <CompareError noun="runs" messages={messages} backHref="/console" />
  }
  return <Comparison data={query.data} live={training(query.data)} />
}

/** Each run's name in legends, with its seed (or position) where two runs share a name. */
function seriesNames(runs: ComparedRun[]): string[] {
  return runs.map((run, i) => {
    const twins = runs.filter((r) => r.name === run.name)
    if (twins.length === 1) return run.name
    return new Set(twins.map((t) => t.seed)).size === twins.length ? `${run.name} · seed ${run.seed}` : `${run.name} · #${i + 1}`
  })
}

function RunName({ index, run }: { index: number; run: ComparedRun }) {
  return (
    <span className="inline-flex min-w-0 items-center gap-2">
      <span aria-hidden="true" className="inline-block h-3 w-3 shrink-0 rounded-sm" style={{ background: seriesColor(index) }} />
      <Link href={`/console/runs/${run.id}`} className="font-medium break-words text-indigo-700 hover:underline">
        {run.name}
      </Link>
    </span>
  )
}

function Comparison({ data, live }: { data: Comparison; live: boolean }) {
  const { runs, differences } = data
  const thinned = Math.max(...runs.map((r) => r.metrics.stride))
  const names = seriesNames(runs)

  const summaryColumns: ColumnDef<ComparedRun>[] = [
    { header: 'Run', cell: (c) => <RunName index={c.row.index} run={c.row.original} /> },
    { header: 'Algorithm', accessorKey: 'algorithm' },
    { header: 'p_junior', cell: (c) => <span className="tabular-nums">{String(c.row.original.config.p_junior ?? '—')}</span> },
    { header: 'Seed', cell: (c) => <span className="tabular-nums">{c.row.original.seed}</span> },
    { header: 'Status', cell: (c) => <StatusBadge status={c.row.original.status} /> },
    ...runSummaryColumns<ComparedRun>(),
  ]

  const differenceColumns: ColumnDef<Difference>[] = [
    { header: 'Setting', cell: (c) => <code>{c.row.original.field}</code> },
    ...runs.map(
      (run, i): ColumnDef<Difference> => ({
        id: `run${i}`,
        header: () => (
          <span className="inline-flex items-center gap-2 normal-case">
            <span aria-hidden="true" className="inline-block h-3 w-3 shrink-0 rounded-sm" style={{ background: seriesColor(i) }} />
            {names[i]}
          </span>
        ),
        cell: (c) => <code className="break-all">{c.row.original.values[i]}</code>,
      }),
    ),
  ]

  return (
    <div className="space-y-6">
      <div>
        <Breadcrumbs trail={[{ href: '/console', label: 'Runs' }]} current="Compare" />
        <h1 className="mt-1 text-2xl font-semibold">Compare runs</h1>
      </div>

      <section className="card p-0" aria-labelledby="compared-runs-heading">
        <h2 id="compared-runs-heading" className="px-5 pt-4 pb-2 font-semibold">
          Runs
        </h2>
        <DataTable<ComparedRun> testId="compared-run" caption="The runs compared" data={runs} getRowId={(r) => r.id} columns={summaryColumns} />
      </section>

      <section className="card p-0" aria-labelledby="differences-heading" data-testid="run-differences">
        <h2 id="differences-heading" className="px-5 pt-4 pb-2 font-semibold">
          Settings that differ
        </h2>
        {differences.length ? (
          <DataTable<Difference> testId="run-difference" caption="Settings that differ between the runs" data={differences} getRowId={(d) => d.field} columns={differenceColumns} />
        ) : (
          <p className="px-5 pb-4 text-sm text-slate-600">None: the runs share every setting, models and dataset.</p>
        )}
      </section>

      <section className="space-y-3" aria-labelledby="curves-heading">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h2 id="curves-heading" className="text-lg font-semibold">
            Training curves
          </h2>
          <p className="text-xs text-slate-600" data-testid="compare-curves-summary">
            {thinned > 1 ? `Long runs drawn every ${thinned}th step` : 'Every logged step'}
            {live ? ' · updating live' : ''}
          </p>
        </div>
        <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-3">
          {RUN_METRIC_CHARTS.map((chart) => {
            // a chart every run leaves empty by its config says why, as on the run page
            const reasons = runs.map((r) => chart.never?.(r.config))
            const emptyText = reasons.every((reason) => reason) ? reasons[0] : undefined
            return (
              <MetricChart
                key={chart.id}
                testId={`compare-chart-${chart.id}`}
                title={chart.title}
                scale={chart.scale}
                series={runs.map((r, i) => runSeries(names[i]!, r.metrics.rows, chart))}
                emptyText={emptyText}
              />
            )
          })}
        </div>
      </section>
    </div>
  )
}

