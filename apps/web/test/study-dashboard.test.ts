// The study dashboard's numbers against a real migrated database: counts, per-condition intervals, exclusions
// (decided by the SQL views), the TRL − GRPO difference, the participants list and one participant's session.
import { beforeAll, describe, expect, test } from 'vitest'

import type { Db } from '@/server/db'
import {
  EARLY_CLAIMS_FLAG, MANUAL_EXCLUSION_RULE, enqueueStudyAnalysis, juniorState, nonNegative, participantSession, studyAnalysis, studyDashboard,
  studyParticipants,
} from '@/server/studies/dashboard'
import {
  clusterBootstrapDifference, clusteredWilsonInterval, meanInterval, pairedPermutationTest, pearsonInterval, wilsonInterval, type ClusterCount, type Interval,
} from '@/server/statistics'

import { callerFor, makeCheckpoints, makeUser, testDb, uniq, type TestUser } from './support/helpers'

const db = testDb()

type Verdict = 'CORRECT' | 'INCORRECT' | 'UNPARSEABLE'

interface Fixture {
  owner: TestUser
  dataset: { id: string }
  problems: { id: string; externalId: string }[]
  ckpts: Awaited<ReturnType<typeof makeCheckpoints>>
}

async function makeFixture(database: Db): Promise<Fixture> {
  const owner = await makeUser(database, 'RESEARCHER')
  const baseModel = await database.baseModel.create({ data: { name: uniq('model'), path: '/models/tiny', validatedAt: new Date() } })
  const dataset = await database.dataset.create({
    data: {
      name: uniq('dataset'), source: 'generated', rowCount: 4,
      problems: { create: [1, 2, 3, 4].map((i) => ({ externalId: `p${i}`, problem: `What is ${i} + ${i}?`, answer: String(2 * i) })) },
    },
  })
  const problems = await database.problem.findMany({ where: { datasetId: dataset.id }, orderBy: { externalId: 'asc' } })
  const ckpts = await makeCheckpoints(database, { baseModel, dataset }, owner)
  return { owner, dataset, problems, ckpts }
}

/** A study with one item per condition and problem (handoff step 1 for p1, p2; step 2 for p3, p4). */
async function makeStudy(f: Fixture, conditions: { name: string; checkpointId: string; live?: boolean }[], opts: { minSecondsPerTask?: number } = {}) {
  const study = await db.study.create({
    data: {
      name: uniq('study'), ownerId: f.owner.id, datasetId: f.dataset.id, problemCount: f.problems.length,
      handoffRule: { kind: 'step', k: 1 }, tasksPerParticipant: 4, timeLimitSeconds: 60, consentText: 'I agree.',
      instructions: 'Finish the reasoning.', practice: { problem: '1 + 1?', reasoning: 'One and one.', answer: '2' },
      completionCode: 'DONE123', hashSalt: uniq('salt'), urlParams: ['PROLIFIC_PID'], status: 'OPEN',
      ...(opts.minSecondsPerTask === undefined ? {} : { minSecondsPerTask: opts.minSecondsPerTask }),
    },
  })
  const byName: Record<string, { id: string; items: Record<string, string> }> = {}
  for (const c of conditions) {
    const condition = await db.studyCondition.create({ data: { studyId: study.id, name: c.name, checkpointId: c.checkpointId, live: c.live ?? false } })
    const items: Record<string, string> = {}
    for (const [index, p] of f.problems.entries()) {
      const item = await db.studyItem.create({
        data: { studyId: study.id, conditionId: condition.id, problemId: p.id, handoffStep: index < 2 ? 1 : 2, prefixText: `Senior on ${p.externalId}:` },
      })
      items[p.externalId] = item.id
    }
    byName[c.name] = { id: condition.id, items }
  }
  return { study, conditions: byName }
}

interface TaskSpec {
  condition: string
  problem: string
  /** no response yet when omitted */
  elapsedMs?: number
  /** verifier verdict; null = not verified yet */
  verdict?: Verdict | null
  timedOut?: boolean
  ease?: number | null
  confidence?: number | null
}

async function addParticipant(
  s: Awaited<ReturnType<typeof makeStudy>>,
  ordinal: number,
  opts: { tasks?: TaskSpec[]; attention?: unknown[]; consented?: boolean; declined?: boolean; completed?: boolean; externalId?: string } = {},
) {
  const participant = await db.participant.create({
    data: {
      studyId: s.study.id, ordinal, tokenHash: uniq('token'), externalId: opts.externalId ?? null,
      urlParams: opts.externalId ? { PROLIFIC_PID: opts.externalId } : {}, userAgent: 'vitest',
      consentedAt: opts.consented === false || opts.declined ? null : new Date(),
      declinedAt: opts.declined ? new Date() : null,
      completedAt: opts.completed ? new Date() : null,
      attention: (opts.attention ?? []) as object[],
    },
  })
  for (const [position, task] of (opts.tasks ?? []).entries()) {
    const assignment = await db.assignment.create({
      data: { participantId: participant.id, itemId: s.conditions[task.condition]!.items[task.problem]!, position, startedAt: new Date(), draft: { continuation: 'draft' } },
    })
    if (task.elapsedMs === undefined) continue
    await db.response.create({
      data: {
        assignmentId: assignment.id, continuation: `continued ${task.problem}`, answer: '42', elapsedMs: task.elapsedMs,
        timedOut: task.timedOut ?? false, easeRating: task.ease ?? null, confidence: task.confidence ?? null,
        ...(task.verdict
          ? { verifierResult: { create: { verifier: 'math-verify', version: '0', verdict: task.verdict, extractedAnswer: '42', details: 'checked' } } }
          : {}),
      },
    })
  }
  return participant
}

