// The experiments router: the design's validation (field names and reasons), create in one transaction (every run,
// TRAIN job with the experiment's priority, the base evaluation, the audit entry — or nothing), cancel and resume of
// the whole experiment by its owner or an admin, clone, and the per-arm curves over seeds.
import JSZip from 'jszip'
import { beforeAll, describe, expect, test } from 'vitest'

import { fieldErrorsOf } from '@/server/api/errors'
import { experimentPriority } from '@/server/api/routers/experiments'
import { armRunConfig } from '@/server/api/routers/experiments.schema'
import { experimentArchive } from '@/server/experiments/archive'

import { callerFor, makeCatalog, makeCheckpoints, makeUser, outcome, rejectionOf, testDb, uniq, type TestUser } from './support/helpers'
import { validExperiment } from './support/experiments'

const db = testDb()
let owner: TestUser
let other: TestUser
let admin: TestUser
let catalog: Awaited<ReturnType<typeof makeCatalog>>

beforeAll(async () => {
  owner = await makeUser(db, 'RESEARCHER')
  other = await makeUser(db, 'RESEARCHER')
  admin = await makeUser(db, 'ADMIN')
  catalog = await makeCatalog(db)
  // the base's own checkpoint (as its validation records it): the base evaluation runs on it
  await makeCheckpoints(db, catalog, owner)
})

const counts = async () => ({
  experiments: await db.experiment.count(),
  runs: await db.trainingRun.count(),
  jobs: await db.job.count(),
  evaluations: await db.evaluationRun.count(),
  audit: await db.auditLog.count(),
})

async function fieldErrorsOfCreate(input: unknown) {
  const api = await callerFor(db, owner)
  const before = await counts()
  const error = await rejectionOf(api.experiments.create(input as never))
  expect(await counts()).toEqual(before)
  return fieldErrorsOf(error) ?? {}
}

