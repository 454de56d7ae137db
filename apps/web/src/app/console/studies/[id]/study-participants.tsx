'use client'
// The study's participants (studies.participants), paged on the server, filtered by all / completed / excluded /
// in progress; with how each session ended (outcome), the bonus (the view study_participant_bonus), the design row
// (and whose row it refilled: assignment.ts REFILL_RULE); each links to the participant's session.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { formatDate, formatNumber } from '@/components/format'
import { PagedTable } from '@/components/paged-table'
import { formatMoney } from '@/components/format'
import { OUTCOMES, type Outcome } from '@/server/studies/outcomes'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

type Row = RouterOutputs['studies']['participants']['items'][number]
type Filter = 'all' | 'completed' | 'excluded' | 'in-progress'

const FILTERS: { value: Filter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'completed', label: 'Completed' },
  { value: 'excluded', label: 'Excluded' },
  { value: 'in-progress', label: 'In progress' },
]
const PAGE_SIZE = 20

const OUTCOME_BADGES: Record<Outcome, { label: string; style: string }> = {
  COMPLETED: { label: 'completed', style: 'bg-emerald-50 text-emerald-700 ring-emerald-300' },
  SCREENED_OUT: { label: 'screened out', style: 'bg-red-50 text-red-700 ring-red-300' },
  TIMED_OUT: { label: 'timed out', style: 'bg-amber-50 text-amber-800 ring-amber-300' },
  RETURNED: { label: 'returned', style: 'bg-slate-200 text-slate-800 ring-slate-400' },
}

/** How the session ended; a running one (or a decline) says so in words. */
function OutcomeBadge({ row }: { row: Row }) {
  const outcome = row.outcome ?? (row.completedAt ? 'COMPLETED' : null)
  if (!outcome) return <span className="text-slate-600">{row.declinedAt ? 'declined' : 'in progress'}</span>
  const badge = OUTCOME_BADGES[outcome]
  return (
    <span data-testid="participant-outcome" className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${badge.style}`}>
      {badge.label}
    </span>
  )
}

export function StudyParticipants({ id, live }: { id: string; live: boolean }) {
  const trpc = useTRPC()
  const [filter, setFilter] = useState<Filter>('all')
  const [outcome, setOutcome] = useState<Outcome | ''>('')
  const [page, setPage] = useState(1)
  const list = useQuery(
    trpc.studies.participants.queryOptions(
      { id, page, pageSize: PAGE_SIZE, filter, ...(outcome ? { outcome } : {}) },
      { placeholderData: keepPreviousData, refetchInterval: live ? 5000 : false },
    ),
  )
  return (
    <section className="space-y-3" aria-labelledby="participants-heading">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="participants-heading" className="text-lg font-semibold">
          Participants
        </h2>
        <div>
          <label htmlFor="participant-filter" className="label">
            Show
          </label>
          <select
            id="participant-filter"
            className="input"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value as Filter)
              setPage(1)
            }}
          >
            {FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="participant-outcome" className="label">
            Outcome
          </label>
          <select
            id="participant-outcome"
            className="input"
            value={outcome}
            onChange={(e) => {
              setOutcome(e.target.value as Outcome | '')
              setPage(1)
            }}
          >
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {OUTCOME_BADGES[o].label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <PagedTable<Row>
        query={list}
        noun="participant"
        onPage={setPage}
        testId="participant"
        caption="Participants in order of arrival"
        getRowId={(r) => r.id}
        empty={filter === 'all' && !outcome ? 'No participants yet.' : 'No participants match this filter.'}
        columns={[
          { header: 'Ordinal', cell: (c) => <span className="tabular-nums">{c.row.original.ordinal ?? '—'}</span> },
          {
            header: 'Design row',
            cell: (c) => (
              <span className="tabular-nums">
                {c.row.original.designRow ?? '—'}
                {c.row.original.refillsOrdinal !== null ? (
                  <span className="ml-1 text-xs text-slate-600" title="This participant took the design row of a dropout">
                    (refills #{c.row.original.refillsOrdinal})
                  </span>
                ) : null}
              </span>
            ),
          },
          { header: 'Outcome', cell: (c) => <OutcomeBadge row={c.row.original} /> },
          {
            header: 'External id',
            cell: (c) => <span className="font-mono text-xs">{c.row.original.externalId ?? '—'}</span>,
          },
          { header: 'Started', cell: (c) => formatDate(c.row.original.createdAt) },
          {
            header: 'Completed',
            cell: (c) => (c.row.original.completedAt ? formatDate(c.row.original.completedAt) : c.row.original.declinedAt ? 'declined' : '—'),
          },
          {
            header: 'Tasks done',
            cell: (c) => (
              <span className="tabular-nums">
                {c.row.original.tasksDone} / {c.row.original.tasksTotal}
              </span>
            ),
          },
          {
            header: 'Correct / verified',
            cell: (c) => (
              <span className="tabular-nums">
                {c.row.original.correct} / {c.row.original.verified}
              </span>
            ),
          },
          {
            header: 'Bonus',
            cell: (c) => <span className="tabular-nums">{formatMoney(c.row.original.bonusCents, c.row.original.currency)}</span>,
          },
          {
            header: 'Median s/task',
            cell: (c) => <span className="tabular-nums">{formatNumber(c.row.original.medianTaskSeconds, 1)}</span>,
          },
          {
            header: 'Excluded',
            cell: (c) =>
              c.row.original.excluded ? (
                <span className="whitespace-normal text-red-800">yes: {c.row.original.exclusionReason}</span>
              ) : (
                'no'
              ),
          },
          {
            id: 'open',
            // a visible header: an sr-only one far right in the scrolling table widens the page on phones
            header: 'Session',
            cell: (c) => (
              <Link
                href={`/console/studies/${id}/participants/${c.row.original.id}`}
                className="text-indigo-700 hover:underline"
                aria-label={`Session of participant ${c.row.original.ordinal ?? c.row.original.id}`}
              >
                Session
              </Link>
            ),
          },
        ]}
      />
    </section>
  )
}
