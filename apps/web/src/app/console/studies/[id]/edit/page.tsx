import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'
import { api } from '@/trpc/server'

import { EditStudy } from '../../study-form'

export const metadata: Metadata = { title: 'Edit study' }

export default async function EditStudyPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  const datasets = (await api.catalog.datasets()).map((d) => ({ id: d.id, name: d.name, rowCount: d.rowCount }))
  return (
    <div className="mx-auto max-w-4xl">
      <EditStudy id={id} datasets={datasets} />
    </div>
  )
}
