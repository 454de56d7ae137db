'use client'
// Previous/next for a server-paged list (the procedures return {total, page, pageSize, pageCount}).

export interface PageInfo {
  total: number
  page: number
  pageCount: number
}

export function Pagination({
  info,
  noun,
  plural,
  onPage,
}: {
  info: PageInfo
  /** singular noun for the count, e.g. "run" */
  noun: string
  /** plural, when it is not noun + "s" (e.g. "studies") */
  plural?: string
  onPage: (page: number) => void
}) {
  const page = Math.min(info.page, info.pageCount)
  return (
    <nav className="flex items-center justify-between gap-3 text-sm text-slate-600" aria-label={`${noun} pages`}>
      <span data-testid="pagination-status">
        {info.total} {info.total === 1 ? noun : (plural ?? `${noun}s`)} · page {page} of {info.pageCount}
      </span>
      <span className="flex gap-2">
        <button type="button" className="btn-secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </button>
        <button type="button" className="btn-secondary" disabled={page >= info.pageCount} onClick={() => onPage(page + 1)}>
          Next
        </button>
      </span>
    </nav>
  )
}
