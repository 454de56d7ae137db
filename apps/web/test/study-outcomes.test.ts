// How a participant's session ends (server/studies/outcomes.ts, participant-session.ts): the rules as pure functions,
// then each outcome through the participant API against a real Postgres — completed, screened out after exactly
// two failed attention checks (and not after one), timed out (calling in late, and absent until the next join),
// returned — each with its completion code or message, and the first outcome winning.
import { describe, expect, test } from 'vitest'

import {
  completionFor,
  derivedSessionTimeLimitSeconds,
  effectiveTaskLimitSeconds,
  screensOut,
  SESSION_ALLOWANCE_SECONDS,
  sessionTimeLimitRule,
  sessionTimeLimitSeconds,
  type OutcomeTexts,
} from '@/server/studies/outcomes'
import { endSession, hashToken, TIMEOUT_GRACE_MS } from '@/server/studies/participant-session'

import { outcome, rejectionOf, testDb } from './support/helpers'
import { anonymous, makeOpenStudy, type OpenStudy } from './support/studies'

const db = testDb()

const TEXTS: OutcomeTexts = {
  completionCode: 'DONE123',
  redirectUrl: 'https://app.prolific.com/submissions/complete?cc=DONE123',
  screenedOutCode: 'SCREEN9',
  screenedOutRedirectUrl: 'https://app.prolific.com/submissions/complete?cc=SCREEN9',
  timedOutCode: 'LATE7',
  timedOutRedirectUrl: null,
}

describe('the rules', () => {
  test('two failed attention checks screen out, one does not, and a study with one check never does', () => {
    expect(screensOut(2, 0)).toBe(false)
    expect(screensOut(2, 1)).toBe(false)
    expect(screensOut(2, 2)).toBe(true)
    expect(screensOut(3, 2)).toBe(true)
    expect(screensOut(1, 1)).toBe(false)
    expect(screensOut(0, 0)).toBe(false)
  })

  test('the session limit: the study’s own, or tasks × time limit + the allowance', () => {
    expect(derivedSessionTimeLimitSeconds(4, 120)).toBe(4 * 120 + SESSION_ALLOWANCE_SECONDS)
    expect(sessionTimeLimitSeconds({ sessionTimeLimitSeconds: null, tasksPerParticipant: 2, timeLimitSeconds: 120 })).toBe(240 + SESSION_ALLOWANCE_SECONDS)
    expect(sessionTimeLimitSeconds({ sessionTimeLimitSeconds: 900, tasksPerParticipant: 2, timeLimitSeconds: 120 })).toBe(900)
    expect(sessionTimeLimitRule({ sessionTimeLimitSeconds: null, tasksPerParticipant: 2, timeLimitSeconds: 120 })).toMatch(/840 s from consent .*2 × 120 s \+ 600 s/)
    expect(sessionTimeLimitRule({ sessionTimeLimitSeconds: 900, tasksPerParticipant: 2, timeLimitSeconds: 120 })).toMatch(/900 s .*set by the study/)
  })

  test('a task running when the session ends is cut short at the session’s end', () => {
    const started = new Date('2026-01-01T00:00:00Z')
    expect(effectiveTaskLimitSeconds(started, 120, null)).toBe(120)
    expect(effectiveTaskLimitSeconds(started, 120, new Date('2026-01-01T00:05:00Z'))).toBe(120)
    expect(effectiveTaskLimitSeconds(started, 120, new Date('2026-01-01T00:00:45Z'))).toBe(45)
    expect(effectiveTaskLimitSeconds(started, 120, new Date('2025-12-31T23:59:00Z'))).toBe(0)
  })

  test('each outcome’s completion: its code and redirect, or a message without a code', () => {
    expect(completionFor('COMPLETED', TEXTS)).toMatchObject({ outcome: 'COMPLETED', code: 'DONE123', redirectUrl: TEXTS.redirectUrl })
    expect(completionFor('SCREENED_OUT', TEXTS)).toMatchObject({ code: 'SCREEN9', redirectUrl: TEXTS.screenedOutRedirectUrl })
    expect(completionFor('TIMED_OUT', TEXTS)).toMatchObject({ code: 'LATE7', redirectUrl: null, message: expect.stringMatching(/run out/) })
    const none = { ...TEXTS, screenedOutCode: null, screenedOutRedirectUrl: null, timedOutCode: '' }
    expect(completionFor('SCREENED_OUT', none)).toMatchObject({ code: null, redirectUrl: null, message: expect.stringMatching(/no completion code/) })
    expect(completionFor('TIMED_OUT', none)).toMatchObject({ code: null, message: expect.stringMatching(/no completion code/) })
    expect(completionFor('RETURNED', TEXTS)).toMatchObject({ outcome: 'RETURNED', code: null, redirectUrl: null, message: expect.stringMatching(/left the study/) })
  })
})

