// The participant API's limits and server-side rules (issue 13 items 3, 5, 6, 7): rate limits and the participant cap
// on join, the tRPC route's batch, method and body caps, time-outs decided by the server, the token's transport and
// lifetime, generic errors, and the stage order.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'

import { consume } from '@/server/http/rate-limit'
import { BODY_LIMITS, PARTICIPANT_LIMITS, RATE_LIMITS, TRPC_MAX_BATCH, UPLOAD_PROCEDURE } from '@/server/limits'
import { createDb } from '@/server/db'
import { studyDashboard, studyParticipants } from '@/server/studies/dashboard'
import { hashToken, SESSION_ENDED } from '@/server/studies/participant-session'

import { callerFor, rejectionOf, testDb, uniq } from '../support/helpers'
import { anonymous, makeOpenStudy, validStudyDesign, type OpenStudy } from '../support/studies'

// the route reads the Auth.js session only for non-participant calls; tests decide who is signed in
const signedIn = vi.hoisted(() => ({ session: null as null | { user: { id: string } } }))
vi.mock('@/server/auth', () => ({ auth: async () => signedIn.session }))

const db = testDb()

const answer = { continuation: 'then 5', answer: '5', easeRating: 4, confidence: 5 }

async function joined(study: OpenStudy, address?: string) {
  const api = await anonymous(db, address)
  const { token } = await api.participant.join({ studyId: study.studyId, consent: true, params: {} })
  return { api, token }
}

async function firstTask(study: OpenStudy) {
  const { api, token } = await joined(study)
  await api.participant.finishInstructions({ token })
  await api.participant.submitPractice({ token, continuation: 'so 2', answer: '2' })
  const { task } = await api.participant.session({ token })
  await api.participant.startTask({ token, assignmentId: task!.assignmentId })
  return { api, token, assignmentId: task!.assignmentId }
}

async function route() {
  return import('@/app/api/trpc/[trpc]/route')
}

function trpcRequest(path: string, init: RequestInit & { query?: string } = {}) {
  const url = `http://test.local/api/trpc/${path}${init.query ?? ''}`
  return new Request(url, { ...init, headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.77', ...(init.headers ?? {}) } }) as never
}

describe('item 3: join is rate-limited per address and per study, and a study takes at most its cap', () => {
  test('joins from one address past the limit are refused with a wait the participant understands; nothing is written', async () => {
    const study = await makeOpenStudy(db)
    const address = `203.0.113.${Math.floor(Math.random() * 250)}`
    await consume('joinPerIp', address, RATE_LIMITS.joinPerIp.points)
    const before = await db.participant.count({ where: { studyId: study.studyId } })
    const error = await rejectionOf(joined(study, address))
    expect(error.code).toBe('TOO_MANY_REQUESTS')
    expect(error.message).toMatch(/^Too many attempts from your network; please wait \d+ seconds? and try again/)
    expect(await db.participant.count({ where: { studyId: study.studyId } })).toBe(before)
    // another address still joins
    await joined(study)
  })

  test('joins of one study from everyone past the limit are refused; other studies are not affected', async () => {
    const study = await makeOpenStudy(db)
    const other = await makeOpenStudy(db)
    await consume('joinPerStudy', study.studyId, RATE_LIMITS.joinPerStudy.points)
    const error = await rejectionOf(joined(study))
    expect(error.code).toBe('TOO_MANY_REQUESTS')
    expect(error.message).toMatch(/joining this study right now; please wait \d+ seconds? and try again/)
    expect(await db.participant.count({ where: { studyId: study.studyId } })).toBe(0)
    await joined(other)
  })

  test('every participant call counts against the per-address limit', async () => {
    const study = await makeOpenStudy(db)
    const { token } = await joined(study)
    // the same participant's next call from an address that has used up its calls
    const address = `203.0.113.${Math.floor(Math.random() * 250)}`
    await consume('participantPerIp', address, RATE_LIMITS.participantPerIp.points)
    const api = await anonymous(db, address)
    const error = await rejectionOf(api.participant.session({ token }))
    expect(error.code).toBe('TOO_MANY_REQUESTS')
    expect(error.message).toMatch(/Too many attempts from your network/)
  })

  test('the participant cap admits exactly max_participants, even when they arrive at once; then "This study is full"', async () => {
    const study = await makeOpenStudy(db)
    await db.study.update({ where: { id: study.studyId }, data: { maxParticipants: 3 } })
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => joined(study)))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    for (const r of results) if (r.status === 'rejected') expect((r.reason as Error).message).toMatch(/This study is full/)
    expect(await db.participant.count({ where: { studyId: study.studyId } })).toBe(3)
    expect((await db.study.findUniqueOrThrow({ where: { id: study.studyId } })).participantCount).toBe(3)
    const info = await (await anonymous(db)).participant.studyInfo({ studyId: study.studyId })
    expect(info).toMatchObject({ open: false, notOpenMessage: expect.stringMatching(/This study is full/) })
  })

  test('researchers set the cap in the study design (optional positive whole number)', async () => {
    const study = await makeOpenStudy(db)
    const researcher = await callerFor(db, study.owner)
    const { id } = await researcher.studies.create(validStudyDesign([{ name: 'A', checkpointId: study.checkpoints.grpo.id }], study.datasetId, { maxParticipants: 40 }))
    expect((await db.study.findUniqueOrThrow({ where: { id } })).maxParticipants).toBe(40)
    const error = await rejectionOf(researcher.studies.create(validStudyDesign([{ name: 'A', checkpointId: study.checkpoints.grpo.id }], study.datasetId, { maxParticipants: 0 })))
    expect(error.code).toBe('BAD_REQUEST')
    const { id: uncapped } = await researcher.studies.create(validStudyDesign([{ name: 'A', checkpointId: study.checkpoints.grpo.id }], study.datasetId))
    expect((await db.study.findUniqueOrThrow({ where: { id: uncapped } })).maxParticipants).toBeNull()
  })
})