const TRL = 'B: TRL senior' // named so that name order would put GRPO first: TRL − GRPO must still win
const GRPO = 'A: GRPO senior'
const passed = [{ checkId: 'a1', answer: 'y', correct: true }]
const failed = [{ checkId: 'a1', answer: 'x', correct: false }]

let f: Fixture
let main: Awaited<ReturnType<typeof makeStudy>>
const people: Record<string, { id: string }> = {}

beforeAll(async () => {
  f = await makeFixture(db)
  main = await makeStudy(f, [{ name: TRL, checkpointId: f.ckpts.trl.id }, { name: GRPO, checkpointId: f.ckpts.grpo.id }])
  const C = 'CORRECT'
  const I = 'INCORRECT'
  // included, completed: TRL 2 of 2, GRPO 1 of 2
  people.p0 = await addParticipant(main, 0, {
    completed: true, attention: passed, externalId: 'prolific-0',
    tasks: [
      { condition: TRL, problem: 'p1', elapsedMs: 20_000, verdict: C, ease: 4, confidence: 5 },
      { condition: TRL, problem: 'p2', elapsedMs: 24_000, verdict: C, ease: 5, confidence: null },
      { condition: GRPO, problem: 'p3', elapsedMs: 18_000, verdict: I, ease: 2, confidence: 3 },
      { condition: GRPO, problem: 'p4', elapsedMs: 22_000, verdict: C, ease: null, confidence: 4 },
    ],
  })
  // included, completed: TRL 1 of 2, GRPO 0 of 2 (one UNPARSEABLE counts as not correct)
  people.p1 = await addParticipant(main, 1, {
    completed: true,
    tasks: [
      { condition: GRPO, problem: 'p1', elapsedMs: 28_000, verdict: I, ease: 3, confidence: 2 },
      { condition: GRPO, problem: 'p2', elapsedMs: 32_000, verdict: 'UNPARSEABLE', ease: 1, confidence: 1 },
      { condition: TRL, problem: 'p3', elapsedMs: 30_000, verdict: C, ease: 4, confidence: 4 },
      { condition: TRL, problem: 'p4', elapsedMs: 26_000, verdict: I, ease: 3, confidence: 3 },
    ],
  })
  // failed the attention check, completed: TRL 0 of 2, GRPO 2 of 2
  people.p2 = await addParticipant(main, 2, {
    completed: true, attention: failed,
    tasks: [
      { condition: TRL, problem: 'p1', elapsedMs: 30_000, verdict: I },
      { condition: TRL, problem: 'p2', elapsedMs: 30_000, verdict: I },
      { condition: GRPO, problem: 'p3', elapsedMs: 30_000, verdict: C },
      { condition: GRPO, problem: 'p4', elapsedMs: 30_000, verdict: C },
    ],
  })
  // implausibly fast (median 2.5 s < 10 s), still in progress: TRL 1 of 1, GRPO 1 of 1
  people.p3 = await addParticipant(main, 3, {
    attention: passed,
    tasks: [
      { condition: TRL, problem: 'p1', elapsedMs: 2_000, verdict: C },
      { condition: GRPO, problem: 'p2', elapsedMs: 3_000, verdict: C },
      { condition: TRL, problem: 'p3' },
      { condition: GRPO, problem: 'p4' },
    ],
  })
  // included, in progress: two responses awaiting the verifier, one of them timed out
  people.p4 = await addParticipant(main, 4, {
    tasks: [
      { condition: TRL, problem: 'p3', elapsedMs: 15_000, verdict: null },
      { condition: GRPO, problem: 'p1', elapsedMs: 60_000, verdict: null, timedOut: true },
      { condition: TRL, problem: 'p2' },
    ],
  })
  // declined consent
  people.p5 = await addParticipant(main, 5, { declined: true })
})

