// Participant identity (docs/studies.md, Participant identity): on a study that requires the participant's id, the
// same id continues its session on any device (a new token replaces the old one), shows the completion code once
// finished, and a link without the id is refused with nothing written; a study that does not require it admits
// anonymous participants (counted apart on the dashboard) and refuses a second browser with the same id. What
// participants see as the study's title is its public title, never its internal name. Also the browser side: a
// draft typed on one device and the server's newer draft from another reconcile by the server's timestamps.
import { describe, expect, test } from 'vitest'

import { isFinalRefusal, participantIdOf } from '@/app/(participant)/_flow/join-stage'
import { FlowError, draftBackupKey, draftReplacedKey, type DraftValues } from '@/app/(participant)/_flow/backend'
import { initialDraft, noteServerSave, readBackup, readReplaced, reconcileDraft, writeBackup, markBackupSynced } from '@/app/(participant)/_flow/draft-backup'
import { memoryStorage } from '@/app/(participant)/_flow/preview-backend'
import { DEFAULT_PUBLIC_TITLE, studyDesignSchema } from '@/server/api/routers/studies.schema'
import { PARTICIPANT_LIMITS } from '@/server/limits'
import { studyDashboard } from '@/server/studies/dashboard'
import { hashToken } from '@/server/studies/participant-session'

import { callerFor, outcome, rejectionOf, testDb, uniq } from './support/helpers'
import { anonymous, makeOpenStudy, validStudyDesign, type OpenStudy } from './support/studies'

const db = testDb()

const answer = { continuation: 'then 5', answer: '5', easeRating: 4, confidence: 5 }
/** The page makes the token (32 random bytes, base64url). */
const pageToken = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

/** A study with an internal name that says the hypothesis, as researchers write them. */
function identityStudy(overrides: Parameters<typeof makeOpenStudy>[1] = {}) {
  return makeOpenStudy(db, { name: uniq('TRL vs GRPO legibility'), ...overrides })
}

/** One device: a fresh client address and a token made by its page. */
async function device(study: OpenStudy, params: Record<string, string>, consent = true) {
  const api = await anonymous(db)
  const joined = await api.participant.join({ studyId: study.studyId, consent, params, token: pageToken() })
  return { api, ...joined }
}

async function toFirstTask(api: Awaited<ReturnType<typeof anonymous>>, token: string) {
  await api.participant.finishInstructions({ token })
  await api.participant.submitPractice({ token, continuation: 'so 2', answer: '2' })
  const task = (await api.participant.session({ token })).task!
  await api.participant.startTask({ token, assignmentId: task.assignmentId })
  return task.assignmentId
}

/** Both tasks and the attention check between them: the session completes. */
async function finish(api: Awaited<ReturnType<typeof anonymous>>, token: string) {
  const first = await toFirstTask(api, token)
  await api.participant.submit({ token, assignmentId: first, ...answer })
  await api.participant.answerAttention({ token, checkId: 'a1', answer: 'blue' })
  const second = (await api.participant.session({ token })).task!.assignmentId
  await api.participant.startTask({ token, assignmentId: second })
  expect((await api.participant.submit({ token, assignmentId: second, ...answer })).complete).toBe(true)
}

const participantsOf = (study: OpenStudy) => db.participant.count({ where: { studyId: study.studyId } })