// ---------------------------------------------------------------- through the participant API

const answer = { continuation: 'then 5', answer: '5', easeRating: 4, confidence: 5 }

/** An open study (2 conditions × 2 problems, 2 tasks of 120 s each) with the per-outcome codes set. */
async function studyWithCodes(more: Record<string, unknown> = {}): Promise<OpenStudy> {
  const study = await makeOpenStudy(db)
  await db.study.update({
    where: { id: study.studyId },
    data: { screenedOutCode: 'SCREEN9', screenedOutRedirectUrl: TEXTS.screenedOutRedirectUrl, timedOutCode: 'LATE7', ...more },
  })
  return study
}

/** Two checks, both after the first task: the second failure comes before the second task. */
const TWO_CHECKS = [
  { id: 'a1', afterTask: 1, prompt: 'Choose "blue".', options: ['red', 'blue'], correct: 'blue' },
  { id: 'a2', afterTask: 1, prompt: 'Choose "green".', options: ['green', 'pink'], correct: 'green' },
]

async function joinToTask(study: OpenStudy) {
  const api = await anonymous(db)
  const { token } = await api.participant.join({ studyId: study.studyId, consent: true, params: { PROLIFIC_PID: `pid-${Math.random()}` } })
  await api.participant.finishInstructions({ token })
  await api.participant.submitPractice({ token, continuation: '', answer: '2' })
  const task = (await api.participant.session({ token })).task!
  await api.participant.startTask({ token, assignmentId: task.assignmentId })
  return { api, token, assignmentId: task.assignmentId }
}

const participantOf = (token: string) => db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })

