'use client'
// The studies list: server-paged (studies.list); page, status filter and name search live in the URL.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { usePathname, useRouter, useSearchParams } from 'next/navigation'
import { useEffect, useState } from 'react'

import { formatDate } from '@/components/format'
import { PagedTable } from '@/components/paged-table'
import { StatusFilter } from '@/components/status-filter'
import { StatusBadge } from '@/components/status-badge'
import { STUDY_STATUSES } from '@/server/api/routers/studies.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

type Row = RouterOutputs['studies']['list']['items'][number]
type Status = (typeof STUDY_STATUSES)[number]

const PAGE_SIZE = 20
const SEARCH_DELAY_MS = 300

export function StudiesList() {
  const trpc = useTRPC()
  const router = useRouter()
  const pathname = usePathname()
  const params = useSearchParams()
  const requested = Number.parseInt(params.get('page') ?? '1', 10)
  const page = Number.isFinite(requested) && requested >= 1 ? requested : 1
  const statusParam = params.get('status')
  const status = STUDY_STATUSES.includes(statusParam as Status) ? (statusParam as Status) : undefined
  const search = params.get('q') ?? ''
  const [searchText, setSearchText] = useState(search)

  const list = useQuery(
    trpc.studies.list.queryOptions(
      { page, pageSize: PAGE_SIZE, status, search: search.trim() || undefined },
      { placeholderData: keepPreviousData, refetchInterval: 5000 },
    ),
  )

  const go = (next: { page?: number; status?: string; q?: string }) => {
    const q = new URLSearchParams()
    const s = next.status ?? status
    const text = next.q ?? search
    if (s) q.set('status', s)
    if (text.trim()) q.set('q', text.trim())
    if ((next.page ?? 1) > 1) q.set('page', String(next.page))
    router.replace(`${pathname}${q.size ? `?${q}` : ''}`)
  }

  // the search box updates the URL (and so the query) once typing pauses
  useEffect(() => {
    if (searchText.trim() === search.trim()) return
    const timer = setTimeout(() => go({ q: searchText, page: 1 }), SEARCH_DELAY_MS)
    return () => clearTimeout(timer)
  }, [searchText])

  return (
    <>
      <div className="flex flex-wrap items-end gap-3">
        <StatusFilter statuses={STUDY_STATUSES} value={status} onChange={(s) => go({ status: s, page: 1 })} />
        <div className="min-w-0 flex-1 sm:max-w-xs">
          <label htmlFor="study-search" className="label">
            Search by name
          </label>
          <input
            id="study-search"
            type="search"
            className="input"
            autoComplete="off"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
          />
        </div>
      </div>
      <PagedTable<Row>
        query={list}
        noun="study"
        plural="studies"
        onPage={(p) => go({ page: p })}
        testId="study"
        caption="Studies, newest first"
        getRowId={(r) => r.id}
        empty={
          list.data?.total === 0 && !status && !search
            ? 'No studies yet. Design one with “New study”.'
            : 'No studies match.'
        }
        columns={[
          {
            header: 'Name',
            cell: (c) => (
              <Link href={`/console/studies/${c.row.original.id}`} className="font-medium text-indigo-700 hover:underline">
                {c.row.original.name}
              </Link>
            ),
          },
          { header: 'Status', cell: (c) => <StatusBadge status={c.row.original.status} /> },
          { header: 'Conditions', cell: (c) => c.row.original.conditions.join(', ') || '—' },
          {
            header: 'Participants / completed',
            cell: (c) => (
              <span className="tabular-nums">
                {c.row.original.participants} / {c.row.original.completed}
              </span>
            ),
          },
          { header: 'Owner', cell: (c) => c.row.original.ownerEmail },
          { header: 'Created', cell: (c) => formatDate(c.row.original.createdAt) },
        ]}
      />
    </>
  )
}
