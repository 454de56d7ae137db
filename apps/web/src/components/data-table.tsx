'use client'
// The console's one table: TanStack Table for columns, rows and sorting; pagination happens on the server
// (lists are paged by their tRPC procedures), so the table only renders the page it is given.
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type RowData,
} from '@tanstack/react-table'

export type { ColumnDef } from '@tanstack/react-table'

export interface DataTableProps<T extends RowData> {
  columns: ColumnDef<T, any>[]
  data: T[]
  /** data-testid of the <table>; rows get `${testId}-row`. */
  testId?: string
  /** Shown instead of the table when there are no rows. */
  empty?: React.ReactNode
  caption?: string
  getRowId?: (row: T, index: number) => string
}

export function DataTable<T extends RowData>({ columns, data, testId, empty, caption, getRowId }: DataTableProps<T>) {
  const table = useReactTable({ data, columns, getCoreRowModel: getCoreRowModel(), getRowId })
  if (data.length === 0) return <p className="p-5 text-sm text-slate-500">{empty ?? 'Nothing here yet.'}</p>
  return (
    // focusable, so keyboard users can scroll a table wider than the screen (axe: scrollable-region-focusable)
    <div className="relative overflow-x-auto" tabIndex={0} role="region" aria-label={caption ?? 'Table'}>
      <table className="data-table" data-testid={testId}>
        {caption ? <caption className="sr-only">{caption}</caption> : null}
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => (
                <th key={header.id} scope="col">
                  {header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} data-testid={testId ? `${testId}-row` : undefined}>
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
