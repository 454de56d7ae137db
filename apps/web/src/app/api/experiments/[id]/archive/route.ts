// GET /api/experiments/<id>/archive — the experiment as one zip (design, run configs and per-step metrics, evaluation
// reports with per-problem results, the claims report, a README on how each figure was computed). Read lab-wide, like
// the experiment page (server/auth/access.ts): any signed-in researcher or admin.
import { TRPCError } from '@trpc/server'

import { auth } from '@/server/auth'
import { refusalResponse, routeResearcher } from '@/server/auth/access'
import { getDb } from '@/server/db'
import { experimentArchive } from '@/server/experiments/archive'

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const db = getDb()
  const user = await routeResearcher(db, await auth())
  if (user instanceof Response) return user
  const { id } = await params
  const archive = await experimentArchive(db, id)
  if (!archive) return refusalResponse(new TRPCError({ code: 'NOT_FOUND', message: `No experiment ${id}` }))
  return new Response(archive.bytes as BodyInit, {
    status: 200,
    headers: {
      'content-type': 'application/zip',
      'content-length': String(archive.bytes.byteLength),
      'content-disposition': `attachment; filename="${archive.name}"`,
      'cache-control': 'no-store',
    },
  })
}
