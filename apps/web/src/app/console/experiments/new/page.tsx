import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'
import { api } from '@/trpc/server'

import { ExperimentForm, type Design } from './experiment-form'

export const metadata: Metadata = { title: 'New experiment' }

export default async function NewExperimentPage({ searchParams }: { searchParams: Promise<{ clone?: string }> }) {
  await requireUser()
  const { clone } = await searchParams
  const [baseModels, datasets, design] = await Promise.all([
    api.catalog.baseModels(),
    api.catalog.datasets(),
    clone ? api.experiments.clone({ id: clone }).catch(() => null) : null,
  ])
  return (
    <div className="mx-auto max-w-4xl space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">New experiment</h1>
        <p className="mt-1 text-sm text-slate-600">
          Every arm runs once per seed from the same base and budget; each final checkpoint and the base are evaluated
          the same way on the held-out split; the claims are computed when every evaluation is in.
        </p>
        {clone && !design ? <p role="alert" className="mt-2 text-sm text-red-700">There is no experiment {clone} to clone; the form starts empty.</p> : null}
      </div>
      <ExperimentForm
        baseModels={baseModels.filter((m) => m.validatedAt).map((m) => ({ id: m.id, name: m.name }))}
        datasets={datasets.map((d) => ({ id: d.id, name: d.name, rowCount: d.rowCount }))}
        design={design as Design | null}
      />
    </div>
  )
}
