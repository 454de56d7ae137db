// Where a page sits: its section (a link) and the page's own name, never its id ("Runs / gsm8k TRL").
import Link from 'next/link'

export interface Crumb {
  href: string
  label: string
}

export function Breadcrumbs({ trail, current }: { trail: readonly Crumb[]; current: string }) {
  return (
    <nav aria-label="Breadcrumb" className="text-sm text-slate-600">
      <ol className="flex min-w-0 flex-wrap items-baseline gap-x-1">
        {trail.map((c) => (
          <li key={c.href} className="flex items-baseline gap-x-1">
            <Link href={c.href} className="hover:underline">
              {c.label}
            </Link>
            <span aria-hidden="true">/</span>
          </li>
        ))}
        <li aria-current="page" className="min-w-0 break-words">
          {current}
        </li>
      </ol>
    </nav>
  )
}
