'use client'
// The evaluations list: server-paged (evaluations.list), page and status filter in the URL, each evaluation's
// headline figure with its interval; finished evaluations can be ticked (across pages) and opened side by side on
// the compare page.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { usePathname, useRouter, useSearchParams } from 'next/navigation'

import { formatDate } from '@/components/format'
import { PagedTable } from '@/components/paged-table'
import { StatusFilter } from '@/components/status-filter'
import { StatusBadge } from '@/components/status-badge'
import { MAX_COMPARE } from '@/server/api/routers/evaluations.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { EstimateCell } from './estimate'
import { CompareSelectionBar, useTickedIds } from '@/components/compare-selection'

type Row = RouterOutputs['evaluations']['list']['items'][number]

const PAGE_SIZE = 20
const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const
type Status = (typeof STATUSES)[number]

export function EvaluationsList() {
  const trpc = useTRPC()
  const router = useRouter()
  const pathname = usePathname()
  const params = useSearchParams()
  const requested = Number.parseInt(params.get('page') ?? '1', 10)
  const page = Number.isFinite(requested) && requested >= 1 ? requested : 1
  const statusParam = params.get('status')
  const status = STATUSES.includes(statusParam as Status) ? (statusParam as Status) : undefined
  const list = useQuery(
    trpc.evaluations.list.queryOptions({ page, pageSize: PAGE_SIZE, status }, { placeholderData: keepPreviousData, refetchInterval: 4000 }),
  )
  // id -> label of the ticked evaluations, kept while paging
  const { ticked: selected, toggle, clear } = useTickedIds()

  const go = (next: { page?: number; status?: string }) => {
    const q = new URLSearchParams()
    const s = next.status ?? status
    if (s) q.set('status', s)
    if ((next.page ?? 1) > 1) q.set('page', String(next.page))
    router.push(`${pathname}${q.size ? `?${q}` : ''}`)
  }

  return (
    <>
      <div className="flex flex-wrap items-end justify-between gap-3">
        <StatusFilter statuses={STATUSES} value={status} onChange={(s) => go({ status: s, page: 1 })} />
        <CompareSelectionBar count={selected.size} max={MAX_COMPARE} testId="compare-selection" onClear={clear} onCompare={() => router.push(`/console/compare?ids=${[...selected].join(',')}`)} />
      </div>
      <PagedTable<Row>
        query={list}
        noun="evaluation"
        onPage={(p) => go({ page: p })}
        testId="evaluation"
        caption="Evaluations, newest first"
        getRowId={(r) => r.id}
        empty={list.data?.total === 0 ? 'No evaluations yet. Start one with “New evaluation”.' : 'No evaluations on this page.'}
        columns={[
          {
            id: 'select',
            header: () => <span className="sr-only">Compare</span>,
            cell: (c) => {
              const row = c.row.original
              const finished = row.status === 'SUCCEEDED'
              return (
                <input
                  type="checkbox"
                  className="h-4 w-4"
                  checked={selected.has(row.id)}
                  disabled={!finished}
                  onChange={() => toggle(row.id)}
                  aria-label={finished ? `Compare ${row.checkpoint.label} (${row.id})` : `${row.checkpoint.label} is not finished`}
                />
              )
            },
          },
          {
            header: 'Checkpoint',
            cell: (c) => (
              <Link href={`/console/evaluations/${c.row.original.id}`} className="font-medium text-indigo-700 hover:underline">
                {c.row.original.checkpoint.label}
              </Link>
            ),
          },
          {
            header: 'Headline metric',
            cell: (c) => {
              const headline = c.row.original.headline
              if (!headline) return <span className="text-slate-600">—</span>
              return (
                <span className="flex flex-col" data-testid="evaluation-headline" data-metric={headline.name}>
                  <span className="text-xs text-slate-600">{headline.label}</span>
                  <EstimateCell estimate={headline} />
                </span>
              )
            },
          },
          { header: 'Suites', cell: (c) => c.row.original.suites.join(', ') },
          { header: 'Dataset', cell: (c) => c.row.original.datasetName ?? '—' },
          { header: 'Seed', cell: (c) => <span className="tabular-nums">{c.row.original.seed ?? '—'}</span> },
          {
            header: 'Status',
            cell: (c) => (
              <span className="flex items-center gap-2">
                <StatusBadge status={c.row.original.status} />
                {c.row.original.status === 'RUNNING' && c.row.original.progress != null ? (
                  <span className="tabular-nums text-xs text-slate-600">{Math.round(c.row.original.progress * 100)}%</span>
                ) : null}
              </span>
            ),
          },
          { header: 'Created', cell: (c) => formatDate(c.row.original.createdAt) },
          { header: 'By', cell: (c) => c.row.original.createdByEmail ?? '—' },
        ]}
      />
    </>
  )
}
