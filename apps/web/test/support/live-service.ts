// A stand-in for workers/live (a real HTTP server speaking its protocol, scripted per request), a live study and a
// participant at its live task: shared by test/live-session.test.ts and test/security/live.test.ts.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, beforeEach } from 'vitest'

import type { Db } from '@/server/db'

import { anonymous, makeOpenStudy, type OpenStudy } from './studies'

export interface Script {
  tokens: string[]
  /** how the stream ends: done with a reason, or cut off with no done (the service went away mid-stream; ended
   * rather than reset, so that every token sent is read — the e2e kills the real service) */
  end: { reason: 'eos' | 'length' | 'lines' } | 'cut'
  delayMs?: number
}

export interface StandInService {
  /** what the next requests stream, in order (an empty list: one token 'x', then eos) */
  scripts: Script[]
  /** the request bodies received, in order */
  requests: Record<string, unknown>[]
  /** their headers */
  headers: IncomingHttpHeaders[]
  /** answer every request with this status and {error} instead (null: stream as scripted) */
  refuse: { status: number; error: string } | null
}

/** Starts the stand-in for the file (LIVE_URL points at it) and clears its scripts before each test. */
export function standInLiveService(): StandInService {
  const service: StandInService = { scripts: [], requests: [], headers: [], refuse: null }
  let server: Server
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', async () => {
        const request = JSON.parse(body) as Record<string, unknown>
        service.requests.push(request)
        service.headers.push(req.headers)
        if (service.refuse) {
          res.writeHead(service.refuse.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: service.refuse.error }))
          return
        }
        if (String(request.model).includes('missing')) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `No ONNX export at ${String(request.model)}` }))
          return
        }
        const script = service.scripts.shift() ?? { tokens: ['x'], end: { reason: 'eos' } }
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write(`event: start\ndata: ${JSON.stringify({ promptTokens: 10 })}\n\n`)
        let n = 0
        for (const text of script.tokens) {
          if (res.destroyed) return
          res.write(`event: token\ndata: ${JSON.stringify({ text, id: 1, n: ++n })}\n\n`)
          await new Promise((r) => setTimeout(r, script.delayMs ?? 1))
        }
        if (script.end === 'cut') return res.end()
        res.end(`event: done\ndata: ${JSON.stringify({ reason: script.end.reason, tokens: n, ttftMs: 1, totalMs: 2 })}\n\n`)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    process.env.LIVE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  beforeEach(() => {
    service.scripts.length = 0
    service.requests.length = 0
    service.headers.length = 0
    service.refuse = null
  })
  return service
}

/** An open study whose conditions are live, both checkpoints exported (paths the stand-in accepts). */
export async function makeLiveStudy(db: Db, handoffRule: { kind: 'step'; k: number } | { kind: 'fraction'; f: number } = { kind: 'step', k: 1 }): Promise<OpenStudy> {
  const study = await makeOpenStudy(db, { handoffRule, temperature: 0.5, maxNewTokens: 12, liveTokensPerSecond: 0 })
  await db.studyCondition.updateMany({ where: { studyId: study.studyId }, data: { live: true } })
  await db.$executeRaw`UPDATE study_items SET prefix_text = NULL, handoff_step = NULL WHERE study_id = ${study.studyId}`
  // the GRPO checkpoint has an export (support/helpers.ts makeCheckpoints); the TRL one gets one here
  await db.checkpoint.create({
    data: { runId: study.checkpoints.trlRun.id, step: 2, format: 'onnx', path: `/runs/onnx/${study.checkpoints.trl.id}`, sha256: 'b'.repeat(64), sizeBytes: BigInt(1) },
  })
  return study
}

/** A new participant of `study`, past the practice, with its first task started. */
export async function atLiveTask(db: Db, study: OpenStudy) {
  const api = await anonymous(db)
  const { token } = await api.participant.join({ studyId: study.studyId, consent: true, params: {} })
  await api.participant.finishInstructions({ token })
  await api.participant.submitPractice({ token, continuation: '', answer: '2' })
  const session = await api.participant.session({ token })
  const assignmentId = session.task!.assignmentId
  await api.participant.startTask({ token, assignmentId })
  return { api, token, assignmentId, session }
}