describe('completion codes per outcome', () => {
  test('completed: the completion code and redirect; outcome and outcome_at written with completed_at', async () => {
    const study = await studyWithCodes()
    const { api, token, assignmentId } = await joinToTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    await api.participant.answerAttention({ token, checkId: 'a1', answer: 'blue' })
    const second = (await api.participant.session({ token })).task!
    await api.participant.startTask({ token, assignmentId: second.assignmentId })
    expect((await api.participant.submit({ token, assignmentId: second.assignmentId, ...answer })).complete).toBe(true)
    const view = await api.participant.session({ token })
    expect(view.completion).toMatchObject({ outcome: 'COMPLETED', code: 'DONE123' })
    const row = await participantOf(token)
    expect(row.outcome).toBe('COMPLETED')
    expect(row.outcomeAt?.getTime()).toBe(row.completedAt?.getTime())
  })

  test('screened out after exactly two failed checks: the session ends there, with its code; no more tasks', async () => {
    const study = await studyWithCodes({ attentionChecks: TWO_CHECKS })
    const { api, token, assignmentId } = await joinToTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    // the first failed check: no ground to end the session
    expect((await api.participant.answerAttention({ token, checkId: 'a1', answer: 'red' })).complete).toBe(false)
    expect((await participantOf(token)).outcome).toBeNull()
    expect((await api.participant.session({ token })).stage).toBe('attention')
    // the second one ends it
    expect((await api.participant.answerAttention({ token, checkId: 'a2', answer: 'pink' })).complete).toBe(true)
    const view = await api.participant.session({ token })
    expect(view.stage).toBe('complete')
    expect(view.completion).toMatchObject({ outcome: 'SCREENED_OUT', code: 'SCREEN9', redirectUrl: TEXTS.screenedOutRedirectUrl })
    const row = await participantOf(token)
    expect(row).toMatchObject({ outcome: 'SCREENED_OUT', completedAt: null })
    // no more tasks: the second one cannot be started or answered
    const open = await db.assignment.findFirstOrThrow({ where: { participantId: row.id, response: null } })
    expect((await rejectionOf(api.participant.startTask({ token, assignmentId: open.id }))).message).toMatch(/ended/)
    expect(await outcome(api.participant.submit({ token, assignmentId: open.id, ...answer }))).toBe('PRECONDITION_FAILED')
    expect(await db.response.count({ where: { assignmentId: open.id } })).toBe(0)
    // a repeat of the last answer (a retry after a lost reply) changes nothing
    expect((await api.participant.answerAttention({ token, checkId: 'a2', answer: 'pink' })).complete).toBe(true)
    expect((await participantOf(token)).attention).toHaveLength(2)
  })

  test('one failed check of two does not screen out: the participant completes with the completed code', async () => {
    const study = await studyWithCodes({ attentionChecks: TWO_CHECKS })
    const { api, token, assignmentId } = await joinToTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    await api.participant.answerAttention({ token, checkId: 'a1', answer: 'red' })
    await api.participant.answerAttention({ token, checkId: 'a2', answer: 'green' })
    const second = (await api.participant.session({ token })).task!
    await api.participant.startTask({ token, assignmentId: second.assignmentId })
    await api.participant.submit({ token, assignmentId: second.assignmentId, ...answer })
    expect((await api.participant.session({ token })).completion).toMatchObject({ outcome: 'COMPLETED', code: 'DONE123' })
  })

  test('a screened-out study without its own code shows a clear message and no code', async () => {
    const study = await studyWithCodes({ attentionChecks: TWO_CHECKS, screenedOutCode: null, screenedOutRedirectUrl: null })
    const { api, token, assignmentId } = await joinToTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    await api.participant.answerAttention({ token, checkId: 'a1', answer: 'red' })
    await api.participant.answerAttention({ token, checkId: 'a2', answer: 'pink' })
    expect((await api.participant.session({ token })).completion).toMatchObject({
      outcome: 'SCREENED_OUT', code: null, redirectUrl: null, message: expect.stringMatching(/no completion code/),
    })
  })

  test('timed out: calling in after the whole session’s limit records the running task from its draft and ends the session', async () => {
    const study = await studyWithCodes()
    const { api, token, assignmentId } = await joinToTask(study)
    await api.participant.saveDraft({ token, assignmentId, continuation: 'half way', answer: '4' })
    // the derived limit: 2 tasks × 120 s + the allowance; consent (and the task's start) moved back past it
    const limit = derivedSessionTimeLimitSeconds(2, 120)
    const consentedAt = new Date(Date.now() - (limit * 1000 + TIMEOUT_GRACE_MS + 60_000))
    const row = await participantOf(token)
    await db.participant.update({ where: { id: row.id }, data: { consentedAt } })
    const startedAt = new Date(consentedAt.getTime() + (limit - 30) * 1000) // 30 s before the session's end
    await db.assignment.update({ where: { id: assignmentId }, data: { startedAt } })
    const view = await api.participant.session({ token })
    expect(view.stage).toBe('complete')
    expect(view.completion).toMatchObject({ outcome: 'TIMED_OUT', code: 'LATE7', redirectUrl: null })
    // the running task ended with the session (30 s in), recorded as timed out from its draft
    const response = await db.response.findUniqueOrThrow({ where: { assignmentId } })
    expect(response).toMatchObject({ timedOut: true, continuation: 'half way', answer: '4', elapsedMs: 30_000 })
    expect((await participantOf(token)).outcome).toBe('TIMED_OUT')
    // and nothing more is taken
    expect(await outcome(api.participant.answerAttention({ token, checkId: 'a1', answer: 'blue' }))).toBe('PRECONDITION_FAILED')
  })

  test('a short session limit cuts the task’s deadline; a late last submit times the session out instead of completing it', async () => {
    const study = await studyWithCodes({ sessionTimeLimitSeconds: 60, attentionChecks: [] })
    const { api, token, assignmentId } = await joinToTask(study)
    const row = await participantOf(token)
    const started = await api.participant.startTask({ token, assignmentId })
    // the task's own limit is 120 s, but the session ends 60 s after consent
    expect(new Date(started.deadline).getTime()).toBe(row.consentedAt!.getTime() + 60_000)
    await api.participant.submit({ token, assignmentId, ...answer })
    const second = (await api.participant.session({ token })).task!
    await api.participant.startTask({ token, assignmentId: second.assignmentId })
    // the session's end passed (plus grace) while the participant wrote the last answer, started 30 s into the session
    const consentedAt = new Date(Date.now() - 60_000 - TIMEOUT_GRACE_MS - 5_000)
    await db.participant.update({ where: { id: row.id }, data: { consentedAt } })
    await db.assignment.update({ where: { id: second.assignmentId }, data: { startedAt: new Date(consentedAt.getTime() + 30_000) } })
    expect((await api.participant.submit({ token, assignmentId: second.assignmentId, ...answer })).complete).toBe(true)
    expect(await participantOf(token)).toMatchObject({ outcome: 'TIMED_OUT', completedAt: null })
    // stored as given, marked timed out (the task's time ended with the session, 30 s after it started)
    expect(await db.response.findUniqueOrThrow({ where: { assignmentId: second.assignmentId } })).toMatchObject({ timedOut: true, answer: '5' })
  })

  test('an absent participant is timed out at the next join, under the study’s lock', async () => {
    const study = await studyWithCodes()
    const absent = await joinToTask(study)
    const row = await participantOf(absent.token)
    await db.participant.update({ where: { id: row.id }, data: { consentedAt: new Date(Date.now() - 3_600_000) } })
    const api = await anonymous(db)
    await api.participant.join({ studyId: study.studyId, consent: true, params: {} })
    expect((await participantOf(absent.token)).outcome).toBe('TIMED_OUT')
    // coming back later: the session shows its end
    expect((await absent.api.participant.session({ token: absent.token })).completion).toMatchObject({ outcome: 'TIMED_OUT', code: 'LATE7' })
  })

  test('returned: "leave the study" ends the session without a code; a repeat changes nothing', async () => {
    const study = await studyWithCodes()
    const { api, token, assignmentId } = await joinToTask(study)
    expect(await api.participant.leave({ token })).toEqual({ outcome: 'RETURNED' })
    expect(await api.participant.leave({ token })).toEqual({ outcome: 'RETURNED' })
    const view = await api.participant.session({ token })
    expect(view.stage).toBe('complete')
    expect(view.completion).toMatchObject({ outcome: 'RETURNED', code: null, redirectUrl: null, message: expect.stringMatching(/thank you/i) })
    expect(await outcome(api.participant.submit({ token, assignmentId, ...answer }))).toBe('PRECONDITION_FAILED')
    expect(await outcome(api.participant.saveDraft({ token, assignmentId, continuation: 'x', answer: '' }))).toBe('PRECONDITION_FAILED')
    expect(await db.response.count({ where: { assignmentId } })).toBe(0)
    // a forged token leaves nothing
    expect(await outcome(api.participant.leave({ token: 'A'.repeat(43) }))).toBe('UNAUTHORIZED')
  })

  test('the first outcome wins: a completed session can be neither left nor timed out', async () => {
    const study = await studyWithCodes({ attentionChecks: [] })
    const { api, token, assignmentId } = await joinToTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    const second = (await api.participant.session({ token })).task!
    await api.participant.startTask({ token, assignmentId: second.assignmentId })
    await api.participant.submit({ token, assignmentId: second.assignmentId, ...answer })
    expect(await api.participant.leave({ token })).toEqual({ outcome: 'COMPLETED' })
    const row = await participantOf(token)
    expect(row.outcome).toBe('COMPLETED')
    // in SQL too: a session with an outcome keeps it
    expect(await db.$transaction((tx) => endSession(tx, row.id, 'TIMED_OUT'))).toBe(false)
    expect(await db.$transaction((tx) => endSession(tx, row.id, 'RETURNED'))).toBe(false)
    expect((await participantOf(token)).outcome).toBe('COMPLETED')
  })
})

