// Issue 13 item 4, the web app's side: live sessions are bounded. The live route (POST /api/participant/live) against
// a real Postgres and the stand-in live model service (test/support/live-service.ts): one open stream per task (a
// lease in Postgres, renewed while it runs, taken over once it lapses), opens per minute per address and per task, a
// body cap before parsing, caps on a task's spans and characters, a stored continuation within MAX_CONTINUATION, and
// the shared secret sent to workers/live. The service's own side is tested in workers/live/test/server.test.ts.
import { describe, expect, test, vi } from 'vitest'

import { POST } from '@/app/api/participant/live/route'
import { MAX_CONTINUATION } from '@/server/api/routers/participant.schema'
import { BODY_LIMITS, LIVE_LIMITS, RATE_LIMITS } from '@/server/limits'

import { outcome, testDb } from '../support/helpers'
import { atLiveTask, makeLiveStudy, standInLiveService } from '../support/live-service'

// a one-second lease, so that renewal (three times per lease) and lapsing happen within a test
vi.mock('@/server/limits', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@/server/limits')>()
  return { ...actual, LIVE_LIMITS: { ...actual.LIVE_LIMITS, leaseSeconds: 1 } }
})

const db = testDb()
const service = standInLiveService()

let addresses = 0
/** A client address of its own per test: the per-address limit is tested on purpose only. */
const freshAddress = () => `198.51.100.${++addresses}`

function open(body: unknown, address: string, init: { raw?: string } = {}): Promise<Response> {
  return POST(
    new Request('http://localhost/api/participant/live', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: init.raw ?? JSON.stringify(body),
    }),
  )
}

/** The server-sent events of a finished response, as [event, data]. */
async function eventsOf(response: Response): Promise<[string, Record<string, unknown>][]> {
  const text = await response.text()
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)![1]!
      return [event, JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as Record<string, unknown>]
    })
}

/** Reads a streaming response until `count` token events have arrived; returns the reader (cancel: the page left). */
async function readTokens(response: Response, count: number) {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let seen = ''
  while ((seen.match(/event: token/g)?.length ?? 0) < count) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`the stream ended after: ${seen}`)
    seen += decoder.decode(value, { stream: true })
  }
  return reader
}

const lease = async (assignmentId: string) =>
  db.assignment.findUniqueOrThrow({ where: { id: assignmentId }, select: { liveLeaseId: true, liveLeaseExpiresAt: true } })
/** Whether the task's lease runs past now (compared in Postgres, which wrote it). */
const leaseLive = async (assignmentId: string) =>
  (await db.$queryRaw<{ live: boolean }[]>`SELECT live_lease_expires_at > now() AS live FROM assignments WHERE id = ${assignmentId}`)[0]!.live
