// GET /api/studies/<id>/bonus — the study's Prolific bulk-bonus file (server/studies/bonus.ts): one line
// "participant_id,amount" per participant with a bonus, from verified answers only. It carries raw participant ids,
// so only the study's owner and admins download it; each download is audited and recorded in study_exports (format
// BONUS_CSV, row_count = participants paid, the file kept so it can be downloaded again from the list).
// Answers still awaiting the verifier would raise some bonuses later: the response says how many in
// X-Bonus-Unverified-Answers (and the console shows it before the download) rather than silently paying less.
// GET …/bonus?summary=1 — what the file would hold (counts and total, no ids), as JSON; records nothing.
import { audit } from '@/server/audit'
import { auth } from '@/server/auth'
import { routeResearcher, routeStudy } from '@/server/auth/access'
import { getDb } from '@/server/db'
import { Prisma } from '@/generated/prisma/client'
import { bonusCsv, studyBonus } from '@/server/studies/bonus'

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const db = getDb()
  const user = await routeResearcher(db, await auth())
  if (user instanceof Response) return user
  const { id } = await params
  const summaryOnly = new URL(request.url).searchParams.get('summary') === '1'
  // raw participant ids: owner and admins (server/auth/access.ts); the summary names nobody, like the dashboard
  const study = await routeStudy(db, user, id, summaryOnly ? 'participantData' : 'rawIds')
  if (study instanceof Response) return study
  if (summaryOnly) {
    const { summary } = await studyBonus(db, id)
    return Response.json(summary, { headers: { 'cache-control': 'no-store' } })
  }
  // the file and its record from one snapshot: the row count is the file's line count
  const { text, summary } = await db.$transaction(
    async (tx) => {
      const { lines, summary } = await studyBonus(tx, id)
      const text = bonusCsv(lines)
      const row = await tx.studyExport.create({
        data: {
          studyId: id, format: 'BONUS_CSV', idMode: 'raw', status: 'READY', rowCount: lines.length, content: new TextEncoder().encode(text),
          createdById: user.id,
        },
        select: { id: true },
      })
      await audit(tx, {
        actorId: user.id, action: 'study.export', entity: 'studies', entityId: id,
        details: { exportId: row.id, format: 'BONUS_CSV', idMode: 'raw', participants: lines.length, totalCents: summary.totalCents, unverifiedAnswers: summary.unverifiedAnswers },
      })
      return { text, summary }
    },
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
  )
  const filename = `${study.name.replace(/[^A-Za-z0-9_-]+/g, '_') || 'study'}-${id}-prolific-bonus.csv`
  return new Response(text, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
      'x-bonus-participants': String(summary.participants),
      'x-bonus-total-cents': String(summary.totalCents),
      'x-bonus-currency': summary.currency,
      'x-bonus-unverified-answers': String(summary.unverifiedAnswers),
      ...(summary.unverifiedAnswers > 0
        ? { warning: `199 - "${summary.unverifiedAnswers} ${summary.unverifiedAnswers === 1 ? 'answer is' : 'answers are'} still being verified; their bonuses are not in this file yet"` }
        : {}),
    },
  })
}