describe('dropout refill in the join transaction', () => {
  const itemsOf = async (participantId: string) =>
    (await db.assignment.findMany({ where: { participantId }, orderBy: { position: 'asc' }, select: { itemId: true } })).map((a) => a.itemId)

  test('refill on: the next arrival takes a dropout’s design row (ordinal stays arrival order); then fresh rows go on', async () => {
    const study = await studyWithCodes()
    const first = await joinToTask(study)
    const dropout = await participantOf(first.token)
    expect(dropout).toMatchObject({ ordinal: 0, designRow: 0, refillsId: null })
    await first.api.participant.leave({ token: first.token })
    const second = await joinToTask(study)
    const refiller = await participantOf(second.token)
    expect(refiller).toMatchObject({ ordinal: 1, designRow: 0, refillsId: dropout.id })
    expect(await itemsOf(refiller.id)).toEqual(await itemsOf(dropout.id))
    const third = await participantOf((await joinToTask(study)).token)
    expect(third).toMatchObject({ ordinal: 2, designRow: 1, refillsId: null })
    // the refiller drops out too (screened out counts): its row is free again, and refilled once
    await db.participant.update({ where: { id: refiller.id }, data: { outcome: 'SCREENED_OUT', outcomeAt: new Date() } })
    const fourth = await participantOf((await joinToTask(study)).token)
    expect(fourth).toMatchObject({ ordinal: 3, designRow: 0, refillsId: refiller.id })
    expect((await participantOf((await joinToTask(study)).token)).designRow).toBe(2)
  })

  test('refill off: pure arrival order (design row = ordinal)', async () => {
    const study = await studyWithCodes({ refillDropouts: false })
    const first = await joinToTask(study)
    await first.api.participant.leave({ token: first.token })
    expect(await participantOf((await joinToTask(study)).token)).toMatchObject({ ordinal: 1, designRow: 1, refillsId: null })
  })

  test('two joins at once after a dropout do not both take its row', async () => {
    for (let round = 0; round < 3; round++) {
      const study = await studyWithCodes()
      const first = await joinToTask(study)
      await first.api.participant.leave({ token: first.token })
      const joined = await Promise.all([0, 1, 2].map(async () => {
        const api = await anonymous(db)
        return (await api.participant.join({ studyId: study.studyId, consent: true, params: {} })).token
      }))
      const rows = await Promise.all(joined.map(participantOf))
      expect(rows.map((r) => r.designRow).sort()).toEqual([0, 1, 2])
      expect(rows.filter((r) => r.refillsId !== null)).toHaveLength(1)
    }
  })

  test('a participant timed out while away is refilled by the join that notices it', async () => {
    const study = await studyWithCodes()
    const away = await joinToTask(study)
    const row = await participantOf(away.token)
    await db.participant.update({ where: { id: row.id }, data: { consentedAt: new Date(Date.now() - 3_600_000) } })
    const next = await participantOf((await joinToTask(study)).token)
    expect(next).toMatchObject({ designRow: row.designRow, refillsId: row.id })
  })
})

