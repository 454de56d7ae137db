// Launching and cancelling training runs through the tRPC procedures, against a real migrated database.
import { TRPCError } from '@trpc/server'
import pg from 'pg'
import { beforeAll, describe, expect, inject, test } from 'vitest'

import fieldsJson from '@tandem/config/fields.json'

import { fieldErrorsOf } from '@/server/api/errors'
import { configDifferences, MAX_CHART_POINTS, MAX_COMPARE_POINTS, runDurationSeconds } from '@/server/api/routers/runs'

import { callerFor, makeCatalog, makeCheckpoints, makeUser, testDb, uniq, validLaunch, writeCounts, type TestUser } from './support/helpers'

const db = testDb()
let researcher: TestUser
let other: TestUser
let admin: TestUser
let catalog: Awaited<ReturnType<typeof makeCatalog>>

beforeAll(async () => {
  researcher = await makeUser(db, 'RESEARCHER')
  other = await makeUser(db, 'RESEARCHER')
  admin = await makeUser(db, 'ADMIN')
  catalog = await makeCatalog(db)
})

async function rejection(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`)
  return error
}

describe('launch', () => {
  test('creates the run, a QUEUED TRAIN job pointing at it with payload {runId}, and an audit row', async () => {
    const api = await callerFor(db, researcher)
    const input = validLaunch(catalog, { algorithm: 'GRPO', max_steps: 2, num_generations: 4, per_device_train_batch_size: 8, seed: 7 })
    const { id, jobId } = await api.runs.launch(input)

    const run = await db.trainingRun.findUniqueOrThrow({ where: { id } })
    expect(run).toMatchObject({
      name: input.name, algorithm: 'GRPO', status: 'QUEUED', currentStep: 0, maxSteps: 2, seed: 7,
      ownerId: researcher.id, baseModelId: catalog.baseModel.id, datasetId: catalog.dataset.id,
    })
    // the full TandemConfig, by the trainer's field names: what was given, the trainer's defaults for the rest
    const launchable = (fieldsJson as { name: string; launch: boolean; default: unknown }[]).filter((f) => f.launch)
    expect(Object.keys(run.config as object).sort()).toEqual(launchable.map((f) => f.name).sort())
    expect(run.config).toMatchObject({
      num_generations: 4, per_device_train_batch_size: 8, max_steps: 2, learning_rate: 0.0002, p_junior: 0, seed: 7,
      save_steps: 10, max_completion_length: 64, beta: 0, loss_type: 'dapo', epsilon_high: null, bf16: null,
    })

    // read the job with SQL, as the Python runner does
    const { rows } = await db.$queryRaw<Record<string, unknown>[]>`SELECT * FROM jobs WHERE training_run_id = ${id}`
      .then((r) => ({ rows: r }))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      id: jobId, kind: 'TRAIN', status: 'QUEUED', payload: { runId: id }, attempts: 0, max_attempts: 3,
      training_run_id: id, created_by_id: researcher.id, locked_by: null,
    })
    expect((rows[0]!.run_after as Date).getTime()).toBeLessThanOrEqual(Date.now() + 1000)

    const auditRows = await db.auditLog.findMany({ where: { entity: 'training_runs', entityId: id } })
    expect(auditRows).toHaveLength(1)
    expect(auditRows[0]).toMatchObject({ actorId: researcher.id, action: 'run.launch' })
    expect(auditRows[0]!.details).toMatchObject({ jobId, algorithm: 'GRPO' })
  })

  test('TRL uses p_junior 0.5 unless told otherwise; GRPO always 0', async () => {
    const api = await callerFor(db, researcher)
    const trl = await api.runs.launch(validLaunch(catalog, { algorithm: 'TRL' }))
    const trl3 = await api.runs.launch(validLaunch(catalog, { algorithm: 'TRL', p_junior: 0.3, save_steps: 1, max_completion_length: 64 }))
    const grpo = await api.runs.launch(validLaunch(catalog, { algorithm: 'GRPO', p_junior: 0 }))
    const config = async (id: string) => (await db.trainingRun.findUniqueOrThrow({ where: { id } })).config as Record<string, unknown>
    expect((await config(trl.id)).p_junior).toBe(0.5)
    expect(await config(trl3.id)).toMatchObject({ p_junior: 0.3, save_steps: 1, max_completion_length: 64 })
    expect((await config(grpo.id)).p_junior).toBe(0)
  })

  test('notifies the workers on tandem_jobs with the job id, after commit', async () => {
    const listener = new pg.Client({ connectionString: inject('databaseUrl') })
    await listener.connect()
    try {
      await listener.query('LISTEN tandem_jobs')
      // what a woken worker does first: look for the job (it must already be committed and visible)
      const received = new Promise<{ payload: string; visible: unknown[] }>((resolve) =>
        listener.on('notification', (n) => {
          void listener
            .query('SELECT status FROM jobs WHERE id = $1', [n.payload])
            .then((r) => resolve({ payload: n.payload ?? '', visible: r.rows }))
        }),
      )
      const api = await callerFor(db, researcher)
      const { jobId } = await api.runs.launch(validLaunch(catalog))
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no NOTIFY within 5 s')), 5000))
      expect(await Promise.race([received, timeout])).toEqual({ payload: jobId, visible: [{ status: 'QUEUED' }] })
    } finally {
      await listener.end()
    }
  })

  test.each([
    ['max_steps 0', { max_steps: 0 }, 'max_steps', /at least 1/],
    ['max_steps fractional', { max_steps: 1.5 }, 'max_steps', /whole number/],
    ['max_steps missing', { max_steps: undefined }, 'max_steps', /required/],
    ['num_generations 1', { num_generations: 1 }, 'num_generations', /at least 2/],
    ['batch not a multiple of the group', { num_generations: 4, per_device_train_batch_size: 6 }, 'per_device_train_batch_size', /multiple of num_generations/],
    ['learning_rate 0', { learning_rate: 0 }, 'learning_rate', /positive/],
    ['negative seed', { seed: -1 }, 'seed', /at least 0/],
    ['empty name', { name: '   ' }, 'name', /name/],
    ['unknown algorithm', { algorithm: 'PPO' }, 'algorithm', /TRL or GRPO/],
    ['TRL with p_junior 0', { algorithm: 'TRL', p_junior: 0 }, 'p_junior', /above 0/],
    ['GRPO with p_junior 0.5', { algorithm: 'GRPO', p_junior: 0.5 }, 'p_junior', /p_junior 0/],
    ['p_junior above 1', { algorithm: 'TRL', p_junior: 1.5 }, 'p_junior', /between 0 and 1/],
    ['unknown base model', { baseModelId: 'no-such-model' }, 'baseModelId', /Unknown base model/],
    ['unknown dataset', { datasetId: 'no-such-dataset' }, 'datasetId', /Unknown dataset/],
  ])('%s: BAD_REQUEST with a field error, nothing written', async (_label, overrides, field, message) => {
    const api = await callerFor(db, researcher)
    const before = await writeCounts(db)
    const error = await rejection(api.runs.launch(validLaunch(catalog, overrides) as never))
    expect(error.code).toBe('BAD_REQUEST')
    const fieldErrors = fieldErrorsOf(error)
    expect(Object.keys(fieldErrors ?? {})).toContain(field)
    expect(fieldErrors?.[field]?.join(' ')).toMatch(message)
    expect(await writeCounts(db)).toEqual(before)
  })

  test('a dataset with no problems is refused', async () => {
    const api = await callerFor(db, researcher)
    const error = await rejection(api.runs.launch(validLaunch(catalog, { datasetId: catalog.emptyDataset.id })))
    expect(fieldErrorsOf(error)).toEqual({ datasetId: ['This dataset has no problems'] })
  })

  test('several bad fields are reported together', async () => {
    const api = await callerFor(db, researcher)
    const error = await rejection(api.runs.launch(validLaunch(catalog, { max_steps: 0, learning_rate: -1, seed: 'x' }) as never))
    expect(Object.keys(fieldErrorsOf(error) ?? {}).sort()).toEqual(['learning_rate', 'max_steps', 'seed'])
  })
})

describe('launch pair', () => {
  test('a TRL and a GRPO run with the same base, seed and budget, linked, each with its job and audit row', async () => {
    const api = await callerFor(db, researcher)
    const { name: _name, algorithm: _algorithm, ...rest } = validLaunch(catalog, { max_steps: 3, seed: 11, p_junior: 0.3 })
    const before = await writeCounts(db)
    const pair = await api.runs.launchPair({ ...rest, name: 'pair-a' })
    const runs = await db.trainingRun.findMany({ where: { pairId: pair.pairId }, orderBy: { algorithm: 'asc' } })
    const byAlgorithm = Object.fromEntries(runs.map((r) => [r.algorithm, r]))
    expect(Object.keys(byAlgorithm).sort()).toEqual(['GRPO', 'TRL'])
    const { TRL: trl, GRPO: grpo } = byAlgorithm
    expect([trl!.name, grpo!.name]).toEqual(['pair-a · TRL', 'pair-a · GRPO'])
    expect([trl!.seed, grpo!.seed, trl!.maxSteps, grpo!.maxSteps]).toEqual([11, 11, 3, 3])
    expect(trl!.config).toMatchObject({ p_junior: 0.3, seed: 11, max_steps: 3 })
    expect(grpo!.config).toEqual({ ...(trl!.config as object), p_junior: 0 })
    expect(await db.job.count({ where: { trainingRunId: { in: runs.map((r) => r.id) }, kind: 'TRAIN' } })).toBe(2)
    const after = await writeCounts(db)
    expect(after.audits - before.audits).toBe(2)
    const page = await api.runs.get({ id: pair.trl.id })
    expect(page.pair).toEqual([{ id: pair.grpo.id, name: 'pair-a · GRPO', algorithm: 'GRPO', status: 'QUEUED' }])
  })

  test('bad input writes nothing: p_junior 0, unvalidated model', async () => {
    const api = await callerFor(db, researcher)
    const { name: _n, algorithm: _a, ...rest } = validLaunch(catalog)
    const pending = await db.baseModel.create({ data: { name: uniq('pending'), path: '/models/p' } })
    const before = await writeCounts(db)
    const zero = await rejection(api.runs.launchPair({ ...rest, name: 'p', p_junior: 0 }))
    expect(fieldErrorsOf(zero)?.p_junior?.join(' ')).toMatch(/above 0/)
    const unvalidated = await rejection(api.runs.launchPair({ ...rest, name: 'p', baseModelId: pending.id }))
    expect(fieldErrorsOf(unvalidated)).toEqual({ baseModelId: ['This model is still being validated'] })
    expect(await writeCounts(db)).toEqual(before)
  })
})

describe('ONNX export', () => {
  test('queues one EXPORT_ONNX job per checkpoint however often it is asked; the run page shows where it stands', async () => {
    const api = await callerFor(db, researcher)
    const checkpoints = await makeCheckpoints(db, catalog, researcher)
    const source = checkpoints.trl
    const first = await api.runs.exportOnnx({ checkpointId: source.id })
    const second = await api.runs.exportOnnx({ checkpointId: source.id })
    expect(first.queued).toBe(true)
    expect(second).toEqual({ jobId: first.jobId, queued: false })
    expect(await db.job.findUniqueOrThrow({ where: { id: first.jobId } })).toMatchObject({ kind: 'EXPORT_ONNX', status: 'QUEUED', payload: { checkpointId: source.id } })
    expect(await db.auditLog.count({ where: { entityId: source.id, action: 'checkpoint.export_onnx' } })).toBe(1)

    const shown = async () => (await api.runs.get({ id: checkpoints.trlRun.id })).checkpoints.find((c) => c.id === source.id)!.onnx
    expect(await shown()).toEqual({ status: 'QUEUED', jobId: first.jobId, error: null })
    await db.job.update({ where: { id: first.jobId }, data: { status: 'FAILED', error: 'the ONNX export does not match PyTorch' } })
    expect(await shown()).toMatchObject({ status: 'FAILED', error: 'the ONNX export does not match PyTorch' })
    // after a failure a new export may be queued; once the 'onnx' checkpoint exists, the page says exported
    const retry = await api.runs.exportOnnx({ checkpointId: source.id })
    expect(retry.queued).toBe(true)
    const onnx = await db.checkpoint.create({
      data: { runId: checkpoints.trlRun.id, step: source.step, format: 'onnx', path: '/runs/onnx/x', sha256: 'c'.repeat(64), sizeBytes: BigInt(1) },
    })
    expect(await shown()).toEqual({ status: 'exported', checkpointId: onnx.id })
  })

  test('an ONNX checkpoint or an unknown one is refused and queues nothing', async () => {
    const api = await callerFor(db, researcher)
    const checkpoints = await makeCheckpoints(db, catalog, researcher)
    const before = await db.job.count({ where: { kind: 'EXPORT_ONNX' } })
    expect((await rejection(api.runs.exportOnnx({ checkpointId: checkpoints.onnx.id }))).message).toMatch(/only hf-safetensors/)
    expect((await rejection(api.runs.exportOnnx({ checkpointId: 'no-such-checkpoint' }))).code).toBe('NOT_FOUND')
    expect(await db.job.count({ where: { kind: 'EXPORT_ONNX' } })).toBe(before)
  })
})

describe('resume', () => {
  test('a cancelled run gets a new TRAIN job and is QUEUED again; twice is a conflict', async () => {
    const api = await callerFor(db, researcher)
    const { id } = await api.runs.launch(validLaunch(catalog))
    await api.runs.cancel({ id }) // QUEUED job: cancelled at once
    expect((await api.runs.get({ id })).canResume).toBe(true)
    const { jobId } = await api.runs.resume({ id })
    const run = await db.trainingRun.findUniqueOrThrow({ where: { id } })
    expect(run).toMatchObject({ status: 'QUEUED', finishedAt: null })
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ kind: 'TRAIN', status: 'QUEUED', payload: { runId: id } })
    expect((await rejection(api.runs.resume({ id }))).code).toBe('CONFLICT')
    expect(await db.auditLog.count({ where: { entityId: id, action: 'run.resume' } })).toBe(1)
  })

  test('only the owner or an admin; a queued or finished run cannot be resumed', async () => {
    const api = await callerFor(db, researcher)
    const { id } = await api.runs.launch(validLaunch(catalog))
    expect((await rejection(api.runs.resume({ id }))).code).toBe('CONFLICT')
    await api.runs.cancel({ id })
    const other = await callerFor(db, await makeUser(db, 'RESEARCHER'))
    expect((await rejection(other.runs.resume({ id }))).code).toBe('FORBIDDEN')
    await db.trainingRun.update({ where: { id }, data: { status: 'SUCCEEDED' } })
    expect((await rejection(api.runs.resume({ id }))).code).toBe('CONFLICT')
  })
})

describe('cancel', () => {
  async function launch(owner: TestUser = researcher) {
    const api = await callerFor(db, owner)
    return api.runs.launch(validLaunch(catalog))
  }
  const jobOf = (jobId: string) => db.job.findUniqueOrThrow({ where: { id: jobId } })
  const runOf = (id: string) => db.trainingRun.findUniqueOrThrow({ where: { id } })

  test('a QUEUED job is CANCELLED at once, and so is its run', async () => {
    const { id, jobId } = await launch()
    const api = await callerFor(db, researcher)
    expect(await api.runs.cancel({ id })).toEqual({ jobId, jobStatus: 'CANCELLED', runStatus: 'CANCELLED' })
    expect(await jobOf(jobId)).toMatchObject({ status: 'CANCELLED', finishedAt: expect.any(Date) })
    expect(await runOf(id)).toMatchObject({ status: 'CANCELLED', finishedAt: expect.any(Date) })
    const auditRows = await db.auditLog.findMany({ where: { entityId: id, action: 'run.cancel' } })
    expect(auditRows).toHaveLength(1)
    expect(auditRows[0]!.details).toEqual({ jobId, jobStatus: 'CANCELLED' })
    // nothing left to cancel
    expect((await rejection(api.runs.cancel({ id }))).code).toBe('CONFLICT')
  })

  test('a RUNNING job becomes CANCEL_REQUESTED (the worker stops it); the run keeps running until then', async () => {
    const { id, jobId } = await launch()
    // what queue.claim + the TRAIN handler do when a worker takes the job
    await db.$executeRaw`UPDATE jobs SET status = 'RUNNING', locked_by = 'w1', heartbeat_at = now(), attempts = 1 WHERE id = ${jobId}`
    await db.trainingRun.update({ where: { id }, data: { status: 'RUNNING', startedAt: new Date() } })

    const api = await callerFor(db, researcher)
    expect(await api.runs.cancel({ id })).toEqual({ jobId, jobStatus: 'CANCEL_REQUESTED', runStatus: 'RUNNING' })
    expect(await jobOf(jobId)).toMatchObject({ status: 'CANCEL_REQUESTED', lockedBy: 'w1', finishedAt: null })
    expect((await runOf(id)).status).toBe('RUNNING')
    // asking again is harmless
    expect(await api.runs.cancel({ id })).toMatchObject({ jobStatus: 'CANCEL_REQUESTED' })
    expect(await db.auditLog.count({ where: { entityId: id, action: 'run.cancel' } })).toBe(1)
    // the page offers no cancel button once requested
    expect((await api.runs.get({ id })).canCancel).toBe(false)
  })

  test('a finished run cannot be cancelled', async () => {
    const { id, jobId } = await launch()
    await db.job.update({ where: { id: jobId }, data: { status: 'SUCCEEDED', finishedAt: new Date() } })
    await db.trainingRun.update({ where: { id }, data: { status: 'SUCCEEDED' } })
    const api = await callerFor(db, researcher)
    const error = await rejection(api.runs.cancel({ id }))
    expect(error.code).toBe('CONFLICT')
    expect(error.message).toMatch(/succeeded/)
    expect((await jobOf(jobId)).status).toBe('SUCCEEDED')
  })

  test("only the owner or an admin may cancel; another researcher's attempt changes nothing", async () => {
    const { id, jobId } = await launch(researcher)
    const stranger = await callerFor(db, other)
    expect((await rejection(stranger.runs.cancel({ id }))).code).toBe('FORBIDDEN')
    expect((await jobOf(jobId)).status).toBe('QUEUED')
    expect((await stranger.runs.get({ id })).canCancel).toBe(false)

    const adminApi = await callerFor(db, admin)
    expect((await adminApi.runs.get({ id })).canCancel).toBe(true)
    expect(await adminApi.runs.cancel({ id })).toMatchObject({ jobStatus: 'CANCELLED' })
  })

  test('an unknown run is NOT_FOUND', async () => {
    const api = await callerFor(db, researcher)
    expect((await rejection(api.runs.cancel({ id: 'nope' }))).code).toBe('NOT_FOUND')
  })
})

describe('read', () => {
  test('metrics: a long history is thinned evenly to MAX_CHART_POINTS, newest step kept; new steps come whole', async () => {
    const api = await callerFor(db, researcher)
    const { id } = await api.runs.launch(validLaunch(catalog))
    const n = MAX_CHART_POINTS * 2 + 7
    await db.runMetric.createMany({ data: Array.from({ length: n }, (_, i) => ({ runId: id, step: i + 1, reward: i / n })) })
    const all = await api.runs.metrics({ id })
    expect(all.total).toBe(n)
    expect(all.stride).toBe(3)
    expect(all.rows.length).toBeLessThanOrEqual(MAX_CHART_POINTS)
    expect(all.rows.at(-1)!.step).toBe(n)
    const steps = all.rows.map((r) => r.step)
    expect(new Set(steps.slice(1).map((s, i) => s - steps[i]!))).toEqual(new Set([3]))
    const tail = await api.runs.metrics({ id, afterStep: n - 5 })
    expect(tail).toMatchObject({ total: 5, stride: 1 })
    expect(tail.rows.map((r) => r.step)).toEqual([n - 4, n - 3, n - 2, n - 1, n])
    expect((await rejection(api.runs.metrics({ id: 'nope' }))).code).toBe('NOT_FOUND')
  })

  test('logs: the tail of all the run’s jobs, then only newer lines', async () => {
    const api = await callerFor(db, researcher)
    const { id, jobId } = await api.runs.launch(validLaunch(catalog))
    await db.jobLog.createMany({ data: Array.from({ length: 5 }, (_, i) => ({ jobId, line: `line ${i + 1}` })) })
    const tail = await api.runs.logs({ id, limit: 3 })
    expect(tail.lines.map((l) => l.line)).toEqual(['line 3', 'line 4', 'line 5'])
    await db.jobLog.create({ data: { jobId, line: 'line 6' } })
    const fresh = await api.runs.logs({ id, after: tail.lines.at(-1)!.id })
    expect(fresh.lines.map((l) => l.line)).toEqual(['line 6'])
    expect((await rejection(api.runs.logs({ id, after: 'x' }))).code).toBe('BAD_REQUEST')
  })

  test('get returns metrics and checkpoints in step order, sizes as numbers', async () => {
    const api = await callerFor(db, researcher)
    const { id, jobId } = await api.runs.launch(validLaunch(catalog))
    await db.runMetric.createMany({
      data: [
        { runId: id, step: 2, reward: 0.5, accuracy: 0.5, kl: 0.01, seniorTokenShare: 1, zeroSignalGroups: 1, groups: 2, tokensPerSecond: 120 },
        { runId: id, step: 1, reward: 0.25 },
      ],
    })
    await db.checkpoint.create({
      data: { runId: id, step: 2, path: '/runs/x/final', format: 'hf-safetensors', sha256: 'a'.repeat(64), sizeBytes: 5_000_000_000n },
    })
    const run = await api.runs.get({ id })
    const metrics = await api.runs.metrics({ id })
    expect(metrics.rows.map((m) => m.step)).toEqual([1, 2])
    expect(metrics.rows[1]).toMatchObject({ reward: 0.5, seniorTokenShare: 1, zeroSignalGroups: 1, groups: 2, tokensPerSecond: 120 })
    expect((await api.runs.metrics({ id, afterStep: 1 })).rows.map((m) => m.step)).toEqual([2])
    expect(run.checkpoints).toMatchObject([{ step: 2, sizeBytes: 5_000_000_000, sha256: 'a'.repeat(64) }])
    expect(run.job).toMatchObject({ id: jobId, status: 'QUEUED' })
    expect(run.baseModel.name).toBe(catalog.baseModel.name)
    expect((await rejection(api.runs.get({ id: 'nope' }))).code).toBe('NOT_FOUND')
  })

  test('list pages newest first, server-side', async () => {
    const pager = await makeUser(db, 'RESEARCHER')
    const api = await callerFor(db, pager)
    const total = await db.trainingRun.count()
    const first = await api.runs.list({ page: 1, pageSize: 3 })
    expect(first).toMatchObject({ total, page: 1, pageSize: 3, pageCount: Math.ceil(total / 3) })
    expect(first.items).toHaveLength(Math.min(3, total))
    const times = first.items.map((r) => r.createdAt.getTime())
    expect([...times].sort((a, b) => b - a)).toEqual(times)
    const second = await api.runs.list({ page: 2, pageSize: 3 })
    expect(second.items.map((r) => r.id)).not.toContain(first.items[0]!.id)
    expect(first.items[0]).toHaveProperty('baseModelName')
    const beyond = await api.runs.list({ page: 10_000, pageSize: 3 })
    expect(beyond.items).toEqual([])
    expect((await rejection(api.runs.list({ page: 0, pageSize: 3 }))).code).toBe('BAD_REQUEST')
    expect((await rejection(api.runs.list({ page: 1, pageSize: 1000 }))).code).toBe('BAD_REQUEST')
  })
})

describe('list: summaries, search and filters', () => {
  /** A finished run with metric rows, named `name`, started and finished `seconds` apart. */
  async function finishedRun(name: string, algorithm: 'TRL' | 'GRPO', seconds: number, pairId: string | null = null) {
    const startedAt = new Date('2026-01-01T10:00:00Z')
    return db.trainingRun.create({
      data: {
        name, algorithm, config: { p_junior: algorithm === 'TRL' ? 0.5 : 0 }, seed: 0, maxSteps: 3, currentStep: 3, status: 'SUCCEEDED',
        ownerId: researcher.id, baseModelId: catalog.baseModel.id, datasetId: catalog.dataset.id, pairId,
        startedAt, finishedAt: new Date(startedAt.getTime() + seconds * 1000),
      },
    })
  }

  test('each run: final reward and accuracy (the newest step that logged each), steps, duration and its pair', async () => {
    const api = await callerFor(db, researcher)
    const tag = uniq('summary')
    const pairId = `pair-${tag}`
    const trl = await finishedRun(`${tag} · TRL`, 'TRL', 90, pairId)
    const grpo = await finishedRun(`${tag} · GRPO`, 'GRPO', 3725, pairId)
    await db.runMetric.createMany({
      data: [
        { runId: trl.id, step: 1, reward: 0.25, accuracy: 0.5 },
        { runId: trl.id, step: 2, reward: 0.5, accuracy: 0.75 },
        // the last step logged no accuracy: the final accuracy is step 2's
        { runId: trl.id, step: 3, reward: 0.625, accuracy: null },
      ],
    })
    const { items } = await api.runs.list({ search: tag, pageSize: 10 })
    const byId = new Map(items.map((r) => [r.id, r]))
    expect(byId.get(trl.id)).toMatchObject({
      finalReward: { value: 0.625, step: 3 }, finalAccuracy: { value: 0.75, step: 2 }, currentStep: 3, maxSteps: 3,
      durationSeconds: 90, partnerId: grpo.id, pairId,
    })
    // no metrics yet: no finals rather than zeros
    expect(byId.get(grpo.id)).toMatchObject({ finalReward: null, finalAccuracy: null, durationSeconds: 3725, partnerId: trl.id })
  })

  test('search finds a name in any case or an exact id; status and algorithm filter; filters combine and page', async () => {
    const api = await callerFor(db, researcher)
    const tag = uniq('Findme')
    const a = await finishedRun(`${tag} alpha`, 'TRL', 10)
    const b = await finishedRun(`${tag} beta`, 'GRPO', 10)
    const queued = await api.runs.launch(validLaunch(catalog, { name: `${tag} queued`, algorithm: 'GRPO' }))

    const all = await api.runs.list({ search: `  ${tag.toUpperCase()} ` })
    expect(all.total).toBe(3)
    expect(new Set(all.items.map((r) => r.id))).toEqual(new Set([a.id, b.id, queued.id]))
    expect((await api.runs.list({ search: 'ALPHA', pageSize: 100 })).items.map((r) => r.id)).toContain(a.id)
    expect((await api.runs.list({ search: b.id })).items.map((r) => r.id)).toEqual([b.id])
    expect((await api.runs.list({ search: tag, algorithm: 'TRL' })).items.map((r) => r.id)).toEqual([a.id])
    expect((await api.runs.list({ search: tag, status: 'QUEUED' })).items.map((r) => r.id)).toEqual([queued.id])
    expect((await api.runs.list({ search: tag, status: 'SUCCEEDED', algorithm: 'GRPO' })).items.map((r) => r.id)).toEqual([b.id])
    const paged = await api.runs.list({ search: tag, page: 2, pageSize: 2 })
    expect(paged).toMatchObject({ total: 3, pageCount: 2 })
    expect(paged.items).toHaveLength(1)
    // a blank search is no search
    expect((await api.runs.list({ search: '   ', pageSize: 1 })).total).toBe(await db.trainingRun.count())
    // a queued run has not started: no duration
    expect(all.items.find((r) => r.id === queued.id)!.durationSeconds).toBeNull()

    expect((await rejection(api.runs.list({ status: 'DONE' as never }))).code).toBe('BAD_REQUEST')
    expect(fieldErrorsOf(await rejection(api.runs.list({ algorithm: 'PPO' as never })))).toEqual({ algorithm: ['algorithm must be one of TRL, GRPO'] })
    expect(fieldErrorsOf(await rejection(api.runs.list({ search: 'x'.repeat(201) })))).toEqual({ search: ['search takes at most 200 characters'] })
  })

  test('runDurationSeconds: first start to finish, to now while running, none while queued', () => {
    const startedAt = new Date('2026-01-01T10:00:00Z')
    const now = new Date('2026-01-01T10:05:00Z')
    expect(runDurationSeconds({ status: 'SUCCEEDED', startedAt, finishedAt: new Date('2026-01-01T10:01:30Z') }, now)).toBe(90)
    expect(runDurationSeconds({ status: 'RUNNING', startedAt, finishedAt: null }, now)).toBe(300)
    expect(runDurationSeconds({ status: 'QUEUED', startedAt, finishedAt: null }, now)).toBeNull()
    expect(runDurationSeconds({ status: 'QUEUED', startedAt: null, finishedAt: null }, now)).toBeNull()
  })
})

describe('compare', () => {
  test('runs in the order asked, each with its summary, config and metric rows; the settings that differ', async () => {
    const api = await callerFor(db, researcher)
    const pair = await api.runs.launchPair((({ algorithm: _a, ...rest }) => rest)(validLaunch(catalog, { p_junior: 0.5 })))
    await db.runMetric.createMany({
      data: [
        { runId: pair.trl.id, step: 1, reward: 0.25, kl: 0.001, loss: -1.2 },
        { runId: pair.trl.id, step: 2, reward: 0.5, kl: 0.0014, loss: -0.4 },
        { runId: pair.grpo.id, step: 1, reward: 0.125 },
      ],
    })
    const compared = await api.runs.compare({ ids: [pair.grpo.id, pair.trl.id] })
    expect(compared.runs.map((r) => [r.id, r.algorithm])).toEqual([[pair.grpo.id, 'GRPO'], [pair.trl.id, 'TRL']])
    expect(compared.runs[1]!.metrics.rows.map((m) => [m.step, m.reward, m.kl, m.loss])).toEqual([[1, 0.25, 0.001, -1.2], [2, 0.5, 0.0014, -0.4]])
    expect(compared.runs[0]!.metrics).toMatchObject({ total: 1, stride: 1 })
    expect(compared.runs[1]).toMatchObject({
      finalReward: { value: 0.5, step: 2 }, partnerId: pair.grpo.id, datasetName: catalog.dataset.name, baseModelName: catalog.baseModel.name,
      juniorModelName: null, config: { p_junior: 0.5 },
    })
    // a pair differs in p_junior only (and its name); models, dataset and every other setting are shared
    expect(compared.differences).toEqual([{ field: 'p_junior', values: ['0', '0.5'] }])
  })

  test('a long run is thinned to MAX_COMPARE_POINTS, its last step kept', async () => {
    const api = await callerFor(db, researcher)
    const a = await api.runs.launch(validLaunch(catalog))
    const b = await api.runs.launch(validLaunch(catalog))
    const n = MAX_COMPARE_POINTS * 2 + 1
    await db.runMetric.createMany({ data: Array.from({ length: n }, (_, i) => ({ runId: a.id, step: i + 1, reward: 0.5 })) })
    const { runs } = await api.runs.compare({ ids: [a.id, b.id] })
    expect(runs[0]!.metrics.total).toBe(n)
    expect(runs[0]!.metrics.stride).toBe(3)
    expect(runs[0]!.metrics.rows.length).toBeLessThanOrEqual(MAX_COMPARE_POINTS)
    expect(runs[0]!.metrics.rows.at(-1)!.step).toBe(n)
    expect(runs[1]!.metrics).toEqual({ total: 0, stride: 1, rows: [] })
  })

  test('unknown, repeated, too few or too many runs: a field error that says which', async () => {
    const api = await callerFor(db, researcher)
    const a = await api.runs.launch(validLaunch(catalog))
    const unknown = await rejection(api.runs.compare({ ids: [a.id, 'no-such-run', 'nor-this'] }))
    expect(unknown.code).toBe('BAD_REQUEST')
    expect(fieldErrorsOf(unknown)).toEqual({ ids: ['No training run no-such-run', 'No training run nor-this'] })
    expect(fieldErrorsOf(await rejection(api.runs.compare({ ids: [a.id, a.id] })))).toEqual({ ids: ['A run is listed twice'] })
    expect(fieldErrorsOf(await rejection(api.runs.compare({ ids: [a.id] })))).toEqual({ ids: ['Compare at least two runs'] })
    expect(fieldErrorsOf(await rejection(api.runs.compare({ ids: Array.from({ length: 9 }, (_, i) => `r${i}`) })))).toEqual({
      ids: ['Compare at most 8 runs'],
    })
  })

  test('configDifferences: values as text, missing fields and nulls named', () => {
    expect(
      configDifferences([
        { dataset: 'a', p_junior: 0.5, beta: 0, epsilon_high: null, seed: 1 },
        { dataset: 'a', p_junior: 0, beta: 0, seed: 1, extra: [1, 2] },
      ]),
    ).toEqual([
      { field: 'p_junior', values: ['0.5', '0'] },
      { field: 'epsilon_high', values: ['none', '—'] },
      { field: 'extra', values: ['—', '[1,2]'] },
    ])
    expect(configDifferences([{ a: 1 }, { a: 1 }])).toEqual([])
  })
})