describe('item 3: the tRPC route caps batches and bodies before parsing', () => {
  afterEach(() => {
    signedIn.session = null
  })

  test(`a batch of more than ${TRPC_MAX_BATCH} calls is refused before its body is read`, async () => {
    const { POST } = await route()
    // a body that never ends: reading it would hang the test, so an answer proves it was not read
    const body = new ReadableStream({ pull: () => new Promise<void>(() => {}) })
    const paths = Array.from({ length: TRPC_MAX_BATCH + 1 }, () => 'participant.studyInfo').join(',')
    const res = await POST(trpcRequest(paths, { method: 'POST', body, query: '?batch=1', duplex: 'half' } as RequestInit))
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toMatch(`at most ${TRPC_MAX_BATCH} calls`)
  })

  test('a participant body over 64 kB is refused with 413 and writes nothing', async () => {
    const study = await makeOpenStudy(db)
    const { POST } = await route()
    const input = { json: { studyId: study.studyId, consent: true, params: { PROLIFIC_PID: 'x'.repeat(BODY_LIMITS.defaultBytes) } } }
    const res = await POST(trpcRequest('participant.join', { method: 'POST', body: JSON.stringify(input) }))
    expect(res.status).toBe(413)
    expect(await db.participant.count({ where: { studyId: study.studyId } })).toBe(0)
  })

  test('the upload cap is only for the dataset upload (datasets.importFile) sent alone from a signed-in session', async () => {
    const { POST } = await route()
    const big = JSON.stringify({ json: { name: 'x', filename: 'a.jsonl', content: 'x'.repeat(BODY_LIMITS.defaultBytes * 2) } })
    // signed out: the default cap
    expect((await POST(trpcRequest(UPLOAD_PROCEDURE, { method: 'POST', body: big }))).status).toBe(413)
    // signed in: read (then refused by the procedure for its own reasons, never by the body cap)
    signedIn.session = { user: { id: 'no-such-user' } }
    expect((await POST(trpcRequest(UPLOAD_PROCEDURE, { method: 'POST', body: big }))).status).not.toBe(413)
    // a batch that smuggles another call beside the upload gets the default cap
    expect((await POST(trpcRequest(`${UPLOAD_PROCEDURE},me.get`, { method: 'POST', body: big, query: '?batch=1' }))).status).toBe(413)
  })

  test('refusals made before tRPC runs reach the browser’s tRPC client as readable errors (its own shape, batched or not)', async () => {
    const { POST } = await route()
    const { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } = await import('@trpc/client')
    const superjson = (await import('superjson')).default
    const fetchRoute = async (url: string | URL | Request, init?: RequestInit) =>
      POST(new Request(String(url), { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-forwarded-for': '192.0.2.78' } }) as never)
    const huge = { studyId: 'no-such-study', consent: true, params: { PROLIFIC_PID: 'x'.repeat(BODY_LIMITS.defaultBytes) } }
    for (const link of [httpBatchLink({ url: 'http://test.local/api/trpc', transformer: superjson, fetch: fetchRoute }), httpLink({ url: 'http://test.local/api/trpc', transformer: superjson, fetch: fetchRoute })]) {
      const client = createTRPCClient<import('@/server/api/root').AppRouter>({ links: [link] })
      const error = await client.participant.join.mutate(huge).then(() => null, (e: unknown) => e)
      expect(error).toBeInstanceOf(TRPCClientError)
      expect((error as InstanceType<typeof TRPCClientError>).message).toBe(`The request body is larger than ${BODY_LIMITS.defaultBytes} bytes`)
      expect((error as InstanceType<typeof TRPCClientError>).data).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 })
    }
  })

  test('a refused rate limit is a 429 with Retry-After', async () => {
    const study = await makeOpenStudy(db)
    await consume('joinPerStudy', study.studyId, RATE_LIMITS.joinPerStudy.points)
    const { POST } = await route()
    const res = await POST(trpcRequest('participant.join', { method: 'POST', body: JSON.stringify({ json: { studyId: study.studyId, consent: true, params: {} } }) }))
    expect(res.status).toBe(429)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})

describe('item 5: the server decides time-outs', () => {
  test('a time-out claimed before the deadline is refused, stores nothing and is counted; the dashboard flags the participant', async () => {
    const study = await makeOpenStudy(db)
    const { api, token, assignmentId } = await firstTask(study)
    const error = await rejectionOf(api.participant.submit({ token, assignmentId, continuation: '', answer: '', timedOut: true }))
    expect(error.code).toBe('PRECONDITION_FAILED')
    expect(error.message).toMatch(/has not run out yet/)
    expect(await db.response.count({ where: { assignmentId } })).toBe(0)
    const participant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })
    expect(participant.earlyTimeoutClaims).toBe(1)

    const rows = await studyParticipants(db, study.studyId, { page: 1 })
    expect(rows.items.find((r) => r.id === participant.id)?.earlyTimeoutClaims).toBe(1)
    const dashboard = await studyDashboard(db, study.studyId, { applyExclusions: false })
    expect(dashboard.counts.flagged).toBe(1)
    expect(dashboard.exclusionRules.join(' ')).toMatch(/time-out before the deadline/)
  })

  test('at the deadline the claim is accepted as a time-out', async () => {
    const study = await makeOpenStudy(db)
    const { api, token, assignmentId } = await firstTask(study)
    await db.assignment.update({ where: { id: assignmentId }, data: { startedAt: new Date(Date.now() - 120_000) } })
    await api.participant.submit({ token, assignmentId, continuation: 'so far', answer: '', timedOut: true })
    expect(await db.response.findUniqueOrThrow({ where: { assignmentId } })).toMatchObject({ timedOut: true })
    expect((await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })).earlyTimeoutClaims).toBe(0)
  })
})

