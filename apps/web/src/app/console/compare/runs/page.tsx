import type { Metadata } from 'next'
import Link from 'next/link'

import { requireUser } from '@/server/auth/current-user'

import { parseIds } from '../parse-ids'
import { CompareRunsView } from './compare-runs-view'

export const metadata: Metadata = { title: 'Compare runs' }

export default async function CompareRunsPage({ searchParams }: { searchParams: Promise<{ ids?: string | string[] }> }) {
  await requireUser()
  const ids = parseIds((await searchParams).ids)
  if (ids.length < 2) {
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Compare runs</h1>
        <p className="card text-sm text-slate-700" data-testid="compare-runs-choose">
          Choose at least two runs: tick them in the{' '}
          <Link href="/console" className="text-indigo-700 underline">
            runs list
          </Link>{' '}
          and press “Compare selected”, or follow a run’s “Compare pair” link.
        </p>
      </div>
    )
  }
  return <CompareRunsView ids={ids} />
}
