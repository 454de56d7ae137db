'use client'
// The experiments list (experiments.list): status, arms, seeds and training progress; polls while any is live.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { formatDate } from '@/components/format'
import { ProgressBar } from '@/components/progress-bar'
import { StatusBadge } from '@/components/status-badge'
import { useTRPC } from '@/trpc/react'

const PAGE_SIZE = 20
const LIVE = ['QUEUED', 'RUNNING']

export function ExperimentsList() {
  const trpc = useTRPC()
  const [page, setPage] = useState(1)
  const list = useQuery(
    trpc.experiments.list.queryOptions(
      { page, pageSize: PAGE_SIZE },
      { placeholderData: keepPreviousData, refetchInterval: (q) => (q.state.data?.items.some((e) => LIVE.includes(e.status)) ? 3000 : false) },
    ),
  )
  if (list.isPending) return <p className="text-sm text-slate-600">Loading experiments…</p>
  if (list.isError) return <p role="alert" className="text-sm text-red-700">{list.error.message}</p>
  const { items, pageCount } = list.data
  if (items.length === 0) {
    return (
      <p className="card text-sm text-slate-600">
        No experiments yet. <Link className="text-indigo-700 underline" href="/console/experiments/new">Design one</Link>.
      </p>
    )
  }
  return (
    <div className="space-y-3">
      <div className="card overflow-x-auto p-0" tabIndex={0} role="region" aria-label="Experiments">
        <table className="w-full text-sm" data-testid="experiments-table">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr>
              <th scope="col" className="px-3 py-2">Name</th>
              <th scope="col" className="px-3 py-2">Status</th>
              <th scope="col" className="px-3 py-2">Arms</th>
              <th scope="col" className="px-3 py-2">Seeds</th>
              <th scope="col" className="px-3 py-2">Training progress</th>
              <th scope="col" className="px-3 py-2">Base</th>
              <th scope="col" className="px-3 py-2">Created</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} className="border-t border-slate-100">
                <td className="px-3 py-2">
                  <Link className="text-indigo-700 hover:underline" href={`/console/experiments/${e.id}`}>{e.name}</Link>
                  <div className="text-xs text-slate-600">{e.ownerEmail}</div>
                </td>
                <td className="px-3 py-2"><StatusBadge status={e.status} /></td>
                <td className="px-3 py-2">{e.arms.map((a) => `${a.name} (${a.algorithm})`).join(', ')}</td>
                <td className="px-3 py-2 tabular-nums">{e.seeds.join(', ')}</td>
                <td className="min-w-40 px-3 py-2">
                  <ProgressBar value={Math.round(e.progress * 100)} max={100} label={`Training progress of ${e.name}`}
                    valueText={`${Math.round(e.progress * 100)}% of training steps; ${e.runsFinished} of ${e.runCount} runs finished`} />
                  <div className="mt-1 text-xs tabular-nums text-slate-600">
                    {Math.round(e.progress * 100)}% · {e.runsFinished}/{e.runCount} runs{e.reportedAt ? ' · report ready' : ''}
                  </div>
                </td>
                <td className="px-3 py-2">{e.baseModelName}</td>
                <td className="px-3 py-2">{formatDate(e.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pageCount > 1 ? (
        <nav className="flex items-center gap-3 text-sm" aria-label="Pages">
          <button type="button" className="btn-secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
          <span>Page {page} of {pageCount}</span>
          <button type="button" className="btn-secondary" disabled={page >= pageCount} onClick={() => setPage(page + 1)}>Next</button>
        </nav>
      ) : null}
    </div>
  )
}
