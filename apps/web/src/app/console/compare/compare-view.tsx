'use client'
// Two or more finished evaluations side by side: the paper's four claims for a TRL/GRPO pair at a glance, every
// metric with each checkpoint's interval (and the paired difference for two), handoff curves and drift and
// surprisal histograms overlaid.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { HistogramChart } from '@/components/charts/histogram-chart'
import { IntervalLineChart } from '@/components/charts/interval-line-chart'
import { seriesColor } from '@/components/charts/palette'
import { DataTable, type ColumnDef } from '@/components/data-table'
import {
  CURVE_AXES, difference, evaluateClaims, HISTOGRAM_AXES, METRIC_INFO, metricLabel, type ClaimResult, type ClaimStatus, type Estimate,
} from '@/server/evaluation-reports'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { DifferenceCell, EstimateCell } from '../evaluations/estimate'

type Comparison = RouterOutputs['evaluations']['compare']
type Evaluation = Comparison['evaluations'][number]
type MetricRow = Comparison['metrics'][number]

/** Names for the series: the checkpoint's label, plus the seed (or position) where two share a checkpoint. */
function seriesNames(evaluations: Evaluation[]): string[] {
  return evaluations.map((e, i) => {
    const twins = evaluations.filter((o) => o.checkpoint.label === e.checkpoint.label)
    if (twins.length === 1) return e.checkpoint.label
    const seed = e.settings.seed
    const seeds = new Set(twins.map((t) => JSON.stringify(t.settings.seed)))
    return `${e.checkpoint.label} · ${seeds.size === twins.length ? `seed ${String(seed)}` : `#${i + 1}`}`
  })
}

export function CompareView({ ids }: { ids: string[] }) {
  const trpc = useTRPC()
  const query = useQuery(trpc.evaluations.compare.queryOptions({ ids }, { retry: false }))

  if (query.isPending) return <p className="text-sm text-slate-600">Loading evaluations…</p>
  if (query.isError) {
    const messages = query.error.data?.fieldErrors?.ids ?? [query.error.message]
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Compare evaluations</h1>
        <div role="alert" className="card space-y-2 text-sm text-red-800" data-testid="compare-error">
          <p className="font-medium">These evaluations cannot be compared:</p>
          <ul className="list-disc pl-5">
            {messages.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </div>
        <Link href="/console/evaluations" className="btn-secondary">
          Back to evaluations
        </Link>
      </div>
    )
  }
  return <Comparison data={query.data} />
}

