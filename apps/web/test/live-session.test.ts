// Live tasks against a real Postgres and a stand-in live model service (a real HTTP server speaking workers/live's
// protocol, scripted per request): the senior's stream is stored token by token, a take-over is exact, hand-back
// continues from the shared text, a broken stream resumes from what was stored, and submit stores the whole
// shared text as a trace with its author spans. workers/live itself is tested in workers/live/test; the two
// together in the Playwright e2e (e2e/live-session.spec.ts).
import { describe, expect, test } from 'vitest'

import { hashToken } from '@/server/studies/participant-session'
import { authorSpans, linesIn, liveTask, streamLimits, streamSenior, type LiveSpanRow, type StreamEvent } from '@/server/studies/live-session'

import { callerFor, outcome, testDb } from './support/helpers'
import { atLiveTask as participantAtLiveTask, makeLiveStudy as liveStudy, standInLiveService } from './support/live-service'
import { makeOpenStudy, type OpenStudy } from './support/studies'

const db = testDb()

// ---------------------------------------------------------------- the stand-in service

const { scripts, requests } = standInLiveService()

// ---------------------------------------------------------------- a live study and a participant at a live task

const makeLiveStudy = (handoffRule?: Parameters<typeof liveStudy>[1]) => liveStudy(db, handoffRule)
const atLiveTask = (study: OpenStudy) => participantAtLiveTask(db, study)

async function collect(events: AsyncGenerator<StreamEvent>, onToken?: (n: number) => Promise<void>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = []
  for await (const e of events) {
    out.push(e)
    if (e.event === 'token' && onToken) await onToken(out.filter((x) => x.event === 'token').length)
  }
  return out
}

async function stream(token: string, assignmentId: string, onToken?: (n: number) => Promise<void>, signal = new AbortController().signal) {
  return collect(streamSenior(db, await liveTask(db, hashToken(token), assignmentId), signal), onToken)
}

const spans = (assignmentId: string) => db.liveSpan.findMany({ where: { assignmentId }, orderBy: { seq: 'asc' } })

// ---------------------------------------------------------------- the rules, as pure functions

describe('live rules', () => {
  test('a reasoning step is a line: runs of line breaks count once', () => {
    expect(linesIn('')).toBe(0)
    expect(linesIn('a\nb')).toBe(1)
    expect(linesIn('a\n\nb\n')).toBe(2)
  })

  test('author spans tile the shared text and skip empty spans', () => {
    const rows = [{ author: 'senior', text: 'Add 2.\n' }, { author: 'human', text: '' }, { author: 'human', text: 'So 5.' }] as const
    expect(authorSpans([...rows])).toEqual([
      { author: 'senior', text: 'Add 2.\n', start: 0, end: 7 },
      { author: 'human', text: 'So 5.', start: 7, end: 12 },
    ])
  })

  test('the scheduled handover applies to the first span only: step k by lines, fraction f of the budget', () => {
    const span = (seq: number, text: string, tokens: number) => ({ seq, text, tokens }) as LiveSpanRow
    const first = span(0, 'one\n', 3)
    expect(streamLimits({ maxNewTokens: 20, handoffRule: { kind: 'step', k: 2 } }, [first], first)).toEqual({ maxNewTokens: 17, stopAfterLines: 1, scheduled: true })
    expect(streamLimits({ maxNewTokens: 20, handoffRule: { kind: 'fraction', f: 0.5 } }, [first], first)).toEqual({ maxNewTokens: 7, stopAfterLines: undefined, scheduled: true })
    const later = span(2, '', 0)
    expect(streamLimits({ maxNewTokens: 20, handoffRule: { kind: 'step', k: 2 } }, [first, span(1, 'me', 0), later], later)).toEqual({
      maxNewTokens: 17, stopAfterLines: undefined, scheduled: false,
    })
  })
})

// ---------------------------------------------------------------- the stream, take-over, hand-back, submit

