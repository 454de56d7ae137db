// GET /api/studies/<id>/codebook — the export's columns and their meanings (Markdown).
import { auth } from '@/server/auth'
import { routeResearcher, routeStudy } from '@/server/auth/access'
import { getDb } from '@/server/db'
import { codebookMarkdown } from '@/server/studies/codebook'

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const db = getDb()
  const user = await routeResearcher(db, await auth())
  if (user instanceof Response) return user
  const { id } = await params
  // part of the study's data exports: for who may read its participant data (server/auth/access.ts)
  const allowed = await routeStudy(db, user, id, 'participantData')
  if (allowed instanceof Response) return allowed
  const study = await db.study.findUniqueOrThrow({ where: { id }, select: { name: true, minSecondsPerTask: true } })
  return new Response(codebookMarkdown(study), {
    headers: { 'content-type': 'text/markdown; charset=utf-8', 'content-disposition': `attachment; filename="codebook-${id}.md"` },
  })
}
