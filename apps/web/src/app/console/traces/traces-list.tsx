'use client'
// The traces list: server-paged (traces.list) with filters by checkpoint, evaluation, problem text and verdict, all
// kept in the URL so links (e.g. from an evaluation report) and back/forward work.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { usePathname, useRouter, useSearchParams } from 'next/navigation'
import { useState } from 'react'

import { formatDate } from '@/components/format'
import { PagedTable } from '@/components/paged-table'
import { VERDICTS } from '@/server/api/routers/traces.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { VerdictBadge } from './verdict-badge'

type Row = RouterOutputs['traces']['list']['items'][number]
type Verdict = (typeof VERDICTS)[number]

const PAGE_SIZE = 20

export function TracesList() {
  const trpc = useTRPC()
  const router = useRouter()
  const pathname = usePathname()
  const params = useSearchParams()
  const requested = Number.parseInt(params.get('page') ?? '1', 10)
  const page = Number.isFinite(requested) && requested >= 1 ? requested : 1
  const checkpointId = params.get('checkpointId') || undefined
  const evaluationRunId = params.get('evaluationRunId') || undefined
  const search = params.get('search') || undefined
  const verdictParam = params.get('verdict')
  const verdict = VERDICTS.includes(verdictParam as Verdict) ? (verdictParam as Verdict) : undefined
  const [searchText, setSearchText] = useState(search ?? '')

  const list = useQuery(
    trpc.traces.list.queryOptions(
      { page, pageSize: PAGE_SIZE, checkpointId, evaluationRunId, search, verdict },
      { placeholderData: keepPreviousData, refetchInterval: 5000 },
    ),
  )
  const checkpoints = useQuery(trpc.evaluations.checkpoints.queryOptions({ page: 1, pageSize: 100 }))

  const go = (changes: Record<string, string | undefined>) => {
    const q = new URLSearchParams(params.toString())
    for (const [key, value] of Object.entries(changes)) {
      if (value) q.set(key, value)
      else q.delete(key)
    }
    if (!('page' in changes)) q.delete('page')
    router.push(`${pathname}${q.size ? `?${q}` : ''}`)
  }

  return (
    <section className="space-y-4" aria-labelledby="traces-heading">
      <h2 id="traces-heading" className="sr-only">
        Trace list
      </h2>
      <form
        className="card grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
        role="search"
        aria-label="Filter traces"
        onSubmit={(e) => {
          e.preventDefault()
          go({ search: searchText.trim() || undefined })
        }}
      >
        <div>
          <label htmlFor="filter-checkpoint" className="label">
            Checkpoint
          </label>
          <select id="filter-checkpoint" className="input" value={checkpointId ?? ''} onChange={(e) => go({ checkpointId: e.target.value || undefined })}>
            <option value="">All checkpoints</option>
            {(checkpoints.data?.items ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="filter-verdict" className="label">
            Verdict
          </label>
          <select id="filter-verdict" className="input" value={verdict ?? ''} onChange={(e) => go({ verdict: e.target.value || undefined })}>
            <option value="">Any verdict</option>
            {VERDICTS.map((v) => (
              <option key={v} value={v}>
                {v.toLowerCase()}
              </option>
            ))}
          </select>
        </div>
        <div className="sm:col-span-2">
          <label htmlFor="filter-search" className="label">
            Problem text
          </label>
          <div className="flex gap-2">
            <input
              id="filter-search"
              type="search"
              className="input"
              placeholder="e.g. apples"
              value={searchText}
              maxLength={200}
              onChange={(e) => setSearchText(e.target.value)}
            />
            <button type="submit" className="btn-secondary">
              Search
            </button>
          </div>
        </div>
        {evaluationRunId ? (
          <p className="flex flex-wrap items-center gap-2 text-sm sm:col-span-2 lg:col-span-4" data-testid="evaluation-filter">
            Traces of evaluation{' '}
            <Link href={`/console/evaluations/${evaluationRunId}`} className="font-mono text-indigo-700 hover:underline">
              {evaluationRunId}
            </Link>
            <button type="button" className="btn-secondary py-1" onClick={() => go({ evaluationRunId: undefined })}>
              Show all traces
            </button>
          </p>
        ) : null}
      </form>

      <PagedTable<Row>
        query={list}
        noun="trace"
        onPage={(p) => go({ page: String(p) })}
        testId="trace"
        caption="Traces, newest first"
        getRowId={(t) => t.id}
        empty={list.data?.total === 0 ? 'No traces match. Generate some below, or run an evaluation.' : 'No traces on this page.'}
        columns={[
          {
            header: 'Problem',
            cell: (c) => (
              <Link href={`/console/traces/${c.row.original.id}`} className="block max-w-xs truncate text-indigo-700 hover:underline sm:max-w-md">
                {c.row.original.problem.problem}
              </Link>
            ),
          },
          { header: 'Checkpoint', cell: (c) => c.row.original.checkpoint.label },
          { header: 'Verdict', cell: (c) => <VerdictBadge verdict={c.row.original.verdict} /> },
          { header: 'Schedule', cell: (c) => c.row.original.schedule },
          { header: 'Seed', cell: (c) => <span className="tabular-nums">{c.row.original.seed}</span> },
          { header: 'Created', cell: (c) => formatDate(c.row.original.createdAt) },
        ]}
      />
    </section>
  )
}