describe('the participants table', () => {
  test('shows each outcome, the bonus from verified answers, and the design row with whom it refills', async () => {
    const study = await studyWithCodes({ bonusPerCorrectCents: 25, bonusCapCents: 40, currency: 'USD' })
    const done = await joinToTask(study)
    const { responseId } = await done.api.participant.submit({ token: done.token, assignmentId: done.assignmentId, ...answer })
    await db.verifierResult.create({ data: { verifier: 'math-verify', version: '0', verdict: 'CORRECT', details: '', extractedAnswer: '5', responseId } })
    await done.api.participant.leave({ token: done.token })
    await joinToTask(study)
    const { studyParticipants } = await import('@/server/studies/dashboard')
    const page = await studyParticipants(db, study.studyId, { page: 1 })
    expect(page.items.map((r) => ({ ordinal: r.ordinal, outcome: r.outcome, designRow: r.designRow, refills: r.refillsOrdinal, bonus: r.bonusCents, currency: r.currency }))).toEqual([
      { ordinal: 0, outcome: 'RETURNED', designRow: 0, refills: null, bonus: 25, currency: 'USD' },
      { ordinal: 1, outcome: null, designRow: 0, refills: 0, bonus: 0, currency: 'USD' },
    ])
    const returned = await studyParticipants(db, study.studyId, { page: 1, outcome: 'RETURNED' })
    expect(returned.items.map((r) => r.ordinal)).toEqual([0])
  })
})

