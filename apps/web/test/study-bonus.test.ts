// The Prolific bulk-bonus file (server/studies/bonus.ts, GET /api/studies/<id>/bonus): Prolific's csv_bonuses format
// ("<participant_id>,<amount>" lines, no header, the amount in the study currency's major unit), amounts from the
// view study_participant_bonus over verified answers only, one line per participant with a bonus and a platform id;
// owner and admins only (raw ids) — a collaborator is refused and nothing is written; each download is audited and
// recorded as a BONUS_CSV export; answers still awaiting the verifier are announced, not silently left out.
import type { Session } from 'next-auth'
import { afterEach, describe, expect, test, vi } from 'vitest'

import { formatMoney } from '@/components/format'
import { bonusCsv, formatBonusAmount, isPlainId } from '@/server/studies/bonus'

import { makeUser, sessionFor, testDb, type TestUser } from './support/helpers'
import { makeStudyWithResponses, type OpenStudy } from './support/studies'

const session = vi.hoisted(() => ({ current: null as Session | null }))
vi.mock('@/server/auth', () => ({ auth: vi.fn(async () => session.current), handlers: {}, signIn: vi.fn(), signOut: vi.fn() }))

const db = testDb()

afterEach(() => {
  session.current = null
})

async function as(user: TestUser) {
  session.current = await sessionFor(db, user)
}

async function bonusRequest(studyId: string, query = '') {
  const { GET } = await import('@/app/api/studies/[id]/bonus/route')
  return GET(new Request(`http://localhost/api/studies/${studyId}/bonus${query}`), { params: Promise.resolve({ id: studyId }) })
}

describe('the format', () => {
  test('amounts are the major unit with two decimals, in integer arithmetic', () => {
    expect(formatBonusAmount(75)).toBe('0.75')
    expect(formatBonusAmount(5)).toBe('0.05')
    expect(formatBonusAmount(1250)).toBe('12.50')
    expect(formatBonusAmount(100_001)).toBe('1000.01')
    expect(() => formatBonusAmount(-1)).toThrow(RangeError)
    expect(() => formatBonusAmount(1.5)).toThrow(/whole number of cents/)
  })

  test('one "participant_id,amount" line per participant, each ending in a newline, no header', () => {
    expect(bonusCsv([{ externalId: '60ffe5c8371090c7041d43f8', bonusCents: 425 }, { externalId: 'abc', bonusCents: 75 }])).toBe(
      '60ffe5c8371090c7041d43f8,4.25\nabc,0.75\n',
    )
    expect(bonusCsv([])).toBe('')
  })

  test('only plain platform ids go into the file (no commas, quotes, line breaks or formula starts)', () => {
    expect(isPlainId('5f3c9a0b1d2e3f4a5b6c7d8e')).toBe(true)
    expect(isPlainId('pid-a_1')).toBe(true)
    for (const id of ['=cmd|x', '-1', '+1', '@A1', 'a,b', 'a"b', 'a\nb', '', 'x'.repeat(201)]) expect(isPlainId(id), id).toBe(false)
  })

  test('money for people in the study currency', () => {
    expect(formatMoney(75, 'GBP')).toBe('£0.75')
    expect(formatMoney(1250, 'USD')).toBe('US$12.50')
  })
})

/**
 * Five participants, two tasks each (makeStudyWithResponses), 25 pence per verified correct answer capped at 40:
 * pid-a both correct (50 → capped 40), pid-b one correct (25), pid-c none, "=cmd" one correct (an id that cannot go
 * in the file), and one without an id (one correct). Then pid-b's second answer is left unverified.
 */
async function studyWithBonuses(): Promise<OpenStudy & { verdicts: Record<string, string[]> }> {
  const study = await makeStudyWithResponses(db, { participants: ['pid-a', 'pid-b', 'pid-c', '=cmd', ''] })
  await db.study.update({ where: { id: study.studyId }, data: { bonusPerCorrectCents: 25, bonusCapCents: 40 } })
  const verdicts: Record<string, ('CORRECT' | 'INCORRECT' | null)[]> = {
    'pid-a': ['CORRECT', 'CORRECT'],
    'pid-b': ['CORRECT', null],
    'pid-c': ['INCORRECT', 'INCORRECT'],
    '=cmd': ['CORRECT', 'INCORRECT'],
    '': ['CORRECT', 'INCORRECT'],
  }
  const participants = await db.participant.findMany({
    where: { studyId: study.studyId },
    include: { assignments: { orderBy: { position: 'asc' }, include: { response: true } } },
  })
  for (const p of participants) {
    const list = verdicts[p.externalId ?? '']!
    for (const [i, a] of p.assignments.entries()) {
      const verdict = list[i]
      if (verdict) await db.verifierResult.create({ data: { verifier: 'math-verify', version: '0', verdict, details: '', extractedAnswer: '5', responseId: a.response!.id } })
    }
  }
  return { ...study, verdicts: verdicts as Record<string, string[]> }
}

