'use client'
// A server-paged list as every console page shows it: "Loading …", the error, or the table in a card and its pages.
import type { UseQueryResult } from '@tanstack/react-query'
import type { RowData } from '@tanstack/react-table'

import { DataTable, type DataTableProps } from './data-table'
import { Pagination, type PageInfo } from './pagination'

export function PagedTable<T extends RowData>({
  query,
  noun,
  plural,
  onPage,
  ...table
}: {
  /** a list procedure's query (the shape of src/server/api/pagination.ts) */
  query: UseQueryResult<PageInfo & { items: T[] }, { message: string }>
  noun: string
  plural?: string
  onPage: (page: number) => void
} & Omit<DataTableProps<T>, 'data'>) {
  if (query.isPending) return <p className="text-sm text-slate-600">Loading {plural ?? `${noun}s`}…</p>
  if (query.isError) {
    return (
      <p role="alert" className="text-sm text-red-700">
        {query.error.message}
      </p>
    )
  }
  return (
    <>
      <div className="card p-0">
        <DataTable<T> data={query.data.items} {...table} />
      </div>
      <Pagination info={query.data} noun={noun} plural={plural} onPage={onPage} />
    </>
  )
}
