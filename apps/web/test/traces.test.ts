// Traces through the tRPC procedures against a real migrated database, and the cutting of a trace's text by
// author and by surprisal that the trace page draws.
import { beforeAll, describe, expect, test } from 'vitest'

import { authorPieces, contrastRatio, heatColor, surprisalPieces } from '@/app/console/traces/trace-segments'
import { fieldErrorsOf } from '@/server/api/errors'

import { callerFor, makeCatalog, makeCheckpoints, makeFinishedEvaluation, makeTrace, makeUser, rejectionOf, testDb, uniq, type TestUser } from './support/helpers'

const db = testDb()
let researcher: TestUser
let catalog: Awaited<ReturnType<typeof makeCatalog>>
let ckpts: Awaited<ReturnType<typeof makeCheckpoints>>
let problems: { id: string; externalId: string }[]

beforeAll(async () => {
  researcher = await makeUser(db, 'RESEARCHER')
  catalog = await makeCatalog(db)
  ckpts = await makeCheckpoints(db, catalog, researcher)
  problems = await db.problem.findMany({ where: { datasetId: catalog.dataset.id }, orderBy: { externalId: 'asc' } })
})

async function counts() {
  const [jobs, audits] = await Promise.all([db.job.count(), db.auditLog.count()])
  return { jobs, audits }
}

describe('list', () => {
  test('filters by checkpoint, evaluation, problem text and verdict; pages on the server', async () => {
    const api = await callerFor(db, researcher)
    const evaluation = await makeFinishedEvaluation(db, { checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id, metrics: {} })
    const inEval = await makeTrace(db, { checkpointId: ckpts.trl.id, problemId: problems[0]!.id, evaluationRunId: evaluation.id, verdict: 'CORRECT' })
    const wrong = await makeTrace(db, { checkpointId: ckpts.trl.id, problemId: problems[1]!.id, verdict: 'INCORRECT' })
    const other = await makeTrace(db, { checkpointId: ckpts.grpo.id, problemId: problems[1]!.id, verdict: 'UNPARSEABLE' })

    const byCheckpoint = await api.traces.list({ checkpointId: ckpts.trl.id, page: 1, pageSize: 50 })
    expect(byCheckpoint.items.map((t) => t.id).sort()).toEqual([inEval.id, wrong.id].sort())
    const first = byCheckpoint.items.find((t) => t.id === inEval.id)!
    expect(first).toMatchObject({
      problem: { problem: 'What is 2 + 3?', externalId: 'p1' }, verdict: 'CORRECT', schedule: 'solo', evaluationRunId: evaluation.id,
      checkpoint: { label: `${ckpts.trlRun.name} · TRL · step 2` },
    })

    expect((await api.traces.list({ evaluationRunId: evaluation.id })).items.map((t) => t.id)).toEqual([inEval.id])
    const search = await api.traces.list({ search: '4 * 6', checkpointId: ckpts.grpo.id })
    expect(search.items.map((t) => t.id)).toEqual([other.id])
    expect((await api.traces.list({ checkpointId: ckpts.trl.id, verdict: 'INCORRECT' })).items.map((t) => t.id)).toEqual([wrong.id])

    const page2 = await api.traces.list({ checkpointId: ckpts.trl.id, page: 2, pageSize: 1 })
    expect(page2).toMatchObject({ total: 2, page: 2, pageCount: 2 })
    expect(page2.items).toHaveLength(1)
    expect(page2.items[0]!.id).not.toBe((await api.traces.list({ checkpointId: ckpts.trl.id, page: 1, pageSize: 1 })).items[0]!.id)
  })

  test('refuses an over-long search with the field name', async () => {
    const api = await callerFor(db, researcher)
    expect(fieldErrorsOf(await rejectionOf(api.traces.list({ search: 'x'.repeat(201) })))).toEqual({ search: ['At most 200 characters'] })
  })
})

