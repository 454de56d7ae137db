// GET /api/studies/<id>/exports/<exportId> — a finished export kept in study_exports.content: Parquet or the analysis
// bundle (zip), written by the worker's EXPORT_STUDY job, or a Prolific bonus file (written by ../../bonus/route.ts).
import { audit } from '@/server/audit'
import { auth } from '@/server/auth'
import { routeResearcher, routeStudy, routeStudyRefusal } from '@/server/auth/access'
import { getDb } from '@/server/db'

/** How each stored format is served (CSV and JSONL stream from ../../export and keep no file). */
const FILES: Partial<Record<string, { type: string; name: (studyId: string, idMode: string, studyName: string) => string }>> = {
  PARQUET: { type: 'application/vnd.apache.parquet', name: (id, idMode) => `study-${id}-${idMode}.parquet` },
  BUNDLE: { type: 'application/zip', name: (_id, _idMode, studyName) => `study-${studyName}-bundle.zip` },
  BONUS_CSV: { type: 'text/csv; charset=utf-8', name: (id) => `study-${id}-prolific-bonus.csv` },
}

/** A study name as it may stand in a file name. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'study'
}

export async function GET(_request: Request, { params }: { params: Promise<{ id: string; exportId: string }> }) {
  const db = getDb()
  const user = await routeResearcher(db, await auth())
  if (user instanceof Response) return user
  const { id, exportId } = await params
  // participant data: owner, collaborators, admins; a raw-id file: owner and admins (server/auth/access.ts)
  const study = await routeStudy(db, user, id, 'participantData')
  if (study instanceof Response) return study
  const row = await db.studyExport.findFirst({ where: { id: exportId, studyId: id }, select: { id: true, status: true, content: true, format: true, idMode: true, error: true } })
  if (!row) return new Response(`No export ${exportId} of study ${id}\n`, { status: 404 })
  const refused = row.idMode === 'raw' ? routeStudyRefusal(user, study, 'rawIds') : null
  if (refused) return refused
  const file = FILES[row.format]
  if (!file) return new Response(`Export ${exportId} is a ${row.format} download, streamed when it was made; it keeps no file\n`, { status: 404 })
  if (row.status !== 'READY' || !row.content) {
    return new Response(row.status === 'FAILED' ? `This export failed: ${row.error}\n` : 'This export is not ready yet\n', { status: 409 })
  }
  await audit(db, { actorId: user.id, action: 'study.export.download', entity: 'studies', entityId: id, details: { exportId, format: row.format, idMode: row.idMode } })
  return new Response(new Uint8Array(row.content), {
    headers: {
      'content-type': file.type,
      'content-disposition': `attachment; filename="${file.name(id, row.idMode, fileSafe(study.name))}"`,
      'cache-control': 'no-store',
    },
  })
}
