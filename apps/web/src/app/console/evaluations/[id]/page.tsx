import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { EvaluationView } from './evaluation-view'

export const metadata: Metadata = { title: 'Evaluation' }

export default async function EvaluationPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <EvaluationView id={id} />
}
