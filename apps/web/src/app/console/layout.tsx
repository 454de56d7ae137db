import Link from 'next/link'

import { signOut } from '@/server/auth'
import { signOutEverywhereAction } from '@/server/auth/actions'
import { requireUser } from '@/server/auth/current-user'

async function signOutAction() {
  'use server'
  await signOut({ redirectTo: '/login' })
}

// One entry per console section (each a folder under app/console).
const SECTIONS: readonly { href: string; label: string; adminOnly?: boolean }[] = [
  { href: '/console', label: 'Runs' },
  { href: '/console/runs/new', label: 'New run' },
  { href: '/console/models', label: 'Models' },
  { href: '/console/datasets', label: 'Datasets' },
  { href: '/console/evaluations', label: 'Evaluations' },
  { href: '/console/experiments', label: 'Experiments' },
  { href: '/console/traces', label: 'Traces' },
  { href: '/console/studies', label: 'Studies' },
  { href: '/console/admin/users', label: 'Users', adminOnly: true },
]

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const me = await requireUser()
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link href="/console" className="text-lg font-semibold text-indigo-700">
            Tandem Lab
          </Link>
          <nav className="flex flex-wrap gap-x-4 gap-y-1 text-sm" aria-label="Console">
            {SECTIONS.filter((s) => !s.adminOnly || me.role === 'ADMIN').map((s) => (
              <Link key={s.href} href={s.href} className="text-slate-600 hover:text-slate-900">
                {s.label}
              </Link>
            ))}
          </nav>
          <div className="ml-auto flex min-w-0 flex-wrap items-center gap-x-3 gap-y-2 text-sm">
            <span className="min-w-0 break-all text-slate-600" data-testid="current-user">
              {me.email} <span className="text-xs text-slate-600">({me.role.toLowerCase()})</span>
            </span>
            <form action={signOutAction}>
              <button type="submit" className="btn-secondary py-1">
                Sign out
              </button>
            </form>
            <form action={signOutEverywhereAction}>
              <button type="submit" className="btn-secondary py-1" title="Signs you out in every browser, this one included">
                End all sessions
              </button>
            </form>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-8">{children}</main>
    </div>
  )
}
