import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'
import { api } from '@/trpc/server'

import { LaunchForm } from './launch-form'

export const metadata: Metadata = { title: 'New run' }

export default async function NewRunPage() {
  await requireUser()
  const [baseModels, datasets] = await Promise.all([api.catalog.baseModels(), api.catalog.datasets()])
  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Launch a training run</h1>
        <p className="mt-1 text-sm text-slate-500">
          TRL: the senior and a frozen junior co-write every rollout (the junior writes each word with probability
          p_junior). GRPO: the same trainer with p_junior = 0.
        </p>
      </div>
      <LaunchForm
        baseModels={baseModels.filter((m) => m.validatedAt).map((m) => ({ id: m.id, name: m.name }))}
        datasets={datasets.map((d) => ({ id: d.id, name: d.name, rowCount: d.rowCount }))}
      />
    </div>
  )
}