describe('validation: every bad design names its field and changes nothing', () => {
  test('no GRPO arm', async () => {
    const errors = await fieldErrorsOfCreate(validExperiment(catalog, { arms: [{ name: 'tandem', algorithm: 'TANDEM', overrides: {} }] }))
    expect(errors.arms).toEqual(['Add a GRPO arm: every claim is measured against GRPO'])
  })

  test('duplicate arm names, too many arms, a bad arm name, p_junior against the algorithm', async () => {
    const grpo = { name: 'grpo', algorithm: 'GRPO', overrides: {} }
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { arms: [grpo, { ...grpo }] })))['arms.1.name']).toEqual(['Arm name grpo is used twice'])
    const nine = Array.from({ length: 9 }, (_, i) => ({ ...grpo, name: `a${i}` }))
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { arms: nine }))).arms).toEqual(['At most 8 arms'])
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { arms: [] }))).arms).toContain('Give at least one arm')
    const badName = await fieldErrorsOfCreate(validExperiment(catalog, { arms: [{ ...grpo, name: '../etc' }] }))
    expect(badName['arms.0.name']?.[0]).toMatch(/letters, digits/)
    const grpoWithJunior = await fieldErrorsOfCreate(validExperiment(catalog, { arms: [{ ...grpo, overrides: { p_junior: 0.5 } }] }))
    expect(grpoWithJunior['arms.0.overrides.p_junior']).toEqual(['A GRPO arm has p_junior 0'])
    const tandemAlone = await fieldErrorsOfCreate(validExperiment(catalog, { arms: [grpo, { name: 't', algorithm: 'TANDEM', overrides: { p_junior: 0 } }] }))
    expect(tandemAlone['arms.1.overrides.p_junior']?.[0]).toMatch(/needs p_junior above 0/)
  })

  test('seeds: 1 to 10 distinct whole numbers', async () => {
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { seeds: [] }))).seeds).toEqual(['Give at least one seed'])
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { seeds: [1, 1] }))).seeds).toEqual(['A seed is listed twice'])
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { seeds: Array.from({ length: 11 }, (_, i) => i) }))).seeds).toEqual(['At most 10 seeds'])
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { seeds: [0.5] })))['seeds.0']).toEqual(['A seed must be a whole number'])
  })

  test('the budget is checked like a run launch config (field names of TandemConfig)', async () => {
    const errors = await fieldErrorsOfCreate(validExperiment(catalog, { config: { max_steps: 2, num_generations: 3, per_device_train_batch_size: 8, learning_rate: 0.0002 } }))
    expect(errors['config.per_device_train_batch_size']).toEqual(['per_device_train_batch_size must be a multiple of num_generations (3)'])
    const missing = await fieldErrorsOfCreate(validExperiment(catalog, { config: { num_generations: 4, per_device_train_batch_size: 8, learning_rate: 0.0002 } }))
    expect(missing['config.max_steps']).toEqual(['max_steps is required'])
  })

  test('the evaluation needs the solo suite and valid settings', async () => {
    const base = validExperiment(catalog)
    const noSolo = await fieldErrorsOfCreate({ ...base, evaluation: { ...base.evaluation, suites: ['handoff'] } })
    expect(noSolo['evaluation.suites']?.[0]).toMatch(/solo suite is needed/)
    const badK = await fieldErrorsOfCreate({ ...base, evaluation: { ...base.evaluation, settings: { ...base.evaluation.settings, k: 0 } } })
    expect(badK['evaluation.settings.k']).toEqual(['k must be at least 1'])
  })

  test('unknown models and datasets, an empty dataset, a model still validating, a junior with another tokenizer', async () => {
    const unknown = await fieldErrorsOfCreate(
      validExperiment(catalog, { baseModelId: 'no-model', juniorModelId: 'no-junior', datasetId: 'no-data', evalDatasetId: catalog.emptyDataset.id }),
    )
    expect(unknown).toEqual({
      baseModelId: ['Unknown base model'],
      juniorModelId: ['Unknown junior model'],
      datasetId: ['Unknown dataset'],
      evalDatasetId: ['This dataset has no problems'],
    })
    const pending = await db.baseModel.create({ data: { name: uniq('pending'), path: '/models/p' } })
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { juniorModelId: pending.id }))).juniorModelId).toEqual(['This model is still being validated'])
    await db.baseModel.update({ where: { id: catalog.baseModel.id }, data: { info: { tokenizer_class: 'PreTrainedTokenizerFast', vocab_size: 512, eos_token: '<eos>' } } })
    const foreign = await db.baseModel.create({
      data: { name: uniq('foreign'), path: '/models/f', validatedAt: new Date(), info: { tokenizer_class: 'PreTrainedTokenizerFast', vocab_size: 32000, eos_token: '<eos>' } },
    })
    const errors = await fieldErrorsOfCreate(validExperiment(catalog, { juniorModelId: foreign.id }))
    expect(errors.juniorModelId?.[0]).toMatch(/share the senior's tokenizer.*vocabSize \(32000 vs 512\)/)
  })

  test('a base model without its own checkpoint cannot be evaluated', async () => {
    const bare = await db.baseModel.create({ data: { name: uniq('bare'), path: '/models/b', validatedAt: new Date() } })
    expect((await fieldErrorsOfCreate(validExperiment(catalog, { baseModelId: bare.id }))).baseModelId?.[0]).toMatch(/no checkpoint of its own weights/)
  })
})

