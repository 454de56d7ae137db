// GET /api/studies/<id>/exports/<exportId> — a finished Parquet export (written by the worker's EXPORT_STUDY job).
import { audit } from '@/server/audit'
import { researcherOrResponse } from '@/server/auth/route-user'
import { getDb } from '@/server/db'

export async function GET(_request: Request, { params }: { params: Promise<{ id: string; exportId: string }> }) {
  const user = await researcherOrResponse()
  if (user instanceof Response) return user
  const { id, exportId } = await params
  const db = getDb()
  const row = await db.studyExport.findFirst({ where: { id: exportId, studyId: id }, select: { id: true, status: true, content: true, format: true, idMode: true, error: true } })
  if (!row) return new Response(`No export ${exportId} of study ${id}\n`, { status: 404 })
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
