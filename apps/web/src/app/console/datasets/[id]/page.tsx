import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { pageTitle } from '../../page-titles'
import { DatasetView } from './dataset-view'

/** The tab says which one, by name (page-titles.ts). */
export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  return pageTitle('dataset', (await params).id)
}

export default async function DatasetPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser()
  const { id } = await params
  return <DatasetView id={id} />
}
