import Link from 'next/link'

import { signOut } from '@/server/auth'
import { requireUser } from '@/server/auth/current-user'

async function signOutAction() {
  'use server'
  await signOut({ redirectTo: '/login' })
}

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const me = await requireUser()
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center gap-6 px-4 py-3">
          <Link href="/console" className="text-lg font-semibold text-indigo-700">
            Tandem Lab
          </Link>
          <nav className="flex gap-4 text-sm" aria-label="Console">
            <Link href="/console" className="text-slate-600 hover:text-slate-900">
              Runs
            </Link>
            <Link href="/console/runs/new" className="text-slate-600 hover:text-slate-900">
              New run
            </Link>
          </nav>
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="text-slate-600" data-testid="current-user">
              {me.email} <span className="text-xs text-slate-400">({me.role.toLowerCase()})</span>
            </span>
            <form action={signOutAction}>
              <button type="submit" className="btn-secondary py-1">
                Sign out
              </button>
            </form>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-8">{children}</main>
    </div>
  )
}
