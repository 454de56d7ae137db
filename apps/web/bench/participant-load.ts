// Load and fault benchmark of the participant API: N simulated participants go through a whole study over real HTTP
// (the production server, `next start`, on loopback) while their latencies are recorded; afterwards every
// response the server acknowledged is looked up in the database ("lost" = acknowledged but not stored), and so is
// every draft ("lost" = acknowledged as saved, or typed during the outage, but in neither the task's last draft nor
// its response). It runs on its own embedded Postgres, so it can stop that server mid-run without disturbing
// anything else.
//
//   npx tsx bench/participant-load.ts                      # N = 1 (baseline), 50, 200, then 200 with a 60 s outage
//   npx tsx bench/participant-load.ts --n 50 --no-outage   # one phase
//   options: --n 50,200  --tasks 4  --think 1000-2000 (ms between a participant's actions)  --port 0
//            --outage-seconds 60 (Postgres down this long in the last phase; 0: a plain restart)
//            --skip-build (reuse apps/web/.next-bench)  --profile-dir DIR (a V8 CPU profile of the web server)
//
// Each simulated participant behaves like the real page (bench/harness.ts): the page's retry delays (about two
// minutes of capped backoff), its autosave and its browser backup of drafts. During the outage a third of them keep
// typing while the page says "Not saved — retrying", a third send their answer anyway (the submit is retried; it is
// idempotent on the server), and a third close the tab with an unsaved draft and come back (the page restores it
// from the backup and saves it). Each participant has its own address (X-Forwarded-For), as behind the ingress.
// Prints p50/p95/p99 of request latency per phase and the ratio of p95 to the single-participant baseline.
import { parseArgs } from 'node:util'

import type { Db } from '../src/server/db'
import {
  distDir, freePort, newCallStats, newLedger, participantClient, quantile, retryBudgetMs, runParticipant, seedStudy,
  sleep, startBenchWorld, startWeb, verifyLedger, type OutageBehaviour,
} from './harness'

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '50,200' },
    tasks: { type: 'string', default: '4' },
    think: { type: 'string', default: '1000-2000' },
    'outage-seconds': { type: 'string', default: '60' },
    'no-outage': { type: 'boolean', default: false },
    // the old name of --no-outage
    'no-restart': { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    // reuse an existing build instead of building the current code
    'skip-build': { type: 'boolean', default: false },
    // write a V8 CPU profile of the web server (node --cpu-prof) into this folder
    'profile-dir': { type: 'string' },
  },
})
const sizes = args.n!.split(',').map(Number)
const tasks = Number(args.tasks)
const [thinkMin, thinkMax] = args.think!.split('-').map(Number) as [number, number]
const outageSeconds = Number(args['outage-seconds'])
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !(tasks >= 1) || !(thinkMax >= thinkMin) || !(outageSeconds >= 0)) {
  console.error('usage: participant-load.ts [--n 50,200] [--tasks 4] [--think 1000-2000] [--outage-seconds 60] [--no-outage] [--skip-build]')
  process.exit(2)
}
if (outageSeconds * 1000 > retryBudgetMs) {
  console.log(`note: an outage of ${outageSeconds} s is longer than the page's retry budget (${retryBudgetMs / 1000} s): calls will give up`)
}

const BEHAVIOURS: OutageBehaviour[] = ['keeps-typing', 'submits', 'reloads']

interface Outage {
  seconds: number
  stop: () => Promise<void>
  start: () => Promise<void>
}

let phaseNumber = 0

