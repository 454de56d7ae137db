import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { pageTitle } from '../../page-titles'
import { StudyView } from './study-view'

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  return pageTitle('study', (await params).id)
}

export default async function StudyPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <StudyView id={id} />
}