const spans = (assignmentId: string) => db.liveSpan.findMany({ where: { assignmentId }, orderBy: { seq: 'asc' } })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('item 4: one open stream per task (a lease in Postgres)', () => {
  test('a second concurrent open is refused with 409 and a clear message; the lease is released when the stream ends', async () => {
    const study = await makeLiveStudy(db, { kind: 'step', k: 5 })
    const { token, assignmentId } = await atLiveTask(db, study)
    service.scripts.push({ tokens: Array.from({ length: 40 }, (_, i) => ` w${i}`), end: { reason: 'length' }, delayMs: 40 })
    const first = await open({ token, assignmentId }, freshAddress())
    expect(first.status).toBe(200)
    const reader = await readTokens(first, 1)
    expect((await lease(assignmentId)).liveLeaseId).toMatch(/^ll/)

    const second = await open({ token, assignmentId }, freshAddress())
    expect(second.status).toBe(409)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await second.json()) as { error: string }).error).toMatch(/^The AI is already writing this task in another tab or window\. Close that one, or try again in \d+ s\.$/)
    expect(service.requests).toHaveLength(1) // the refused open asked the model for nothing

    await reader.cancel() // the page went away
    expect(await lease(assignmentId)).toEqual({ liveLeaseId: null, liveLeaseExpiresAt: null })
    service.scripts.push({ tokens: [' on'], end: { reason: 'eos' } })
    const third = await open({ token, assignmentId }, freshAddress())
    expect(third.status).toBe(200)
    expect((await eventsOf(third)).at(-1)![0]).toBe('done')
    expect((await lease(assignmentId)).liveLeaseId).toBeNull()
  })

  test('a lapsed lease (a web instance that crashed mid-stream) is taken over; a live one is not', async () => {
    const study = await makeLiveStudy(db, { kind: 'step', k: 5 })
    const { token, assignmentId } = await atLiveTask(db, study)
    await db.$executeRaw`UPDATE assignments SET live_lease_id = 'll-held', live_lease_expires_at = now() + interval '20 seconds' WHERE id = ${assignmentId}`
    const held = await open({ token, assignmentId }, freshAddress())
    expect(held.status).toBe(409)
    expect(Number(held.headers.get('retry-after'))).toBeGreaterThanOrEqual(19)

    await db.$executeRaw`UPDATE assignments SET live_lease_id = 'll-crashed', live_lease_expires_at = now() - interval '1 second' WHERE id = ${assignmentId}`
    service.scripts.push({ tokens: ['Go', ' on'], end: { reason: 'eos' } })
    const taken = await open({ token, assignmentId }, freshAddress())
    expect(taken.status).toBe(200)
    expect((await eventsOf(taken)).map(([event]) => event)).toEqual(['spans', 'token', 'token', 'done'])
    expect((await spans(assignmentId)).map((s) => s.text)).toEqual(['Go on'])
    expect((await lease(assignmentId)).liveLeaseId).toBeNull()
  })

  test('the lease is renewed while the stream runs; a stream whose lease was taken from it stops writing', async () => {
    const study = await makeLiveStudy(db, { kind: 'step', k: 50 })
    await db.study.update({ where: { id: study.studyId }, data: { maxNewTokens: 500 } })
    const { token, assignmentId } = await atLiveTask(db, study)
    service.scripts.push({ tokens: Array.from({ length: 400 }, () => ' w'), end: { reason: 'length' }, delayMs: 20 })
    const response = await open({ token, assignmentId }, freshAddress())
    const reader = await readTokens(response, 1)
    const { liveLeaseId } = await lease(assignmentId)
    // three lease lengths (1 s in this file) later the stream still holds its lease: it renewed it
    await sleep(3 * LIVE_LIMITS.leaseSeconds * 1000)
    expect((await lease(assignmentId)).liveLeaseId).toBe(liveLeaseId)
    expect(await leaseLive(assignmentId)).toBe(true)

    // another instance took the lease (this one stalled past it): at its next renewal this stream stops writing
    await db.$executeRaw`UPDATE assignments SET live_lease_id = 'll-other' WHERE id = ${assignmentId}`
    await sleep(LIVE_LIMITS.leaseSeconds * 1000)
    const stored = (await spans(assignmentId))[0]!.tokens
    await sleep(300)
    expect((await spans(assignmentId))[0]!.tokens).toBe(stored)
    expect(stored).toBeLessThan(400)
    await reader.cancel()
    expect((await lease(assignmentId)).liveLeaseId).toBe('ll-other') // not this stream's to release
  })
})

describe('item 4: a limit on stream opens per minute', () => {
  test(`a task opens at most ${RATE_LIMITS.liveOpensPerTask.points} streams a minute (429 with Retry-After)`, async () => {
    const study = await makeLiveStudy(db)
    const { api, token, assignmentId } = await atLiveTask(db, study)
    await api.participant.liveTakeOver({ token, assignmentId }) // the participant writes: each open only shows the spans
    for (let i = 0; i < RATE_LIMITS.liveOpensPerTask.points; i++) {
      const response = await open({ token, assignmentId }, freshAddress())
      expect(response.status).toBe(200)
      expect((await eventsOf(response)).map(([event]) => event)).toEqual(['spans'])
    }
    const refused = await open({ token, assignmentId }, freshAddress())
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await refused.json()) as { error: string }).error).toMatch(/^Too many requests; try again in \d+ s$/)
    expect((await lease(assignmentId)).liveLeaseId).toBeNull()
  })

  test(`an address opens at most ${RATE_LIMITS.liveOpensPerIp.points} streams a minute, whatever the task or token`, async () => {
    const study = await makeLiveStudy(db)
    const { token, assignmentId } = await atLiveTask(db, study)
    const address = freshAddress()
    for (let i = 0; i < RATE_LIMITS.liveOpensPerIp.points; i++) {
      expect((await open({ token, assignmentId: `nosuchtask${i}` }, address)).status).toBe(404)
    }
    expect((await open({ token, assignmentId }, address)).status).toBe(429)
    const other = await open({ token, assignmentId }, freshAddress()) // another address is not affected
    expect(other.status).toBe(200)
    expect((await eventsOf(other)).at(-1)![0]).toBe('done')
  })
})

describe('item 4: the live route reads its body with a cap before parsing', () => {
  test(`a body over ${BODY_LIMITS.defaultBytes} bytes is refused with 413 and changes nothing`, async () => {
    const study = await makeLiveStudy(db)
    const { token, assignmentId } = await atLiveTask(db, study)
    const padded = JSON.stringify({ token, assignmentId, padding: 'x'.repeat(BODY_LIMITS.defaultBytes) })
    const response = await open(null, freshAddress(), { raw: padded })
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: string }).error).toBe(`The request body is larger than ${BODY_LIMITS.defaultBytes} bytes`)
    expect(await spans(assignmentId)).toEqual([])
    expect(service.requests).toHaveLength(0)
    expect((await lease(assignmentId)).liveLeaseId).toBeNull()
  })
})

