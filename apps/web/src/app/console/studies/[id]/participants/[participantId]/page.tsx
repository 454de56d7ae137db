import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { ParticipantView } from './participant-view'

export const metadata: Metadata = { title: 'Participant session' }

export default async function ParticipantPage({ params }: { params: Promise<{ id: string; participantId: string }> }) {
  await requireUser()
  const { id, participantId } = await params
  return <ParticipantView studyId={id} participantId={participantId} />
}
