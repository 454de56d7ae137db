'use client'
// Two or more finished evaluations side by side: the paper's claims for two arms of seeds (claims.ts), every
// metric with each checkpoint's interval (and the paired difference for two), handoff curves and drift and
// surprisal histograms overlaid.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { Breadcrumbs } from '@/components/breadcrumbs'
import { HistogramChart } from '@/components/charts/histogram-chart'
import { IntervalLineChart } from '@/components/charts/interval-line-chart'
import { seriesColor } from '@/components/charts/palette'
import { DataTable, type ColumnDef } from '@/components/data-table'
import { DEFAULT_MARGIN, fmtG, fmtSigned, paperClaims, type Arm, type Claim, type Verdict } from '@/server/claims'
import { CURVE_AXES, difference, HISTOGRAM_AXES, METRIC_INFO, metricLabel } from '@/server/evaluation-reports'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { DifferenceCell, EstimateCell } from '../evaluations/estimate'
import { CompareError } from './compare-error'

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
    return <CompareError noun="evaluations" messages={messages} backHref="/console/evaluations" />
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
        <Breadcrumbs trail={[{ href: '/console/evaluations', label: 'Evaluations' }]} current="Compare" />
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

const VERDICT_STYLE: Record<Verdict, { label: string; icon: string; className: string }> = {
  supported: { label: 'Supported', icon: '✓', className: 'bg-emerald-50 text-emerald-800 ring-emerald-300' },
  refuted: { label: 'Refuted', icon: '✗', className: 'bg-red-50 text-red-800 ring-red-300' },
  inconclusive: { label: 'Inconclusive', icon: '?', className: 'bg-slate-100 text-slate-800 ring-slate-300' },
  'not measured': { label: 'Not measured', icon: '–', className: 'bg-white text-slate-600 ring-slate-300' },
}

type Role = 'A' | 'B' | 'none'

/** Arm A (reference) = the GRPO evaluations, arm B = the TRL ones; without both, the first two by hand. */
function defaultRoles(evaluations: Evaluation[]): { roles: Role[]; byAlgorithm: boolean } {
  const algorithms = evaluations.map((e) => e.checkpoint.algorithm)
  if (algorithms.includes('GRPO') && algorithms.includes('TRL')) {
    return { roles: algorithms.map((a) => (a === 'GRPO' ? 'A' : a === 'TRL' ? 'B' : 'none')), byAlgorithm: true }
  }
  return { roles: evaluations.map((_, i) => (i === 0 ? 'A' : i === 1 ? 'B' : 'none')), byAlgorithm: false }
}

/** An arm is named by its checkpoints' algorithm when they share one ("base" for base models), else by its letter. */
function armName(members: Evaluation[], letter: string): string {
  const kinds = new Set(members.map((e) => e.checkpoint.algorithm ?? 'base'))
  return kinds.size === 1 ? [...kinds][0]! : letter
}

