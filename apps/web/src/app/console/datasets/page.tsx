import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { DatasetsView } from './datasets-view'

export const metadata: Metadata = { title: 'Datasets' }

export default async function DatasetsPage() {
  await requireUser()
  return <DatasetsView />
}
