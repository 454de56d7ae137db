'use client'
// All datasets, server-paged, with the ways to add one: upload a file, or generate demo problems.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { DataTable, type ColumnDef } from '@/components/data-table'
import { formatDate } from '@/components/format'
import { Pagination } from '@/components/pagination'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

type DatasetRow = RouterOutputs['datasets']['list']['items'][number]

const PAGE_SIZE = 20

const COLUMNS: ColumnDef<DatasetRow>[] = [
  {
    header: 'Name',
    accessorKey: 'name',
    cell: ({ row }) => (
      <Link href={`/console/datasets/${row.original.id}`} className="font-medium text-indigo-700 hover:underline">
        {row.original.name}
      </Link>
    ),
  },
  { header: 'Source', accessorKey: 'source' },
  { header: 'Problems', accessorKey: 'rowCount', cell: ({ row }) => <span className="tabular-nums">{row.original.rowCount.toLocaleString('en-US')}</span> },
  { header: 'Created by', accessorKey: 'createdByEmail', cell: ({ row }) => row.original.createdByEmail ?? 'tandem seed' },
  { header: 'Created', accessorKey: 'createdAt', cell: ({ row }) => formatDate(row.original.createdAt) },
]

export function DatasetsView() {
  const trpc = useTRPC()
  const [page, setPage] = useState(1)
  const list = useQuery(trpc.datasets.list.queryOptions({ page, pageSize: PAGE_SIZE }, { placeholderData: keepPreviousData }))

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Datasets</h1>
          <p className="mt-1 text-sm text-slate-600">Math problems with verifiable answers, for training, evaluation and studies.</p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Link href="/console/datasets/upload" className="btn-primary">
            Upload a file
          </Link>
          <Link href="/console/datasets/generate" className="btn-secondary">
            Generate demo dataset
          </Link>
        </div>
      </div>
      <section className="card space-y-4 p-0 pb-4" aria-label="Datasets">
        {list.isError ? (
          <p role="alert" className="p-5 text-sm text-red-700">
            {list.error.message}
          </p>
        ) : list.data ? (
          <>
            <DataTable columns={COLUMNS} data={list.data.items} testId="datasets-table" caption="Datasets" empty="No datasets yet." getRowId={(d) => d.id} />
            <div className="px-5">
              <Pagination info={list.data} noun="dataset" onPage={setPage} />
            </div>
          </>
        ) : (
          <p className="p-5 text-sm text-slate-600">Loading datasets…</p>
        )}
      </section>
    </div>
  )
}
