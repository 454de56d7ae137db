'use client'
// The study's dashboard (studies.dashboard): counts, accuracy by condition (bars with 95% intervals and the same
// figures as a table), time and ratings by condition, live conditions' take-overs and shares, people beside the frozen
// junior (by handoff step, and item by item), the two-condition difference and the mixed-effects model (its own
// query, studies.analysis, reading the worker's cached fit).
// Exclusions are decided on the server (the SQL views); "Apply exclusions" only chooses whether the analyses drop them.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { DataTable } from '@/components/data-table'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { AccuracyBarChart } from './accuracy-bar-chart'
import { HumanJuniorChart } from './human-junior-chart'
import { formatValue, IntervalCell } from './interval'
import { ItemAgreementScatter } from './item-agreement-scatter'
import { MixedModelCard } from './mixed-model-card'

type Dashboard = RouterOutputs['studies']['dashboard']
type ConditionStats = Dashboard['conditions'][number]

const LIVE_REFRESH_MS = 5000

const COUNT_LABELS: { key: keyof Dashboard['counts']; label: string }[] = [
  { key: 'started', label: 'Started' },
  { key: 'consented', label: 'Consented' },
  { key: 'declined', label: 'Declined' },
  { key: 'completed', label: 'Completed' },
  { key: 'excluded', label: 'Excluded' },
  // consenting participants whose link carried no id (only a study that does not require one admits them)
  { key: 'anonymous', label: 'Anonymous (no id)' },
  { key: 'responses', label: 'Responses' },
  { key: 'verified', label: 'Verified' },
  { key: 'awaitingVerification', label: 'Awaiting verification' },
  { key: 'timedOut', label: 'Timed out' },
]

export function StudyDashboard({ id, live }: { id: string; live: boolean }) {
  const trpc = useTRPC()
  const [applyExclusions, setApplyExclusions] = useState(true)
  const query = useQuery(
    trpc.studies.dashboard.queryOptions(
      { id, applyExclusions },
      { refetchInterval: live ? LIVE_REFRESH_MS : false, placeholderData: keepPreviousData, staleTime: 0 },
    ),
  )

  return (
    <section className="space-y-4" aria-labelledby="dashboard-heading" data-testid="study-dashboard">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="dashboard-heading" className="text-lg font-semibold">
          Dashboard
        </h2>
        {live ? <p className="text-xs text-slate-600">Updates every {LIVE_REFRESH_MS / 1000} s while the study is open.</p> : null}
      </div>
      {query.isPending ? (
        <p className="text-sm text-slate-600">Loading the dashboard…</p>
      ) : query.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {query.error.message}
        </p>
      ) : (
        <DashboardBody id={id} data={query.data} applyExclusions={applyExclusions} onApplyExclusions={setApplyExclusions} />
      )}
    </section>
  )
}