describe('a study that requires the participant id', () => {
  test('the same id on another device continues the same session: the new token works, the old one no longer does', async () => {
    const study = await identityStudy({ requireParticipantId: true })
    const pid = uniq('pid')
    const laptop = await device(study, { PROLIFIC_PID: pid, SESSION_ID: 's-laptop' })
    const assignmentId = await toFirstTask(laptop.api, laptop.token)
    await laptop.api.participant.saveDraft({ token: laptop.token, assignmentId, continuation: 'typed on the laptop', answer: '4', easeRating: 2 })

    const phone = await device(study, { PROLIFIC_PID: pid, SESSION_ID: 's-phone' })
    expect(phone).toMatchObject({ declined: false })
    expect(phone.token).not.toBe(laptop.token)
    const view = await phone.api.participant.session({ token: phone.token })
    expect(view.stage).toBe('task')
    expect(view.task).toMatchObject({ assignmentId, position: 1, draft: { continuation: 'typed on the laptop', answer: '4', easeRating: 2, confidence: null } })
    expect(view.task!.draftSavedAt).not.toBeNull()
    // one participant, one design row: the return took no new ordinal
    expect(await participantsOf(study)).toBe(1)
    const row = await db.participant.findFirstOrThrow({ where: { studyId: study.studyId } })
    expect(row).toMatchObject({ externalId: pid, ordinal: 0, tokenHash: hashToken(phone.token) })
    expect(row.urlParams).toMatchObject({ SESSION_ID: 's-laptop' }) // the first visit's parameters stay
    expect((await db.study.findUniqueOrThrow({ where: { id: study.studyId } })).participantCount).toBe(1)

    // the laptop's token was replaced: it opens nothing (its page offers the study link, which continues here again)
    expect(await outcome(laptop.api.participant.session({ token: laptop.token }))).toBe('UNAUTHORIZED')
    expect(await outcome(laptop.api.participant.saveDraft({ token: laptop.token, assignmentId, continuation: 'x', answer: '' }))).toBe('UNAUTHORIZED')
    // the phone goes on where the laptop was, and a retried join (lost reply) returns the same token
    await phone.api.participant.saveDraft({ token: phone.token, assignmentId, continuation: 'typed on the laptop, then the phone', answer: '4' })
    expect(await phone.api.participant.join({ studyId: study.studyId, consent: true, params: { PROLIFIC_PID: pid }, token: phone.token })).toEqual({
      token: phone.token,
      declined: false,
    })
    expect((await phone.api.participant.session({ token: phone.token })).task!.draft!.continuation).toBe('typed on the laptop, then the phone')
  })

  test('a finished session shows its completion code on the other device, until the token lifetime has passed', async () => {
    const study = await identityStudy({ requireParticipantId: true })
    const pid = uniq('pid')
    const first = await device(study, { PROLIFIC_PID: pid })
    await finish(first.api, first.token)

    const again = await device(study, { PROLIFIC_PID: pid })
    const view = await again.api.participant.session({ token: again.token })
    expect(view.stage).toBe('complete')
    expect(view.completion).toMatchObject({ outcome: 'COMPLETED', code: 'DONE123' })
    // nothing more can be answered
    expect(await outcome(again.api.participant.finishInstructions({ token: again.token }))).toBe('PRECONDITION_FAILED')

    // long after the end the id opens nothing more (as a token would not), and says so
    const past = new Date(Date.now() - (PARTICIPANT_LIMITS.tokenAfterCompletionSeconds + 60) * 1000)
    await db.participant.updateMany({ where: { studyId: study.studyId, externalId: pid }, data: { completedAt: past, outcomeAt: past } })
    const late = await rejectionOf(device(study, { PROLIFIC_PID: pid }))
    expect(late.code).toBe('PRECONDITION_FAILED')
    expect(late.message).toMatch(/This session has ended/)
  })

  test('a link without the id is refused and writes nothing (agree or decline, missing or blank)', async () => {
    const study = await identityStudy({ requireParticipantId: true })
    for (const [params, consent] of [
      [{}, true],
      [{ STUDY_ID: 'x', SESSION_ID: 'y' }, true],
      [{ PROLIFIC_PID: '   ' }, true],
      [{}, false],
    ] as const) {
      const error = await rejectionOf(device(study, params, consent))
      expect(error.code).toBe('BAD_REQUEST')
      expect(error.message).toMatch(/missing your participant ID \(PROLIFIC_PID\)/)
    }
    expect(await participantsOf(study)).toBe(0)
    expect((await db.study.findUniqueOrThrow({ where: { id: study.studyId } })).participantCount).toBe(0)
    // the page knows before anything is sent
    const info = await (await anonymous(db)).participant.studyInfo({ studyId: study.studyId })
    expect(info).toMatchObject({ requireParticipantId: true, urlParams: ['PROLIFIC_PID', 'STUDY_ID', 'SESSION_ID'] })
  })

  test('a decline stands; "I do not agree" after agreeing changes nothing', async () => {
    const study = await identityStudy({ requireParticipantId: true })
    const no = uniq('declines')
    expect((await device(study, { PROLIFIC_PID: no }, false)).declined).toBe(true)
    expect((await device(study, { PROLIFIC_PID: no }, false)).declined).toBe(true) // a repeat, nothing written
    expect((await rejectionOf(device(study, { PROLIFIC_PID: no }, true))).message).toMatch(/declined/)
    expect(await db.participant.count({ where: { studyId: study.studyId, externalId: no } })).toBe(1)

    const yes = uniq('agreed')
    const joined = await device(study, { PROLIFIC_PID: yes })
    const refused = await rejectionOf(device(study, { PROLIFIC_PID: yes }, false))
    expect(refused.code).toBe('CONFLICT')
    expect(refused.message).toMatch(/agreed to take part earlier/)
    expect((await joined.api.participant.session({ token: joined.token })).stage).toBe('instructions')
    expect(await db.participant.findFirstOrThrow({ where: { studyId: study.studyId, externalId: yes } })).toMatchObject({ declinedAt: null })
  })

  test('a paused or full study lets returning participants continue and takes nobody new', async () => {
    const study = await identityStudy({ requireParticipantId: true })
    const pid = uniq('pid')
    await device(study, { PROLIFIC_PID: pid })
    await db.study.update({ where: { id: study.studyId }, data: { status: 'PAUSED' } })
    const back = await device(study, { PROLIFIC_PID: pid })
    expect((await back.api.participant.session({ token: back.token })).stage).toBe('instructions')
    expect((await rejectionOf(device(study, { PROLIFIC_PID: uniq('new') }))).message).toMatch(/paused/)
    await db.study.update({ where: { id: study.studyId }, data: { status: 'OPEN', maxParticipants: 1 } })
    expect((await rejectionOf(device(study, { PROLIFIC_PID: uniq('new') }))).message).toMatch(/full/)
    expect((await device(study, { PROLIFIC_PID: pid })).declined).toBe(false)
    expect(await participantsOf(study)).toBe(1)
  })

  test('two devices arriving with the same new id at the same instant share one session', async () => {
    const study = await identityStudy({ requireParticipantId: true })
    const pid = uniq('pid')
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => device(study, { PROLIFIC_PID: pid })))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
    expect(await participantsOf(study)).toBe(1)
    expect((await db.study.findUniqueOrThrow({ where: { id: study.studyId } })).participantCount).toBe(1)
  })
})