describe('studyDashboard', () => {
  test('counts show everyone, whatever applyExclusions says', async () => {
    // anonymous: consented without a recruiting-platform id (all but p0)
    const expected = {
      started: 6, consented: 5, declined: 1, completed: 3, excluded: 2, flagged: 0, anonymous: 4, responses: 16, verified: 14, awaitingVerification: 2, timedOut: 1,
    }
    expect((await studyDashboard(db, main.study.id, { applyExclusions: true })).counts).toEqual(expected)
    expect((await studyDashboard(db, main.study.id, { applyExclusions: false })).counts).toEqual(expected)
  })

  test('per-condition numbers without the excluded participants; unverified responses are left out of accuracy', async () => {
    const d = await studyDashboard(db, main.study.id, { applyExclusions: true })
    expect(d.applyExclusions).toBe(true)
    expect(d.conditions.map((c) => c.name)).toEqual([GRPO, TRL])
    const trl = d.conditions.find((c) => c.name === TRL)!
    const grpo = d.conditions.find((c) => c.name === GRPO)!
    expect(trl).toMatchObject({
      conditionId: main.conditions[TRL]!.id, algorithm: 'TRL', checkpointId: f.ckpts.trl.id, runId: f.ckpts.trlRun.id, responses: 5, timedOut: 0,
    })
    // 3 of 4 verified correct (p4's unverified response is not counted)
    expect(trl.accuracy).toEqual(wilsonInterval(3, 4))
    expect(trl.accuracy.value).toBe(0.75)
    expect(trl.accuracy.low).toBeCloseTo(0.3006, 3)
    expect(trl.accuracy.high).toBeCloseTo(0.9544, 3)
    expect(trl.timeSeconds).toEqual(meanInterval([20, 24, 30, 26, 15]))
    expect(trl.timeSeconds.value).toBeCloseTo(23, 12)
    expect(trl.ease).toEqual(meanInterval([4, 5, 4, 3]))
    expect(trl.confidence).toEqual(meanInterval([5, 4, 3]))

    expect(grpo).toMatchObject({ algorithm: 'GRPO', checkpointId: f.ckpts.grpo.id, runId: f.ckpts.grpoRun.id, responses: 5, timedOut: 1 })
    expect(grpo.accuracy).toEqual(wilsonInterval(1, 4))
    expect(grpo.timeSeconds).toEqual(meanInterval([18, 22, 28, 32, 60]))
    expect(grpo.ease).toEqual(meanInterval([2, 3, 1]))
    expect(grpo.confidence.n).toBe(4)
  })

  test('without exclusions the attention-check failure and the fast participant count', async () => {
    const d = await studyDashboard(db, main.study.id, { applyExclusions: false })
    const trl = d.conditions.find((c) => c.name === TRL)!
    const grpo = d.conditions.find((c) => c.name === GRPO)!
    expect(trl.responses).toBe(8)
    expect(trl.accuracy).toEqual(wilsonInterval(4, 7))
    expect(grpo.responses).toBe(8)
    expect(grpo.accuracy).toEqual(wilsonInterval(4, 7))
    expect(trl.timeSeconds).toEqual(meanInterval([20, 24, 30, 26, 30, 30, 2, 15]))
  })

  test('accuracy by handoff step, per condition', async () => {
    const d = await studyDashboard(db, main.study.id, { applyExclusions: true })
    expect(d.byHandoffStep.map(({ name, handoffStep, accuracy }) => [name, handoffStep, accuracy.value, accuracy.n])).toEqual([
      [GRPO, 1, 0, 2],
      [GRPO, 2, 0.5, 2],
      [TRL, 1, 1, 2],
      [TRL, 2, 0.5, 2],
    ])
    expect(d.byHandoffStep[2]!.accuracy).toEqual(wilsonInterval(2, 2))
  })

  test('the TRL − GRPO difference: estimate over verified responses, permutation p-value, participant bootstrap', async () => {
    const d = await studyDashboard(db, main.study.id, { applyExclusions: true })
    expect(d.difference).toMatchObject({
      a: main.conditions[TRL]!.id, b: main.conditions[GRPO]!.id, label: 'TRL − GRPO', permutations: 5000, nParticipants: 2,
    })
    expect(d.difference!.estimate).toBeCloseTo(0.75 - 0.25, 12)
    expect(d.difference!.pValue).toBeGreaterThan(0)
    expect(d.difference!.pValue).toBeLessThanOrEqual(1)
    expect(d.difference!.low!).toBeLessThanOrEqual(0.5)
    expect(d.difference!.high!).toBeGreaterThanOrEqual(0.5)
    expect(d.difference!.method).toMatch(/^Permutation test \(5,000 permutations of condition labels within each participant\), two-sided; 95% interval: participant bootstrap/)

    // the same numbers as the statistics module gives for the same rows (verified responses of included participants)
    const rows = [
      ...[1, 1, 1, 0].map((y, i) => ({ cluster: i < 2 ? people.p0!.id : people.p1!.id, group: 'A' as const, y })),
      ...[0, 1, 0, 0].map((y, i) => ({ cluster: i < 2 ? people.p0!.id : people.p1!.id, group: 'B' as const, y })),
    ]
    expect(d.difference!.pValue).toBe(pairedPermutationTest(rows).pValue)
    expect({ low: d.difference!.low, high: d.difference!.high }).toEqual(clusterBootstrapDifference(rows))

    const all = await studyDashboard(db, main.study.id, { applyExclusions: false })
    expect(all.difference).toMatchObject({ label: 'TRL − GRPO', nParticipants: 4 })
    expect(all.difference!.estimate).toBeCloseTo(4 / 7 - 4 / 7, 12)
    expect(all.difference!.pValue).toBe(1)
    // reproducible
    expect((await studyDashboard(db, main.study.id, { applyExclusions: false })).difference).toEqual(all.difference)
  })

  test('exclusion rules in words, with the study’s threshold', async () => {
    const d = await studyDashboard(db, main.study.id, { applyExclusions: true })
    expect(d.exclusionRules).toEqual([
      'Failed an attention check',
      'Median time per task under 10 s (implausibly fast)',
      MANUAL_EXCLUSION_RULE,
      EARLY_CLAIMS_FLAG,
    ])
  })

  test('every condition appears even without responses; no verified responses, no difference', async () => {
    const s = await makeStudy(f, [
      { name: 'trl', checkpointId: f.ckpts.trl.id },
      { name: 'grpo', checkpointId: f.ckpts.grpo.id },
      { name: 'base', checkpointId: f.ckpts.base.id },
    ], { minSecondsPerTask: 5 })
    await addParticipant(s, 0, { tasks: [{ condition: 'trl', problem: 'p1', elapsedMs: 9_000, verdict: null }] })
    const d = await studyDashboard(db, s.study.id, { applyExclusions: true })
    const empty = { value: null, low: null, high: null, n: 0 }
    expect(d.conditions.map((c) => [c.name, c.algorithm, c.responses])).toEqual([['base', null, 0], ['grpo', 'GRPO', 0], ['trl', 'TRL', 1]])
    const base = d.conditions[0]!
    expect(base).toMatchObject({ runId: null, checkpointId: f.ckpts.base.id, accuracy: empty, timeSeconds: empty, ease: empty, confidence: empty, timedOut: 0 })
    expect(d.conditions[2]!.accuracy).toEqual(empty)
    expect(d.conditions[2]!.timeSeconds).toEqual({ value: 9, low: null, high: null, n: 1 })
    // every condition's handoff steps, with n 0 where nothing is verified
    expect(d.byHandoffStep).toHaveLength(6)
    expect(d.byHandoffStep.every((r) => r.accuracy.n === 0)).toBe(true)
    expect(d.difference).toBeNull()
    expect(d.counts).toMatchObject({ started: 1, responses: 1, verified: 0, awaitingVerification: 1, excluded: 0 })
    expect(d.exclusionRules[1]).toBe('Median time per task under 5 s (implausibly fast)')
  })

  test('two conditions that are not TRL and GRPO are compared in name order', async () => {
    const s = await makeStudy(f, [
      { name: 'zeta', checkpointId: f.ckpts.base.id },
      { name: 'alpha', checkpointId: f.ckpts.trl.id },
    ])
    await addParticipant(s, 0, {
      tasks: [
        { condition: 'zeta', problem: 'p1', elapsedMs: 20_000, verdict: 'INCORRECT' },
        { condition: 'alpha', problem: 'p2', elapsedMs: 20_000, verdict: 'CORRECT' },
      ],
    })
    const d = await studyDashboard(db, s.study.id, { applyExclusions: true })
    expect(d.difference).toMatchObject({ a: s.conditions.alpha!.id, b: s.conditions.zeta!.id, label: 'alpha − zeta', estimate: 1, nParticipants: 1 })
  })

  test('an unknown study is an error', async () => {
    await expect(studyDashboard(db, 'no-such-study', { applyExclusions: true })).rejects.toThrow(/Unknown study/)
  })
})

