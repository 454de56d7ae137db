'use client'
// The runs list: server-paged (runs.list), the page number kept in the URL so back/forward and links work.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { usePathname, useRouter, useSearchParams } from 'next/navigation'

import { DataTable } from '@/components/data-table'
import { formatDate } from '@/components/format'
import { Pagination } from '@/components/pagination'
import { StatusBadge } from '@/components/status-badge'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

type RunRow = RouterOutputs['runs']['list']['items'][number]

const PAGE_SIZE = 20

export function RunsList() {
  const trpc = useTRPC()
  const router = useRouter()
  const pathname = usePathname()
  const requested = Number.parseInt(useSearchParams().get('page') ?? '1', 10)
  const page = Number.isFinite(requested) && requested >= 1 ? requested : 1
  const runs = useQuery(trpc.runs.list.queryOptions({ page, pageSize: PAGE_SIZE }, { placeholderData: keepPreviousData, refetchInterval: 5000 }))

  if (runs.isPending) return <p className="text-sm text-slate-500">Loading runs…</p>
  if (runs.isError) return <p role="alert" className="text-sm text-red-700">{runs.error.message}</p>
  const data = runs.data
  return (
    <>
      <div className="card p-0">
        <DataTable<RunRow>
          testId="run"
          caption="Training runs, newest first"
          data={data.items}
          getRowId={(r) => r.id}
          empty={data.total === 0 ? 'No runs yet. Launch one to get started.' : 'No runs on this page.'}
          columns={[
            {
              header: 'Name',
              cell: (c) => (
                <Link href={`/console/runs/${c.row.original.id}`} className="font-medium text-indigo-700 hover:underline">
                  {c.row.original.name}
                </Link>
              ),
            },
            { header: 'Algorithm', accessorKey: 'algorithm' },
            { header: 'Status', cell: (c) => <StatusBadge status={c.row.original.status} /> },
            {
              header: 'Step',
              cell: (c) => (
                <span className="tabular-nums">
                  {c.row.original.currentStep}/{c.row.original.maxSteps}
                </span>
              ),
            },
            { header: 'Base model', accessorKey: 'baseModelName' },
            { header: 'Owner', accessorKey: 'ownerEmail' },
            { header: 'Created', cell: (c) => formatDate(c.row.original.createdAt) },
          ]}
        />
      </div>
      <Pagination info={data} noun="run" onPage={(p) => router.push(`${pathname}?page=${p}`)} />
    </>
  )
}
