// The participant API against a real Postgres: joining, the stages, the server clock, autosave, one response per
// task however often it is sent, attention checks, completion, and a token that opens only its own session.
import { describe, expect, test } from 'vitest'

import { hashToken, TIMEOUT_GRACE_MS } from '@/server/studies/participant-session'

import { outcome, rejectionOf, testDb } from './support/helpers'
import { anonymous, makeOpenStudy, type OpenStudy } from './support/studies'

const db = testDb()

async function join(study: OpenStudy, params: Record<string, string> = {}) {
  const api = await anonymous(db)
  const { token } = await api.participant.join({ studyId: study.studyId, consent: true, params })
  return { api, token }
}

/** Through instructions and practice, to the first task (started). */
async function toFirstTask(study: OpenStudy, params: Record<string, string> = {}) {
  const { api, token } = await join(study, params)
  await api.participant.finishInstructions({ token })
  await api.participant.submitPractice({ token, continuation: 'so 2', answer: '2' })
  const session = await api.participant.session({ token })
  expect(session.stage).toBe('task')
  await api.participant.startTask({ token, assignmentId: session.task!.assignmentId })
  return { api, token, assignmentId: session.task!.assignmentId }
}

const answer = { continuation: 'then 5', answer: '5', easeRating: 4, confidence: 5 }

describe('joining', () => {
  test('consent creates the participant with its tasks and only the accepted URL parameters', async () => {
    const study = await makeOpenStudy(db)
    const { api, token } = await join(study, { PROLIFIC_PID: 'pid-1', STUDY_ID: 's', SESSION_ID: 'x', EXTRA: 'dropped' })
    const participant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) }, include: { assignments: true } })
    expect(participant.externalId).toBe('pid-1')
    expect(participant.urlParams).toEqual({ PROLIFIC_PID: 'pid-1', STUDY_ID: 's', SESSION_ID: 'x' })
    expect(participant.ordinal).toBe(0)
    expect(participant.assignments).toHaveLength(2)
    expect(participant.tokenHash).not.toContain(token)
    expect((await api.participant.session({ token })).stage).toBe('instructions')
  })

  test('declining records the decline and nothing else', async () => {
    const study = await makeOpenStudy(db)
    const api = await anonymous(db)
    const { token, declined } = await api.participant.join({ studyId: study.studyId, consent: false, params: {} })
    expect(declined).toBe(true)
    const participant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) }, include: { assignments: true } })
    expect(participant.declinedAt).not.toBeNull()
    expect(participant.ordinal).toBeNull()
    expect(participant.assignments).toHaveLength(0)
    expect((await api.participant.session({ token })).stage).toBe('declined')
    expect(await outcome(api.participant.finishInstructions({ token }))).toBe('PRECONDITION_FAILED')
  })

  test('a retried join with the page-made token returns the same session instead of a second one', async () => {
    const study = await makeOpenStudy(db)
    const api = await anonymous(db)
    const token = 'T'.repeat(43)
    const input = { studyId: study.studyId, consent: true, params: { PROLIFIC_PID: 'retry-pid' }, token }
    expect(await api.participant.join(input)).toEqual({ token, declined: false })
    expect(await api.participant.join(input)).toEqual({ token, declined: false })
    expect(await db.participant.count({ where: { studyId: study.studyId } })).toBe(1)
    const other = await makeOpenStudy(db)
    expect(await outcome(api.participant.join({ ...input, studyId: other.studyId }))).toBe('CONFLICT')
    expect(await outcome(api.participant.join({ ...input, token: 'short' }))).toBe('BAD_REQUEST')
  })

  test('on a study that does not require the id, the same recruiting-platform id cannot start twice', async () => {
    const study = await makeOpenStudy(db)
    await join(study, { PROLIFIC_PID: 'twice' })
    const error = await rejectionOf(join(study, { PROLIFIC_PID: 'twice' }))
    expect(error.code).toBe('CONFLICT')
    expect(error.message).toMatch(/already started/)
    expect(await db.participant.count({ where: { studyId: study.studyId } })).toBe(1)
    const api = await anonymous(db)
    await api.participant.join({ studyId: study.studyId, consent: false, params: { PROLIFIC_PID: 'declined-pid' } })
    expect((await rejectionOf(join(study, { PROLIFIC_PID: 'declined-pid' }))).message).toMatch(/declined/)
  })

  test('a study that is not open takes nobody new; a paused one lets those inside go on', async () => {
    const study = await makeOpenStudy(db)
    const inside = await toFirstTask(study)
    await db.study.update({ where: { id: study.studyId }, data: { status: 'PAUSED' } })
    const error = await rejectionOf(join(study))
    expect(error.code).toBe('PRECONDITION_FAILED')
    expect(error.message).toMatch(/paused/)
    expect(await outcome(inside.api.participant.submit({ token: inside.token, assignmentId: inside.assignmentId, ...answer }))).toBe('OK')
    await db.study.update({ where: { id: study.studyId }, data: { status: 'CLOSED' } })
    expect((await inside.api.participant.session({ token: inside.token })).stage).toBe('closed')
    expect(await outcome((await anonymous(db)).participant.join({ studyId: 'no-such-study', consent: true, params: {} }))).toBe('NOT_FOUND')
  })

  test('simultaneous arrivals get ordinals 0..n-1 and a balanced design', async () => {
    const study = await makeOpenStudy(db)
    const tokens = await Promise.all(Array.from({ length: 8 }, () => join(study).then((j) => j.token)))
    const participants = await db.participant.findMany({
      where: { tokenHash: { in: tokens.map(hashToken) } },
      include: { assignments: { include: { item: true } } },
    })
    expect(participants.map((p) => p.ordinal).sort((a, b) => a! - b!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    const cells = new Map<string, number>()
    for (const p of participants) {
      const problems = p.assignments.map((a) => a.item.problemId)
      expect(new Set(problems).size).toBe(problems.length) // no problem twice
      for (const a of p.assignments) cells.set(`${a.item.conditionId}|${a.item.problemId}`, (cells.get(`${a.item.conditionId}|${a.item.problemId}`) ?? 0) + 1)
    }
    // 8 participants × 2 tasks over 2 conditions × 2 problems: every cell 4 times
    expect([...cells.values()]).toEqual([4, 4, 4, 4])
  })
})

