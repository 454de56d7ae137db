// What a detail page shows when its record cannot be loaded: "no such …" for NOT_FOUND, else the error.
import Link from 'next/link'

export function LoadError({ title, noun, error, backHref, backLabel }: {
  /** the page's <h1> in this state (null: the page has none here) */
  title: string | null
  /** e.g. "model": "There is no such model." */
  noun: string
  error: { message: string; data?: { code?: string } | null }
  backHref: string
  backLabel: string
}) {
  return (
    <div className="card space-y-3">
      {title ? <h1 className="text-xl font-semibold">{title}</h1> : null}
      <p role="alert" className="text-sm text-red-700">
        {error.data?.code === 'NOT_FOUND' ? `There is no such ${noun}.` : error.message}
      </p>
      <Link href={backHref} className="btn-secondary">
        {backLabel}
      </Link>
    </div>
  )
}
