import type { Metadata } from 'next'
import Link from 'next/link'
import { Suspense } from 'react'

import { requireUser } from '@/server/auth/current-user'

import { RunsList } from './runs-list'

export const metadata: Metadata = { title: 'Runs' }

export default async function RunsPage() {
  await requireUser()
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Training runs</h1>
        <Link href="/console/runs/new" className="btn-primary">
          New run
        </Link>
      </div>
      <Suspense fallback={<p className="text-sm text-slate-500">Loading runs…</p>}>
        <RunsList />
      </Suspense>
    </div>
  )
}
