// GET /api/studies/<id>/export?format=csv|jsonl&ids=hashed|raw — the study's responses, streamed (one row per
// response; columns: /api/studies/<id>/codebook). Every download is recorded in audit_log and study_exports.
import { audit } from '@/server/audit'
import { auth } from '@/server/auth'
import { routeResearcher, routeStudy } from '@/server/auth/access'
import { getDb } from '@/server/db'
import { ID_MODES, type IdMode } from '@/server/api/routers/studies.schema'
import { exportStream, reserveExportSlot, type ExportFormatName } from '@/server/studies/export'

const FORMATS: Record<ExportFormatName, { type: string; db: 'CSV' | 'JSONL' }> = {
  csv: { type: 'text/csv; charset=utf-8', db: 'CSV' },
  jsonl: { type: 'application/x-ndjson; charset=utf-8', db: 'JSONL' },
}

function badRequest(message: string): Response {
  return new Response(`${message}\n`, { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } })
}

function isIdMode(value: string): value is IdMode {
  return (ID_MODES as readonly string[]).includes(value)
}

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const user = await routeResearcher(getDb(), await auth())
  if (user instanceof Response) return user
  const { id } = await params
  const url = new URL(request.url)
  const format = url.searchParams.get('format') ?? 'csv'
  const idMode = url.searchParams.get('ids') ?? 'hashed'
  // own keys only: "toString" or "__proto__" is a bad format too, not a lookup into Object.prototype
  if (!Object.hasOwn(FORMATS, format)) return badRequest(`format must be csv or jsonl, got "${format.slice(0, 40)}"`)
  if (!isIdMode(idMode)) return badRequest(`ids must be hashed or raw, got "${idMode.slice(0, 40)}"`)
  const exportFormat = FORMATS[format as ExportFormatName]
  const db = getDb()
  // participant data: owner, collaborators, admins; raw ids: owner and admins (server/auth/access.ts)
  const study = await routeStudy(db, user, id, idMode === 'raw' ? 'rawIds' : 'participantData')
  if (study instanceof Response) return study
  // each streamed export holds a database connection until its download ends
  const releaseSlot = reserveExportSlot()
  if (!releaseSlot) {
    return new Response('Too many exports are running on this server; try again in a minute\n', {
      status: 503, headers: { 'retry-after': '60', 'cache-control': 'no-store' },
    })
  }
  let record: { id: string }
  try {
    record = await db.$transaction(async (tx) => {
      const row = await tx.studyExport.create({ data: { studyId: id, format: exportFormat.db, idMode, createdById: user.id }, select: { id: true } })
      await audit(tx, { actorId: user.id, action: 'study.export', entity: 'studies', entityId: id, details: { exportId: row.id, format: exportFormat.db, idMode } })
      return row
    })
  } catch (error) {
    releaseSlot()
    throw error
  }
  const stream = exportStream(
    db, id, format as ExportFormatName, idMode,
    async (rowCount) => {
      await db.studyExport.update({ where: { id: record.id }, data: { status: 'READY', rowCount } })
    },
    {
      // an incomplete file is not an export: the row says why (e.g. "download aborted")
      onFail: async (message) => {
        await db.studyExport.update({ where: { id: record.id }, data: { status: 'FAILED', error: message } }).catch((error: unknown) => {
          console.error(`study export ${record.id}: could not mark it FAILED:`, error)
        })
      },
      onClose: releaseSlot,
    },
  )
  const filename = `${study.name.replace(/[^A-Za-z0-9_-]+/g, '_') || 'study'}-${id}-${idMode}.${format}`
  return new Response(stream, {
    headers: {
      'content-type': exportFormat.type,
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    },
  })
}
