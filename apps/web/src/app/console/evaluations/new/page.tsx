import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'
import { api } from '@/trpc/server'

import { LaunchEvaluationForm } from './launch-evaluation-form'

export const metadata: Metadata = { title: 'New evaluation' }

export default async function NewEvaluationPage({ searchParams }: { searchParams: Promise<{ checkpoint?: string | string[] }> }) {
  await requireUser()
  const requested = (await searchParams).checkpoint
  // "Evaluate this checkpoint" links pass ?checkpoint=<id>, repeated for several
  const checkpointIds = [...new Set((Array.isArray(requested) ? requested : requested ? [requested] : []).filter(Boolean))]
  const datasets = await api.catalog.datasets()
  return (
    <div className="mx-auto max-w-4xl space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">New evaluation</h1>
        <p className="mt-1 text-sm text-slate-600">
          Each checkpoint gets its own evaluation run with the same settings, so their reports line up for comparison. The
          junior is the checkpoint’s run junior (its base model) unless you choose one.
        </p>
      </div>
      <LaunchEvaluationForm
        initialCheckpointIds={checkpointIds}
        datasets={datasets.map((d) => ({ id: d.id, name: d.name, rowCount: d.rowCount }))}
      />
    </div>
  )
}
