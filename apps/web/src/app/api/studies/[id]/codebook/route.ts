// GET /api/studies/<id>/codebook — the export's columns and their meanings (Markdown).
import { researcherOrResponse } from '@/server/auth/route-user'
import { getDb } from '@/server/db'
import { codebookMarkdown } from '@/server/studies/codebook'

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const user = await researcherOrResponse()
  if (user instanceof Response) return user
  const { id } = await params
  const study = await getDb().study.findUnique({ where: { id }, select: { name: true, minSecondsPerTask: true } })
  if (!study) return new Response(`No study ${id}\n`, { status: 404 })
  return new Response(codebookMarkdown(study), {
    headers: { 'content-type': 'text/markdown; charset=utf-8', 'content-disposition': `attachment; filename="codebook-${id}.md"` },
  })
}
