import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { ExperimentView } from './experiment-view'

export const metadata: Metadata = { title: 'Experiment' }

export default async function ExperimentPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <ExperimentView id={id} />
}