describe('a study that does not require the id', () => {
  test('admits anonymous participants, counted apart on the dashboard; a second browser with the same id is refused', async () => {
    const study = await identityStudy({ requireParticipantId: false })
    await device(study, {})
    await device(study, { STUDY_ID: 'only-this' })
    await device(study, { PROLIFIC_PID: ' ' })
    await device(study, { PROLIFIC_PID: 'named' })
    await device(study, { PROLIFIC_PID: 'said-no' }, false)
    await device(study, {}, false) // a decline is no participant: not counted as anonymous
    expect((await studyDashboard(db, study.studyId, { applyExclusions: true })).counts).toMatchObject({ started: 6, consented: 4, anonymous: 3 })

    const again = await rejectionOf(device(study, { PROLIFIC_PID: 'named' }))
    expect(again.code).toBe('CONFLICT')
    expect(again.message).toBe('You have already started this study. Please continue in the browser where you began, using the same link.')
    expect(await participantsOf(study)).toBe(6)
    expect((await (await anonymous(db)).participant.studyInfo({ studyId: study.studyId })).requireParticipantId).toBe(false)
  })
})

describe('participants see the public title, never the study name', () => {
  test('studyInfo, join and every stage of the session', async () => {
    const named = await identityStudy({ publicTitle: 'Finishing an AI’s arithmetic', requireParticipantId: true })
    const plain = await identityStudy()
    for (const [study, title] of [
      [named, 'Finishing an AI’s arithmetic'],
      [plain, DEFAULT_PUBLIC_TITLE],
    ] as const) {
      const { name } = await db.study.findUniqueOrThrow({ where: { id: study.studyId }, select: { name: true } })
      const replies: unknown[] = []
      const api = await anonymous(db)
      const info = await api.participant.studyInfo({ studyId: study.studyId })
      expect(info.title).toBe(title)
      replies.push(info)
      const joined = await api.participant.join({ studyId: study.studyId, consent: true, params: { PROLIFIC_PID: uniq('pid') } })
      replies.push(joined)
      const { token } = joined
      const seen = async () => {
        const view = await api.participant.session({ token })
        expect(view.study.title).toBe(title)
        replies.push(view)
        return view
      }
      expect((await seen()).stage).toBe('instructions')
      await api.participant.finishInstructions({ token })
      expect((await seen()).stage).toBe('practice')
      await api.participant.submitPractice({ token, continuation: '', answer: '2' })
      expect((await seen()).stage).toBe('task')
      await finishRest(api, token)
      expect((await seen()).stage).toBe('complete')
      for (const reply of replies) expect(JSON.stringify(reply)).not.toContain(name)
    }
  })
})

