import type { Metadata } from 'next'
import Link from 'next/link'

import { requireUser } from '@/server/auth/current-user'

import { CompareView } from './compare-view'
import { parseIds } from './parse-ids'

export const metadata: Metadata = { title: 'Compare evaluations' }

export default async function ComparePage({ searchParams }: { searchParams: Promise<{ ids?: string | string[] }> }) {
  await requireUser()
  const ids = parseIds((await searchParams).ids)
  if (ids.length < 2) {
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Compare evaluations</h1>
        <p className="card text-sm text-slate-700">
          Choose at least two finished evaluations: tick them in the{' '}
          <Link href="/console/evaluations" className="text-indigo-700 underline">
            evaluations list
          </Link>{' '}
          and press “Compare selected”.
        </p>
      </div>
    )
  }
  return <CompareView ids={ids} />
}
