import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { RunView } from './run-view'

export const metadata: Metadata = { title: 'Run' }

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <RunView id={id} />
}