describe('people beside the junior', () => {
  // junior_correct of junior_samples = 4 per item; null: the junior has not run on it
  const JUNIOR: Record<string, Record<string, number | null>> = {
    [TRL]: { p1: 4, p2: 2, p3: 1, p4: null },
    [GRPO]: { p1: 0, p2: 1, p3: 3, p4: 3 },
  }
  let jr: Awaited<ReturnType<typeof makeStudy>>

  beforeAll(async () => {
    jr = await makeStudy(f, [{ name: TRL, checkpointId: f.ckpts.trl.id }, { name: GRPO, checkpointId: f.ckpts.grpo.id }])
    for (const [condition, byProblem] of Object.entries(JUNIOR)) {
      for (const [problem, correct] of Object.entries(byProblem)) {
        if (correct === null) continue
        await db.studyItem.update({ where: { id: jr.conditions[condition]!.items[problem]! }, data: { juniorSamples: 4, juniorCorrect: correct, juniorModel: '/models/junior' } })
      }
    }
    const C = 'CORRECT'
    const I = 'INCORRECT'
    await addParticipant(jr, 0, {
      attention: passed,
      tasks: [
        { condition: TRL, problem: 'p1', elapsedMs: 20_000, verdict: C },
        { condition: TRL, problem: 'p2', elapsedMs: 20_000, verdict: I },
        { condition: GRPO, problem: 'p3', elapsedMs: 20_000, verdict: C },
        { condition: GRPO, problem: 'p4', elapsedMs: 20_000, verdict: C },
      ],
    })
    await addParticipant(jr, 1, {
      tasks: [
        { condition: GRPO, problem: 'p1', elapsedMs: 20_000, verdict: I },
        { condition: GRPO, problem: 'p2', elapsedMs: 20_000, verdict: I },
        { condition: TRL, problem: 'p3', elapsedMs: 20_000, verdict: I },
        { condition: TRL, problem: 'p4', elapsedMs: 20_000, verdict: C },
      ],
    })
    // excluded (failed the attention check): every answer wrong
    await addParticipant(jr, 2, {
      attention: failed,
      tasks: [
        { condition: TRL, problem: 'p1', elapsedMs: 20_000, verdict: I },
        { condition: TRL, problem: 'p2', elapsedMs: 20_000, verdict: I },
        { condition: GRPO, problem: 'p3', elapsedMs: 20_000, verdict: I },
        { condition: GRPO, problem: 'p4', elapsedMs: 20_000, verdict: I },
      ],
    })
  })

  const junior = (condition: string, problems: string[]): ClusterCount[] =>
    problems.flatMap((p) => (JUNIOR[condition]![p] == null ? [] : [{ successes: JUNIOR[condition]![p]!, trials: 4 }]))
  // the same figures up to the order of summation (the dashboard takes items by condition name, then problem)
  const expectSameInterval = (actual: Interval, expected: Interval) => {
    expect(actual.n).toBe(expected.n)
    for (const key of ['value', 'low', 'high'] as const) expect(actual[key]).toBeCloseTo(expected[key]!, 12)
  }
  const withoutEffectiveN = ({ effectiveN: _e, ...interval }: ReturnType<typeof clusteredWilsonInterval>) => interval

  test('per condition and handoff step: people (Wilson over responses) and the junior (its samples, items as the units)', async () => {
    const d = await studyDashboard(db, jr.study.id, { applyExclusions: true })
    expect(d.byHandoffStep.map((r) => [r.name, r.handoffStep])).toEqual([[GRPO, 1], [GRPO, 2], [TRL, 1], [TRL, 2]])
    const at = (name: string, step: number) => d.byHandoffStep.find((r) => r.name === name && r.handoffStep === step)!
    expect(at(TRL, 1).accuracy).toEqual(wilsonInterval(1, 2))
    expect(at(TRL, 1).junior).toEqual(withoutEffectiveN(clusteredWilsonInterval(junior(TRL, ['p1', 'p2']))))
    expect(at(TRL, 1).junior).toMatchObject({ value: 0.75, n: 2 })
    // p4 has no junior samples yet: the step's junior figure is p3's alone
    expect(at(TRL, 2).junior).toMatchObject({ value: 0.25, n: 1 })
    expect(at(TRL, 2).junior).toEqual(withoutEffectiveN(clusteredWilsonInterval([{ successes: 1, trials: 4 }])))
    expect(at(GRPO, 2).junior).toMatchObject({ value: 0.75, n: 2 })
    expect(at(GRPO, 2).accuracy).toEqual(wilsonInterval(2, 2))
    // the exclusion toggle changes people's figures, never the junior's
    const all = await studyDashboard(db, jr.study.id, { applyExclusions: false })
    const allAt = (name: string, step: number) => all.byHandoffStep.find((r) => r.name === name && r.handoffStep === step)!
    expect(allAt(GRPO, 2).accuracy).toEqual(wilsonInterval(2, 4))
    expect(allAt(GRPO, 2).junior).toEqual(at(GRPO, 2).junior)
  })

  test('per item: people’s success rate beside the junior’s, and their correlation over items with both', async () => {
    const d = await studyDashboard(db, jr.study.id, { applyExclusions: true })
    expect(d.items).toHaveLength(8)
    const item = (condition: string, problem: string) => d.items.find((i) => i.conditionName === condition && i.problemExternalId === problem)!
    expect(item(TRL, 'p1')).toMatchObject({
      itemId: jr.conditions[TRL]!.items.p1, conditionId: jr.conditions[TRL]!.id, handoffStep: 1, human: wilsonInterval(1, 1),
      junior: { correct: 4, samples: 4, accuracy: 1 },
    })
    expect(item(TRL, 'p4')).toMatchObject({ human: wilsonInterval(1, 1), junior: null })
    expect(item(GRPO, 'p3')).toMatchObject({ human: wilsonInterval(1, 1), junior: { correct: 3, samples: 4, accuracy: 0.75 } })
    // (junior, people) for the 7 items with both; TRL p4 has no junior samples
    const pairs = [
      [1, 1], [0.5, 0], [0.25, 0],
      [0, 0], [0.25, 0], [0.75, 1], [0.75, 1],
    ].map(([x, y]) => ({ x: x!, y: y! }))
    expectSameInterval(d.agreement.correlation, pearsonInterval(pairs))
    expect(d.agreement.correlation.n).toBe(7)
    expect(d.agreement.correlation.value!).toBeGreaterThan(0.8)
    expect(d.agreement.method).toMatch(/Pearson.*unweighted.*Fisher/)

    // with everyone, the excluded participant's wrong answers count
    const all = await studyDashboard(db, jr.study.id, { applyExclusions: false })
    expect(all.items.find((i) => i.itemId === jr.conditions[TRL]!.items.p1)!.human).toEqual(wilsonInterval(1, 2))
    expectSameInterval(
      all.agreement.correlation,
      pearsonInterval([[1, 0.5], [0.5, 0], [0.25, 0], [0, 0], [0.25, 0], [0.75, 0.5], [0.75, 0.5]].map(([x, y]) => ({ x: x!, y: y! }))),
    )
  })

  test('the junior’s state: pending without a job, then the latest STUDY_JUNIOR job’s, done when it succeeded', async () => {
    const d = await studyDashboard(db, jr.study.id, { applyExclusions: true })
    expect(d.junior).toEqual({ state: 'pending', error: null, itemsEvaluated: 7, itemsExpected: 8, liveConditions: [], samplesPerItem: 4 })
    const t0 = new Date(Date.now() - 60_000)
    await db.job.create({ data: { kind: 'STUDY_JUNIOR', payload: { studyId: jr.study.id }, studyId: jr.study.id, status: 'FAILED', error: 'CUDA out of memory', createdAt: t0 } })
    expect((await studyDashboard(db, jr.study.id, { applyExclusions: true })).junior).toMatchObject({ state: 'failed', error: 'CUDA out of memory' })
    const retry = await db.job.create({
      data: { kind: 'STUDY_JUNIOR', payload: { studyId: jr.study.id }, studyId: jr.study.id, status: 'QUEUED', createdAt: new Date(t0.getTime() + 1000) },
    })
    expect((await studyDashboard(db, jr.study.id, { applyExclusions: true })).junior).toMatchObject({ state: 'queued', error: null })
    await db.job.update({ where: { id: retry.id }, data: { status: 'RUNNING' } })
    expect((await studyDashboard(db, jr.study.id, { applyExclusions: true })).junior.state).toBe('running')
    await db.job.update({ where: { id: retry.id }, data: { status: 'SUCCEEDED' } })
    expect((await studyDashboard(db, jr.study.id, { applyExclusions: true })).junior.state).toBe('done')
  })

  test('live conditions: not applicable, named; a study of live conditions only has no junior evaluation at all', async () => {
    const mixed = await makeStudy(f, [{ name: 'live trl', checkpointId: f.ckpts.trl.id, live: true }, { name: 'grpo', checkpointId: f.ckpts.grpo.id }])
    const d = await studyDashboard(db, mixed.study.id, { applyExclusions: true })
    expect(d.junior).toMatchObject({ state: 'pending', itemsEvaluated: 0, itemsExpected: 4, liveConditions: ['live trl'] })
    expect(d.byHandoffStep.every((r) => r.junior.n === 0 && r.junior.value === null)).toBe(true)
    expect(d.agreement.correlation).toEqual({ value: null, low: null, high: null, n: 0 })

    const live = await makeStudy(f, [{ name: 'only live', checkpointId: f.ckpts.trl.id, live: true }])
    expect((await studyDashboard(db, live.study.id, { applyExclusions: true })).junior).toMatchObject({ state: 'not-applicable', itemsExpected: 0, liveConditions: ['only live'] })
  })

  test('juniorState, pure', () => {
    const fixed = { live: false, evaluated: true }
    expect(juniorState([], null)).toBe('pending')
    expect(juniorState([fixed, { live: true, evaluated: false }], null)).toBe('done')
    expect(juniorState([{ live: true, evaluated: false }], { status: 'SUCCEEDED' })).toBe('not-applicable')
    expect(juniorState([{ ...fixed, evaluated: false }], { status: 'CANCEL_REQUESTED' })).toBe('running')
    expect(juniorState([fixed], { status: 'CANCELLED' })).toBe('failed')
  })
})

