// The study link: /study/<studyId>?PROLIFIC_PID=…&STUDY_ID=…&SESSION_ID=… (consent, or resume).
import { StudyEntry } from './study-entry'

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
