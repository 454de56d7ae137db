import type { Metadata } from 'next'
import { Suspense } from 'react'

import { requireUser } from '@/server/auth/current-user'
import { api } from '@/trpc/server'

import { GenerateTracesForm } from './generate-traces-form'
import { TracesList } from './traces-list'

export const metadata: Metadata = { title: 'Traces' }

export default async function TracesPage() {
  await requireUser()
  const datasets = await api.catalog.datasets()
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Traces</h1>
        <p className="mt-1 text-sm text-slate-600">
          Reasoning written by a checkpoint (and its junior), with who wrote each word, the junior’s surprisal and the
          verifier’s verdict.
        </p>
      </div>
      <Suspense fallback={<p className="text-sm text-slate-600">Loading traces…</p>}>
        <TracesList />
      </Suspense>
      <GenerateTracesForm datasets={datasets.map((d) => ({ id: d.id, name: d.name, rowCount: d.rowCount }))} />
    </div>
  )
}