/** From the first task (instructions and practice done) to the end. */
async function finishRest(api: Awaited<ReturnType<typeof anonymous>>, token: string) {
  for (;;) {
    const view = await api.participant.session({ token })
    if (view.stage === 'attention') await api.participant.answerAttention({ token, checkId: view.attention!.checkId, answer: 'blue' })
    else if (view.stage === 'task') {
      await api.participant.startTask({ token, assignmentId: view.task!.assignmentId })
      await api.participant.submit({ token, assignmentId: view.task!.assignmentId, ...answer })
    } else return
  }
}

describe('the designer', () => {
  test('stores the public title (blank: none) and whether the id is required; requiring it needs a URL parameter', async () => {
    const study = await makeOpenStudy(db)
    const researcher = await callerFor(db, study.owner)
    const conditions = [{ name: 'A', checkpointId: study.checkpoints.grpo.id }]
    const titled = await researcher.studies.create(validStudyDesign(conditions, study.datasetId, { publicTitle: '  Reasoning with an AI  ', requireParticipantId: true }))
    expect(await db.study.findUniqueOrThrow({ where: { id: titled.id }, select: { publicTitle: true, requireParticipantId: true } })).toEqual({
      publicTitle: 'Reasoning with an AI',
      requireParticipantId: true,
    })
    const blank = await researcher.studies.create(validStudyDesign(conditions, study.datasetId, { publicTitle: '  ' }))
    // the API's default is the old behaviour; the designer's new-study default is to require the id (design-defaults.ts)
    expect(await db.study.findUniqueOrThrow({ where: { id: blank.id }, select: { publicTitle: true, requireParticipantId: true } })).toEqual({
      publicTitle: null,
      requireParticipantId: false,
    })
    const parsed = studyDesignSchema.safeParse(validStudyDesign(conditions, study.datasetId, { requireParticipantId: true, urlParams: [] }))
    expect(parsed.success).toBe(false)
    expect(parsed.error!.issues).toEqual([expect.objectContaining({ path: ['requireParticipantId'], message: expect.stringMatching(/needs a URL parameter/) })])
    const tooLong = studyDesignSchema.safeParse(validStudyDesign(conditions, study.datasetId, { publicTitle: 'x'.repeat(121) }))
    expect(tooLong.error!.issues[0]).toMatchObject({ path: ['publicTitle'], message: 'Title shown to participants: at most 120 characters' })
  })

  test('the new-study default requires the id and leaves the title blank', async () => {
    const { defaultDesign } = await import('@/app/console/studies/design-defaults')
    const design = defaultDesign([], { completed: 'C1', screenedOut: 'S1', timedOut: 'T1' })
    expect(design).toMatchObject({ requireParticipantId: true, publicTitle: '' })
  })
})

describe('the study link page decides without the server', () => {
  test('a missing or blank id; which refusals end the page', () => {
    const study = { urlParams: ['PROLIFIC_PID', 'SESSION_ID'] }
    expect(participantIdOf({ PROLIFIC_PID: ' abc ' }, study)).toBe('abc')
    expect(participantIdOf({ PROLIFIC_PID: '  ', SESSION_ID: 's' }, study)).toBeNull()
    expect(participantIdOf({}, { urlParams: [] })).toBeNull()

    const required = { requireParticipantId: true }
    const optional = { requireParticipantId: false }
    const conflict = new FlowError('already started', 'CONFLICT', false)
    // the 409 leaves no buttons, except a refused "I do not agree" from someone who may still continue
    expect(isFinalRefusal(conflict, true, optional)).toBe(true)
    expect(isFinalRefusal(conflict, false, optional)).toBe(true)
    expect(isFinalRefusal(conflict, true, required)).toBe(true)
    expect(isFinalRefusal(conflict, false, required)).toBe(false)
    expect(isFinalRefusal(new FlowError('missing id', 'BAD_REQUEST', false), true, required)).toBe(true)
    expect(isFinalRefusal(new FlowError('paused', 'PRECONDITION_FAILED', false), true, required)).toBe(true)
    expect(isFinalRefusal(new FlowError('wait', 'TOO_MANY_REQUESTS', false), true, required)).toBe(false)
    expect(isFinalRefusal(new FlowError('offline', 'NETWORK', true), true, required)).toBe(false)
  })
})

