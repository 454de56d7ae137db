'use client'
// The console's section links; the section of the page being shown is marked (aria-current and a heavier style).
import Link from 'next/link'
import { usePathname } from 'next/navigation'

import { CONSOLE_SECTIONS, currentSectionHref } from './console-sections'

export function ConsoleNav({ isAdmin }: { isAdmin: boolean }) {
  const pathname = usePathname()
  const current = currentSectionHref(pathname)
  return (
    <nav className="flex flex-wrap gap-x-4 gap-y-1 text-sm" aria-label="Console">
      {CONSOLE_SECTIONS.filter((s) => !s.adminOnly || isAdmin).map((s) => {
        const active = s.href === current
        return (
          <Link
            key={s.href}
            href={s.href}
            // "page" on the section's own page, "true" (within this section) on a page inside it
            aria-current={active ? (pathname === s.href ? 'page' : 'true') : undefined}
            className={
              active
                ? 'border-b-2 border-indigo-600 font-semibold text-indigo-800'
                : 'border-b-2 border-transparent text-slate-600 hover:text-slate-900'
            }
          >
            {s.label}
          </Link>
        )
      })}
    </nav>
  )
}