describe('item 6: the token travels only in POST bodies, expires after completion, and errors are generic', () => {
  test('a participant call as GET (token in the URL) is refused before it runs', async () => {
    const study = await makeOpenStudy(db)
    const { token } = await joined(study)
    const { GET } = await route()
    const res = await GET(trpcRequest('participant.session', { method: 'GET', query: `?input=${encodeURIComponent(JSON.stringify({ json: { token } }))}` }))
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
    // the same query as a POST (the client's methodOverride) is answered
    const { POST } = await route()
    const ok = await POST(trpcRequest('participant.session', { method: 'POST', body: JSON.stringify({ json: { token } }) }))
    expect(ok.status).toBe(200)
  })

  test('after completion the token shows only the completion page, and after the grace period nothing', async () => {
    const study = await makeOpenStudy(db, { tasksPerParticipant: 1, attentionChecks: [] })
    const { api, token, assignmentId } = await firstTask(study)
    await api.participant.submit({ token, assignmentId, ...answer })
    expect((await api.participant.session({ token })).stage).toBe('complete')
    // a resend of the last answer is still the duplicate it is; anything else is refused
    expect(await api.participant.submit({ token, assignmentId, ...answer })).toMatchObject({ duplicate: true, complete: true })
    expect((await rejectionOf(api.participant.finishInstructions({ token }))).code).toBe('PRECONDITION_FAILED')
    const participant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })
    const graceMs = PARTICIPANT_LIMITS.tokenAfterCompletionSeconds * 1000
    await db.participant.update({ where: { id: participant.id }, data: { completedAt: new Date(Date.now() - graceMs + 60_000) } })
    expect((await api.participant.session({ token })).stage).toBe('complete')
    await db.participant.update({ where: { id: participant.id }, data: { completedAt: new Date(Date.now() - graceMs - 1_000) } })
    const error = await rejectionOf(api.participant.session({ token }))
    expect(error.code).toBe('UNAUTHORIZED')
    expect(error.message).toBe(SESSION_ENDED)
  })

  describe('an internal error', () => {
    let logged: unknown[][] = []
    beforeEach(() => {
      logged = []
      vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args))
    })
    afterEach(() => vi.restoreAllMocks())

    test('reaches the participant as a generic message with an error id; the log has the id and the real error', async () => {
      const missing = uniq('tandem_no_such_database').replaceAll('-', '_')
      const broken = createDb(`postgresql://postgres@127.0.0.1:5432/${missing}`)
      try {
        const { createCaller } = await import('@/server/api/root')
        const { createTRPCContext } = await import('@/server/api/trpc')
        const api = createCaller(await createTRPCContext({ db: broken, session: null, headers: new Headers({ 'x-forwarded-for': '192.0.2.9' }) }))
        const error = await rejectionOf(api.participant.session({ token: 'T'.repeat(43) }))
        expect(error.code).toBe('INTERNAL_SERVER_ERROR')
        const id = /error id ([0-9a-f]{12})/i.exec(error.message)?.[1]
        expect(id).toBeDefined()
        expect(error.message).not.toMatch(new RegExp(`${missing}|prisma|postgres|database|127\\.0\\.0\\.1`, 'i'))
        const line = logged.find((args) => String(args[0]).includes(id!))
        expect(line).toBeDefined()
        expect(String(line![1])).toMatch(missing)
      } finally {
        await broken.$disconnect()
      }
    })
  })
})