function ClaimsPanel({ evaluations, names }: { evaluations: Evaluation[]; names: string[] }) {
  const initial = defaultRoles(evaluations)
  const [roles, setRoles] = useState<Role[]>(initial.roles)
  const [marginText, setMarginText] = useState(String(DEFAULT_MARGIN * 100))
  const marginPoints = Number(marginText)
  const marginValid = marginText.trim() !== '' && Number.isFinite(marginPoints) && marginPoints > 0 && marginPoints <= 100

  const members = (role: Role) => evaluations.map((e, i) => ({ e, i })).filter((x) => roles[x.i] === role)
  const inA = members('A')
  const inB = members('B')
  let nameA = armName(inA.map((x) => x.e), 'A')
  let nameB = armName(inB.map((x) => x.e), 'B')
  if (nameA === nameB) [nameA, nameB] = ['A', 'B']
  const toArm = (name: string, list: typeof inA): Arm => ({
    name,
    trained: list.some((x) => x.e.checkpoint.algorithm !== null),
    reports: list.map((x) => ({ label: names[x.i]!, perProblem: x.e.report.perProblem })),
  })

  let claims: Claim[] = []
  let error: string | null = null
  if (inA.length && inB.length && marginValid) {
    try {
      claims = paperClaims(toArm(nameA, inA), toArm(nameB, inB), null, null, marginPoints / 100)
    } catch (e) {
      error = e instanceof Error ? e.message : String(e)
    }
  }
  // two evaluations of one training run are not two seeds
  const notes: string[] = []
  for (const [name, list] of [[nameA, inA], [nameB, inB]] as const) {
    const byRun = new Map<string, string[]>()
    for (const x of list) {
      const key = x.e.checkpoint.runId ?? `base:${x.e.checkpoint.id}`
      byRun.set(key, [...(byRun.get(key) ?? []), names[x.i]!])
    }
    for (const same of byRun.values()) {
      if (same.length > 1) notes.push(`${name}: ${same.join(' and ')} come from one training run (or one base model), so they count as ${same.length} seeds but are not independent ones.`)
    }
  }

  return (
    <section className="card space-y-4" aria-labelledby="claims-heading" data-testid="claims-panel">
      <div>
        <h2 id="claims-heading" className="font-semibold">
          The paper’s claims
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          Arm B against arm A, each arm one evaluation per training seed on the same problems. Every estimate is B − A: the mean
          over problems of (mean over B’s seeds − mean over A’s seeds), with a bootstrap that resamples seeds within each arm and
          problems jointly, so each problem stays paired. “&gt;”/“&lt;” is supported when the 95% interval excludes 0 on the
          claimed side and refuted when it excludes 0 on the other; “≈” is two one-sided tests at α = 0.05: supported when the
          90% interval lies inside ±margin, refuted when the 95% interval lies wholly outside it. Displacement against its seed
          null needs the command line (<code>tandem compare --displacement … --null …</code>).
        </p>
      </div>
      {!initial.byAlgorithm ? (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="claims-roles-note">
          These evaluations are not a GRPO/TRL set by their runs’ algorithms; choose each one’s arm.
        </p>
      ) : null}
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {evaluations.map((e, i) => (
          <div key={e.id}>
            <label htmlFor={`claims-role-${i}`} className="label">
              Arm of {names[i]}
            </label>
            <select
              id={`claims-role-${i}`}
              className="input"
              value={roles[i]}
              onChange={(ev) => setRoles(roles.map((r, j) => (j === i ? (ev.target.value as Role) : r)))}
            >
              <option value="A">A (reference, e.g. GRPO)</option>
              <option value="B">B (e.g. TRL)</option>
              <option value="none">not used</option>
            </select>
          </div>
        ))}
        <div>
          <label htmlFor="claims-margin" className="label">
            Margin for ≈ (± points of accuracy)
          </label>
          <input
            id="claims-margin"
            className="input"
            type="number"
            min="0"
            step="0.5"
            inputMode="decimal"
            value={marginText}
            aria-invalid={!marginValid}
            aria-describedby="claims-margin-hint"
            onChange={(ev) => setMarginText(ev.target.value)}
          />
          <p id="claims-margin-hint" className={`mt-1 text-xs ${marginValid ? 'text-slate-600' : 'text-red-700'}`}>
            {marginValid ? `±${marginPoints} points = ±${fmtG(marginPoints / 100)} in accuracy` : 'The margin must be a number above 0 and at most 100.'}
          </p>
        </div>
      </div>
      {notes.length ? (
        <ul className="list-disc rounded-md bg-amber-50 px-3 py-2 pl-8 text-sm text-amber-900" data-testid="claims-seed-notes">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      {!inA.length || !inB.length ? (
        <p role="alert" className="text-sm text-red-700">
          Put at least one evaluation in arm A and one in arm B.
        </p>
      ) : error ? (
        <p role="alert" className="text-sm text-red-700" data-testid="claims-error">
          {error}
        </p>
      ) : claims.length ? (
        <ClaimsTable claims={claims} nameA={nameA} nameB={nameB} />
      ) : null}
    </section>
  )
}

function ClaimsTable({ claims, nameA, nameB }: { claims: Claim[]; nameA: string; nameB: string }) {
  const interval = (low: number, high: number) => `[${fmtSigned(low)}, ${fmtSigned(high)}]`
  return (
    <div className="overflow-x-auto" tabIndex={0} role="region" aria-label="The paper’s claims">
      <table className="w-full text-left text-sm" data-testid="claims-table">
        <caption className="sr-only">
          The paper’s claims, {nameB} − {nameA}
        </caption>
        <thead className="text-xs text-slate-600 uppercase">
          <tr>
            <th scope="col" className="py-2 pr-3">Claim</th>
            <th scope="col" className="py-2 pr-3">
              Estimate ({nameB} − {nameA})
            </th>
            <th scope="col" className="py-2 pr-3">95% interval</th>
            <th scope="col" className="py-2 pr-3">90% interval</th>
            <th scope="col" className="py-2 pr-3">Problems</th>
            <th scope="col" className="py-2 pr-3">Seeds</th>
            <th scope="col" className="py-2">Verdict</th>
          </tr>
        </thead>
        {claims.map((claim) => {
          const style = VERDICT_STYLE[claim.verdict]
          const e = claim.estimate
          return (
            <tbody key={claim.id} className="border-t border-slate-200" data-testid={`claim-${claim.id}`} data-status={claim.verdict.replace(' ', '-')}>
              <tr className="align-top">
                <th scope="row" className="py-2 pr-3 font-normal">
                  <span className="font-medium">{claim.title}</span>
                  <span className="block text-xs text-slate-600">{claim.statement}</span>
                  {claim.metric ? (
                    <span className="block font-mono text-xs text-slate-600">
                      {claim.metric} {claim.direction}
                      {claim.margin != null ? ` (±${fmtG(claim.margin)})` : ''}
                    </span>
                  ) : null}
                </th>
                <td className="py-2 pr-3 font-mono">{e ? fmtSigned(e.value) : '—'}</td>
                <td className="py-2 pr-3 font-mono">{e ? interval(e.low, e.high) : '—'}</td>
                <td className="py-2 pr-3 font-mono">{e ? interval(e.low90, e.high90) : '—'}</td>
                <td className="py-2 pr-3">{e ? claim.n_problems : '—'}</td>
                <td className="py-2 pr-3">{claim.seeds ? Object.entries(claim.seeds).map(([k, v]) => `${k} ${v}`).join(' · ') : '—'}</td>
                <td className="py-2">
                  <span className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${style.className}`} data-testid={`claim-${claim.id}-status`}>
                    <span aria-hidden="true">{style.icon}</span>
                    {style.label}
                  </span>
                </td>
              </tr>
              <tr>
                <td colSpan={7} className="pb-3 text-xs text-slate-700">
                  <p data-testid={`claim-${claim.id}-reason`}>{claim.sentence}</p>
                  {claim.warnings.length ? (
                    <ul className="mt-1 list-disc pl-5 text-amber-900" data-testid={`claim-${claim.id}-warnings`}>
                      {claim.warnings.map((w) => (
                        <li key={w}>Warning: {w}</li>
                      ))}
                    </ul>
                  ) : null}
                </td>
              </tr>
            </tbody>
          )
        })}
      </table>
    </div>
  )
}
