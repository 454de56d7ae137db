'use client'
// The runs list: server-paged (runs.list) with a search and status and algorithm filters, all kept in the URL so
// back/forward and links work; each run's final reward and accuracy, steps and duration. Runs can be ticked (across
// pages) and overlaid on the compare page; a run of a TRL/GRPO pair links to the comparison of the two.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { usePathname, useRouter, useSearchParams } from 'next/navigation'
import { useEffect, useState } from 'react'

import { formatDate } from '@/components/format'
import { PagedTable } from '@/components/paged-table'
import { StatusBadge } from '@/components/status-badge'
import { StatusFilter } from '@/components/status-filter'
import { ALGORITHMS, MAX_COMPARE_RUNS, RUN_STATUSES, type Algorithm, type RunStatus } from '@/server/api/routers/runs.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { runSummaryColumns } from './compare/runs/run-summary-columns'
import { CompareSelectionBar, useTickedIds } from '@/components/compare-selection'

type RunRow = RouterOutputs['runs']['list']['items'][number]

const PAGE_SIZE = 20
/** ms after the last keystroke before the search reaches the URL (and the server) */
const SEARCH_DELAY_MS = 300

export const compareRunsHref = (ids: string[]) => `/console/compare/runs?ids=${ids.map(encodeURIComponent).join(',')}`

export function RunsList() {
  const trpc = useTRPC()
  const router = useRouter()
  const pathname = usePathname()
  const params = useSearchParams()
  const requested = Number.parseInt(params.get('page') ?? '1', 10)
  const page = Number.isFinite(requested) && requested >= 1 ? requested : 1
  const statusParam = params.get('status')
  const status = RUN_STATUSES.includes(statusParam as RunStatus) ? (statusParam as RunStatus) : undefined
  const algorithmParam = params.get('algorithm')
  const algorithm = ALGORITHMS.includes(algorithmParam as Algorithm) ? (algorithmParam as Algorithm) : undefined
  const search = params.get('q') ?? ''
  const runs = useQuery(
    trpc.runs.list.queryOptions(
      { page, pageSize: PAGE_SIZE, search, status, algorithm },
      { placeholderData: keepPreviousData, refetchInterval: 5000 },
    ),
  )
  // id -> name of the ticked runs, kept while paging and filtering
  const { ticked: selected, toggle, clear } = useTickedIds()
  const [searchText, setSearchText] = useState(search)

  const go = (next: { page?: number; status?: string; algorithm?: string; q?: string }, replace = false) => {
    const q = new URLSearchParams()
    const text = (next.q ?? search).trim()
    if (text) q.set('q', text)
    const s = next.status ?? status
    if (s) q.set('status', s)
    const a = next.algorithm ?? algorithm
    if (a) q.set('algorithm', a)
    if ((next.page ?? 1) > 1) q.set('page', String(next.page))
    const href = `${pathname}${q.size ? `?${q}` : ''}`
    if (replace) router.replace(href)
    else router.push(href)
  }
  // the search box reaches the URL once typing pauses; a new search starts at page 1
  useEffect(() => {
    if (searchText.trim() === search.trim()) return
    const timer = setTimeout(() => go({ q: searchText, page: 1 }, true), SEARCH_DELAY_MS)
    return () => clearTimeout(timer)
    // only typing restarts the timer (`go` is rebuilt with every render)
  }, [searchText])


  return (
    <>
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="flex flex-wrap items-end gap-3">
          <div>
            <label htmlFor="run-search" className="label">
              Search runs
            </label>
            <input
              id="run-search"
              type="search"
              className="input"
              placeholder="Name or id"
              value={searchText}
              onChange={(e) => setSearchText(e.target.value)}
            />
          </div>
          <StatusFilter statuses={RUN_STATUSES} value={status} onChange={(s) => go({ status: s, page: 1 })} />
          <div>
            <label htmlFor="algorithm-filter" className="label">
              Algorithm
            </label>
            <select id="algorithm-filter" className="input" value={algorithm ?? ''} onChange={(e) => go({ algorithm: e.target.value, page: 1 })}>
              <option value="">All</option>
              {ALGORITHMS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </div>
        </div>
        <CompareSelectionBar count={selected.size} max={MAX_COMPARE_RUNS} testId="compare-runs-selection" onClear={clear} onCompare={() => router.push(compareRunsHref([...selected]))} />
      </div>
      <PagedTable<RunRow>
        query={runs}
        noun="run"
        onPage={(p) => go({ page: p })}
        testId="run"
        caption="Training runs, newest first"
        getRowId={(r) => r.id}
        empty={
          runs.data?.total === 0
            ? search || status || algorithm
              ? 'No runs match these filters.'
              : 'No runs yet. Launch one to get started.'
            : 'No runs on this page.'
        }
        columns={[
          {
            id: 'select',
            header: () => <span className="sr-only">Compare</span>,
            cell: (c) => (
              <input
                type="checkbox"
                className="h-4 w-4"
                checked={selected.has(c.row.original.id)}
                onChange={() => toggle(c.row.original.id)}
                aria-label={`Compare ${c.row.original.name}`}
              />
            ),
          },
          {
            header: 'Name',
            cell: (c) => (
              <span className="flex flex-col">
                <Link href={`/console/runs/${c.row.original.id}`} className="font-medium text-indigo-700 hover:underline">
                  {c.row.original.name}
                </Link>
                {c.row.original.partnerId ? (
                  <Link
                    href={compareRunsHref([c.row.original.id, c.row.original.partnerId])}
                    className="text-xs text-indigo-700 hover:underline"
                    aria-label={`Compare pair: ${c.row.original.name} with its partner`}
                  >
                    Compare pair
                  </Link>
                ) : null}
              </span>
            ),
          },
          { header: 'Algorithm', accessorKey: 'algorithm' },
          { header: 'Status', cell: (c) => <StatusBadge status={c.row.original.status} /> },
          ...runSummaryColumns<RunRow>(),
          { header: 'Base model', accessorKey: 'baseModelName' },
          { header: 'Owner', accessorKey: 'ownerEmail' },
          { header: 'Created', cell: (c) => formatDate(c.row.original.createdAt) },
        ]}
      />
    </>
  )
}

