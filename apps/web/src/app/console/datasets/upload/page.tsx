import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { UploadView } from './upload-view'

export const metadata: Metadata = { title: 'Upload a dataset' }

/** ?id=<upload id> follows an upload already sent (the page puts it in the address, so a reload keeps it). */
export default async function UploadPage({ searchParams }: { searchParams: Promise<{ id?: string }> }) {
  await requireUser()
  const { id } = await searchParams
  return <UploadView initialUploadId={id ?? null} />
}