describe('GET /api/studies/<id>/bonus', () => {
  test('the owner gets Prolific’s file from verified answers, recorded and audited, with the unverified count in a header', async () => {
    const study = await studyWithBonuses()
    await as(study.owner)
    const response = await bonusRequest(study.studyId)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename=".*prolific-bonus\.csv"/)
    expect(await response.text()).toBe('pid-a,0.40\npid-b,0.25\n')
    expect(response.headers.get('x-bonus-unverified-answers')).toBe('1')
    expect(response.headers.get('x-bonus-participants')).toBe('2')
    expect(response.headers.get('x-bonus-total-cents')).toBe('65')
    expect(response.headers.get('warning')).toMatch(/1 answer is still being verified/)
    const record = await db.studyExport.findFirstOrThrow({ where: { studyId: study.studyId, format: 'BONUS_CSV' } })
    expect(record).toMatchObject({ idMode: 'raw', status: 'READY', rowCount: 2, createdById: study.owner.id })
    expect(Buffer.from(record.content!).toString()).toBe('pid-a,0.40\npid-b,0.25\n')
    const audits = await db.auditLog.findMany({ where: { entityId: study.studyId, action: 'study.export' } })
    expect(audits.map((a) => (a.details as { format: string }).format)).toContain('BONUS_CSV')

    // the kept file is downloadable again from the exports list
    const { GET } = await import('@/app/api/studies/[id]/exports/[exportId]/route')
    const again = await GET(new Request('http://localhost/x'), { params: Promise.resolve({ id: study.studyId, exportId: record.id }) })
    expect(again.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(await again.text()).toBe('pid-a,0.40\npid-b,0.25\n')
  })

  test('once every answer is verified there is no warning; a screened-out participant gets no bonus', async () => {
    const study = await studyWithBonuses()
    const b = await db.participant.findFirstOrThrow({ where: { studyId: study.studyId, externalId: 'pid-b' }, include: { assignments: { include: { response: true } } } })
    for (const a of b.assignments) {
      await db.verifierResult.upsert({
        where: { responseId: a.response!.id }, update: {}, create: { verifier: 'math-verify', version: '0', verdict: 'CORRECT', details: '', responseId: a.response!.id },
      })
    }
    await db.participant.updateMany({ where: { studyId: study.studyId, externalId: 'pid-a' }, data: { outcome: 'SCREENED_OUT', outcomeAt: new Date() } })
    const admin = await makeUser(db, 'ADMIN')
    await as(admin)
    const response = await bonusRequest(study.studyId)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('pid-b,0.40\n')
    expect(response.headers.get('x-bonus-unverified-answers')).toBe('0')
    expect(response.headers.get('warning')).toBeNull()
  })

  test('a collaborator or another researcher is refused and nothing is written; the summary names nobody', async () => {
    const study = await studyWithBonuses()
    const collaborator = await makeUser(db, 'RESEARCHER')
    await db.studyCollaborator.create({ data: { studyId: study.studyId, userId: collaborator.id, addedById: study.owner.id } })
    const counts = async () => ({
      exports: await db.studyExport.count({ where: { studyId: study.studyId } }),
      audits: await db.auditLog.count({ where: { entityId: study.studyId } }),
    })
    const before = await counts()
    await as(collaborator)
    const refused = await bonusRequest(study.studyId)
    expect(refused.status).toBe(403)
    expect(await refused.text()).toMatch(/owner or an admin/)
    await as(await makeUser(db, 'RESEARCHER'))
    expect((await bonusRequest(study.studyId)).status).toBe(403)
    session.current = null
    expect((await bonusRequest(study.studyId)).status).toBe(401)
    expect(await counts()).toEqual(before)

    await as(collaborator)
    const summary = await bonusRequest(study.studyId, '?summary=1')
    expect(summary.status).toBe(200)
    expect(await summary.json()).toEqual({ currency: 'GBP', participants: 2, totalCents: 65, unverifiedAnswers: 1, withoutExternalId: 1, unusableIds: 1 })
    expect(await counts()).toEqual(before)
  })

  test('a participant who returned after verified correct answers is still paid for them (only screening out forfeits the bonus)', async () => {
    const study = await studyWithBonuses()
    const c = await db.participant.findFirstOrThrow({ where: { studyId: study.studyId, externalId: 'pid-a' } })
    await db.participant.update({ where: { id: c.id }, data: { outcome: 'RETURNED', outcomeAt: new Date() } })
    await as(study.owner)
    expect(await (await bonusRequest(study.studyId)).text()).toBe('pid-a,0.40\npid-b,0.25\n')
  })
})
