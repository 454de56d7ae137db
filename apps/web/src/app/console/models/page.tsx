import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { ModelsView } from './models-view'

export const metadata: Metadata = { title: 'Models' }

export default async function ModelsPage() {
  await requireUser()
  return <ModelsView />
}
