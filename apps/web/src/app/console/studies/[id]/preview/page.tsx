import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { StudyPreview } from './study-preview'

export const metadata: Metadata = { title: 'Preview as participant' }

export default async function StudyPreviewPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <StudyPreview id={id} />
}
