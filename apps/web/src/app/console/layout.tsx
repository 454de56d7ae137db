import Link from 'next/link'

import { signOut } from '@/server/auth'
import { signOutEverywhereAction } from '@/server/auth/actions'
import { requireUser } from '@/server/auth/current-user'

import { ConsoleNav } from './console-nav'

async function signOutAction() {
  'use server'
  await signOut({ redirectTo: '/login' })
}

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const me = await requireUser()
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link href="/console" className="text-lg font-semibold text-indigo-700">
            Tandem Lab
          </Link>
          <ConsoleNav isAdmin={me.role === 'ADMIN'} />
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
