// GET /api/studies/<id>/preregistration?format=json|md — the study's frozen preregistration. JSON: exactly the stored
// preregistration_json text, whose UTF-8 bytes' SHA-256 is the hash on the study page (so `sha256sum` of the download
// checks it); md: its Markdown rendering. The snapshot holds the design only (conditions, checkpoints, items, rules,
// plan), no participant data, so it is read lab-wide like the design (server/auth/access.ts: 'design').
import { auth } from '@/server/auth'
import { routeResearcher, routeStudy } from '@/server/auth/access'
import { getDb } from '@/server/db'

const FORMATS = {
  json: { column: 'preregistrationJson', type: 'application/json; charset=utf-8', extension: 'json' },
  md: { column: 'preregistrationMarkdown', type: 'text/markdown; charset=utf-8', extension: 'md' },
} as const

const plain = (status: number, message: string) =>
  new Response(`${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } })

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const db = getDb()
  const user = await routeResearcher(db, await auth())
  if (user instanceof Response) return user
  const { id } = await params
  const allowed = await routeStudy(db, user, id, 'design')
  if (allowed instanceof Response) return allowed
  const requested = new URL(request.url).searchParams.get('format') ?? 'json'
  if (!(requested in FORMATS)) return plain(400, `Unknown format "${requested}": use format=json or format=md`)
  const format = FORMATS[requested as keyof typeof FORMATS]
  const study = await db.study.findUniqueOrThrow({
    where: { id },
    select: { preregistrationSha256: true, preregistrationJson: true, preregistrationMarkdown: true },
  })
  const body = study[format.column]
  if (!study.preregistrationSha256 || body === null) {
    return plain(409, `Study ${id} has no frozen preregistration yet: it is frozen when the study opens`)
  }
  return new Response(body, {
    headers: {
      'content-type': format.type,
      'content-disposition': `attachment; filename="preregistration-${id}.${format.extension}"`,
      // the hash of the JSON text, whichever rendering this is
      'x-preregistration-sha256': study.preregistrationSha256,
      'cache-control': 'no-store',
    },
  })
}
