import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'
import { api } from '@/trpc/server'

import { defaultDesign, randomOutcomeCodes } from '../design-defaults'
import { StudyForm } from '../study-form'

export const metadata: Metadata = { title: 'New study' }

export default async function NewStudyPage() {
  await requireUser()
  const datasets = (await api.catalog.datasets()).map((d) => ({ id: d.id, name: d.name, rowCount: d.rowCount }))
  // made here, not in the browser, so the server render and the page agree on them
  const codes = randomOutcomeCodes()
  return (
    <div className="mx-auto max-w-4xl space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">New study</h1>
        <p className="mt-1 text-sm text-slate-600">
          Participants read a senior model’s reasoning up to the handoff point, write the rest and give the final answer. The study
          is saved as a draft; launching it has the worker generate the senior traces, and the study opens when they exist.
        </p>
      </div>
      <StudyForm mode="create" datasets={datasets} initialValues={defaultDesign(datasets, codes)} />
    </div>
  )
}