describe('create', () => {
  test('one run and one TRAIN job per arm × seed, all with the priority; the base evaluation and its job; one audit entry', async () => {
    const api = await callerFor(db, owner)
    const before = await counts()
    const design = validExperiment(catalog, {
      seeds: [0, 1, 7],
      arms: [
        { name: 'grpo', algorithm: 'GRPO', overrides: {} },
        { name: 'tandem-p05', algorithm: 'TANDEM', overrides: { p_junior: 0.5 } },
        { name: 'tandem-ww', algorithm: 'TANDEM', overrides: { p_junior: 0.3, handoff_rule: 'whole_word', junior_token_weight: 0.5 } },
      ],
    })
    const created = await api.experiments.create(design)
    expect(await counts()).toEqual({ ...before, experiments: before.experiments + 1, runs: before.runs + 9, jobs: before.jobs + 10, evaluations: before.evaluations + 1, audit: before.audit + 1 })

    const experiment = await db.experiment.findUniqueOrThrow({ where: { id: created.id } })
    expect(experiment.priority).toBe(created.priority)
    expect(experiment.priority).toBeLessThan(0)
    expect(experiment.seeds).toEqual([0, 1, 7])
    const runs = await db.trainingRun.findMany({ where: { experimentId: created.id }, orderBy: [{ armName: 'asc' }, { seed: 'asc' }] })
    expect(runs.map((r) => `${r.armName}/${r.seed}/${r.algorithm}`)).toEqual([
      'grpo/0/GRPO', 'grpo/1/GRPO', 'grpo/7/GRPO',
      'tandem-p05/0/TRL', 'tandem-p05/1/TRL', 'tandem-p05/7/TRL',
      'tandem-ww/0/TRL', 'tandem-ww/1/TRL', 'tandem-ww/7/TRL',
    ])
    expect(runs[0]!.name).toBe(`${design.name} · grpo · s0`)
    const ww = runs.find((r) => r.armName === 'tandem-ww' && r.seed === 7)!.config as Record<string, unknown>
    expect(ww).toMatchObject({ p_junior: 0.3, handoff_rule: 'whole_word', junior_token_weight: 0.5, seed: 7, max_steps: 2, num_generations: 4 })
    expect((runs[0]!.config as Record<string, unknown>).p_junior).toBe(0)

    const jobs = await db.job.findMany({ where: { experimentId: created.id } })
    expect(jobs.filter((j) => j.kind === 'TRAIN').map((j) => j.trainingRunId).sort()).toEqual(runs.map((r) => r.id).sort())
    expect(new Set(jobs.map((j) => j.priority))).toEqual(new Set([experiment.priority]))
    expect(jobs.every((j) => j.status === 'QUEUED')).toBe(true)

    const [baseEvaluation] = await db.evaluationRun.findMany({ where: { experimentId: created.id }, include: { checkpoint: true } })
    expect(baseEvaluation!.checkpoint.baseModelId).toBe(catalog.baseModel.id)
    expect(baseEvaluation!.checkpoint.runId).toBeNull()
    expect(baseEvaluation!.settings).toMatchObject({ datasetId: catalog.dataset.id, k: 2 })
    expect(jobs.find((j) => j.kind === 'EVALUATE')!.evaluationRunId).toBe(baseEvaluation!.id)
  })

  test('a later experiment has a lower priority (earlier experiments are claimed first)', () => {
    expect(experimentPriority(new Date('2026-12-05T10:00:01Z'))).toBeLessThan(experimentPriority(new Date('2026-12-05T10:00:00Z')))
    expect(experimentPriority(new Date('2090-01-01T00:00:00Z'))).toBeGreaterThan(-(2 ** 31))
  })

  test('one transaction: a failure after the first runs were written leaves no experiment, run, job or evaluation', async () => {
    const api = await callerFor(db, owner)
    const before = await counts()
    const model = await db.baseModel.create({ data: { name: uniq('vanishing'), path: '/models/v', validatedAt: new Date() } })
    const checkpoint = await db.checkpoint.create({
      data: { baseModelId: model.id, step: 0, format: 'hf-safetensors', path: '/models/v', sha256: 'b'.repeat(64), sizeBytes: BigInt(1) },
    })
    const design = validExperiment(catalog, { baseModelId: model.id })
    // a trigger refuses the base evaluation's insert, which comes after every run and TRAIN job was written
    await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION tandem_e1u_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'evaluation insert refused'; END $$ LANGUAGE plpgsql`)
    await db.$executeRawUnsafe(
      `CREATE TRIGGER tandem_e1u_refuse BEFORE INSERT ON evaluation_runs FOR EACH ROW WHEN (NEW.checkpoint_id = '${checkpoint.id}') EXECUTE FUNCTION tandem_e1u_refuse()`,
    )
    try {
      expect(await outcome(api.experiments.create(design))).not.toBe('OK')
    } finally {
      await db.$executeRawUnsafe('DROP TRIGGER IF EXISTS tandem_e1u_refuse ON evaluation_runs')
      await db.$executeRawUnsafe('DROP FUNCTION IF EXISTS tandem_e1u_refuse()')
    }
    expect(await counts()).toEqual(before)
    expect(await db.trainingRun.count({ where: { name: { startsWith: design.name } } })).toBe(0)
  })
})

describe('cancel, resume, clone', () => {
  test('only the owner or an admin cancels; every queued job is cancelled and its run marked', async () => {
    const created = await (await callerFor(db, owner)).experiments.create(validExperiment(catalog))
    const refused = await rejectionOf((await callerFor(db, other)).experiments.cancel({ id: created.id }))
    expect(refused.code).toBe('FORBIDDEN')
    expect(refused.message).toBe('Only the experiment’s owner or an admin can cancel it')
    expect(await db.job.count({ where: { experimentId: created.id, status: 'QUEUED' } })).toBe(5)

    // one run already running: its job is asked to stop, the worker marks the run
    const running = await db.trainingRun.findFirstOrThrow({ where: { experimentId: created.id, armName: 'grpo', seed: 0 } })
    await db.trainingRun.update({ where: { id: running.id }, data: { status: 'RUNNING' } })
    await db.job.updateMany({ where: { trainingRunId: running.id }, data: { status: 'RUNNING' } })

    const result = await (await callerFor(db, admin)).experiments.cancel({ id: created.id })
    expect(result.cancelled.map((c) => c.jobStatus).sort()).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCEL_REQUESTED'])
    const runs = await db.trainingRun.findMany({ where: { experimentId: created.id } })
    expect(runs.filter((r) => r.status === 'CANCELLED')).toHaveLength(3)
    expect(runs.find((r) => r.id === running.id)!.status).toBe('RUNNING')
    expect((await db.evaluationRun.findFirstOrThrow({ where: { experimentId: created.id } })).status).toBe('CANCELLED')
    // one run is still stopping: its worker settles the experiment's status when it ends
    expect((await db.experiment.findUniqueOrThrow({ where: { id: created.id } })).status).toBe('QUEUED')

    // the worker stops the running one
    await db.trainingRun.update({ where: { id: running.id }, data: { status: 'CANCELLED' } })
    await db.job.updateMany({ where: { trainingRunId: running.id }, data: { status: 'CANCELLED' } })
    expect(await outcome((await callerFor(db, owner)).experiments.cancel({ id: created.id }))).toBe('CONFLICT')

    // resume: refused to others; the owner gets every run and the evaluation queued again, with the priority
    expect(await outcome((await callerFor(db, other)).experiments.resume({ id: created.id }))).toBe('FORBIDDEN')
    const resumed = await (await callerFor(db, owner)).experiments.resume({ id: created.id })
    expect(resumed.runs).toHaveLength(4)
    expect(resumed.evaluations).toHaveLength(1)
    const experiment = await db.experiment.findUniqueOrThrow({ where: { id: created.id } })
    const queued = await db.job.findMany({ where: { experimentId: created.id, status: 'QUEUED' } })
    expect(queued).toHaveLength(5)
    expect(queued.every((j) => j.priority === experiment.priority)).toBe(true)
    expect(await outcome((await callerFor(db, owner)).experiments.resume({ id: created.id }))).toBe('CONFLICT')
  })

  test('cancelling an experiment with nothing started marks it CANCELLED at once (no worker will settle it)', async () => {
    const created = await (await callerFor(db, owner)).experiments.create(validExperiment(catalog, { seeds: [0] }))
    const result = await (await callerFor(db, owner)).experiments.cancel({ id: created.id })
    expect(result.cancelled.every((c) => c.jobStatus === 'CANCELLED')).toBe(true)
    expect((await db.experiment.findUniqueOrThrow({ where: { id: created.id } })).status).toBe('CANCELLED')
    expect(await db.auditLog.count({ where: { entityId: created.id, action: 'experiment.cancel' } })).toBe(1)
  })

  test('clone returns the design, prefilled and linked, which creates a new experiment', async () => {
    const api = await callerFor(db, owner)
    const design = validExperiment(catalog, { seeds: [3, 4] })
    const created = await api.experiments.create(design)
    const clone = await (await callerFor(db, other)).experiments.clone({ id: created.id })
    expect(clone).toMatchObject({ name: `${design.name} (copy)`, seeds: [3, 4], arms: design.arms, clonedFromId: created.id, evalDatasetId: catalog.dataset.id })
    const again = await (await callerFor(db, other)).experiments.create(clone as never)
    const row = await db.experiment.findUniqueOrThrow({ where: { id: again.id } })
    expect(row.clonedFromId).toBe(created.id)
    expect(row.ownerId).toBe(other.id)
  })
})

describe('get and curves', () => {
  test('get: runs with progress, the base evaluation, what the caller may do', async () => {
    const created = await (await callerFor(db, owner)).experiments.create(validExperiment(catalog))
    const seen = await (await callerFor(db, other)).experiments.get({ id: created.id })
    expect(seen.runs).toHaveLength(4)
    expect(seen.runs[0]).toMatchObject({ armName: 'grpo', seed: 0, currentStep: 0, maxSteps: 2, job: { status: 'QUEUED' } })
    expect(seen.evaluations.map((e) => e.arm)).toEqual(['base'])
    expect(seen).toMatchObject({ mayControl: false, canCancel: false, canResume: false, report: null })
    expect((await (await callerFor(db, owner)).experiments.get({ id: created.id })).canCancel).toBe(true)
    expect(await outcome((await callerFor(db, owner)).experiments.get({ id: 'nope' }))).toBe('NOT_FOUND')
  })

  test('curves: per arm and step, the mean and min–max over seeds', async () => {
    const created = await (await callerFor(db, owner)).experiments.create(validExperiment(catalog))
    const runs = await db.trainingRun.findMany({ where: { experimentId: created.id } })
    const reward = (arm: string, seed: number, step: number) => (arm === 'grpo' ? 0.1 : 0.2) + seed * 0.1 + step * 0.01
    for (const run of runs) {
      for (const step of [1, 2]) {
        await db.runMetric.create({ data: { runId: run.id, step, reward: reward(run.armName!, run.seed, step), accuracy: 0.5, kl: 0, seniorTokenShare: run.armName === 'grpo' ? 1 : 0.5, completionLength: 10 + run.seed } })
      }
    }
    const curves = await (await callerFor(db, other)).experiments.curves({ id: created.id })
    expect(curves.arms.map((a) => a.arm)).toEqual(['grpo', 'tandem'])
    const tandemStep2 = curves.arms[1]!.points.find((p) => p.step === 2)!
    expect(tandemStep2.seeds).toBe(2)
    expect(tandemStep2.reward.low).toBeCloseTo(0.22)
    expect(tandemStep2.reward.high).toBeCloseTo(0.32)
    expect(tandemStep2.reward.mean).toBeCloseTo(0.27)
    expect(tandemStep2.seniorShare.mean).toBeCloseTo(0.5)
    expect(tandemStep2.completionLength).toEqual({ mean: 10.5, low: 10, high: 11 })
  })

  test('armRunConfig: budget, the arm’s overrides, the seed; GRPO writes alone', () => {
    const config = armRunConfig({ max_steps: 5, p_junior: 0.4 }, { name: 'g', algorithm: 'GRPO', overrides: {} }, 3)
    expect(config).toMatchObject({ max_steps: 5, p_junior: 0, seed: 3 })
    expect(armRunConfig({ max_steps: 5, p_junior: 0.4 }, { name: 't', algorithm: 'TANDEM', overrides: {} }, 1).p_junior).toBe(0.4)
  })
})

describe('the archive', () => {
  test('design, per-run config and metrics, evaluations with per-problem results, the report and a README', async () => {
    const design = validExperiment(catalog, { seeds: [0, 1] })
    const created = await (await callerFor(db, owner)).experiments.create(design)
    const runs = await db.trainingRun.findMany({ where: { experimentId: created.id } })
    for (const run of runs) {
      await db.runMetric.createMany({ data: [1, 2].map((step) => ({ runId: run.id, step, reward: step / 10, accuracy: 0.5, kl: 0.01 })) })
    }
    await db.evaluationReport.create({
      data: {
        evaluationRunId: created.baseEvaluation.id, suite: 'solo',
        metrics: { solo_mean_at_k: { value: 0.5, low: 0.2, high: 0.8, n: 2 } },
        report: { per_problem: { ids: ['p1', 'p2'], solo_mean_at_k: [1, 0] } },
      },
    })
    const report = { version: 1, computedAt: new Date().toISOString(), margin: 0.03, arms: [], heldOut: [], claims: [{ id: 'solo', verdict: 'inconclusive' }], handoffCurves: [] }
    await db.experiment.update({ where: { id: created.id }, data: { report, reportedAt: new Date() } })

    const archive = await experimentArchive(db, created.id)
    expect(archive!.name).toMatch(new RegExp(`${design.name}-${created.id}\\.zip$`))
    const zip = await JSZip.loadAsync(archive!.bytes)
    const files = Object.keys(zip.files).filter((f) => !zip.files[f]!.dir).sort()
    expect(files).toEqual([
      'README.md',
      `evaluations/${created.baseEvaluation.id}.json`,
      'experiment.json',
      'report.json',
      'runs/grpo-s0/config.json', 'runs/grpo-s0/metrics.csv', 'runs/grpo-s1/config.json', 'runs/grpo-s1/metrics.csv',
      'runs/tandem-s0/config.json', 'runs/tandem-s0/metrics.csv', 'runs/tandem-s1/config.json', 'runs/tandem-s1/metrics.csv',
    ])
    const text = (name: string) => zip.file(name)!.async('string')
    const experiment = JSON.parse(await text('experiment.json'))
    expect(experiment.design).toMatchObject({ name: design.name, seeds: [0, 1], arms: design.arms, evalDatasetId: catalog.dataset.id })
    expect(JSON.parse(await text('runs/tandem-s1/config.json'))).toMatchObject({ seed: 1, p_junior: 0.5, max_steps: 2 })
    const csv = (await text('runs/grpo-s0/metrics.csv')).trim().split('\n')
    expect(csv[0]).toBe('step,reward,accuracy,kl,clip_fraction,entropy,senior_token_share,zero_signal_groups,groups,tokens_per_second,loss,grad_norm,completion_length,elapsed_s')
    expect(csv.slice(1)).toEqual(['1,0.1,0.5,0.01,,,,,,,,,,', '2,0.2,0.5,0.01,,,,,,,,,,'])
    const evaluation = JSON.parse(await text(`evaluations/${created.baseEvaluation.id}.json`))
    expect(evaluation.of).toEqual({ base: expect.any(String) })
    expect(evaluation.reports[0].report.per_problem).toEqual({ ids: ['p1', 'p2'], solo_mean_at_k: [1, 0] })
    expect(JSON.parse(await text('report.json'))).toEqual(report)
    const readme = await text('README.md')
    expect(readme).toMatch(/paired per problem/)
    expect(readme).toMatch(/null/)
    expect(await experimentArchive(db, 'no-such-experiment')).toBeNull()
  })
})
