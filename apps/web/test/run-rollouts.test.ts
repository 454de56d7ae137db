// runs.rollouts: the rollout samples a worker kept per logged step (workers/trainer/src/tandem/rollout_log.py), read
// by step and filter, against a real migrated database.
import { beforeAll, describe, expect, test } from 'vitest'

import { callerFor, makeCatalog, makeUser, rejectionOf, testDb, validLaunch, type TestUser } from './support/helpers'

const db = testDb()
let owner: TestUser
let other: TestUser
let runId: string
let emptyRunId: string

type Verdict = 'CORRECT' | 'INCORRECT' | 'UNPARSEABLE'

/** One group of a step: the verdicts of its samples; reward 1 for correct, the group is zero-signal when all agree. */
function group(step: number, groupIndex: number, verdicts: Verdict[]) {
  const zeroSignal = new Set(verdicts.map((v) => v === 'CORRECT')).size === 1
  return verdicts.map((verdict, sampleIndex) => ({
    runId, step, groupIndex, sampleIndex, prompt: `Q${step}.${groupIndex}`, completion: 'ab cd',
    spans: [{ author: 'senior', text: 'ab ', start: 0, end: 3 }, { author: 'junior', text: 'cd', start: 3, end: 5 }],
    reward: verdict === 'CORRECT' ? 1 : 0, verdict, advantage: zeroSignal ? 0 : verdict === 'CORRECT' ? 0.87 : -0.87, zeroSignal,
  }))
}

beforeAll(async () => {
  owner = await makeUser(db, 'RESEARCHER')
  other = await makeUser(db, 'RESEARCHER')
  const catalog = await makeCatalog(db)
  const api = await callerFor(db, owner)
  runId = (await api.runs.launch(validLaunch(catalog, { algorithm: 'TRL', max_steps: 4, num_generations: 2, per_device_train_batch_size: 4 }))).id
  emptyRunId = (await api.runs.launch(validLaunch(catalog, { algorithm: 'GRPO', max_steps: 2, num_generations: 2, per_device_train_batch_size: 4 }))).id
  await db.rolloutSample.createMany({
    data: [
      ...group(1, 0, ['INCORRECT', 'UNPARSEABLE']), // zero signal: both reward 0
      ...group(1, 2, ['CORRECT', 'INCORRECT']),
      ...group(4, 0, ['CORRECT', 'CORRECT']), // zero signal: both reward 1
      ...group(4, 1, ['INCORRECT', 'CORRECT']),
    ],
  })
  // a sample whose spans a worker got wrong: the bad span is dropped, not passed to the page
  await db.rolloutSample.create({
    data: { ...group(4, 2, ['INCORRECT', 'INCORRECT'])[0]!, spans: [{ author: 'robot', text: 'ab cd', start: 0, end: 5 }] },
  })
})

describe('runs.rollouts', () => {
  test('lists the steps that have samples and defaults to the newest, in group then sample order', async () => {
    const api = await callerFor(db, owner)
    const out = await api.runs.rollouts({ id: runId })
    expect(out.steps).toEqual([1, 4])
    expect(out.step).toBe(4)
    expect(out.items.map((s) => [s.groupIndex, s.sampleIndex])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]])
    expect(out.counts).toEqual({ all: 5, correct: 3, incorrect: 2, zeroSignal: 3 })
    expect(out.items[0]).toMatchObject({
      prompt: 'Q4.0', completion: 'ab cd', reward: 1, verdict: 'CORRECT', advantage: 0, zeroSignal: true,
      spans: [{ author: 'senior', text: 'ab ', start: 0, end: 3 }, { author: 'junior', text: 'cd', start: 3, end: 5 }],
    })
    expect(out.items[4]!.spans).toEqual([])
  })

  test('filters a step: correct, incorrect (incl. unparseable), zero-signal groups', async () => {
    const api = await callerFor(db, owner)
    const at = (filter: 'all' | 'correct' | 'incorrect' | 'zeroSignal') => api.runs.rollouts({ id: runId, step: 1, filter })
    const correct = await at('correct')
    expect(correct.items.map((s) => [s.groupIndex, s.sampleIndex])).toEqual([[2, 0]])
    expect(correct.total).toBe(1)
    const incorrect = await at('incorrect')
    expect(incorrect.items.map((s) => s.verdict)).toEqual(['INCORRECT', 'UNPARSEABLE', 'INCORRECT'])
    const zero = await at('zeroSignal')
    expect(zero.items.map((s) => [s.groupIndex, s.zeroSignal])).toEqual([[0, true], [0, true]])
    expect((await at('all')).counts).toEqual({ all: 4, correct: 1, incorrect: 3, zeroSignal: 2 })
  })

  test('a step that is not kept gives the nearest one; pages bound the output', async () => {
    const api = await callerFor(db, owner)
    expect((await api.runs.rollouts({ id: runId, step: 2 })).step).toBe(1) // a tie goes to the earlier step
    expect((await api.runs.rollouts({ id: runId, step: 3 })).step).toBe(4)
    const page2 = await api.runs.rollouts({ id: runId, step: 4, pageSize: 2, page: 2 })
    expect(page2.items.map((s) => [s.groupIndex, s.sampleIndex])).toEqual([[1, 0], [1, 1]])
    expect(page2).toMatchObject({ total: 5, page: 2, pageSize: 2, pageCount: 3 })
    const tooBig = await rejectionOf(api.runs.rollouts({ id: runId, pageSize: 65 }))
    expect(tooBig.code).toBe('BAD_REQUEST')
  })

  test('a run without samples has no steps; an unknown run is not found', async () => {
    const api = await callerFor(db, owner)
    expect(await api.runs.rollouts({ id: emptyRunId })).toMatchObject({ steps: [], step: null, items: [], total: 0 })
    expect((await rejectionOf(api.runs.rollouts({ id: 'no-such-run' }))).code).toBe('NOT_FOUND')
  })

  test('read lab-wide, like runs.get: another researcher sees the same samples', async () => {
    const mine = await (await callerFor(db, owner)).runs.rollouts({ id: runId, step: 1 })
    const theirs = await (await callerFor(db, other)).runs.rollouts({ id: runId, step: 1 })
    expect(theirs).toEqual(mine)
    expect((await rejectionOf((await callerFor(db, null)).runs.rollouts({ id: runId }))).code).toBe('UNAUTHORIZED')
  })
})