describe('a session', () => {
  test('goes instructions → practice → task → attention check → task → complete', async () => {
    const study = await makeOpenStudy(db)
    const { api, token } = await join(study)
    expect(await outcome(api.participant.submitPractice({ token, continuation: '', answer: '2' }))).toBe('PRECONDITION_FAILED')
    await api.participant.finishInstructions({ token })
    const practice = await api.participant.session({ token })
    expect(practice.stage).toBe('practice')
    expect(practice.practice).toEqual({ problem: 'What is 1 + 1?', reasoning: '1 + 1 = 2' })
    expect(await api.participant.submitPractice({ token, continuation: 'so', answer: '2' })).toEqual({ expectedAnswer: '2' })

    const first = await api.participant.session({ token })
    expect(first.stage).toBe('task')
    expect(first.task).toMatchObject({ position: 1, total: 2, prefixText: 'Step 1: start\n', startedAt: null })
    const started = await api.participant.startTask({ token, assignmentId: first.task!.assignmentId })
    const again = await api.participant.startTask({ token, assignmentId: first.task!.assignmentId })
    expect(again.startedAt).toBe(started.startedAt) // a reload keeps the clock
    expect(new Date(started.deadline).getTime() - new Date(started.startedAt).getTime()).toBe(120_000)

    await api.participant.saveDraft({ token, assignmentId: first.task!.assignmentId, continuation: 'half', answer: '', easeRating: 3 })
    expect((await api.participant.session({ token })).task!.draft).toEqual({ continuation: 'half', answer: '', easeRating: 3, confidence: null })

    const submitted = await api.participant.submit({ token, assignmentId: first.task!.assignmentId, ...answer })
    expect(submitted).toMatchObject({ duplicate: false, complete: false })
    const check = await api.participant.session({ token })
    expect(check.stage).toBe('attention')
    expect(check.attention).toEqual({ checkId: 'a1', prompt: 'Choose "blue".', options: ['red', 'blue'] })
    expect(await outcome(api.participant.answerAttention({ token, checkId: 'a1', answer: 'green' }))).toBe('BAD_REQUEST')
    await api.participant.answerAttention({ token, checkId: 'a1', answer: 'red' })
    await api.participant.answerAttention({ token, checkId: 'a1', answer: 'blue' }) // a repeat changes nothing
    const participant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })
    expect(participant.attention).toMatchObject([{ checkId: 'a1', answer: 'red', correct: false }])

    const second = await api.participant.session({ token })
    expect(second.task!.position).toBe(2)
    await api.participant.startTask({ token, assignmentId: second.task!.assignmentId })
    expect((await api.participant.submit({ token, assignmentId: second.task!.assignmentId, ...answer })).complete).toBe(true)
    const done = await api.participant.session({ token })
    expect(done.stage).toBe('complete')
    expect(done.completion).toEqual({
      outcome: 'COMPLETED', code: 'DONE123', redirectUrl: 'https://app.prolific.com/submissions/complete?cc=DONE123', message: 'Thank you — you have finished.',
    })
    // one failed check of one is no ground to end a session (outcomes.ts screensOut)
    expect(await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })).toMatchObject({ outcome: 'COMPLETED', designRow: 0 })
  })

  test('an attention check placed after more tasks than the participant has does not block completion', async () => {
    const study = await makeOpenStudy(db)
    const checks = [{ id: 'late', afterTask: 9, prompt: 'never shown', options: ['a', 'b'], correct: 'a' }]
    await db.study.update({ where: { id: study.studyId }, data: { attentionChecks: checks } })
    const { api, token, assignmentId } = await toFirstTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    const second = (await api.participant.session({ token })).task!
    expect(second.draftSavedAt).toBeNull()
    await api.participant.startTask({ token, assignmentId: second.assignmentId })
    expect((await api.participant.submit({ token, assignmentId: second.assignmentId, ...answer })).complete).toBe(true)
    expect((await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })).completedAt).not.toBeNull()
  })

  test('each submitted response is queued for the verifier', async () => {
    const study = await makeOpenStudy(db)
    const { api, token, assignmentId } = await toFirstTask(study)
    const { responseId } = await api.participant.submit({ token, assignmentId, ...answer })
    const jobs = await db.job.findMany({ where: { kind: 'VERIFY_RESPONSES', payload: { path: ['responseIds'], array_contains: [responseId] } } })
    expect(jobs).toHaveLength(1)
  })

  test('a double submit, even at the same instant, stores one response and one verification', async () => {
    const study = await makeOpenStudy(db)
    const { api, token, assignmentId } = await toFirstTask(study)
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => api.participant.submit({ token, assignmentId, ...answer, answer: String(5 + i) })))
    expect(new Set(results.map((r) => r.responseId)).size).toBe(1)
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1)
    expect(await db.response.count({ where: { assignmentId } })).toBe(1)
    const jobs = await db.job.findMany({ where: { kind: 'VERIFY_RESPONSES', payload: { path: ['responseIds'], array_contains: [results[0]!.responseId] } } })
    expect(jobs).toHaveLength(1)
    // and a draft sent after the response changes nothing
    expect((await api.participant.saveDraft({ token, assignmentId, continuation: 'late', answer: 'x' })).saved).toBe(false)
  })

  test('time is measured on the server; a late submit and an abandoned task are recorded as timed out', async () => {
    const study = await makeOpenStudy(db)
    const { api, token, assignmentId } = await toFirstTask(study)
    const late = new Date(Date.now() - 120_000 - TIMEOUT_GRACE_MS - 5_000)
    await db.assignment.update({ where: { id: assignmentId }, data: { startedAt: late } })
    await api.participant.submit({ token, assignmentId, ...answer })
    const response = await db.response.findUniqueOrThrow({ where: { assignmentId } })
    expect(response.timedOut).toBe(true)
    expect(response.elapsedMs).toBeGreaterThan(120_000 + TIMEOUT_GRACE_MS)

    // the second task: started, a draft saved, then the page closed until long after the limit
    await api.participant.answerAttention({ token, checkId: 'a1', answer: 'blue' })
    const second = (await api.participant.session({ token })).task!
    await api.participant.startTask({ token, assignmentId: second.assignmentId })
    await api.participant.saveDraft({ token, assignmentId: second.assignmentId, continuation: 'draft text', answer: '7' })
    await db.assignment.update({ where: { id: second.assignmentId }, data: { startedAt: late } })
    const back = await api.participant.session({ token })
    expect(back.stage).toBe('complete')
    const abandoned = await db.response.findUniqueOrThrow({ where: { assignmentId: second.assignmentId } })
    expect(abandoned).toMatchObject({ timedOut: true, continuation: 'draft text', answer: '7', elapsedMs: 120_000 })
  })

  test('a token opens only its own session; a forged one opens nothing', async () => {
    const study = await makeOpenStudy(db)
    const alice = await toFirstTask(study)
    const bob = await toFirstTask(study)
    expect(await outcome(bob.api.participant.saveDraft({ token: bob.token, assignmentId: alice.assignmentId, continuation: 'x', answer: 'y' }))).toBe('NOT_FOUND')
    expect(await outcome(bob.api.participant.submit({ token: bob.token, assignmentId: alice.assignmentId, ...answer }))).toBe('NOT_FOUND')
    expect(await outcome(bob.api.participant.startTask({ token: bob.token, assignmentId: alice.assignmentId }))).toBe('NOT_FOUND')
    expect(await db.response.count({ where: { assignmentId: alice.assignmentId } })).toBe(0)
    const forged = 'A'.repeat(43)
    expect(await outcome(alice.api.participant.session({ token: forged }))).toBe('UNAUTHORIZED')
    expect(await outcome(alice.api.participant.submit({ token: forged, assignmentId: alice.assignmentId, ...answer }))).toBe('UNAUTHORIZED')
  })

  test('an incomplete answer is refused field by field and stores nothing', async () => {
    const study = await makeOpenStudy(db)
    const { api, token, assignmentId } = await toFirstTask(study)
    const error = await rejectionOf(api.participant.submit({ token, assignmentId, continuation: 'x', answer: ' ', easeRating: 0, confidence: 3 } as never))
    expect(error.code).toBe('BAD_REQUEST')
    expect(await db.response.count({ where: { assignmentId } })).toBe(0)
    // a time-out submit (at the deadline: the study's limit is 120 s) may be empty
    await db.assignment.update({ where: { id: assignmentId }, data: { startedAt: new Date(Date.now() - 120_000) } })
    await api.participant.submit({ token, assignmentId, continuation: '', answer: '', timedOut: true })
    expect(await db.response.findUniqueOrThrow({ where: { assignmentId } })).toMatchObject({ timedOut: true, answer: '' })
  })
})
