import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { TraceView } from './trace-view'

export const metadata: Metadata = { title: 'Trace' }

export default async function TracePage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <TraceView id={id} />
}