describe('get', () => {
  test('returns the trace with its problem, checkpoint, verdict, settings, seed, spans and surprisal; drops malformed spans', async () => {
    const api = await callerFor(db, researcher)
    const text = 'Two plus three is five. \\boxed{5}'
    const trace = await db.trace.create({
      data: {
        checkpointId: ckpts.trl.id, problemId: problems[0]!.id, text, seed: 7,
        authorSpans: [
          { author: 'senior', text: 'Two plus', start: 0, end: 8 },
          { author: 'junior', text: ' three', start: 8, end: 14 },
          { author: 'alien', start: 14, end: 20 },
          { author: 'senior', start: 20, end: 10 },
        ],
        settings: { suite: 'tandem', schedule: 'coin flip', p_junior: 0.5, granularity: 'word', temperature: 1, max_new_tokens: 96, junior: 'base' },
        wordSurprisal: [{ start: 0, end: 3, nats: 1.5 }, { start: 3, end: 8, nats: 'high' }],
        verifierResults: { create: { verifier: 'math-verify', version: '0.8', verdict: 'CORRECT', extractedAnswer: '5', details: 'equal' } },
      },
    })
    const got = await api.traces.get({ id: trace.id })
    expect(got).toMatchObject({
      text, seed: 7, schedule: 'coin flip',
      settings: { p_junior: 0.5, granularity: 'word' },
      problem: { problem: 'What is 2 + 3?', answer: '5', dataset: { name: catalog.dataset.name } },
      checkpoint: { algorithm: 'TRL', runId: ckpts.trlRun.id },
      verifierResult: { verdict: 'CORRECT', extractedAnswer: '5', verifier: 'math-verify' },
    })
    expect(got.authorSpans).toEqual([{ author: 'senior', start: 0, end: 8 }, { author: 'junior', start: 8, end: 14 }])
    expect(got.wordSurprisal).toEqual([{ start: 0, end: 3, nats: 1.5 }])

    const error = await rejectionOf(api.traces.get({ id: 'no-such-trace' }))
    expect(error.code).toBe('NOT_FOUND')
  })
})

describe('how a trace was written', () => {
  const traceWith = (settings: Record<string, unknown>, problemId = problems[0]!.id, evaluationRunId: string | null = null) =>
    db.trace.create({
      data: { checkpointId: ckpts.trl.id, problemId, text: 'x', seed: 0, authorSpans: [], settings: settings as object, evaluationRunId },
      select: { id: true },
    })

  test('names the junior by its registered name, not its path; an unregistered one by its folder or hub repository', async () => {
    const api = await callerFor(db, researcher)
    const junior = await db.baseModel.create({ data: { name: uniq('junior'), path: `/models/${uniq('junior-dir')}/` } })
    const byModel = await traceWith({ schedule: 'coin_flip', p_junior: 0.5, junior: junior.path.replace(/\/$/, '') })
    expect((await api.traces.get({ id: byModel.id })).junior).toEqual({
      label: junior.name, href: `/console/models/${junior.id}`, path: junior.path.replace(/\/$/, ''),
    })

    const checkpoint = await db.checkpoint.findUniqueOrThrow({ where: { id: ckpts.grpo.id } })
    const byCheckpoint = await traceWith({ schedule: 'alternate', junior: checkpoint.path })
    expect((await api.traces.get({ id: byCheckpoint.id })).junior).toMatchObject({
      label: `${ckpts.grpoRun.name} · GRPO · step 2`, href: `/console/runs/${ckpts.grpoRun.id}`,
    })

    const cached = await traceWith({ schedule: 'solo', junior: `/root/.cache/huggingface/hub/models--Qwen--Qwen3-0.6B/snapshots/${uniq('sha')}` })
    expect((await api.traces.get({ id: cached.id })).junior).toMatchObject({ label: 'Qwen/Qwen3-0.6B (not registered)', href: null })
    const folder = await traceWith({ schedule: 'solo', junior: `/scratch/${uniq('nowhere')}/tiny-junior` })
    expect((await api.traces.get({ id: folder.id })).junior).toMatchObject({ label: 'tiny-junior (not registered)', href: null })

    const none = await traceWith({ schedule: 'live study' })
    expect((await api.traces.get({ id: none.id })).junior).toBeNull()
  })

  test('an evaluation’s examples are listed in the report’s order, across pages', async () => {
    const api = await callerFor(db, researcher)
    const evaluation = await makeFinishedEvaluation(db, { checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id, metrics: {} })
    const [p1, p2] = [problems[0]!.id, problems[1]!.id]
    const inserted: Record<string, string> = {}
    // inserted out of order, as one transaction's rows (same created_at) come back from Postgres in no set order
    for (const [name, settings, problemId] of [
      ['k10', { suite: 'handoff', schedule: 'senior_first_k=10' }, p1],
      ['f50', { suite: 'handoff', schedule: 'senior_fraction=0.5' }, p1],
      ['coin-p2', { suite: 'tandem', schedule: 'coin_flip', p_junior: 0.5 }, p2],
      ['solo-p2', { suite: 'solo', schedule: 'solo' }, p2],
      ['k2', { suite: 'handoff', schedule: 'senior_first_k=2' }, p1],
      ['coin-p1', { suite: 'tandem', schedule: 'coin_flip', p_junior: 0.5 }, p1],
      ['solo-p1', { suite: 'solo', schedule: 'solo' }, p1],
      ['alternate', { suite: 'handoff', schedule: 'alternate' }, p1],
    ] as const) {
      inserted[(await traceWith(settings, problemId, evaluation.id)).id] = name
    }
    const names = (items: { id: string }[]) => items.map((t) => inserted[t.id])
    const all = await api.traces.list({ evaluationRunId: evaluation.id, page: 1, pageSize: 20 })
    expect(all.total).toBe(8)
    expect(names(all.items)).toEqual(['solo-p1', 'solo-p2', 'coin-p1', 'coin-p2', 'alternate', 'k2', 'k10', 'f50'])
    const page2 = await api.traces.list({ evaluationRunId: evaluation.id, page: 2, pageSize: 3 })
    expect(page2).toMatchObject({ total: 8, page: 2, pageCount: 3 })
    expect(names(page2.items)).toEqual(['coin-p2', 'alternate', 'k2'])
    // the other filters still apply
    const correct = await api.traces.list({ evaluationRunId: evaluation.id, verdict: 'CORRECT' })
    expect(correct.total).toBe(0)
  })
})