describe('a live task', () => {
  test('the senior streams to the scheduled handover; the participant writes and hands back; the senior continues from the shared text', async () => {
    const study = await makeLiveStudy({ kind: 'step', k: 1 })
    const { api, token, assignmentId, session } = await atLiveTask(study)
    expect(session.task!.live).toEqual({ control: 'senior', spans: [], canHandBack: false, seniorStopped: null })

    scripts.push({ tokens: ['Add', ' 2', ' and 3.\n'], end: { reason: 'lines' } })
    const events = await stream(token, assignmentId)
    expect(events.map((e) => e.event)).toEqual(['spans', 'token', 'token', 'token', 'done'])
    const first = requests[0]!
    expect(first).toMatchObject({ text: '', maxNewTokens: 12, temperature: 0.5, topP: 1, stopAfterLines: 1 })
    expect(String(first.model)).toMatch(/^\/runs\//)
    expect(typeof first.problem).toBe('string')
    let stored = await spans(assignmentId)
    expect(stored).toMatchObject([{ seq: 0, author: 'senior', text: 'Add 2 and 3.\n', tokens: 3, endReason: 'handover' }])
    expect(stored[0]!.firstTokenAt).not.toBeNull()

    const view = (await api.participant.session({ token })).task!.live!
    expect(view).toMatchObject({ control: 'human', canHandBack: true, seniorStopped: 'handover' })

    await api.participant.saveDraft({ token, assignmentId, continuation: 'That is 5.\n', answer: '' })
    const back = await api.participant.liveHandBack({ token, assignmentId, text: 'That is 5.\n' })
    expect(back.control).toBe('senior')
    expect((await db.assignment.findUniqueOrThrow({ where: { id: assignmentId } })).draft).toMatchObject({ continuation: '' })

    scripts.push({ tokens: ['So', ' 5.'], end: { reason: 'eos' } })
    await stream(token, assignmentId)
    // the senior continued from everything written so far, with no scheduled stop now
    expect(requests[1]).toMatchObject({ text: 'Add 2 and 3.\nThat is 5.\n', maxNewTokens: 9 })
    expect(requests[1]!.stopAfterLines).toBeUndefined()
    stored = await spans(assignmentId)
    expect(stored.map((s) => [s.author, s.text, s.endReason])).toEqual([
      ['senior', 'Add 2 and 3.\n', 'handover'],
      ['human', 'That is 5.\n', 'hand_back'],
      ['senior', 'So 5.', 'eos'],
    ])
    expect(stored[1]!.startedAt.getTime()).toBe(stored[0]!.endedAt!.getTime())

    // submit: the whole shared text is the continuation and a trace with author spans; verification is queued
    const result = await api.participant.submit({ token, assignmentId, continuation: ' Answer 5', answer: '5', easeRating: 4, confidence: 4 })
    const response = await db.response.findUniqueOrThrow({ where: { id: result.responseId }, include: { trace: true } })
    expect(response.continuation).toBe('Add 2 and 3.\nThat is 5.\nSo 5. Answer 5')
    expect(response.trace!.text).toBe(response.continuation)
    expect(response.trace!.authorSpans).toEqual([
      { author: 'senior', text: 'Add 2 and 3.\n', start: 0, end: 13 },
      { author: 'human', text: 'That is 5.\n', start: 13, end: 24 },
      { author: 'senior', text: 'So 5.', start: 24, end: 29 },
      { author: 'human', text: ' Answer 5', start: 29, end: 38 },
    ])
    expect(response.trace!.settings).toMatchObject({ source: 'live-study', assignmentId, temperature: 0.5, max_new_tokens: 12 })
    // the export's row links the live trace and says the condition was live
    const [row] = await db.$queryRaw<{ trace_id: string; live: boolean; continuation: string }[]>`
      SELECT trace_id, live, continuation FROM study_response_rows WHERE response_id = ${result.responseId}`
    expect(row).toEqual({ trace_id: response.traceId, live: true, continuation: response.continuation })
    const [numbers] = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT live_take_overs, live_hand_backs, live_scheduled_handover, live_senior_tokens, live_human_share
      FROM study_response_rows WHERE response_id = ${result.responseId}`
    expect(numbers).toEqual({ live_take_overs: 0, live_hand_backs: 1, live_scheduled_handover: true, live_senior_tokens: 5, live_human_share: 20 / 38 })
    // the dashboard's live table: per task means over the condition's responses
    const dashboard = await (await callerFor(db, study.owner)).studies.dashboard({ id: study.studyId, applyExclusions: false })
    const condition = dashboard.conditions.find((c) => c.responses === 1)!
    expect(condition.live).toMatchObject({ takeOvers: { value: 0, n: 1 }, handBacks: { value: 1, n: 1 }, scheduledHandovers: 1 })
    expect(condition.live!.humanShare.value).toBeCloseTo(20 / 38)
    const jobs = await db.job.findMany({ where: { kind: 'VERIFY_RESPONSES' } })
    expect(jobs.some((j) => (j.payload as { responseIds: string[] }).responseIds.includes(result.responseId))).toBe(true)

    // the trace viewer: the spans with author and timing, and the verdict through the response
    await db.verifierResult.create({ data: { verifier: 'math-verify', version: '0', verdict: 'CORRECT', details: '', extractedAnswer: '5', responseId: result.responseId } })
    const viewed = await (await callerFor(db, study.owner)).traces.get({ id: response.traceId! })
    expect(viewed.schedule).toBe('live study')
    expect(viewed.settings).not.toHaveProperty('spans')
    expect(viewed.verifierResult).toMatchObject({ verdict: 'CORRECT' })
    expect(viewed.liveSession!.studyId).toBe(study.studyId)
    expect(viewed.liveSession!.spans.map((x) => [x.author, x.chars, x.endReason])).toEqual([
      ['senior', 13, 'handover'], ['human', 11, 'hand_back'], ['senior', 5, 'eos'], ['human', 9, 'submit'],
    ])

    // a second submit is the same response and makes no second trace
    const again = await api.participant.submit({ token, assignmentId, continuation: 'other', answer: '6', easeRating: 1, confidence: 1 })
    expect(again).toMatchObject({ responseId: result.responseId, duplicate: true })
    expect(await db.trace.count({ where: { problemId: response.trace!.problemId, settings: { path: ['assignmentId'], equals: assignmentId } } })).toBe(1)
    // and the task takes no more actions
    expect(await outcome(api.participant.liveTakeOver({ token, assignmentId }))).toBe('PRECONDITION_FAILED')
  })

  test('a take-over stops the senior exactly where the participant saw it', async () => {
    const study = await makeLiveStudy({ kind: 'step', k: 5 })
    const { api, token, assignmentId } = await atLiveTask(study)
    scripts.push({ tokens: ['One', ' two', ' three', ' four', ' five', ' six'], end: { reason: 'length' }, delayMs: 30 })
    const events = await stream(token, assignmentId, async (n) => {
      if (n === 2) await api.participant.liveTakeOver({ token, assignmentId })
    })
    const shown = events.flatMap((e) => (e.event === 'token' ? [e.data.text] : [])).join('')
    expect(shown).toBe('One two')
    expect(events.at(-1)!.event).toBe('token') // no done: the stream stopped
    const stored = await spans(assignmentId)
    expect(stored).toMatchObject([{ author: 'senior', text: 'One two', tokens: 2, endReason: 'take_over' }])
    expect((await api.participant.session({ token })).task!.live!.control).toBe('human')
    // a stream opened now (another tab) writes nothing: the participant has control
    expect((await stream(token, assignmentId)).map((e) => e.event)).toEqual(['spans'])
    expect(requests).toHaveLength(1)
  })

  test('taking over before the senior started records the moment; handing back twice is one hand-back', async () => {
    const study = await makeLiveStudy()
    const { api, token, assignmentId } = await atLiveTask(study)
    const view = await api.participant.liveTakeOver({ token, assignmentId })
    expect(view).toMatchObject({ control: 'human', spans: [{ seq: 0, author: 'senior', text: '', endReason: 'take_over' }] })
    await api.participant.liveHandBack({ token, assignmentId, text: 'I start.\n' })
    await api.participant.liveHandBack({ token, assignmentId, text: 'I start.\n' })
    expect((await spans(assignmentId)).map((s) => [s.author, s.text, s.endedAt === null])).toEqual([
      ['senior', '', false],
      ['human', 'I start.\n', false],
      ['senior', '', true],
    ])
  })

  test('a stream that breaks (the service restarted) resumes from the stored text', async () => {
    const study = await makeLiveStudy({ kind: 'step', k: 3 })
    const { token, assignmentId } = await atLiveTask(study)
    scripts.push({ tokens: ['First', ' line\n', 'Sec'], end: 'cut' })
    const broken = await stream(token, assignmentId)
    expect(broken.at(-1)).toMatchObject({ event: 'unavailable' })
    expect(await spans(assignmentId)).toMatchObject([{ text: 'First line\nSec', tokens: 3, endedAt: null }])

    scripts.push({ tokens: ['ond line\n'], end: { reason: 'lines' } })
    const resumed = await stream(token, assignmentId)
    expect(resumed.at(-1)!.event).toBe('done')
    // the same span goes on: the service got the stored text and the steps still to go before the handover
    expect(requests[1]).toMatchObject({ text: 'First line\nSec', stopAfterLines: 2, maxNewTokens: 9 })
    expect(requests[1]!.seed).not.toBe(requests[0]!.seed)
    expect(await spans(assignmentId)).toMatchObject([{ seq: 0, text: 'First line\nSecond line\n', tokens: 4, endReason: 'handover' }])
  })

  test('a service that is down, or a checkpoint without an export, is a clear message and changes nothing', async () => {
    const study = await makeLiveStudy()
    const { token, assignmentId } = await atLiveTask(study)
    const url = process.env.LIVE_URL
    process.env.LIVE_URL = 'http://127.0.0.1:9' // nothing listens there
    try {
      const down = await stream(token, assignmentId)
      expect(down.at(-1)).toMatchObject({ event: 'unavailable' })
      expect((down.at(-1)!.data as { message: string }).message).toMatch(/live model service at http:\/\/127\.0\.0\.1:9 is not reachable/)
    } finally {
      process.env.LIVE_URL = url
    }
    expect(await spans(assignmentId)).toMatchObject([{ text: '', tokens: 0, endedAt: null }])

    process.env.LIVE_URL = 'live-service:8790' // not a URL: the operator's mistake, said as such
    try {
      const misconfigured = await stream(token, assignmentId)
      expect(misconfigured.at(-1)).toMatchObject({ event: 'failed', data: { message: expect.stringMatching(/^LIVE_URL must be an http\(s\) URL/) } })
    } finally {
      process.env.LIVE_URL = url
    }

    await db.checkpoint.updateMany({ where: { format: 'onnx', runId: { in: [study.checkpoints.trlRun.id, study.checkpoints.grpoRun.id] } }, data: { path: '/runs/missing' } })
    const refused = await stream(token, assignmentId)
    expect(refused.at(-1)).toMatchObject({ event: 'failed' })
    expect((refused.at(-1)!.data as { message: string }).message).toMatch(/No ONNX export at \/runs\/missing/)

    await db.checkpoint.deleteMany({ where: { format: 'onnx', runId: { in: [study.checkpoints.trlRun.id, study.checkpoints.grpoRun.id] } } })
    const none = await stream(token, assignmentId)
    expect(none).toMatchObject([{ event: 'failed' }])
    expect((none[0]!.data as { message: string }).message).toMatch(/has no ONNX export/)
    expect(await spans(assignmentId)).toMatchObject([{ text: '', tokens: 0, endedAt: null }])
  })

  test("the study's reading pace goes to the live service with every request", async () => {
    const study = await makeLiveStudy({ kind: 'step', k: 5 })
    await db.study.update({ where: { id: study.studyId }, data: { liveTokensPerSecond: 7.5 } })
    const { token, assignmentId } = await atLiveTask(study)
    scripts.push({ tokens: ['a'], end: { reason: 'eos' } })
    await stream(token, assignmentId)
    expect(requests[0]).toMatchObject({ tokensPerSecond: 7.5 })
  })

  test('a live task whose time ran out while the page was closed is stored from its spans and draft, with its trace', async () => {
    const study = await makeLiveStudy({ kind: 'step', k: 5 })
    const { api, token, assignmentId } = await atLiveTask(study)
    scripts.push({ tokens: ['Half', ' way'], end: 'cut' })
    await stream(token, assignmentId)
    await api.participant.liveTakeOver({ token, assignmentId })
    await api.participant.saveDraft({ token, assignmentId, continuation: ' and mine', answer: '7' })
    await db.assignment.update({ where: { id: assignmentId }, data: { startedAt: new Date(Date.now() - 3_600_000) } })

    await api.participant.session({ token })
    const response = await db.response.findUniqueOrThrow({ where: { assignmentId }, include: { trace: true } })
    expect(response).toMatchObject({ timedOut: true, continuation: 'Half way and mine', answer: '7' })
    expect(response.trace!.authorSpans).toEqual([
      { author: 'senior', text: 'Half way', start: 0, end: 8 },
      { author: 'human', text: ' and mine', start: 8, end: 17 },
    ])
    expect((await spans(assignmentId)).map((x) => x.endReason)).toEqual(['take_over', 'submit'])
  })

  test("a token opens only its own live task; a task that is not live takes no live actions", async () => {
    const study = await makeLiveStudy()
    const mine = await atLiveTask(study)
    const other = await atLiveTask(study)
    expect(await outcome(mine.api.participant.liveTakeOver({ token: mine.token, assignmentId: other.assignmentId }))).toBe('NOT_FOUND')
    expect(await outcome(mine.api.participant.liveHandBack({ token: mine.token, assignmentId: other.assignmentId, text: 'x' }))).toBe('NOT_FOUND')
    const plain = await makeOpenStudy(db)
    const notLive = await atLiveTask(plain)
    expect(notLive.session.task!.live).toBeNull()
    expect(await outcome(notLive.api.participant.liveTakeOver({ token: notLive.token, assignmentId: notLive.assignmentId }))).toBe('BAD_REQUEST')
  })
})
