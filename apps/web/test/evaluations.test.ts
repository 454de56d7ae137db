// Evaluations through the tRPC procedures against a real migrated database, and the report comparison the
// compare page uses (its claims: claims.test.ts).
import { beforeAll, describe, expect, test } from 'vitest'

import { fieldErrorsOf } from '@/server/api/errors'
import { pairedBootstrap, parseReport } from '@/server/evaluation-reports'

import {
  callerFor, makeCatalog, makeCheckpoints, makeFinishedEvaluation, makeUser, rejectionOf, testDb, uniq, validEvaluationLaunch,
  type TestUser,
} from './support/helpers'

const db = testDb()
let researcher: TestUser
let catalog: Awaited<ReturnType<typeof makeCatalog>>
let ckpts: Awaited<ReturnType<typeof makeCheckpoints>>

beforeAll(async () => {
  researcher = await makeUser(db, 'RESEARCHER')
  catalog = await makeCatalog(db)
  ckpts = await makeCheckpoints(db, catalog, researcher)
})

async function evalCounts() {
  const [evaluations, jobs, audits] = await Promise.all([db.evaluationRun.count(), db.job.count(), db.auditLog.count()])
  return { evaluations, jobs, audits }
}

const est = (value: number, low: number, high: number, n = 2) => ({ value, low, high, n })

describe('checkpoints', () => {
  test('lists run and base checkpoints in hf-safetensors only, labelled, paged on the server', async () => {
    const api = await callerFor(db, researcher)
    const ids = [ckpts.base.id, ckpts.trl.id, ckpts.grpo.id, ckpts.onnx.id]
    const all = await api.evaluations.checkpoints({ ids, page: 1, pageSize: 10 })
    expect(all.total).toBe(3)
    expect(all.items.map((c) => c.id).sort()).toEqual([ckpts.base.id, ckpts.trl.id, ckpts.grpo.id].sort())
    const byId = Object.fromEntries(all.items.map((c) => [c.id, c]))
    expect(byId[ckpts.trl.id]).toMatchObject({ label: `${ckpts.trlRun.name} · TRL · step 2`, algorithm: 'TRL', runId: ckpts.trlRun.id })
    expect(byId[ckpts.base.id]).toMatchObject({ label: `${catalog.baseModel.name} (base)`, algorithm: null, runId: null })
    // what the study designer pairs by: the base a run was trained from, and its pair (none here)
    expect(byId[ckpts.trl.id]).toMatchObject({ baseModelId: catalog.baseModel.id, pairId: null })
    expect(byId[ckpts.base.id]).toMatchObject({ baseModelId: catalog.baseModel.id, pairId: null })

    const page2 = await api.evaluations.checkpoints({ ids, page: 2, pageSize: 2 })
    expect(page2).toMatchObject({ total: 3, page: 2, pageSize: 2, pageCount: 2 })
    expect(page2.items).toHaveLength(1)

    const search = await api.evaluations.checkpoints({ search: ckpts.trlRun.name.toUpperCase() })
    expect(search.items.map((c) => c.id)).toEqual([ckpts.trl.id])
  })
})