describe('drafts across devices reconcile by the server’s timestamps, and nothing is lost', () => {
  const draft = (continuation: string, answer = ''): DraftValues => ({ continuation, answer, easeRating: null, confidence: null })
  const at = (ms: number) => new Date(ms).toISOString()
  const T = Date.parse('2026-12-06T10:00:00Z')

  test('text typed here on top of the server’s version wins (a reload, the same device)', () => {
    const storage = memoryStorage()
    writeBackup(storage, 'a1', draft('abc'))
    noteServerSave(storage, 'a1', at(T))
    markBackupSynced(storage, 'a1', draft('abc'))
    writeBackup(storage, 'a1', draft('abcd')) // typed, never saved (offline)
    const task = { assignmentId: 'a1', draft: draft('abc'), draftSavedAt: at(T) }
    expect(reconcileDraft(task, storage)).toBeNull()
    expect(initialDraft(task, storage)).toEqual({ draft: draft('abcd'), unsaved: true })
    expect(readBackup(storage, 'a1')?.serverSavedAt).toBe(T) // kept as the base
  })

  test('a newer save from another device wins; what was typed here is kept', () => {
    const storage = memoryStorage()
    writeBackup(storage, 'a1', draft('abc'))
    noteServerSave(storage, 'a1', at(T))
    writeBackup(storage, 'a1', draft('abc typed on the laptop offline', '7'))
    // the phone saved later (the server's draft_saved_at is after the laptop's last confirmed save)
    const task = { assignmentId: 'a1', draft: draft('abc then the phone', '8'), draftSavedAt: at(T + 60_000) }
    const replaced = reconcileDraft(task, storage)
    expect(replaced?.draft).toEqual(draft('abc typed on the laptop offline', '7'))
    expect(readReplaced(storage, 'a1')?.draft).toEqual(draft('abc typed on the laptop offline', '7'))
    expect(initialDraft(task, storage)).toEqual({ draft: draft('abc then the phone', '8'), unsaved: false })
    // reconciled once: a reload keeps the server's text and asks nothing again
    expect(reconcileDraft(task, storage)).toBeNull()
    expect(initialDraft(task, storage).draft).toEqual(draft('abc then the phone', '8'))
    // typing on from there is newer than the server's again
    writeBackup(storage, 'a1', draft('abc then the phone, and more'))
    expect(reconcileDraft(task, storage)).toBeNull()
    expect(initialDraft(task, storage)).toEqual({ draft: draft('abc then the phone, and more'), unsaved: true })
  })

  test('text typed here that continues the server’s newer draft holds all of it: it stays, nothing set aside', () => {
    const storage = memoryStorage()
    writeBackup(storage, 'a1', draft('abc'))
    noteServerSave(storage, 'a1', at(T))
    // a save of "abc d" landed as the page reloaded (no reply seen), and "abc de" was typed before it went
    writeBackup(storage, 'a1', draft('abc de', '1'))
    const task = { assignmentId: 'a1', draft: draft('abc d'), draftSavedAt: at(T + 500) }
    expect(reconcileDraft(task, storage)).toBeNull()
    expect(storage.get(draftReplacedKey('a1'))).toBeNull()
    expect(initialDraft(task, storage)).toEqual({ draft: draft('abc de', '1'), unsaved: true })
  })

  test('a synced copy or the same text: the server’s version, nothing set aside', () => {
    const storage = memoryStorage()
    writeBackup(storage, 'a1', draft('old'))
    noteServerSave(storage, 'a1', at(T))
    markBackupSynced(storage, 'a1', draft('old'))
    const newer = { assignmentId: 'a1', draft: draft('newer elsewhere'), draftSavedAt: at(T + 1_000) }
    expect(reconcileDraft(newer, storage)).toBeNull()
    expect(storage.get(draftReplacedKey('a1'))).toBeNull()
    expect(initialDraft(newer, storage).draft).toEqual(draft('newer elsewhere'))

    const other = memoryStorage()
    writeBackup(other, 'a2', draft('same'))
    const same = { assignmentId: 'a2', draft: draft('same'), draftSavedAt: at(T) }
    expect(reconcileDraft(same, other)).toBeNull()
    expect(readBackup(other, 'a2')?.serverSavedAt).toBe(T)
    // no server draft at all: the backup stays as it is
    const none = memoryStorage()
    writeBackup(none, 'a3', draft('only here'))
    expect(reconcileDraft({ assignmentId: 'a3', draft: null, draftSavedAt: null }, none)).toBeNull()
    expect(none.get(draftBackupKey('a3'))).toContain('only here')
  })
})