function Comparison({ data }: { data: Comparison }) {
  const { evaluations } = data
  const names = seriesNames(evaluations)
  const two = evaluations.length === 2

  const columns: ColumnDef<MetricRow>[] = [
    {
      header: 'Metric',
      cell: (c) => (
        <span>
          <span className="font-medium">{metricLabel(c.row.original.name)}</span>
          <span className="block font-mono text-xs text-slate-600">{c.row.original.name}</span>
        </span>
      ),
    },
    ...evaluations.map(
      (e, i): ColumnDef<MetricRow> => ({
        id: `e${i}`,
        header: () => <SeriesName index={i} name={names[i]!} prefix={two ? (i === 0 ? 'A: ' : 'B: ') : ''} />,
        cell: (c) => <EstimateCell estimate={c.row.original.estimates[i]} />,
      }),
    ),
  ]
  if (two) {
    columns.push({
      id: 'difference',
      header: 'B − A [95%]',
      cell: (c) => <DifferenceCell difference={difference(c.row.original.name, evaluations[0]!.report, evaluations[1]!.report)} />,
    })
  }
  columns.push({
    id: 'better',
    header: 'Better',
    cell: (c) => {
      const better = METRIC_INFO[c.row.original.name]?.better
      return <span className="text-xs text-slate-600">{better ? `${better}` : '—'}</span>
    },
  })

  const drift = data.histograms.filter((h) => h.name !== 'legibility_token_surprisal')
  const surprisal = data.histograms.find((h) => h.name === 'legibility_token_surprisal')
  const legibilityMetrics = data.metrics.filter((m) => m.name.startsWith('legibility_'))

  return (
    <div className="space-y-6">
      <div>
        <p className="text-sm text-slate-600">
          <Link href="/console/evaluations" className="hover:underline">
            Evaluations
          </Link>{' '}
          / compare
        </p>
        <h1 className="mt-1 text-2xl font-semibold">Compare evaluations</h1>
      </div>

      <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4" aria-label="Evaluations compared">
        {evaluations.map((e, i) => (
          <li key={e.id} className="card space-y-1 p-3 text-sm" data-testid="compared-evaluation">
            <SeriesName index={i} name={names[i]!} prefix={two ? (i === 0 ? 'A: ' : 'B: ') : ''} />
            <p className="text-xs text-slate-600">
              {e.checkpoint.algorithm ?? 'base model'} · {e.datasetName ?? '—'} · k {String(e.settings.k ?? '—')} · seed {String(e.settings.seed ?? '—')}
              {e.settings.n_problems != null ? ` · ${String(e.settings.n_problems)} problems` : ''}
            </p>
            <Link href={`/console/evaluations/${e.id}`} className="text-xs text-indigo-700 hover:underline">
              Open report
            </Link>
          </li>
        ))}
      </ul>

      {data.warnings.length ? (
        <div className="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="compare-warnings">
          <p className="font-medium">Set up differently — read the differences with care:</p>
          <ul className="mt-1 list-disc pl-5">
            {data.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}

      <ClaimsPanel evaluations={evaluations} names={names} />

      <section className="card p-0" aria-labelledby="metrics-heading">
        <h2 id="metrics-heading" className="px-5 pt-4 pb-2 font-semibold">
          Metrics <span className="text-sm font-normal text-slate-600">(value [95% interval])</span>
        </h2>
        {two ? (
          <p className="px-5 pb-2 text-xs text-slate-600">
            B − A: mean of per-problem differences with a paired 95% bootstrap interval when both reports cover the same
            problems; otherwise the difference of the two values.
          </p>
        ) : null}
        <DataTable<MetricRow> testId="compare-metric" caption="Metrics of each evaluation" data={data.metrics} getRowId={(m) => m.name} columns={columns} />
      </section>

      {data.curves.length ? (
        <section className="space-y-3" aria-labelledby="curves-heading">
          <h2 id="curves-heading" className="font-semibold">
            Handoff curves
          </h2>
          <div className="grid gap-4 lg:grid-cols-2">
            {data.curves.map((curve) => {
              const present = curve.series.map((s, i) => ({ s, i })).filter((x) => x.s !== null)
              return (
                <IntervalLineChart
                  key={curve.name}
                  testId={`compare-curve-${curve.name}`}
                  title={CURVE_AXES[curve.name]?.title ?? curve.name}
                  xLabel={CURVE_AXES[curve.name]?.x ?? present[0]?.s?.x_name ?? 'x'}
                  yLabel={CURVE_AXES[curve.name]?.y ?? 'value'}
                  yDomain={[0, 1]}
                  series={evaluations.map((_, i) => ({ name: names[i]!, points: curve.series[i]?.points ?? [] }))}
                />
              )
            })}
          </div>
        </section>
      ) : null}

      {drift.length ? (
        <section className="space-y-3" aria-labelledby="drift-heading">
          <h2 id="drift-heading" className="font-semibold">
            Drift
          </h2>
          <div className="grid gap-4 lg:grid-cols-2">
            {drift.map((h) => (
              <OverlaidHistogram key={h.name} name={h.name} series={h.series} names={names} />
            ))}
          </div>
        </section>
      ) : null}

      {legibilityMetrics.length || surprisal ? (
        <section className="space-y-3" aria-labelledby="legibility-heading">
          <h2 id="legibility-heading" className="font-semibold">
            Legibility to the junior
          </h2>
          <div className="grid gap-4 lg:grid-cols-2">
            {legibilityMetrics.length ? (
              <div className="card space-y-2 text-sm">
                {legibilityMetrics.map((m) => (
                  <div key={m.name}>
                    <p className="font-medium">{metricLabel(m.name)}</p>
                    <ul className="mt-1 space-y-1">
                      {m.estimates.map((est, i) => (
                        <li key={i} className="flex flex-wrap justify-between gap-2">
                          <SeriesName index={i} name={names[i]!} />
                          <EstimateCell estimate={est} />
                        </li>
                      ))}
                    </ul>
                  </div>
                ))}
                <p className="text-xs text-slate-600">
                  Higher log-prob (lower perplexity) = the junior finds the senior’s text more predictable.
                </p>
              </div>
            ) : null}
            {surprisal ? <OverlaidHistogram name={surprisal.name} series={surprisal.series} names={names} /> : null}
          </div>
        </section>
      ) : null}
    </div>
  )
}

function SeriesName({ index, name, prefix = '' }: { index: number; name: string; prefix?: string }) {
  return (
    <span className="inline-flex items-center gap-2 font-medium normal-case">
      <span aria-hidden="true" className="inline-block h-3 w-3 shrink-0 rounded-sm" style={{ background: seriesColor(index) }} />
      <span className="break-words">
        {prefix}
        {name}
      </span>
    </span>
  )
}

function OverlaidHistogram({ name, series, names }: { name: string; series: Comparison['histograms'][number]['series']; names: string[] }) {
  const present = series.flatMap((h, i) => (h ? [{ name: names[i]!, ...h }] : []))
  return (
    <HistogramChart
      testId={`compare-histogram-${name}`}
      title={HISTOGRAM_AXES[name]?.title ?? name}
      xLabel={HISTOGRAM_AXES[name]?.x ?? name}
      series={present}
    />
  )
}

const STATUS_STYLE: Record<ClaimStatus, { label: string; icon: string; className: string }> = {
  supported: { label: 'Supported', icon: '✓', className: 'bg-emerald-50 text-emerald-800 ring-emerald-300' },
  not_supported: { label: 'Not supported', icon: '✗', className: 'bg-red-50 text-red-800 ring-red-300' },
  inconclusive: { label: 'Inconclusive', icon: '?', className: 'bg-slate-100 text-slate-800 ring-slate-300' },
}

/** Which evaluation plays TRL and which GRPO: by the checkpoints' run algorithms, else the first two. */
function defaultRoles(evaluations: Evaluation[]): { trl: number; grpo: number; byAlgorithm: boolean } {
  const trl = evaluations.findIndex((e) => e.checkpoint.algorithm === 'TRL')
  const grpo = evaluations.findIndex((e) => e.checkpoint.algorithm === 'GRPO')
  if (trl >= 0 && grpo >= 0) return { trl, grpo, byAlgorithm: true }
  return { trl: 0, grpo: 1, byAlgorithm: false }
}

function ClaimsPanel({ evaluations, names }: { evaluations: Evaluation[]; names: string[] }) {
  const initial = defaultRoles(evaluations)
  const [trl, setTrl] = useState(initial.trl)
  const [grpo, setGrpo] = useState(initial.grpo)
  const same = trl === grpo
  const claims = same ? [] : evaluateClaims(evaluations[trl]!.report, evaluations[grpo]!.report)
  const roleSelect = (id: string, label: string, value: number, onChange: (v: number) => void) => (
    <div>
      <label htmlFor={id} className="label">
        {label}
      </label>
      <select id={id} className="input" value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {evaluations.map((e, i) => (
          <option key={e.id} value={i}>
            {names[i]} ({e.checkpoint.algorithm ?? 'base'})
          </option>
        ))}
      </select>
    </div>
  )
  return (
    <section className="card space-y-4" aria-labelledby="claims-heading" data-testid="claims-panel">
      <div>
        <h2 id="claims-heading" className="font-semibold">
          The paper’s claims
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          TRL ≈ GRPO on solo accuracy; TRL &gt; GRPO on handoff robustness; lower drift; higher legibility — each read from
          the 95% intervals: “≈” holds when the intervals overlap; “&gt;”/“&lt;” holds when the paired difference (or, for
          reports on different problems, the two intervals) lies wholly on the claimed side, fails when it lies wholly on the
          other side, and is inconclusive otherwise.
        </p>
      </div>
      {!initial.byAlgorithm ? (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="claims-roles-note">
          These checkpoints are not a TRL/GRPO pair by their runs’ algorithms; choose which plays which role.
        </p>
      ) : null}
      <div className="grid gap-3 sm:grid-cols-2">
        {roleSelect('claims-trl', 'TRL side', trl, setTrl)}
        {roleSelect('claims-grpo', 'GRPO side', grpo, setGrpo)}
      </div>
      {same ? (
        <p role="alert" className="text-sm text-red-700">
          Choose two different evaluations.
        </p>
      ) : (
        <ul className="grid gap-3 md:grid-cols-2">
          {claims.map((claim) => (
            <ClaimCard key={claim.id} claim={claim} trlName={names[trl]!} grpoName={names[grpo]!} />
          ))}
        </ul>
      )}
    </section>
  )
}

function ClaimCard({ claim, trlName, grpoName }: { claim: ClaimResult; trlName: string; grpoName: string }) {
  const style = STATUS_STYLE[claim.status]
  const row = (label: string, estimate: Estimate | null) => (
    <div className="flex flex-wrap justify-between gap-2">
      <dt className="text-slate-600">{label}</dt>
      <dd>
        <EstimateCell estimate={estimate} />
      </dd>
    </div>
  )
  return (
    <li className="rounded-md border border-slate-200 p-3 text-sm" data-testid={`claim-${claim.id}`} data-status={claim.status}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div>
          <p className="font-medium">{claim.title}</p>
          <p className="text-xs text-slate-600">{claim.statement}</p>
        </div>
        <span className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${style.className}`} data-testid={`claim-${claim.id}-status`}>
          <span aria-hidden="true">{style.icon}</span>
          {style.label}
        </span>
      </div>
      {claim.metric ? <p className="mt-2 font-mono text-xs text-slate-600">{claim.metric}</p> : null}
      {claim.metric ? (
        <dl className="mt-1 space-y-1">
          {row(`TRL: ${trlName}`, claim.trl)}
          {row(`GRPO: ${grpoName}`, claim.grpo)}
          {claim.difference ? (
            <div className="flex flex-wrap justify-between gap-2">
              <dt className="text-slate-600">TRL − GRPO</dt>
              <dd>
                <DifferenceCell difference={claim.difference} />
              </dd>
            </div>
          ) : null}
        </dl>
      ) : null}
      <p className="mt-2 text-xs text-slate-700" data-testid={`claim-${claim.id}-reason`}>
        {claim.reason}
      </p>
    </li>
  )
}