describe('launch', () => {
  test('one evaluation run, one EVALUATE job and one audit row per checkpoint, sharing the settings', async () => {
    const api = await callerFor(db, researcher)
    const before = await evalCounts()
    const input = validEvaluationLaunch([ckpts.trl.id, ckpts.grpo.id], catalog.dataset.id, { suites: ['solo', 'drift'] })
    const { ids, evaluations } = await api.evaluations.launch(input)
    expect(ids).toHaveLength(2)
    expect(await evalCounts()).toEqual({ evaluations: before.evaluations + 2, jobs: before.jobs + 2, audits: before.audits + 2 })

    const rows = await db.evaluationRun.findMany({ where: { id: { in: ids } }, orderBy: { createdAt: 'asc' } })
    expect(rows.map((r) => r.checkpointId).sort()).toEqual([ckpts.trl.id, ckpts.grpo.id].sort())
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'QUEUED', suites: ['solo', 'drift'], createdById: researcher.id, juniorCheckpointId: null })
      // the worker reads datasetId and EvalSettings' own field names
      expect(row.settings).toEqual({ datasetId: catalog.dataset.id, top_p: 1, top_k: 0, ...input.settings }) // omitted settings stored at their defaults
    }
    // read the jobs with SQL, as the Python runner does
    const jobs = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT id, kind::text AS kind, status::text AS status, payload, evaluation_run_id, created_by_id FROM jobs WHERE evaluation_run_id = ANY(${ids})`
    expect(jobs).toHaveLength(2)
    for (const job of jobs) {
      expect(job).toMatchObject({ kind: 'EVALUATE', status: 'QUEUED', payload: { evaluationRunId: job.evaluation_run_id }, created_by_id: researcher.id })
      expect(evaluations.find((e) => e.id === job.evaluation_run_id)?.jobId).toBe(job.id)
    }
    const audits = await db.auditLog.findMany({ where: { entity: 'evaluation_runs', entityId: { in: ids } } })
    expect(audits.map((a) => a.action)).toEqual(['evaluation.launch', 'evaluation.launch'])
  })

  test('an optional junior checkpoint is stored on every row', async () => {
    const api = await callerFor(db, researcher)
    const { ids } = await api.evaluations.launch(validEvaluationLaunch([ckpts.trl.id], catalog.dataset.id, { juniorCheckpointId: ckpts.base.id }))
    expect((await db.evaluationRun.findUniqueOrThrow({ where: { id: ids[0]! } })).juniorCheckpointId).toBe(ckpts.base.id)
  })

  test('an unknown checkpoint is a field error and nothing is created, not even for the known one', async () => {
    const api = await callerFor(db, researcher)
    const before = await evalCounts()
    const error = await rejectionOf(api.evaluations.launch(validEvaluationLaunch([ckpts.trl.id, 'no-such-checkpoint'], catalog.dataset.id)))
    expect(error.code).toBe('BAD_REQUEST')
    expect(fieldErrorsOf(error)).toEqual({ checkpointIds: ['Unknown checkpoint no-such-checkpoint'] })
    expect(await evalCounts()).toEqual(before)
  })

  test('ONNX checkpoints, unknown juniors and unknown or empty datasets are refused by field', async () => {
    const api = await callerFor(db, researcher)
    const before = await evalCounts()
    const onnx = await rejectionOf(api.evaluations.launch(validEvaluationLaunch([ckpts.onnx.id], catalog.dataset.id)))
    expect(fieldErrorsOf(onnx)?.checkpointIds?.[0]).toMatch(/is onnx; evaluation needs hf-safetensors/)
    const junior = await rejectionOf(api.evaluations.launch(validEvaluationLaunch([ckpts.trl.id], catalog.dataset.id, { juniorCheckpointId: 'nope' })))
    expect(fieldErrorsOf(junior)).toEqual({ juniorCheckpointId: ['Unknown checkpoint nope'] })
    const dataset = await rejectionOf(api.evaluations.launch(validEvaluationLaunch([ckpts.trl.id], 'nope')))
    expect(fieldErrorsOf(dataset)).toEqual({ datasetId: ['Unknown dataset'] })
    const empty = await rejectionOf(api.evaluations.launch(validEvaluationLaunch([ckpts.trl.id], catalog.emptyDataset.id)))
    expect(fieldErrorsOf(empty)).toEqual({ datasetId: ['This dataset has no problems'] })
    expect(await evalCounts()).toEqual(before)
  })

  test('bad input is refused with the field it concerns, before anything is written', async () => {
    const api = await callerFor(db, researcher)
    const before = await evalCounts()
    const ok = validEvaluationLaunch([ckpts.trl.id], catalog.dataset.id)
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ checkpointIds: [] }, 'checkpointIds', /at least one checkpoint/],
      [{ checkpointIds: [ckpts.trl.id, ckpts.trl.id] }, 'checkpointIds', /listed twice/],
      [{ checkpointIds: Array.from({ length: 9 }, (_, i) => `c${i}`) }, 'checkpointIds', /At most 8/],
      [{ suites: [] }, 'suites', /at least one suite/],
      [{ suites: ['solo', 'vibes'] }, 'suites.1', /Suites are solo, tandem/],
      [{ settings: { ...ok.settings, k: 0 } }, 'settings.k', /k must be at least 1/],
      [{ settings: { ...ok.settings, p_junior: 1.5 } }, 'settings.p_junior', /between 0 and 1/],
      [{ settings: { ...ok.settings, temperature: -1 } }, 'settings.temperature', /at least 0/],
      [{ settings: { ...ok.settings, n_problems: 0 } }, 'settings.n_problems', /n_problems must be at least 1/],
      [{ settings: { ...ok.settings, handoff_points: '0, 2, x' } }, 'settings.handoff_points', /"x" is not/],
      [{ settings: { ...ok.settings, handoff_fractions: [0.5, 2] } }, 'settings.handoff_fractions', /between 0 and 1; "2" is not/],
      [{ settings: { ...ok.settings, max_new_tokens: 1.5 } }, 'settings.max_new_tokens', /whole number/],
    ]
    for (const [override, field, message] of cases) {
      const error = await rejectionOf(api.evaluations.launch({ ...ok, ...override } as never))
      const errors = fieldErrorsOf(error) ?? {}
      expect(Object.keys(errors), JSON.stringify(override)).toContain(field)
      expect(errors[field]!.join(' ')).toMatch(message)
    }
    expect(await evalCounts()).toEqual(before)
  })

  test('handoff lists typed as text ("0, 1, 2") are accepted and stored as numbers', async () => {
    const api = await callerFor(db, researcher)
    const ok = validEvaluationLaunch([ckpts.base.id], catalog.dataset.id)
    const { ids } = await api.evaluations.launch({ ...ok, settings: { ...ok.settings, handoff_points: '0, 1, 3', handoff_fractions: '0.25,0.75' } })
    const row = await db.evaluationRun.findUniqueOrThrow({ where: { id: ids[0]! } })
    expect(row.settings).toMatchObject({ handoff_points: [0, 1, 3], handoff_fractions: [0.25, 0.75] })
  })

  test('a failure half way through leaves nothing behind (one transaction)', async () => {
    const api = await callerFor(db, researcher)
    // make the database refuse the second evaluation row only
    const fn = uniq('refuse').replace(/-/g, '_')
    await db.$executeRawUnsafe(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.checkpoint_id = '${ckpts.grpo.id}' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`)
    await db.$executeRawUnsafe(`CREATE TRIGGER ${fn} BEFORE INSERT ON evaluation_runs FOR EACH ROW EXECUTE FUNCTION ${fn}()`)
    try {
      const before = await evalCounts()
      await expect(api.evaluations.launch(validEvaluationLaunch([ckpts.trl.id, ckpts.grpo.id], catalog.dataset.id))).rejects.toThrow()
      expect(await evalCounts()).toEqual(before)
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER ${fn} ON evaluation_runs`)
      await db.$executeRawUnsafe(`DROP FUNCTION ${fn}()`)
    }
  })
})

describe('list and get', () => {
  test('list pages on the server and names checkpoint and dataset; filters by checkpoint and status', async () => {
    const api = await callerFor(db, researcher)
    const running = await makeFinishedEvaluation(db, { checkpointId: ckpts.base.id, datasetId: catalog.dataset.id, metrics: {}, status: 'RUNNING' })
    const done = await makeFinishedEvaluation(db, { checkpointId: ckpts.base.id, datasetId: catalog.dataset.id, metrics: { solo_mean_at_k: est(0.5, 0.2, 0.8) } })
    const mine = await api.evaluations.list({ checkpointId: ckpts.base.id, page: 1, pageSize: 100 })
    const rows = mine.items.filter((e) => e.id === running.id || e.id === done.id)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({ checkpoint: { label: `${catalog.baseModel.name} (base)` }, datasetName: catalog.dataset.name })
    expect(mine.items.every((e) => e.checkpoint.id === ckpts.base.id)).toBe(true)

    const finished = await api.evaluations.list({ checkpointId: ckpts.base.id, status: 'SUCCEEDED' })
    expect(finished.items.map((e) => e.id)).toContain(done.id)
    expect(finished.items.map((e) => e.id)).not.toContain(running.id)

    const paged = await api.evaluations.list({ checkpointId: ckpts.base.id, page: 2, pageSize: 1 })
    expect(paged.items).toHaveLength(1)
    expect(paged.pageCount).toBe(mine.total)
  })

  test('list shows each evaluation’s headline metric: the first with a value in reading order, with its interval', async () => {
    const api = await callerFor(db, researcher)
    // a checkpoint of its own: the list below holds exactly these evaluations
    const checkpointId = (await makeCheckpoints(db, catalog, researcher)).trl.id
    const solo = await makeFinishedEvaluation(db, {
      checkpointId, datasetId: catalog.dataset.id,
      metrics: { drift_kl: est(0.02, 0.01, 0.03), solo_pass_at_k: est(0.75, 0.5, 1), solo_mean_at_k: est(0.5, 0.25, 0.75) },
    })
    // solo mean@k undefined (an empty ratio): the next metric with a value stands in
    const undefinedSolo = await makeFinishedEvaluation(db, {
      checkpointId, datasetId: catalog.dataset.id,
      metrics: { solo_mean_at_k: { value: null, low: null, high: null, n: 0 }, tandem_accuracy: est(0.4, 0.3, 0.5) },
    })
    const driftOnly = await makeFinishedEvaluation(db, { checkpointId, datasetId: catalog.dataset.id, metrics: { drift_kl: est(0.02, 0.01, 0.03) }, suites: ['drift'] })
    const running = await makeFinishedEvaluation(db, { checkpointId, datasetId: catalog.dataset.id, metrics: {}, status: 'RUNNING' })
    const { items } = await api.evaluations.list({ checkpointId, pageSize: 100 })
    const headline = (id: string) => items.find((e) => e.id === id)!.headline
    expect(headline(solo.id)).toEqual({ name: 'solo_mean_at_k', label: 'Solo accuracy (mean@k)', value: 0.5, low: 0.25, high: 0.75, n: 2 })
    expect(headline(undefinedSolo.id)).toMatchObject({ name: 'tandem_accuracy', label: 'Tandem accuracy', value: 0.4 })
    expect(headline(driftOnly.id)).toMatchObject({ name: 'drift_kl', value: 0.02, low: 0.01, high: 0.03 })
    expect(headline(running.id)).toBeNull()
  })

  test('get returns the report: metrics with intervals, curves and histograms, the job and the trace count', async () => {
    const api = await callerFor(db, researcher)
    const evaluation = await makeFinishedEvaluation(db, {
      checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id,
      metrics: { solo_mean_at_k: est(0.5, 0.25, 0.75), legibility_logprob: { value: null, low: null, high: null, n: 2 }, broken: { value: 'x' } as never },
      curves: { handoff_senior_first_k: { x_name: 'k', points: [{ x: 0, ...est(0.1, 0, 0.2) }, { x: 1, ...est(0.3, 0.1, 0.5) }] } },
      histograms: { drift_kl: { edges: [0, 0.1, 1], counts: [3, 1], n: 5, below: 0, above: 1 } },
    })
    const got = await api.evaluations.get({ id: evaluation.id })
    expect(got).toMatchObject({ status: 'SUCCEEDED', checkpoint: { algorithm: 'TRL' }, dataset: { name: catalog.dataset.name }, traceCount: 0, job: null })
    expect(got.reports).toHaveLength(1)
    // a malformed entry is left out instead of breaking the page
    expect(got.reports[0]!.metrics).toEqual({ solo_mean_at_k: est(0.5, 0.25, 0.75), legibility_logprob: { value: null, low: null, high: null, n: 2 } })
    expect(got.reports[0]!.curves.handoff_senior_first_k!.points.map((p) => p.x)).toEqual([0, 1])
    expect(got.reports[0]!.histograms.drift_kl).toMatchObject({ counts: [3, 1], above: 1 })

    const error = await rejectionOf(api.evaluations.get({ id: 'no-such-evaluation' }))
    expect(error.code).toBe('NOT_FOUND')
  })

  test('get reports the job progress while it runs', async () => {
    const api = await callerFor(db, researcher)
    const { ids } = await api.evaluations.launch(validEvaluationLaunch([ckpts.base.id], catalog.dataset.id))
    await db.job.updateMany({ where: { evaluationRunId: ids[0]! }, data: { status: 'RUNNING', progress: 0.4, progressMessage: 'solo samples' } })
    const got = await api.evaluations.get({ id: ids[0]! })
    expect(got.job).toMatchObject({ status: 'RUNNING', progress: 0.4, progressMessage: 'solo samples' })
    expect(got.reports).toEqual([])
  })
})

describe('compare', () => {
  test('needs two to eight distinct evaluations', async () => {
    const api = await callerFor(db, researcher)
    expect(fieldErrorsOf(await rejectionOf(api.evaluations.compare({ ids: ['a'] })))).toEqual({ ids: ['Compare at least two evaluations'] })
    expect(fieldErrorsOf(await rejectionOf(api.evaluations.compare({ ids: ['a', 'a'] })))).toEqual({ ids: ['An evaluation is listed twice'] })
  })

  test('refuses unfinished and unknown evaluations, naming each', async () => {
    const api = await callerFor(db, researcher)
    const done = await makeFinishedEvaluation(db, { checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id, metrics: { solo_mean_at_k: est(0.5, 0.2, 0.8) } })
    const running = await makeFinishedEvaluation(db, { checkpointId: ckpts.grpo.id, datasetId: catalog.dataset.id, metrics: {}, status: 'RUNNING' })
    const error = await rejectionOf(api.evaluations.compare({ ids: [done.id, running.id, 'ghost'] }))
    expect(error.code).toBe('BAD_REQUEST')
    const messages = fieldErrorsOf(error)!.ids!
    expect(messages).toHaveLength(2)
    expect(messages[0]).toMatch(new RegExp(`Evaluation ${running.id} .* is running; only finished evaluations can be compared`))
    expect(messages[1]).toBe('No evaluation ghost')
  })

  test('aligns metrics, curves and histograms by name, null where an evaluation lacks one', async () => {
    const api = await callerFor(db, researcher)
    const other = await db.dataset.create({ data: { name: uniq('other'), source: 'generated', rowCount: 1 } })
    const trl = await makeFinishedEvaluation(db, {
      checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id,
      metrics: { solo_mean_at_k: est(0.5, 0.25, 0.75), drift_kl: est(0.1, 0.05, 0.15) },
      histograms: { drift_kl: { edges: [0, 1], counts: [2], n: 2, below: 0, above: 0 } },
    })
    const grpo = await makeFinishedEvaluation(db, {
      checkpointId: ckpts.grpo.id, datasetId: other.id, settings: { k: 8 },
      metrics: { solo_mean_at_k: est(0.55, 0.3, 0.8), handoff_mean: est(0.2, 0.1, 0.3) },
      curves: { handoff_senior_first_k: { x_name: 'k', points: [{ x: 0, ...est(0.1, 0, 0.2) }] } },
    })
    const result = await api.evaluations.compare({ ids: [grpo.id, trl.id] })
    expect(result.evaluations.map((e) => e.id)).toEqual([grpo.id, trl.id])
    expect(result.evaluations.map((e) => e.checkpoint.algorithm)).toEqual(['GRPO', 'TRL'])
    expect(result.metrics.map((m) => m.name)).toEqual(['solo_mean_at_k', 'handoff_mean', 'drift_kl'])
    expect(result.metrics[1]!.estimates).toEqual([est(0.2, 0.1, 0.3), null])
    expect(result.curves).toEqual([{ name: 'handoff_senior_first_k', series: [expect.objectContaining({ x_name: 'k' }), null] }])
    expect(result.histograms[0]!.series[0]).toBeNull()
    expect(result.warnings.join(' ')).toMatch(/Different datasets/)
    expect(result.warnings.join(' ')).toMatch(/Different k \(8, 4\)/)
  })
})

describe('paired differences and report parsing', () => {
  test('pairedBootstrap: a constant shift has a point interval; noise widens it; deterministic', () => {
    expect(pairedBootstrap([0, 1, 0, 1], [0.5, 1.5, 0.5, 1.5])).toEqual({ value: 0.5, low: 0.5, high: 0.5, n: 4 })
    const a = [0, 1, 1, 0, 1, 0, 0, 1]
    const b = [1, 1, 0, 0, 1, 1, 0, 1]
    const d = pairedBootstrap(a, b)
    expect(d.value).toBeCloseTo(0.125)
    expect(d.low!).toBeLessThan(0)
    expect(d.high!).toBeGreaterThan(0.125)
    expect(pairedBootstrap(a, b)).toEqual(d)
    expect(() => pairedBootstrap([1], [1, 2])).toThrow(/equally long/)
  })

  test('parseReport keeps well-formed entries only', () => {
    const parsed = parseReport(
      { a: est(1, 0, 2), b: { value: 1 } },
      { curves: { c: { x_name: 'k', points: [{ x: 'no' }] } }, histograms: { h: { edges: [0, 1, 2], counts: [1] } }, per_problem: { ids: ['p'], a: [1], b: ['x'] } },
    )
    expect(parsed.metrics).toEqual({ a: est(1, 0, 2) })
    expect(parsed.curves).toEqual({})
    expect(parsed.histograms).toEqual({})
    expect(parsed.perProblem).toEqual({ ids: ['p'], series: { a: [1] } })
  })
})
