import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { StudyView } from './study-view'

export const metadata: Metadata = { title: 'Study' }

export default async function StudyPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <StudyView id={id} />
}
