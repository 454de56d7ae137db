import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { GenerateView } from './generate-view'

export const metadata: Metadata = { title: 'Generate a demo dataset' }

/** ?job=<job id> follows a generation already queued (the page puts it in the address, so a reload keeps it). */
export default async function GeneratePage({ searchParams }: { searchParams: Promise<{ job?: string }> }) {
  await requireUser()
  const { job } = await searchParams
  return <GenerateView initialJobId={job ?? null} />
}