async function phase(label: string, base: string, db: Db, n: number, outage?: Outage) {
  const studyId = await seedStudy(db, { problems: 8, tasks })
  const stats = newCallStats()
  const ledger = newLedger()
  const state = { active: false }
  const net = ++phaseNumber
  const ramp = Math.min(5_000, n * 50) // arrivals spread over a few seconds, as after a recruiting post
  const started = Date.now()
  let downMs: number | null = null
  const expected = n * tasks
  const outageRun = outage
    ? (async () => {
        while (ledger.acked.size < expected / 2) await sleep(100)
        const t = Date.now()
        state.active = true
        await outage.stop()
        await sleep(outage.seconds * 1000 - (Date.now() - t))
        await outage.start()
        state.active = false
        downMs = Date.now() - t
        console.log(`  Postgres down ${(downMs / 1000).toFixed(1)} s`)
      })()
    : null
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await sleep((ramp * i) / n)
      // each participant its own address: the per-address rate limits are for one client, not for a whole study
      const client = participantClient(base, `10.${net}.${i >> 8}.${i & 255}`, stats)
      try {
        await runParticipant(client, {
          studyId, pid: `load-${label}-${i}`, think: [thinkMin, thinkMax], ledger, outage: state, behaviour: BEHAVIOURS[i % BEHAVIOURS.length],
        })
      } catch (error) {
        ledger.gaveUp.push(`participant ${i}: ${(error as Error).message.slice(0, 160)}`)
      }
    }),
  )
  await outageRun
  const seconds = (Date.now() - started) / 1000
  const check = await verifyLedger(db, studyId, ledger)
  const sorted = [...stats.latencies].sort((a, b) => a - b)
  return {
    label, n, seconds, requests: sorted.length, rps: sorted.length / seconds,
    p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN,
    failedAttempts: stats.failedAttempts, acked: ledger.acked.size, expected, lost: check.lostResponses, inDb: check.responsesInDb,
    gaveUp: ledger.gaveUp, downMs, typedInOutage: ledger.typedInOutage.size, lostOutageDrafts: check.lostOutageDrafts,
    ackedDrafts: ledger.draftAcked.size, lostAckedDrafts: check.lostAckedDrafts, restored: ledger.restoredFromBackup,
  }
}

async function main() {
  const world = await startBenchWorld('load', args['skip-build']!)
  const { db, pg, pgPort, databaseUrl } = world
  try {
    const port = Number(args.port) || (await freePort())
    world.web = await startWeb(databaseUrl, port, { profileDir: args['profile-dir'] })
    const base = `http://127.0.0.1:${port}`
    console.log(
      `server ${base} (build apps/web/${distDir}), Postgres 127.0.0.1:${pgPort} (embedded, its own), ${tasks} tasks each, ` +
        `think ${thinkMin}–${thinkMax} ms, the page's retry budget ${(retryBudgetMs / 1000).toFixed(1)} s`,
    )
    await phase('warm-up', base, db, 4)
    const results = [await phase('baseline', base, db, 1)]
    for (const n of sizes) results.push(await phase(`N=${n}`, base, db, n))
    if (!args['no-outage'] && !args['no-restart']) {
      const n = Math.max(...sizes)
      results.push(
        await phase(outageSeconds > 0 ? `N=${n} + ${outageSeconds} s outage` : `N=${n} + Postgres restart`, base, db, n, {
          seconds: outageSeconds, stop: () => pg.stop(), start: () => pg.start(),
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
    for (const r of results.filter((x) => x.downMs !== null)) {
      console.log(
        `\n${r.label}: Postgres down ${(r.downMs! / 1000).toFixed(1)} s; ${r.typedInOutage} tasks had text typed during the outage, ` +
          `${r.lostOutageDrafts.length} of them lost (${r.restored} reopened from the browser's backup); ${r.ackedDrafts} tasks with acknowledged drafts, ${r.lostAckedDrafts.length} lost; ` +
          `${r.acked}/${r.expected} responses acknowledged, ${r.lost} lost; ${r.gaveUp.length} participants gave up`,
      )
    }
    const bad = results.filter(
      (r) => r.lost > 0 || r.acked !== r.expected || r.inDb !== r.expected || r.lostOutageDrafts.length > 0 || r.lostAckedDrafts.length > 0,
    )
    console.log(bad.length ? `\nLOST OR MISSING RESPONSES OR DRAFTS in: ${bad.map((r) => r.label).join(', ')}` : '\n0 lost responses and 0 lost drafts in every phase')
    process.exitCode = bad.length ? 1 : 0
  } finally {
    await world.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
