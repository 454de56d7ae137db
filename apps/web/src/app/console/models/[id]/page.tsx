import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { ModelView } from './model-view'

export const metadata: Metadata = { title: 'Model' }

export default async function ModelPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <ModelView id={id} />
}
