import type { Metadata } from 'next'
import Link from 'next/link'

import { requireUser } from '@/server/auth/current-user'

import { ExperimentsList } from './experiments-list'

export const metadata: Metadata = { title: 'Experiments' }

export default async function ExperimentsPage() {
  await requireUser()
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold">Experiments</h1>
          <p className="mt-1 text-sm text-slate-600">
            Arms × seeds from one base and one budget; every final checkpoint and the base evaluated the same way; the
            paper’s claims read from paired, multi-seed intervals.
          </p>
        </div>
        <Link href="/console/experiments/new" className="btn-primary">
          New experiment
        </Link>
      </div>
      <ExperimentsList />
    </div>
  )
}