function DashboardBody({
  id,
  data,
  applyExclusions,
  onApplyExclusions,
}: {
  id: string
  data: Dashboard
  applyExclusions: boolean
  onApplyExclusions: (value: boolean) => void
}) {
  const conditions = data.conditions
  const conditionLabel = (c: ConditionStats) => `${c.name}${c.algorithm ? ` (${c.algorithm})` : ''}`

  return (
    <>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5" data-testid="study-counts">
        {COUNT_LABELS.map(({ key, label }) => (
          <div key={key} className="card p-3" data-testid={`count-${key}`}>
            <dt className="text-xs font-medium text-slate-600">{label}</dt>
            <dd className="mt-1 text-2xl font-semibold tabular-nums">{data.counts[key]}</dd>
          </div>
        ))}
      </dl>
      <p className="text-xs text-slate-600">Counts are over everyone, whether excluded or not.</p>

      <div className="card space-y-2">
        <label className="flex items-center gap-2 text-sm font-medium">
          <input type="checkbox" className="h-4 w-4" checked={applyExclusions} onChange={(e) => onApplyExclusions(e.target.checked)} />
          Apply exclusions
        </label>
        <p className="text-sm text-slate-600">A participant is excluded from the analyses below when:</p>
        <ul className="list-disc pl-6 text-sm text-slate-700" data-testid="exclusion-rules">
          {data.exclusionRules.map((rule) => (
            <li key={rule}>{rule}</li>
          ))}
        </ul>
        <p className="text-xs text-slate-600">
          Excluded participants’ data are kept: the exports include them, marked in an <code>excluded</code> column.
        </p>
      </div>

      <div className="grid gap-4 lg:grid-cols-2">
        <AccuracyBarChart
          testId="accuracy-chart"
          title={`Accuracy by condition (${applyExclusions ? 'exclusions applied' : 'everyone'})`}
          bars={conditions.map((c) => ({ name: c.name, interval: c.accuracy }))}
        />
        <div className="card p-0">
          <h3 className="px-4 pt-3 text-sm font-medium">Accuracy by condition (verified responses)</h3>
          <DataTable<ConditionStats>
            testId="accuracy"
            caption="Accuracy by condition: value [95% interval] (n verified responses)"
            data={conditions}
            getRowId={(c) => c.conditionId}
            columns={[
              { header: 'Condition', cell: (c) => conditionLabel(c.row.original) },
              { header: 'Accuracy [95% interval] (n)', cell: (c) => <IntervalCell interval={c.row.original.accuracy} /> },
            ]}
          />
        </div>
      </div>

      <div className="card p-0">
        <h3 className="px-4 pt-3 text-sm font-medium">Time and ratings by condition</h3>
        <DataTable<ConditionStats>
          testId="condition-stats"
          caption="Time per task and ratings by condition: mean [95% interval] (n)"
          data={conditions}
          getRowId={(c) => c.conditionId}
          columns={[
            {
              header: 'Condition',
              cell: (c) =>
                c.row.original.runId ? (
                  <Link href={`/console/runs/${c.row.original.runId}`} className="text-indigo-700 hover:underline">
                    {conditionLabel(c.row.original)}
                  </Link>
                ) : (
                  conditionLabel(c.row.original)
                ),
            },
            { header: 'Responses', cell: (c) => <span className="tabular-nums">{c.row.original.responses}</span> },
            { header: 'Time per task (s)', cell: (c) => <IntervalCell interval={c.row.original.timeSeconds} digits={1} /> },
            { header: 'Ease of following (1–5)', cell: (c) => <IntervalCell interval={c.row.original.ease} digits={2} /> },
            { header: 'Confidence (1–5)', cell: (c) => <IntervalCell interval={c.row.original.confidence} digits={2} /> },
            { header: 'Timed out', cell: (c) => <span className="tabular-nums">{c.row.original.timedOut}</span> },
          ]}
        />
      </div>

      {conditions.some((c) => c.live) ? (
        <div className="card p-0">
          <h3 className="px-4 pt-3 text-sm font-medium">Live conditions: who wrote what</h3>
          <DataTable<ConditionStats>
            testId="live-stats"
            caption="Per task, mean [95% interval] (n): take-overs, hand-backs and the participant's share of the shared text"
            data={conditions.filter((c) => c.live)}
            getRowId={(c) => c.conditionId}
            columns={[
              { header: 'Condition', cell: (c) => conditionLabel(c.row.original) },
              { header: 'Take-overs', cell: (c) => <IntervalCell interval={c.row.original.live!.takeOvers} digits={2} /> },
              { header: 'Hand-backs', cell: (c) => <IntervalCell interval={c.row.original.live!.handBacks} digits={2} /> },
              { header: 'Participant’s share of the text', cell: (c) => <IntervalCell interval={c.row.original.live!.humanShare} digits={2} /> },
              { header: 'Reached the scheduled handover', cell: (c) => <span className="tabular-nums">{c.row.original.live!.scheduledHandovers}</span> },
            ]}
          />
        </div>
      ) : null}

      <section className="space-y-3" aria-labelledby="junior-heading" data-testid="human-junior">
        <h3 id="junior-heading" className="font-semibold">
          People beside the junior
        </h3>
        <JuniorStatusNote junior={data.junior} />
        <div className="grid gap-4 lg:grid-cols-2">
          <HumanJuniorChart testId="handoff-step-chart" points={data.byHandoffStep} conditions={conditions} />
          <ItemAgreementScatter
            testId="agreement-scatter"
            items={data.items}
            conditions={conditions}
            correlation={data.agreement.correlation}
            method={data.agreement.method}
          />
        </div>
        <p className="text-xs text-slate-600">
          People: verified responses ({applyExclusions ? 'exclusions applied' : 'everyone'}), 95% Wilson interval. Junior: its samples on the
          same cut traces, pooled; the 95% interval counts items, not samples, as the units (a Wilson interval at the items’ design effect).
        </p>
      </section>

      <div className="grid gap-4 lg:grid-cols-2">
        <DifferenceCard difference={data.difference} conditions={conditions} />
        <MixedModelCard id={id} wilson={conditions.map((c) => ({ name: c.name, accuracy: c.accuracy }))} />
      </div>
    </>
  )
}