describe('item 7: stage order on the server', () => {
  test('no task call before instructions and practice; nothing is written', async () => {
    const study = await makeOpenStudy(db)
    const { api, token } = await joined(study)
    const participant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(token) }, include: { assignments: true } })
    const assignmentId = participant.assignments[0]!.id
    const calls: Record<string, () => Promise<unknown>> = {
      startTask: () => api.participant.startTask({ token, assignmentId }),
      saveDraft: () => api.participant.saveDraft({ token, assignmentId, continuation: 'early', answer: '1' }),
      submit: () => api.participant.submit({ token, assignmentId, ...answer }),
      answerAttention: () => api.participant.answerAttention({ token, checkId: 'a1', answer: 'blue' }),
      liveTakeOver: () => api.participant.liveTakeOver({ token, assignmentId }),
      liveHandBack: () => api.participant.liveHandBack({ token, assignmentId, text: 'mine' }),
    }
    for (const [name, call] of Object.entries(calls)) {
      const error = await rejectionOf(call())
      expect([name, error.code, error.message]).toEqual([name, 'PRECONDITION_FAILED', 'Read the instructions first.'])
    }
    await api.participant.finishInstructions({ token })
    for (const [name, call] of Object.entries(calls)) {
      const error = await rejectionOf(call())
      expect([name, error.code, error.message]).toEqual([name, 'PRECONDITION_FAILED', 'Do the practice task first.'])
    }
    const after = await db.assignment.findUniqueOrThrow({ where: { id: assignmentId }, include: { response: true } })
    expect(after).toMatchObject({ startedAt: null, draft: null, response: null })
    expect((await db.participant.findUniqueOrThrow({ where: { id: participant.id } })).attention).toEqual([])
    // after practice the task opens
    await api.participant.submitPractice({ token, continuation: 'so 2', answer: '2' })
    await api.participant.startTask({ token, assignmentId })
  })

  test('a declined participant reaches no task', async () => {
    const study = await makeOpenStudy(db)
    const api = await anonymous(db)
    const { token } = await api.participant.join({ studyId: study.studyId, consent: false, params: {} })
    expect((await rejectionOf(api.participant.startTask({ token, assignmentId: 'anything' }))).code).toMatch(/PRECONDITION_FAILED|NOT_FOUND/)
  })
})
