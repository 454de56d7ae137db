// Abuse benchmark: one client floods the participant joins, the sign-in and the live streams of the production server
// (`next start`, its own embedded Postgres) while K well-behaved participants take a study, each from its own
// address. Per flood it prints the flood's requests sent / served / refused (429, 413, 409), the well-behaved
// participants' p95 latency as a ratio to a run without a flood, and lost responses (acknowledged but not stored;
// any makes the exit status 1, as does a flood of which nothing was refused). The limits are in src/server/limits.ts.
//
//   npx tsx bench/abuse.ts                  # K = 20 participants, 2 tasks each; floods of 8 concurrent requests
//   options: --k 20  --tasks 2  --think 500-1000 (ms between a participant's actions)  --concurrency 8
//            --no-distributed (skip the join flood from many addresses)  --skip-build (reuse .next-bench)  --port 0
//            --quick (CI: 6 participants, 1 task, think 200-400 ms, no flood from many addresses; under a minute)
//
// The floods, in order (each on fresh addresses; the join floods on the study the participants join):
//   joins, one address     joins of the participants' study from one address (per-address limit)
//   joins, many addresses  the same from a new address each time, as a botnet or a forged X-Forwarded-For on a server
//                          without a proxy: only the per-study cap holds; it shows what that cap costs the study's
//                          own new participants
//   sign-in                wrong passwords for one account from one address (per-address limit, account lock-out);
//                          then the account's owner signs in from elsewhere, and the bench says what happened
//   live opens             POST /api/participant/live for one live task of a study without a live service, from
//                          the flooding participant's address (per-task and per-address limits, one open stream)
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'

import { hashPassword } from '../src/server/auth/password'
import type { Db } from '../src/server/db'
import {
  distDir, freePort, newCallStats, newLedger, p95, parseRange, participantClient, retryBudgetMs, runParticipant,
  seedStudy, sleep, startBenchWorld, startWeb, verifyLedger,
} from './harness'

const { values: args } = parseArgs({
  options: {
    k: { type: 'string', default: '20' },
    tasks: { type: 'string', default: '2' },
    think: { type: 'string', default: '500-1000' },
    concurrency: { type: 'string', default: '8' },
    'no-distributed': { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    'skip-build': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
  },
})
if (args.quick) Object.assign(args, { k: '6', tasks: '1', think: '200-400', 'no-distributed': true })
const k = Number(args.k)
const tasks = Number(args.tasks)
const think = parseRange(args.think!)
const concurrency = Number(args.concurrency)
if (!Number.isInteger(k) || k < 1 || !Number.isInteger(tasks) || tasks < 1 || !think || !Number.isInteger(concurrency) || concurrency < 1) {
  console.error('usage: abuse.ts [--k 20] [--tasks 2] [--think 500-1000] [--concurrency 8] [--no-distributed] [--skip-build]')
  process.exit(2)
}

// ---------------------------------------------------------------- the flooding client

interface FloodCount {
  sent: number
  served: number
  /** refusals by status: 429 (rate limit), 413 (body cap), 409 (a stream already open) */
  refused: Map<number, number>
  /** any other answer, by status (0: no reply) */
  other: Map<number, number>
}

const REFUSALS = new Set([429, 413, 409])

/** `concurrency` loops calling `send` (which returns the answer's status, or 'refused') until `stop.done`. */
async function flood(send: (i: number) => Promise<number | 'refused'>, stop: { done: boolean }, into: FloodCount) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stop.done) {
        const i = next++
        into.sent++
        let status: number | 'refused'
        try {
          status = await send(i)
        } catch {
          status = 0
        }
        if (status === 'refused' || REFUSALS.has(status)) {
          const key = status === 'refused' ? 429 : status
          into.refused.set(key, (into.refused.get(key) ?? 0) + 1)
        } else if (status >= 200 && status < 400) into.served++
        else into.other.set(status, (into.other.get(status) ?? 0) + 1)
      }
    }),
  )
}

const newCount = (): FloodCount => ({ sent: 0, served: 0, refused: new Map(), other: new Map() })

async function post(url: string, address: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    redirect: 'manual',
  })
}

