// GET /api/studies/<id>/export?format=csv|jsonl&ids=hashed|raw — the study's responses, streamed (one row per
// response; columns: /api/studies/<id>/codebook). Every download is recorded in audit_log and study_exports.
import { audit } from '@/server/audit'
import { researcherOrResponse } from '@/server/auth/route-user'
import { getDb } from '@/server/db'
import { ID_MODES, type IdMode } from '@/server/api/routers/studies.schema'
import { exportStream, type ExportFormatName } from '@/server/studies/export'

const FORMATS: Record<ExportFormatName, { type: string; db: 'CSV' | 'JSONL' }> = {
  csv: { type: 'text/csv; charset=utf-8', db: 'CSV' },
  jsonl: { type: 'application/x-ndjson; charset=utf-8', db: 'JSONL' },
}

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const user = await researcherOrResponse()
  if (user instanceof Response) return user
  const { id } = await params
  const url = new URL(request.url)
  const format = (url.searchParams.get('format') ?? 'csv') as ExportFormatName
  const idMode = (url.searchParams.get('ids') ?? 'hashed') as IdMode
  if (!(format in FORMATS)) return new Response(`format must be csv or jsonl, got "${format}"\n`, { status: 400 })
  if (!ID_MODES.includes(idMode)) return new Response(`ids must be hashed or raw, got "${idMode}"\n`, { status: 400 })
  const db = getDb()
  const study = await db.study.findUnique({ where: { id }, select: { id: true, name: true } })
  if (!study) return new Response(`No study ${id}\n`, { status: 404 })
  const record = await db.$transaction(async (tx) => {
    const row = await tx.studyExport.create({ data: { studyId: id, format: FORMATS[format].db, idMode, createdById: user.id }, select: { id: true } })
    await audit(tx, { actorId: user.id, action: 'study.export', entity: 'studies', entityId: id, details: { exportId: row.id, format: FORMATS[format].db, idMode } })
    return row
  })
  const stream = exportStream(db, id, format, idMode, async (rowCount) => {
    await db.studyExport.update({ where: { id: record.id }, data: { status: 'READY', rowCount } })
  })
  const filename = `${study.name.replace(/[^A-Za-z0-9_-]+/g, '_') || 'study'}-${id}-${idMode}.${format}`
  return new Response(stream, {
    headers: {
      'content-type': FORMATS[format].type,
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    },
  })
}