/** Makes the task's shared text `chars` characters long (one senior span), the participant in control. */
async function sharedTextOf(api: Awaited<ReturnType<typeof atLiveTask>>['api'], token: string, assignmentId: string, chars: number) {
  await api.participant.liveTakeOver({ token, assignmentId })
  await db.$executeRaw`UPDATE live_spans SET text = repeat('a', ${chars}::int) WHERE assignment_id = ${assignmentId} AND seq = 0`
}

describe('item 4: a cap on spans per task', () => {
  test(`take-over/hand-back loops stop at ${LIVE_LIMITS.maxSpans} spans with a clear message, and the page is told`, async () => {
    const study = await makeLiveStudy(db)
    const { api, token, assignmentId } = await atLiveTask(db, study)
    await api.participant.liveTakeOver({ token, assignmentId })
    // the loop so far: turns of one word each, all ended, the participant in control
    const turns = LIVE_LIMITS.maxSpans - 3
    await db.$executeRaw`
      INSERT INTO live_spans (id, assignment_id, seq, author, text, started_at, ended_at, end_reason)
      SELECT 'lsloop' || n || ${assignmentId}, ${assignmentId}, n, CASE WHEN n % 2 = 1 THEN 'human' ELSE 'senior' END, 'w ', now(), now(),
             CASE WHEN n % 2 = 1 THEN 'hand_back' ELSE 'take_over' END
      FROM generate_series(1, ${turns - 1}::int) AS n`
    // one more hand-back fits: its two spans and the one kept for submit make exactly the cap
    const last = await api.participant.liveHandBack({ token, assignmentId, text: 'mine ' })
    expect(last.control).toBe('senior')
    await api.participant.liveTakeOver({ token, assignmentId })
    expect((await api.participant.session({ token })).task!.live!.canHandBack).toBe(false)

    const before = await spans(assignmentId)
    expect(before).toHaveLength(LIVE_LIMITS.maxSpans - 1)
    const refused = api.participant.liveHandBack({ token, assignmentId, text: 'again ' })
    await expect(refused).rejects.toThrow(`You and the AI have taken turns as often as one task allows (${LIVE_LIMITS.maxSpans} turns). Finish the reasoning yourself.`)
    expect(await outcome(api.participant.liveHandBack({ token, assignmentId, text: 'again ' }))).toBe('PRECONDITION_FAILED')
    expect(await spans(assignmentId)).toEqual(before)

    // submit still stores the participant's last writing: the cap held a span for it
    await api.participant.submit({ token, assignmentId, continuation: 'end', answer: '5', easeRating: 3, confidence: 3 })
    expect(await spans(assignmentId)).toHaveLength(LIVE_LIMITS.maxSpans)
  })
})

describe('item 4: a cap on characters per task', () => {
  test(`a hand-back that would make the shared text longer than ${LIVE_LIMITS.maxChars} characters is refused and changes nothing`, async () => {
    const study = await makeLiveStudy(db)
    const { api, token, assignmentId } = await atLiveTask(db, study)
    await sharedTextOf(api, token, assignmentId, LIVE_LIMITS.maxChars - 10)
    const before = await spans(assignmentId)
    const refused = api.participant.liveHandBack({ token, assignmentId, text: 'x'.repeat(11) })
    await expect(refused).rejects.toThrow('The shared reasoning may be at most 20,000 characters; with your text it would be 20,001. Shorten your text by 1 characters.')
    expect(await outcome(api.participant.liveHandBack({ token, assignmentId, text: 'x'.repeat(11) }))).toBe('BAD_REQUEST')
    expect(await spans(assignmentId)).toEqual(before)

    // exactly at the cap: accepted, and the senior has no room left, so it stops before asking the model
    await api.participant.liveHandBack({ token, assignmentId, text: 'x'.repeat(10) })
    const response = await open({ token, assignmentId }, freshAddress())
    expect((await eventsOf(response)).map(([event]) => event)).toEqual(['spans', 'done'])
    expect(service.requests).toHaveLength(0)
    expect((await spans(assignmentId)).at(-1)).toMatchObject({ author: 'senior', text: '', endReason: 'length' })
    expect((await api.participant.session({ token })).task!.live!.canHandBack).toBe(false)
  })

  test('the senior stops where its next token would pass the cap; that token is neither stored nor shown', async () => {
    const study = await makeLiveStudy(db, { kind: 'step', k: 5 })
    const { api, token, assignmentId } = await atLiveTask(db, study)
    await sharedTextOf(api, token, assignmentId, LIVE_LIMITS.maxChars - 5)
    await api.participant.liveHandBack({ token, assignmentId, text: '' })
    service.scripts.push({ tokens: ['ab', 'cd', 'ef', 'gh'], end: { reason: 'eos' } })
    const events = await eventsOf(await open({ token, assignmentId }, freshAddress()))
    expect(events.filter(([event]) => event === 'token').map(([, data]) => data.text)).toEqual(['ab', 'cd'])
    expect(events.at(-1)![0]).toBe('done')
    const stored = await spans(assignmentId)
    expect(stored.at(-1)).toMatchObject({ author: 'senior', text: 'abcd', tokens: 2, endReason: 'length' })
    expect(stored.reduce((n, s) => n + s.text.length, 0)).toBe(LIVE_LIMITS.maxChars - 1)
  })
})