describe('generate', () => {
  const settings = { seed: 3, temperature: 0.7, maxNewTokens: 48, pJunior: 0 }

  test('the first `count` problems of a dataset become one GENERATE_TRACES job (audited)', async () => {
    const api = await callerFor(db, researcher)
    const { jobId, problemCount } = await api.traces.generate({ checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id, count: 1, ...settings, pJunior: 0.5 })
    expect(problemCount).toBe(1)
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } })
    expect(job).toMatchObject({ kind: 'GENERATE_TRACES', status: 'QUEUED', createdById: researcher.id })
    expect(job.payload).toEqual({ checkpointId: ckpts.trl.id, problemIds: [problems[0]!.id], seed: 3, temperature: 0.7, maxNewTokens: 48, pJunior: 0.5 })
    const auditRow = await db.auditLog.findFirstOrThrow({ where: { entity: 'jobs', entityId: jobId } })
    expect(auditRow).toMatchObject({ action: 'traces.generate', actorId: researcher.id })
  })

  test('or the given problems', async () => {
    const api = await callerFor(db, researcher)
    const ids = problems.map((p) => p.id)
    const { jobId } = await api.traces.generate({ checkpointId: ckpts.base.id, problemIds: ids, ...settings })
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).payload).toMatchObject({ problemIds: ids, pJunior: 0 })
  })

  test('unknown checkpoint, problems or dataset are field errors and nothing is queued', async () => {
    const api = await callerFor(db, researcher)
    const before = await counts()
    const bad = await rejectionOf(api.traces.generate({ checkpointId: 'nope', problemIds: [problems[0]!.id, 'ghost'], ...settings }))
    expect(fieldErrorsOf(bad)).toEqual({ checkpointId: ['Unknown checkpoint'], problemIds: ['Unknown problem ghost'] })
    const onnx = await rejectionOf(api.traces.generate({ checkpointId: ckpts.onnx.id, datasetId: catalog.dataset.id, count: 1, ...settings }))
    expect(fieldErrorsOf(onnx)?.checkpointId?.[0]).toMatch(/onnx; generation needs hf-safetensors/)
    const empty = await rejectionOf(api.traces.generate({ checkpointId: ckpts.trl.id, datasetId: catalog.emptyDataset.id, count: 2, ...settings }))
    expect(fieldErrorsOf(empty)).toEqual({ datasetId: ['This dataset has no problems'] })
    expect(await counts()).toEqual(before)
  })

  test('bad input names its field', async () => {
    const api = await callerFor(db, researcher)
    const before = await counts()
    const base = { checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id, count: 2, ...settings }
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ count: 0 }, 'count', /count must be at least 1/],
      [{ count: 65 }, 'count', /at most 64/],
      [{ count: undefined }, 'count', /count is required/],
      [{ datasetId: undefined }, 'datasetId', /Choose a dataset/],
      [{ problemIds: [problems[0]!.id] }, 'problemIds', /either problemIds or a dataset/],
      [{ pJunior: 2 }, 'pJunior', /between 0 and 1/],
      [{ maxNewTokens: 0 }, 'maxNewTokens', /at least 1/],
      [{ seed: -1 }, 'seed', /at least 0/],
      [{ temperature: 'hot' }, 'temperature', /must be a number/],
    ]
    for (const [override, field, message] of cases) {
      const errors = fieldErrorsOf(await rejectionOf(api.traces.generate({ ...base, ...override } as never))) ?? {}
      expect(Object.keys(errors), JSON.stringify(override)).toContain(field)
      expect(errors[field]!.join(' ')).toMatch(message)
    }
    expect(await counts()).toEqual(before)
  })

  test('job reports the generation job and, once done, its trace ids; other kinds of job are not found', async () => {
    const api = await callerFor(db, researcher)
    const { jobId } = await api.traces.generate({ checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id, count: 1, ...settings })
    expect(await api.traces.job({ jobId })).toMatchObject({ id: jobId, status: 'QUEUED', traceIds: [] })
    await db.job.update({ where: { id: jobId }, data: { status: 'SUCCEEDED', progress: 1, result: { traceIds: ['t1', 't2', 3] } } })
    expect(await api.traces.job({ jobId })).toMatchObject({ status: 'SUCCEEDED', progress: 1, traceIds: ['t1', 't2'] })

    const evaluate = await db.job.create({ data: { id: uniq('j'), kind: 'EVALUATE', payload: {} } })
    expect((await rejectionOf(api.traces.job({ jobId: evaluate.id }))).code).toBe('NOT_FOUND')
  })
})

