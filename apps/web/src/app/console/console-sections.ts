// The console's sections, in nav order, and which one a path belongs to (the nav marks it). Pure: tested without a
// browser (test/console-polish.test.ts).

export interface ConsoleSection {
  href: string
  label: string
  adminOnly?: boolean
  /** Path prefixes that belong to this section besides href itself (a run's page is under Runs). */
  also?: readonly string[]
}

// One entry per console section (each a folder under app/console).
export const CONSOLE_SECTIONS: readonly ConsoleSection[] = [
  { href: '/console', label: 'Runs', also: ['/console/runs', '/console/compare/runs'] },
  { href: '/console/runs/new', label: 'New run' },
  { href: '/console/models', label: 'Models' },
  { href: '/console/datasets', label: 'Datasets' },
  { href: '/console/evaluations', label: 'Evaluations', also: ['/console/compare'] },
  { href: '/console/experiments', label: 'Experiments' },
  { href: '/console/traces', label: 'Traces' },
  { href: '/console/studies', label: 'Studies' },
  { href: '/console/admin/users', label: 'Users', adminOnly: true },
]

function within(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`)
}

/**
 * The href of the section `pathname` is in: the longest matching prefix wins, so /console/runs/new is "New run" while
 * /console/runs/abc is "Runs"; /console itself is "Runs". Null outside the console.
 */
export function currentSectionHref(pathname: string, sections: readonly ConsoleSection[] = CONSOLE_SECTIONS): string | null {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname
  let best: { href: string; length: number } | null = null
  for (const section of sections) {
    // /console matches only itself: every console path starts with it
    const prefixes = [section.href, ...(section.also ?? [])]
    for (const prefix of prefixes) {
      const hit = prefix === '/console' ? path === prefix : within(path, prefix)
      if (hit && (!best || prefix.length > best.length)) best = { href: section.href, length: prefix.length }
    }
  }
  return best?.href ?? null
}