describe('the preview ("preview as participant") follows the same rules in the browser', () => {
  const preview = async (attentionChecks: unknown[]) => {
    const { createPreviewBackend } = await import('@/app/(participant)/_flow/preview-backend')
    const data = {
      id: 'study-preview', name: 'Preview', status: 'DRAFT', consentText: 'ok', instructions: 'do it', practice: { problem: 'p', reasoning: 'r', answer: '2' },
      attentionChecks, timeLimitSeconds: 120, tasksPerParticipant: 2,
      tasks: [{ conditionName: 'A', problem: 'one', prefixText: 'x' }, { conditionName: 'B', problem: 'two', prefixText: 'y' }], liveConditions: [],
      ...TEXTS, // the completed code and redirect; a preview that carries the per-outcome codes shows them too
    }
    const backend = createPreviewBackend(data as never, { latencyMs: 0 })
    const { token } = await backend.join({ studyId: data.id, consent: true, params: {} })
    await backend.finishInstructions(token)
    await backend.submitPractice({ token, continuation: '', answer: '2' })
    const task = (await backend.session(token)).task!
    await backend.startTask({ token, assignmentId: task.assignmentId })
    await backend.submit({ token, assignmentId: task.assignmentId, continuation: '', answer: '1', easeRating: 1, confidence: 1, timedOut: false })
    return { backend, token }
  }

  test('two failed checks screen out with the screened-out code; leaving shows no code', async () => {
    const screened = await preview(TWO_CHECKS)
    await screened.backend.answerAttention({ token: screened.token, checkId: 'a1', answer: 'red' })
    expect((await screened.backend.session(screened.token)).stage).toBe('attention')
    expect(await screened.backend.answerAttention({ token: screened.token, checkId: 'a2', answer: 'pink' })).toEqual({ complete: true })
    expect((await screened.backend.session(screened.token)).completion).toMatchObject({ outcome: 'SCREENED_OUT', code: 'SCREEN9' })

    const leaving = await preview(TWO_CHECKS)
    expect(await leaving.backend.leave(leaving.token)).toEqual({ outcome: 'RETURNED' })
    expect((await leaving.backend.session(leaving.token)).completion).toMatchObject({ outcome: 'RETURNED', code: null })
  })
})

describe('starting a task after the session’s time ran out', () => {
  test('is refused and times the session out (nothing was running)', async () => {
    const study = await studyWithCodes({ attentionChecks: [] })
    const { api, token, assignmentId } = await joinToTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    const second = (await api.participant.session({ token })).task!
    const row = await participantOf(token)
    // just past the end, within the grace a submit would still get: no new task starts
    await db.participant.update({ where: { id: row.id }, data: { consentedAt: new Date(Date.now() - derivedSessionTimeLimitSeconds(2, 120) * 1000 - 1_000) } })
    expect((await rejectionOf(api.participant.startTask({ token, assignmentId: second.assignmentId }))).message).toMatch(/run out/)
    expect(await db.assignment.findUniqueOrThrow({ where: { id: second.assignmentId } })).toMatchObject({ startedAt: null })
    expect((await api.participant.session({ token })).completion).toMatchObject({ outcome: 'TIMED_OUT', code: 'LATE7' })
  })
})