describe('trace pieces', () => {
  test('by author: consecutive pieces covering the text exactly once, gaps neutral, overlaps clipped', () => {
    const text = 'abcdefghij'
    const pieces = authorPieces(text, [
      { author: 'junior', start: 5, end: 8 },
      { author: 'senior', start: 0, end: 3 },
      { author: 'human', start: 6, end: 9 }, // overlaps the junior's span: only 8..9 is new
      { author: 'senior', start: 20, end: 30 }, // beyond the text
    ])
    expect(pieces).toEqual([
      { text: 'abc', value: 'senior' },
      { text: 'de', value: null },
      { text: 'fgh', value: 'junior' },
      { text: 'i', value: 'human' },
      { text: 'j', value: null },
    ])
    expect(pieces.map((p) => p.text).join('')).toBe(text)
  })

  test('offsets count code points, as Python does', () => {
    const text = 'a😀 b c'
    // Python: 'a'=0, '😀'=1, ' '=2, 'b'=3, ' '=4, 'c'=5
    expect(surprisalPieces(text, [{ start: 2, end: 4, nats: 2 }, { start: 4, end: 6, nats: 9 }])).toEqual([
      { text: 'a😀', value: null },
      { text: ' b', value: 2 },
      { text: ' c', value: 9 },
    ])
  })

  test('heat colours keep text readable (WCAG AA) from 0 to beyond the scale', () => {
    for (const nats of [0, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 20, -1]) {
      const { background, color } = heatColor(nats)
      const rgb = (s: string) => s.match(/\d+/g)!.map(Number) as [number, number, number]
      expect(contrastRatio(rgb(background), rgb(color)), `${nats} nats`).toBeGreaterThanOrEqual(4.5)
    }
    expect(heatColor(0).background).not.toBe(heatColor(8).background)
  })
})
