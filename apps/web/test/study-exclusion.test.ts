// The researcher's own exclusion (studies.setExclusion, issue 16 item 11): a participant marked "excluded" or
// "tester" with a note is excluded like the automatic rules — the dashboard's counts and analyses, the participants
// filter, the session page and the exports follow it — nothing is deleted, clearing it restores the participant, and
// every change is audited with what it replaced. Bad input is refused field by field and changes nothing.
import { parse } from 'csv-parse/sync'
import { describe, expect, test } from 'vitest'

import { participantSession, studyDashboard, studyParticipants } from '@/server/studies/dashboard'
import { exportStream } from '@/server/studies/export'
import { MANUAL_NOTE_MAX_CHARS, setExclusionSchema } from '@/server/studies/manual-exclusion'

import { callerFor, makeUser, outcome, rejectionOf, testDb } from './support/helpers'
import { makeStudyWithResponses } from './support/studies'

const db = testDb()

async function studyWithThree() {
  const study = await makeStudyWithResponses(db, { participants: ['pid-a', 'pid-b', 'pid-c'] })
  const participants = await db.participant.findMany({ where: { studyId: study.studyId }, orderBy: { ordinal: 'asc' }, select: { id: true, externalId: true } })
  const byPid = Object.fromEntries(participants.map((p) => [p.externalId!, p.id]))
  return { ...study, byPid, api: await callerFor(db, study.owner) }
}

async function csvRows(studyId: string) {
  const text = await new Response(exportStream(db, studyId, 'csv', 'raw')).text()
  return parse(text, { columns: true }) as Record<string, string>[]
}

function fieldErrorsOf(error: { cause?: unknown }): string[] {
  const cause = error.cause as { fieldErrors?: Record<string, string[]>; issues?: { path: (string | number)[] }[] } | undefined
  return cause?.fieldErrors ? Object.keys(cause.fieldErrors) : (cause?.issues ?? []).map((i) => i.path.join('.'))
}