describe('item 4: the stored continuation of a live task never exceeds MAX_CONTINUATION', () => {
  test('a submit whose writing would pass it is refused with a clear message and stores nothing', async () => {
    const study = await makeLiveStudy(db)
    const { api, token, assignmentId } = await atLiveTask(db, study)
    await sharedTextOf(api, token, assignmentId, 15_000)
    const answer = { token, assignmentId, answer: '5', easeRating: 3, confidence: 3 }
    const refused = api.participant.submit({ ...answer, continuation: 'y'.repeat(6_000) })
    await expect(refused).rejects.toThrow('The shared reasoning may be at most 20,000 characters; with your text it would be 21,000. Shorten your text by 1,000 characters.')
    expect(await db.response.count({ where: { assignmentId } })).toBe(0)
    expect((await spans(assignmentId)).map((s) => [s.author, s.text.length, s.endReason])).toEqual([['senior', 15_000, 'take_over']])

    const { responseId } = await api.participant.submit({ ...answer, continuation: 'y'.repeat(5_000) })
    const response = await db.response.findUniqueOrThrow({ where: { id: responseId }, include: { trace: true } })
    expect(response.continuation).toHaveLength(MAX_CONTINUATION)
    expect(response.trace!.text).toHaveLength(MAX_CONTINUATION)
  })

  test('a time-out recorded while the page was closed cuts the draft to fit, and the trace says by how much', async () => {
    const study = await makeLiveStudy(db)
    const { api, token, assignmentId } = await atLiveTask(db, study)
    await sharedTextOf(api, token, assignmentId, 15_000)
    await api.participant.saveDraft({ token, assignmentId, continuation: 'z'.repeat(8_000), answer: '7' })
    await db.assignment.update({ where: { id: assignmentId }, data: { startedAt: new Date(Date.now() - 3_600_000) } })
    await api.participant.session({ token })
    const response = await db.response.findUniqueOrThrow({ where: { assignmentId }, include: { trace: true } })
    expect(response.timedOut).toBe(true)
    expect(response.continuation).toBe('a'.repeat(15_000) + 'z'.repeat(5_000))
    expect(response.trace!.settings).toMatchObject({ clipped_chars: 3_000 })
  })
})

describe('item 4: the web app sends the shared secret to workers/live', () => {
  test('every generation request carries LIVE_SECRET as a bearer token; a refusal says what to fix without echoing it', async () => {
    const study = await makeLiveStudy(db)
    const secret = 'c3'.repeat(32)
    const saved = process.env.LIVE_SECRET
    process.env.LIVE_SECRET = secret
    try {
      const first = await atLiveTask(db, study)
      await eventsOf(await open({ token: first.token, assignmentId: first.assignmentId }, freshAddress()))
      expect(service.headers[0]!.authorization).toBe(`Bearer ${secret}`)

      const second = await atLiveTask(db, study)
      service.refuse = { status: 401, error: 'authorization: missing or wrong live service secret (LIVE_SECRET)' }
      const refused = await eventsOf(await open({ token: second.token, assignmentId: second.assignmentId }, freshAddress()))
      expect(refused.at(-1)![0]).toBe('failed')
      const message = String(refused.at(-1)![1].message)
      expect(message).toMatch(/refused this web app .*: give web and workers\/live the same LIVE_SECRET\.$/)
      expect(message).not.toContain(secret)

      service.refuse = { status: 503, error: 'the live service is busy (32 session(s) already waiting for a place in a full batch); try again shortly' }
      const busy = await eventsOf(await open({ token: second.token, assignmentId: second.assignmentId }, freshAddress()))
      expect(busy.at(-1)).toEqual(['unavailable', { message: service.refuse.error }]) // the page tries again

      service.refuse = null
      process.env.LIVE_SECRET = 'short'
      const misconfigured = await eventsOf(await open({ token: second.token, assignmentId: second.assignmentId }, freshAddress()))
      expect(misconfigured.at(-1)).toEqual(['failed', { message: 'LIVE_SECRET must be at least 32 bytes (generate one with `openssl rand -hex 32`)' }])
    } finally {
      if (saved === undefined) delete process.env.LIVE_SECRET
      else process.env.LIVE_SECRET = saved
    }
  })
})
