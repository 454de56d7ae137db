import type { Metadata } from 'next'
import Link from 'next/link'
import { Suspense } from 'react'

import { requireUser } from '@/server/auth/current-user'

import { EvaluationsList } from './evaluations-list'

export const metadata: Metadata = { title: 'Evaluations' }

export default async function EvaluationsPage() {
  await requireUser()
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold">Evaluations</h1>
          <p className="mt-1 text-sm text-slate-600">
            Every figure with its 95% interval. Tick two or more finished evaluations to compare them side by side.
          </p>
        </div>
        <Link href="/console/evaluations/new" className="btn-primary">
          New evaluation
        </Link>
      </div>
      <Suspense fallback={<p className="text-sm text-slate-600">Loading evaluations…</p>}>
        <EvaluationsList />
      </Suspense>
    </div>
  )
}