describe('studies.setExclusion', () => {
  test('a tester is excluded everywhere the rules apply, with its note; clearing restores the participant', async () => {
    const s = await studyWithThree()
    const b = s.byPid['pid-b']!
    const before = await studyDashboard(db, s.studyId, { applyExclusions: true })
    expect(before.counts.excluded).toBe(0)
    const responsesBefore = before.conditions.reduce((n, c) => n + c.responses, 0)
    expect(responsesBefore).toBe(6)

    const state = await s.api.studies.setExclusion({ id: s.studyId, participantId: b, kind: 'tester', note: '  my own try-out  ' })
    expect(state).toEqual({ participantId: b, manualExclusion: 'tester', manualNote: 'my own try-out' })

    // the dashboard: counted as excluded; its two responses leave the analyses (and come back without exclusions)
    const marked = await studyDashboard(db, s.studyId, { applyExclusions: true })
    expect(marked.counts.excluded).toBe(1)
    expect(marked.counts.responses).toBe(6)
    expect(marked.conditions.reduce((n, c) => n + c.responses, 0)).toBe(4)
    const everyone = await studyDashboard(db, s.studyId, { applyExclusions: false })
    expect(everyone.conditions.reduce((n, c) => n + c.responses, 0)).toBe(6)

    // the participants list and its filter, and the session page
    const excluded = await studyParticipants(db, s.studyId, { page: 1, filter: 'excluded' })
    expect(excluded.items.map((p) => p.id)).toEqual([b])
    expect(excluded.items[0]).toMatchObject({
      excluded: true, manualExclusion: 'tester', manualNote: 'my own try-out', exclusionReason: 'tester (marked by the researcher: my own try-out)',
    })
    const session = await participantSession(db, s.studyId, b)
    expect(session!.participant).toMatchObject({ excluded: true, manualExclusion: 'tester', manualNote: 'my own try-out', manualSetByEmail: s.owner.email })
    expect(session!.participant.manualSetAt).toBeInstanceOf(Date)

    // the export: the rows stay, marked
    const rows = await csvRows(s.studyId)
    expect(rows).toHaveLength(6)
    const ofB = rows.filter((r) => r.participant_id === b)
    expect(ofB).toHaveLength(2)
    for (const r of ofB) {
      expect(r).toMatchObject({ excluded: 'true', manual_exclusion: 'tester', manual_note: 'my own try-out', exclusion_reason: 'tester (marked by the researcher: my own try-out)' })
    }
    expect(rows.filter((r) => r.participant_id !== b).every((r) => r.excluded === 'false' && r.manual_exclusion === '' && r.manual_note === '')).toBe(true)

    // cleared: included again, in the export too; the note goes with the mark
    expect(await s.api.studies.setExclusion({ id: s.studyId, participantId: b, kind: null })).toEqual({ participantId: b, manualExclusion: null, manualNote: null })
    expect((await studyDashboard(db, s.studyId, { applyExclusions: true })).counts.excluded).toBe(0)
    expect((await studyParticipants(db, s.studyId, { page: 1, filter: 'excluded' })).items).toEqual([])
    expect((await csvRows(s.studyId)).filter((r) => r.participant_id === b).every((r) => r.excluded === 'false' && r.manual_exclusion === '')).toBe(true)
    expect(await db.response.count({ where: { assignment: { participantId: b } } })).toBe(2)

    // audited, each change with what it replaced
    const entries = await db.auditLog.findMany({ where: { entityId: s.studyId, action: { startsWith: 'study.participant.' } }, orderBy: { createdAt: 'asc' } })
    expect(entries.map((e) => [e.action, e.actorId])).toEqual([
      ['study.participant.exclude', s.owner.id],
      ['study.participant.include', s.owner.id],
    ])
    expect(entries[0]!.details).toEqual({ participantId: b, kind: 'tester', note: 'my own try-out', previous: { kind: null, note: null } })
    expect(entries[1]!.details).toEqual({ participantId: b, kind: null, note: null, previous: { kind: 'tester', note: 'my own try-out' } })
  })

  test('"excluded" joins the automatic rules in the reason; a collaborator may set it, another researcher may not', async () => {
    const s = await studyWithThree()
    const a = s.byPid['pid-a']!
    // pid-a also failed an attention check: both reasons, the researcher's first
    await db.participant.update({ where: { id: a }, data: { attention: [{ checkId: 'a1', answer: 'red', correct: false }] } })
    const collaborator = await makeUser(db, 'RESEARCHER')
    await db.studyCollaborator.create({ data: { studyId: s.studyId, userId: collaborator.id, addedById: s.owner.id } })
    const stranger = await makeUser(db, 'RESEARCHER')
    expect(await outcome((await callerFor(db, stranger)).studies.setExclusion({ id: s.studyId, participantId: a, kind: 'excluded', note: 'x' }))).toBe('FORBIDDEN')

    await (await callerFor(db, collaborator)).studies.setExclusion({ id: s.studyId, participantId: a, kind: 'excluded', note: 'wrote in another language' })
    const session = await participantSession(db, s.studyId, a)
    expect(session!.participant).toMatchObject({
      excluded: true, manualExclusion: 'excluded', manualSetByEmail: collaborator.email,
      exclusionReason: 'excluded by the researcher: wrote in another language; failed attention check',
    })
    // clearing the mark leaves the automatic rule in force
    await s.api.studies.setExclusion({ id: s.studyId, participantId: a, kind: null, note: 'ignored' })
    expect((await participantSession(db, s.studyId, a))!.participant).toMatchObject({ excluded: true, exclusionReason: 'failed attention check', manualNote: null })
  })

  test('bad input is refused by field and changes nothing; a participant of another study is not found', async () => {
    const s = await studyWithThree()
    const b = s.byPid['pid-b']!
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'excluded', note: '' }, 'note'],
      [{ kind: 'tester', note: '   ' }, 'note'],
      [{ kind: 'excluded', note: 'x'.repeat(MANUAL_NOTE_MAX_CHARS + 1) }, 'note'],
      [{ kind: 'deleted', note: 'why' }, 'kind'],
      [{ kind: 'excluded', note: 'why', participantId: '' }, 'participantId'],
    ]
    for (const [override, field] of cases) {
      const error = await rejectionOf(s.api.studies.setExclusion({ id: s.studyId, participantId: b, ...override } as never))
      expect(error.code, field).toBe('BAD_REQUEST')
      expect(fieldErrorsOf(error), field).toContain(field)
    }
    expect(setExclusionSchema.safeParse({ id: 's', participantId: 'p', kind: 'excluded', note: 'x'.repeat(MANUAL_NOTE_MAX_CHARS) }).success).toBe(true)

    const other = await studyWithThree()
    expect(await outcome(s.api.studies.setExclusion({ id: s.studyId, participantId: other.byPid['pid-a']!, kind: 'tester', note: 'x' }))).toBe('NOT_FOUND')
    expect(await outcome(s.api.studies.setExclusion({ id: s.studyId, participantId: 'no-such-participant', kind: 'tester', note: 'x' }))).toBe('NOT_FOUND')

    const marked = await db.participant.count({ where: { studyId: { in: [s.studyId, other.studyId] }, NOT: { manualExclusion: null } } })
    expect(marked).toBe(0)
    expect(await db.auditLog.count({ where: { entityId: { in: [s.studyId, other.studyId] }, action: { startsWith: 'study.participant.' } } })).toBe(0)
  })
})
