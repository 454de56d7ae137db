// The study link: /study/<studyId>?PROLIFIC_PID=…&STUDY_ID=…&SESSION_ID=… (consent, or resume). The browser's title
// is the study's public title (never its internal name, which may say the hypothesis).
import type { Metadata } from 'next'

import { participantTitle } from '@/server/api/routers/studies.schema'
import { getDb } from '@/server/db'

import { StudyEntry } from './study-entry'

export async function generateMetadata({ params }: { params: Promise<{ studyId: string }> }): Promise<Metadata> {
  const { studyId } = await params
  const study = await getDb().study.findUnique({ where: { id: studyId }, select: { publicTitle: true } })
  // absolute: exactly the title participants are shown (no console suffix)
  return { title: { absolute: study ? participantTitle(study.publicTitle) : 'Study' } }
}

export default async function StudyLinkPage({
  params,
  searchParams,
}: {
  params: Promise<{ studyId: string }>
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const { studyId } = await params
  const raw = await searchParams
  // a parameter given twice counts once (its first value)
  const query = Object.fromEntries(
    Object.entries(raw).flatMap(([key, value]) => {
      const first = Array.isArray(value) ? value[0] : value
      return first === undefined ? [] : [[key, first]]
    }),
  )
  return <StudyEntry studyId={studyId} query={query} />
}