describe('the mixed-model row (cached fits)', () => {
  const result = {
    method: 'mixed-effects logistic regression, crossed random intercepts for participant and problem (statsmodels BinomialBayesMixedGLM, fit_vb)',
    formula: 'correct ~ C(condition) + (1|participant) + (1|problem)',
    library: 'statsmodels 0.14.4',
    responses: 5, participants: 2, problems: 4, reference: GRPO,
    conditions: [
      { condition: GRPO, accuracy: 0.3, low: 0.1, high: 0.6, logOdds: -0.85, se: 0.7 },
      { condition: TRL, accuracy: 0.7, low: 0.4, high: 0.9, logOdds: 0.85, se: 0.7 },
    ],
    effects: [{ condition: TRL, versus: GRPO, oddsRatio: 5.4, low: 0.9, high: 32, logOdds: 1.69, se: 0.9, p: 0.06 }],
    randomEffects: { participantSd: 0.3, problemSd: 0.5 },
    warnings: ['few responses'],
  }

  test('no fit yet: what the model would see now, and no job', async () => {
    const a = await studyAnalysis(db, main.study.id)
    // verified responses of included participants: p0's 4 and p1's 4 (p2, p3 excluded; p4's unverified)
    expect(a).toEqual({ latest: null, currentResponses: 8, newSinceFit: null, job: null })
  })

  test('the newest fit, the responses since, a fit without a result, and one of another shape', async () => {
    const s = await makeStudy(f, [{ name: TRL, checkpointId: f.ckpts.trl.id }, { name: GRPO, checkpointId: f.ckpts.grpo.id }])
    await addParticipant(s, 0, {
      tasks: [
        { condition: TRL, problem: 'p1', elapsedMs: 20_000, verdict: 'CORRECT' },
        { condition: GRPO, problem: 'p2', elapsedMs: 20_000, verdict: 'INCORRECT' },
        { condition: TRL, problem: 'p3', elapsedMs: 20_000, verdict: null },
      ],
    })
    const older = new Date(Date.now() - 120_000)
    await db.studyAnalysis.create({ data: { studyId: s.study.id, responseCount: 0, error: 'fewer than 2 conditions have responses', createdAt: older } })
    const fitAt = new Date(Date.now() - 60_000)
    const fit = await db.studyAnalysis.create({ data: { studyId: s.study.id, responseCount: 1, result, createdAt: fitAt } })
    const a = await studyAnalysis(db, s.study.id)
    expect(a.latest).toEqual({ id: fit.id, createdAt: fitAt, responseCount: 1, result, error: null })
    expect(a).toMatchObject({ currentResponses: 2, newSinceFit: 1, job: null })

    await db.studyAnalysis.create({ data: { studyId: s.study.id, responseCount: 2, error: 'fewer than 2 conditions have responses' } })
    expect((await studyAnalysis(db, s.study.id)).latest).toMatchObject({ result: null, error: 'fewer than 2 conditions have responses', responseCount: 2 })
    expect((await studyAnalysis(db, s.study.id)).newSinceFit).toBe(0)

    const { conditions: _c, ...broken } = result
    const odd = await db.studyAnalysis.create({ data: { studyId: s.study.id, responseCount: 2, result: broken, createdAt: new Date(Date.now() + 1000) } })
    const shown = (await studyAnalysis(db, s.study.id)).latest!
    expect(shown).toMatchObject({ id: odd.id, result: null })
    expect(shown.error).toMatch(/not in the expected shape \(conditions: /)

    // figures that are not finite are stored as null (a condition whose answers are all right) and still shown
    const degenerate = {
      ...result,
      conditions: [result.conditions[0]!, { ...result.conditions[1]!, se: null }],
      effects: [{ ...result.effects[0]!, oddsRatio: null, low: null, high: null, se: null, p: null }],
      deviance: 12.5,
    }
    await db.studyAnalysis.create({ data: { studyId: s.study.id, responseCount: 2, result: degenerate, createdAt: new Date(Date.now() + 2000) } })
    const { deviance: _deviance, ...expected } = degenerate
    expect((await studyAnalysis(db, s.study.id)).latest).toMatchObject({ result: expected, error: null })
  })

  test('refit: one queued job at a time (also when asked at once), audited once; a running fit lets a new one queue', async () => {
    const s = await makeStudy(f, [{ name: TRL, checkpointId: f.ckpts.trl.id }, { name: GRPO, checkpointId: f.ckpts.grpo.id }])
    const api = await callerFor(db, f.owner)
    const [first, second] = await Promise.all([api.studies.refitModel({ id: s.study.id }), api.studies.refitModel({ id: s.study.id })])
    expect(first.jobId).toBe(second.jobId)
    expect([first.alreadyQueued, second.alreadyQueued].sort()).toEqual([false, true])
    const jobs = await db.job.findMany({ where: { studyId: s.study.id, kind: 'STUDY_ANALYSIS' }, select: { id: true, status: true, payload: true, createdById: true } })
    expect(jobs).toEqual([{ id: first.jobId, status: 'QUEUED', payload: { studyId: s.study.id }, createdById: f.owner.id }])
    const audits = await db.auditLog.findMany({ where: { entityId: s.study.id, action: 'study.refit_model' }, select: { actorId: true, details: true } })
    expect(audits).toEqual([{ actorId: f.owner.id, details: { jobId: first.jobId } }])
    expect((await studyAnalysis(db, s.study.id)).job).toMatchObject({ id: first.jobId, status: 'QUEUED', error: null })

    await db.job.update({ where: { id: first.jobId }, data: { status: 'RUNNING' } })
    const third = await db.$transaction((tx) => enqueueStudyAnalysis(tx, s.study.id, null))
    expect(third.alreadyQueued).toBe(false)
    expect(third.jobId).not.toBe(first.jobId)
    await db.job.update({ where: { id: third.jobId }, data: { status: 'FAILED', error: 'singular matrix', createdAt: new Date(Date.now() + 1000) } })
    expect((await studyAnalysis(db, s.study.id)).job).toMatchObject({ id: third.jobId, status: 'FAILED', error: 'singular matrix' })
  })
})

describe('studyParticipants', () => {
  test('one page at a time, by ordinal, with progress, score and exclusion', async () => {
    const first = await studyParticipants(db, main.study.id, { page: 1, pageSize: 4 })
    expect(first).toMatchObject({ total: 6, page: 1, pageSize: 4, pageCount: 2 })
    expect(first.items.map((p) => p.ordinal)).toEqual([0, 1, 2, 3])
    expect(first.items[0]).toMatchObject({
      id: people.p0!.id, externalId: 'prolific-0', tasksDone: 4, tasksTotal: 4, correct: 3, verified: 4, medianTaskSeconds: 21,
      excluded: false, exclusionReason: null, manualExclusion: null, manualNote: null, declinedAt: null,
    })
    expect(first.items[0]!.completedAt).toBeInstanceOf(Date)
    expect(first.items[2]).toMatchObject({ id: people.p2!.id, excluded: true, exclusionReason: 'failed attention check', correct: 2 })
    expect(first.items[3]).toMatchObject({ id: people.p3!.id, excluded: true, tasksDone: 2, tasksTotal: 4, medianTaskSeconds: 2.5 })
    expect(first.items[3]!.exclusionReason).toMatch(/implausibly fast/)
    expect(first.items[3]!.exclusionReason).toContain('2.5 s')

    const second = await studyParticipants(db, main.study.id, { page: 2, pageSize: 4 })
    expect(second.items.map((p) => p.ordinal)).toEqual([4, 5])
    expect(second.items[0]).toMatchObject({ tasksDone: 2, tasksTotal: 3, verified: 0, correct: 0, medianTaskSeconds: 15, excluded: false })
    expect(second.items[1]).toMatchObject({ tasksDone: 0, tasksTotal: 0, medianTaskSeconds: null, consentedAt: null })
    expect(second.items[1]!.declinedAt).toBeInstanceOf(Date)

    const defaults = await studyParticipants(db, main.study.id, { page: 1 })
    expect(defaults).toMatchObject({ total: 6, pageSize: 20, pageCount: 1 })
  })

  test('filters', async () => {
    const ordinals = async (filter: 'all' | 'completed' | 'excluded' | 'in-progress') => {
      const result = await studyParticipants(db, main.study.id, { page: 1, pageSize: 50, filter })
      expect(result.total).toBe(result.items.length)
      return result.items.map((p) => p.ordinal)
    }
    expect(await ordinals('all')).toEqual([0, 1, 2, 3, 4, 5])
    expect(await ordinals('completed')).toEqual([0, 1, 2])
    expect(await ordinals('excluded')).toEqual([2, 3])
    expect(await ordinals('in-progress')).toEqual([3, 4])
  })
})

describe('participantSession', () => {
  test('the participant and every task in order, with the response and the verifier result', async () => {
    const session = await participantSession(db, main.study.id, people.p4!.id)
    expect(session).not.toBeNull()
    expect(session!.participant).toMatchObject({
      id: people.p4!.id, ordinal: 4, externalId: null, userAgent: 'vitest', excluded: false, exclusionReason: null, medianTaskSeconds: 15,
      attention: [], completedAt: null, manualExclusion: null, manualNote: null, manualSetAt: null, manualSetByEmail: null,
    })
    expect(session!.tasks.map((t) => t.position)).toEqual([0, 1, 2])
    const [first, second, third] = session!.tasks
    expect(first).toMatchObject({
      conditionName: TRL, algorithm: 'TRL', checkpointId: f.ckpts.trl.id, runId: f.ckpts.trlRun.id, problemId: f.problems[2]!.id,
      problem: 'What is 3 + 3?', expectedAnswer: '6', traceId: null, handoffStep: 2, prefixText: 'Senior on p3:', draft: { continuation: 'draft' },
      response: { continuation: 'continued p3', answer: '42', elapsedMs: 15_000, timedOut: false, easeRating: null, confidence: null }, verifier: null,
    })
    expect(second).toMatchObject({ conditionName: GRPO, algorithm: 'GRPO', response: { timedOut: true, elapsedMs: 60_000 } })
    expect(third).toMatchObject({ response: null, verifier: null })

    const p2 = await participantSession(db, main.study.id, people.p2!.id)
    expect(p2!.participant).toMatchObject({ excluded: true, exclusionReason: 'failed attention check', attention: failed })
    expect(p2!.tasks[0]!.verifier).toMatchObject({ verdict: 'INCORRECT', verifier: 'math-verify', version: '0', extractedAnswer: '42', details: 'checked' })
  })

  test('null for a participant of another study, or an unknown one', async () => {
    const other = await makeStudy(f, [{ name: 'only', checkpointId: f.ckpts.trl.id }])
    const stranger = await addParticipant(other, 0)
    expect(await participantSession(db, main.study.id, stranger.id)).toBeNull()
    expect(await participantSession(db, other.study.id, people.p0!.id)).toBeNull()
    expect(await participantSession(db, main.study.id, 'no-such-participant')).toBeNull()
    expect(await participantSession(db, other.study.id, stranger.id)).not.toBeNull()
  })
})

test('a time interval is cut at 0 (a t interval of two short times would reach below it)', () => {
  const raw = meanInterval([0.2, 3])
  expect(raw.low).toBeLessThan(0)
  expect(nonNegative(raw)).toEqual({ ...raw, low: 0 })
  expect(nonNegative(meanInterval([]))).toEqual(meanInterval([]))
})