const JUNIOR_STATE_TEXT: Record<Dashboard['junior']['state'], string> = {
  'not-applicable': 'Junior evaluation: not applicable — every condition is live (there is no fixed prefix for the junior to finish).',
  pending: 'Junior evaluation: pending — it is queued when the study opens.',
  queued: 'Junior evaluation: queued.',
  running: 'Junior evaluation: running.',
  failed: 'Junior evaluation: failed.',
  done: 'Junior evaluation: done.',
}

function JuniorStatusNote({ junior }: { junior: Dashboard['junior'] }) {
  return (
    <div className="text-sm" data-testid="junior-status" data-state={junior.state}>
      <p className={junior.state === 'failed' ? 'font-medium text-red-800' : 'text-slate-700'}>
        {JUNIOR_STATE_TEXT[junior.state]}
        {junior.itemsExpected > 0 ? (
          <span className="text-slate-600">
            {' '}
            {junior.itemsEvaluated} of {junior.itemsExpected} items have its {junior.samplesPerItem} samples.
          </span>
        ) : null}
      </p>
      {junior.liveConditions.length > 0 && junior.state !== 'not-applicable' ? (
        <p className="text-slate-600">Not applicable (live): {junior.liveConditions.join(', ')} — the participant watches the prefix being written, so there is none fixed for the junior.</p>
      ) : null}
      {junior.error ? <pre className="mt-1 overflow-x-auto rounded bg-red-50 p-2 text-xs whitespace-pre-wrap text-red-800">{junior.error}</pre> : null}
    </div>
  )
}

function DifferenceCard({ difference: d, conditions }: { difference: Dashboard['difference']; conditions: ConditionStats[] }) {
  return (
    <section className="card space-y-2" aria-labelledby="difference-heading" data-testid="difference">
      <h3 id="difference-heading" className="font-semibold">
        Difference in accuracy{d ? `: ${d.label}` : ''}
      </h3>
      {d ? (
        <>
          <p className="text-2xl font-semibold tabular-nums" data-testid="difference-estimate">
            {d.estimate > 0 ? '+' : ''}
            {formatValue(d.estimate)}{' '}
            <span className="text-base font-normal text-slate-600">
              {d.low != null && d.high != null ? `[${formatValue(d.low)}, ${formatValue(d.high)}] 95% interval` : '(no interval)'}
            </span>
          </p>
          <p className="text-sm">
            p = <span className="tabular-nums">{d.pValue < 0.001 ? '< 0.001' : formatValue(d.pValue)}</span> · {d.nParticipants} participant
            {d.nParticipants === 1 ? '' : 's'} with verified responses in both conditions
          </p>
          <p className="text-xs text-slate-600">{d.method}</p>
        </>
      ) : (
        <p className="text-sm text-slate-600">
          {conditions.length === 2 || (conditions.filter((c) => c.algorithm === 'TRL').length === 1 && conditions.filter((c) => c.algorithm === 'GRPO').length === 1)
            ? 'Appears once both conditions have verified responses.'
            : 'Compares two conditions: a study with exactly two conditions, or exactly one TRL and one GRPO condition.'}
        </p>
      )}
    </section>
  )
}
