import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { DatasetView } from './dataset-view'

export const metadata: Metadata = { title: 'Dataset' }

export default async function DatasetPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <DatasetView id={id} />
}
