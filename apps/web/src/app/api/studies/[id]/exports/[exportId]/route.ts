// GET /api/studies/<id>/exports/<exportId> — a finished Parquet export (written by the worker's EXPORT_STUDY job).
import { audit } from '@/server/audit'
import { auth } from '@/server/auth'
import { routeResearcher, routeStudy, routeStudyRefusal } from '@/server/auth/access'
import { getDb } from '@/server/db'

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
  if (row.status !== 'READY' || !row.content) {
    return new Response(row.status === 'FAILED' ? `This export failed: ${row.error}\n` : 'This export is not ready yet\n', { status: 409 })
  }
  await audit(db, { actorId: user.id, action: 'study.export.download', entity: 'studies', entityId: id, details: { exportId, format: row.format, idMode: row.idMode } })
  return new Response(new Uint8Array(row.content), {
    headers: {
      'content-type': 'application/vnd.apache.parquet',
      'content-disposition': `attachment; filename="study-${id}-${row.idMode}.parquet"`,
      'cache-control': 'no-store',
    },
  })
}
