import type { Metadata } from 'next'
import Link from 'next/link'
import { Suspense } from 'react'

import { requireUser } from '@/server/auth/current-user'

import { StudiesList } from './studies-list'

export const metadata: Metadata = { title: 'Studies' }

export default async function StudiesPage() {
  await requireUser()
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold">Studies</h1>
          <p className="mt-1 text-sm text-slate-600">
            Handoff studies: people continue a senior model’s reasoning and give the final answer. Each condition is a
            checkpoint (e.g. a TRL senior and a GRPO senior of the same base).
          </p>
        </div>
        <Link href="/console/studies/new" className="btn-primary">
          New study
        </Link>
      </div>
      <Suspense fallback={<p className="text-sm text-slate-600">Loading studies…</p>}>
        <StudiesList />
      </Suspense>
    </div>
  )
}