/** One sign-in through Auth.js's credentials callback, as the login form posts it. */
async function signIn(base: string, address: string, email: string, password: string): Promise<{ status: number; outcome: string }> {
  const csrf = await fetch(`${base}/api/auth/csrf`, { headers: { 'x-forwarded-for': address } })
  if (csrf.status === 429) return { status: 429, outcome: 'refused (429)' }
  const { csrfToken } = (await csrf.json()) as { csrfToken: string }
  const cookie = csrf.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const res = await fetch(`${base}/api/auth/callback/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-forwarded-for': address },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `${base}/console` }).toString(),
    redirect: 'manual',
  })
  await res.arrayBuffer()
  if (res.status === 429) return { status: 429, outcome: 'refused (429)' }
  const location = res.headers.get('location')
  if (res.status >= 300 && res.status < 400 && location) {
    const url = new URL(location, base)
    const error = url.searchParams.get('error')
    const code = url.searchParams.get('code') ?? ''
    if (!error) return { status: res.status, outcome: 'signed in' }
    // a limit's refusal comes back as the login page with its own code (Auth.js answers sign-ins with redirects)
    if (/limit|many|lock|throttl/i.test(code)) return { status: 429, outcome: `refused (${code})` }
    return { status: res.status, outcome: `answered: ${error}${code ? ` (${code})` : ''}` }
  }
  return { status: res.status, outcome: `HTTP ${res.status}` }
}

// ---------------------------------------------------------------- well-behaved participants

let addressBlock = 0

/** K participants through a study, each from its own address; then what the database holds of their work. */
async function participants(base: string, db: Db, studyId: string) {
  const stats = newCallStats()
  const ledger = newLedger()
  const block = ++addressBlock
  await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      await sleep((2_000 * i) / k)
      const client = participantClient(base, `10.${block}.${i >> 8}.${i & 255}`, stats)
      try {
        await runParticipant(client, { studyId, pid: `honest-${block}-${i}`, think: think!, ledger, draftsPerTask: 2 })
      } catch (error) {
        ledger.gaveUp.push(`participant ${i}: ${(error as Error).message.slice(0, 160)}`)
      }
    }),
  )
  const check = await verifyLedger(db, studyId, ledger)
  return {
    p95: p95(stats.latencies),
    refusedAttempts: stats.statuses.get(429) ?? 0,
    gaveUp: ledger.gaveUp,
    joinWaitMax: Math.max(...ledger.joinMs, 0),
    acked: ledger.acked.size,
    expected: k * tasks,
    lost: check.lostResponses + check.lostAckedDrafts.length,
  }
}

type Participants = Awaited<ReturnType<typeof participants>>

interface Row {
  label: string
  flood: FloodCount | null
  honest: Participants
  note?: string
}

/** Starts the flood, lets it run into its limits for `leadMs` (or until it is refused), runs the participants, stops it. */
async function underFlood(label: string, base: string, db: Db, studyId: string, send: (i: number) => Promise<number | 'refused'>, leadMs: number): Promise<Row> {
  const count = newCount()
  const stop = { done: false }
  const running = flood(send, stop, count)
  const t = Date.now()
  while (Date.now() - t < leadMs && count.refused.size === 0) await sleep(100)
  const honest = await participants(base, db, studyId)
  stop.done = true
  await running
  return { label, flood: count, honest }
}

// ---------------------------------------------------------------- main

async function main() {
  const world = await startBenchWorld('abuse', args['skip-build']!)
  const { db, pg, pgPort, databaseUrl } = world
  try {
    // the researcher whose account the sign-in flood targets (as npm run seed:user makes one)
    const email = 'researcher@bench.local'
    const password = randomBytes(12).toString('base64url')
    await db.user.create({ data: { email, name: 'Researcher', role: 'RESEARCHER', passwordHash: await hashPassword(password) } })
    const port = Number(args.port) || (await freePort())
    // TANDEM_TRUSTED_PROXIES=1: the client address is X-Forwarded-For's last entry, as behind the ingress
    world.web = await startWeb(databaseUrl, port, { env: { TANDEM_TRUSTED_PROXIES: '1' } })
    const base = `http://127.0.0.1:${port}`
    console.log(
      `server ${base} (build apps/web/${distDir}), Postgres 127.0.0.1:${pgPort} (embedded, its own); ${k} well-behaved participants, ` +
        `${tasks} tasks each, think ${think![0]}–${think![1]} ms; floods of ${concurrency} concurrent requests; the page retries for ${(retryBudgetMs / 1000).toFixed(1)} s`,
    )
    await participants(base, db, await seedStudy(db, { problems: 8, tasks })) // warm-up
    const rows: Row[] = [{ label: 'no flood (baseline)', flood: null, honest: await participants(base, db, await seedStudy(db, { problems: 8, tasks })) }]
    console.log(`  baseline done: p95 ${rows[0]!.honest.p95.toFixed(1)} ms`)

    const join = (studyId: string, address: (i: number) => string) => async (i: number) => {
      const res = await post(`${base}/api/trpc/participant.join`, address(i), {
        json: { studyId, consent: true, params: { PROLIFIC_PID: `flood-${randomBytes(6).toString('hex')}` }, token: randomBytes(32).toString('base64url') },
      })
      await res.arrayBuffer()
      return res.status
    }
    {
      const studyId = await seedStudy(db, { problems: 8, tasks })
      rows.push(await underFlood('joins, one address', base, db, studyId, join(studyId, () => '203.0.113.1'), 3_000))
      console.log('  join flood (one address) done')
    }
    if (!args['no-distributed']) {
      const studyId = await seedStudy(db, { problems: 8, tasks })
      const row = await underFlood('joins, many addresses', base, db, studyId, join(studyId, (i) => `198.18.${(i >> 8) & 255}.${i & 255}`), 30_000)
      row.note = `participants' longest wait to join ${(row.honest.joinWaitMax / 1000).toFixed(1)} s; ${row.honest.gaveUp.length}/${k} gave up after the page's ${(retryBudgetMs / 1000).toFixed(1)} s of retries`
      rows.push(row)
      console.log('  join flood (many addresses) done')
    }
    {
      const studyId = await seedStudy(db, { problems: 8, tasks })
      const row = await underFlood('sign-in, one account', base, db, studyId, async () => (await signIn(base, '203.0.113.2', email, 'wrong password')).status, 3_000)
      const owner = await signIn(base, '192.0.2.10', email, password)
      row.note = `the account's owner, right password, from another address right after: ${owner.outcome}`
      rows.push(row)
      console.log('  sign-in flood done')
    }
    {
      // the flooding participant holds a started live task; the study has no live service (streams end at once)
      const liveStudy = await seedStudy(db, { problems: 4, tasks: 1, live: true })
      const address = '203.0.113.3'
      const flooder = participantClient(base, address, newCallStats())
      const token = randomBytes(32).toString('base64url')
      await flooder.call('participant.join', { studyId: liveStudy, consent: true, params: { PROLIFIC_PID: 'flooder' }, token })
      await flooder.call('participant.finishInstructions', { token })
      await flooder.call('participant.submitPractice', { token, continuation: 'practice', answer: '2' })
      const session = await flooder.call<{ task: { assignmentId: string } }>('participant.session', { token })
      const assignmentId = session.task.assignmentId
      await flooder.call('participant.startTask', { token, assignmentId })
      const studyId = await seedStudy(db, { problems: 8, tasks })
      const row = await underFlood('live opens, one task', base, db, studyId, async () => {
        const res = await post(`${base}/api/participant/live`, address, { token, assignmentId }, { accept: 'text/event-stream' })
        // read the stream to its end (a few events here), as the page would until the senior stops
        await res.arrayBuffer().catch(() => {})
        return res.status
      }, 3_000)
      row.note = 'live: a served open is a 200 event stream that ends at once (no live service, no export); 409 = a stream of this task is open'
      rows.push(row)
      console.log('  live flood done')
    }

    const baseline = rows[0]!.honest.p95
    const fmt = (m: Map<number, number>) => [...m].map(([s, n]) => `${s}×${n}`).join(' ') || '-'
    console.log('\nflood                   sent  served  refused (429/413/409)     other      p95 ms  ×baseline  participants 429s  gave up  acked/expected  lost')
    for (const r of rows) {
      const f = r.flood
      console.log(
        `${r.label.padEnd(22)} ${String(f?.sent ?? '-').padStart(5)} ${String(f?.served ?? '-').padStart(7)}  ` +
          `${(f ? fmt(f.refused) : '-').padEnd(24)} ${(f ? fmt(f.other) : '-').padStart(8)} ${r.honest.p95.toFixed(1).padStart(10)} ` +
          `${(r.honest.p95 / baseline).toFixed(2).padStart(9)}× ${String(r.honest.refusedAttempts).padStart(18)} ${String(r.honest.gaveUp.length).padStart(8)} ` +
          `${`${r.honest.acked}/${r.honest.expected}`.padStart(15)} ${String(r.honest.lost).padStart(5)}`,
      )
      if (r.note) console.log(`    ${r.note}`)
      for (const g of r.honest.gaveUp.slice(0, 3)) console.log(`    gave up: ${g}`)
    }
    // a participant refused for good has nothing acknowledged: that shows under 'gave up', not as a loss
    const lost = rows.reduce((n, r) => n + r.honest.lost, 0)
    console.log(lost ? `\n${lost} LOST RESPONSES OR DRAFTS (acknowledged, not stored)` : '\n0 lost responses')
    // a flood nothing refused means a limit is missing
    const unlimited = rows.filter((r) => r.flood && r.flood.refused.size === 0).map((r) => r.label)
    if (unlimited.length) console.log(`NOTHING REFUSED in: ${unlimited.join(', ')}`)
    process.exitCode = lost || unlimited.length ? 1 : 0
  } finally {
    await world.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
