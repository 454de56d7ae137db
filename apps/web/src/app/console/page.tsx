import type { Metadata } from 'next'
import Link from 'next/link'

import { formatDate } from '@/components/format'
import { StatusBadge } from '@/components/status-badge'
import { requireUser } from '@/server/auth/current-user'
import { api } from '@/trpc/server'

export const metadata: Metadata = { title: 'Runs' }

const PAGE_SIZE = 20

export default async function RunsPage({ searchParams }: { searchParams: Promise<{ page?: string }> }) {
  await requireUser()
  const requested = Number.parseInt((await searchParams).page ?? '1', 10)
  const page = Number.isFinite(requested) && requested >= 1 ? requested : 1
  const runs = await api.runs.list({ page, pageSize: PAGE_SIZE })
  return (
    <div className="space-y-6">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Training runs</h1>
        <Link href="/console/runs/new" className="btn-primary">
          New run
        </Link>
      </div>
      <div className="card overflow-x-auto p-0">
        {runs.items.length === 0 ? (
          <p className="p-6 text-sm text-slate-500">
            {runs.total === 0 ? 'No runs yet. Launch one to get started.' : 'No runs on this page.'}
          </p>
        ) : (
          <table className="data-table" data-testid="runs-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Algorithm</th>
                <th>Status</th>
                <th>Step</th>
                <th>Base model</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {runs.items.map((run) => (
                <tr key={run.id} data-testid="run-row">
                  <td>
                    <Link href={`/console/runs/${run.id}`} className="font-medium text-indigo-700 hover:underline">
                      {run.name}
                    </Link>
                  </td>
                  <td>{run.algorithm}</td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td className="tabular-nums">
                    {run.currentStep}/{run.maxSteps}
                  </td>
                  <td>{run.baseModelName}</td>
                  <td>{formatDate(run.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <nav className="flex items-center justify-between text-sm text-slate-600" aria-label="Pagination">
        <span>
          {runs.total} run{runs.total === 1 ? '' : 's'} · page {Math.min(runs.page, runs.pageCount)} of {runs.pageCount}
        </span>
        <span className="flex gap-2">
          {runs.page > 1 ? (
            <Link className="btn-secondary" href={`/console?page=${Math.min(runs.page, runs.pageCount) - 1}`}>
              Previous
            </Link>
          ) : null}
          {runs.page < runs.pageCount ? (
            <Link className="btn-secondary" href={`/console?page=${runs.page + 1}`}>
              Next
            </Link>
          ) : null}
        </span>
      </nav>
    </div>
  )
}
