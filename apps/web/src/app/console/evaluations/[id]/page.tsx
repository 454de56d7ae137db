import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { pageTitle } from '../../page-titles'
import { EvaluationView } from './evaluation-view'

/** The tab says which one, by name (page-titles.ts). */
export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  return pageTitle('evaluation', (await params).id)
}

export default async function EvaluationPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <EvaluationView id={id} />
}
