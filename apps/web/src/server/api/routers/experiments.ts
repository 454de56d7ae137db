// Experiments: arms × seeds from one base and one budget, every final checkpoint and the base evaluated the same way,
// and the claims report the worker computes when every evaluation is in (EXPERIMENT_REPORT). `create` writes the
// experiment, every run, every TRAIN job, the base's evaluation and its EVALUATE job, and the audit entry in ONE
// transaction: a failure anywhere leaves nothing. Read lab-wide; cancel and resume are the owner's or an admin's
// (server/auth/access.ts, docs/security.md ## Access).
//
// Queue priority: every job of an experiment carries `experiments.priority` = −(seconds since 2026-01-01 UTC) at
// creation. The worker claims higher priorities first, so an earlier experiment's jobs (including the evaluations the
// worker adds later) go before a later experiment's, and a second experiment cannot starve the first. Jobs outside an
// experiment keep priority 0 and go before experiments' (a single run or a model validation is short next to an
// experiment). Counting from 2026 keeps the value inside Postgres' int for 68 years.
import { TRPCError } from '@trpc/server'

import type { Prisma } from '../../../generated/prisma/client'
import { audit } from '../../audit'
import { canMutateArtefact, requireArtefactOwner } from '../../auth/access'
import { enqueueJob, requestCancel } from '../../jobs'
import { fieldError, type FieldErrors } from '../errors'
import { paged, pageSchema, skipTake } from '../pagination'
import { createTRPCRouter, researcherProcedure, type Context } from '../trpc'
import { EVALUABLE_FORMAT, workerSettings } from './evaluations'
import {
  armRunConfig,
  createExperimentSchema,
  experimentCurvesSchema,
  experimentIdSchema,
  type Arm,
  type ExperimentDesign,
} from './experiments.schema'

type Db = Context['db']
type User = { id: string; role: 'ADMIN' | 'RESEARCHER' }

const ACTIVE_JOB = ['QUEUED', 'RUNNING', 'CANCEL_REQUESTED'] as const
const PRIORITY_EPOCH_MS = Date.UTC(2026, 0, 1)

/**
 * The charts draw at most this many steps per arm; longer runs are thinned evenly (each run's last step kept). Five
 * charts of about 500 px across show no more than this (two pixels a step), and the page stays about as quick as a
 * short run's (e2e/experiment-page-load.bench.spec.ts).
 */
export const MAX_CURVE_POINTS = 250

/** Earlier experiments first: the newer the experiment, the lower its priority. */
export function experimentPriority(now: Date = new Date()): number {
  return -Math.floor((now.getTime() - PRIORITY_EPOCH_MS) / 1000)
}

/** The run's name: "<experiment> · <arm> · s<seed>". */
export const experimentRunName = (experiment: string, arm: string, seed: number) => `${experiment} · ${arm} · s${seed}`

/** The database's algorithm of an arm: a TANDEM arm trains as TRL (a senior and a junior co-write). */
const runAlgorithm = (arm: Arm) => (arm.algorithm === 'GRPO' ? 'GRPO' : 'TRL') as 'GRPO' | 'TRL'

type ModelRow = { id: string; validatedAt: Date | null; validationError: string | null; info: Prisma.JsonValue }

/** What a tokenizer is, as the worker's validation read it (catalog.py): class, vocabulary size and end-of-text token. */
function tokenizerOf(model: ModelRow) {
  const info = (model.info ?? {}) as Record<string, unknown>
  return { tokenizerClass: info.tokenizer_class, vocabSize: info.vocab_size, eosToken: info.eos_token }
}

/**
 * Models and datasets must exist and be usable, the base must have its own checkpoint (the base evaluation runs on
 * it), and a junior must share the senior's tokenizer as far as validation recorded it (the worker compares the full
 * vocabularies again before training, models.check_same_tokenizer). Field errors otherwise.
 */
async function checkDesignTargets(db: Db, design: ExperimentDesign) {
  const modelSelect = { id: true, validatedAt: true, validationError: true, info: true } as const
  const [base, junior, dataset, evalDataset, baseCheckpoint, clonedFrom] = await Promise.all([
    db.baseModel.findUnique({ where: { id: design.baseModelId }, select: modelSelect }),
    design.juniorModelId ? db.baseModel.findUnique({ where: { id: design.juniorModelId }, select: modelSelect }) : null,
    db.dataset.findUnique({ where: { id: design.datasetId }, select: { rowCount: true } }),
    db.dataset.findUnique({ where: { id: design.evalDatasetId }, select: { rowCount: true } }),
    baseModelCheckpoint(db, design.baseModelId),
    design.clonedFromId ? db.experiment.findUnique({ where: { id: design.clonedFromId }, select: { id: true } }) : null,
  ])
  const errors: FieldErrors = {}
  const modelProblem = (m: ModelRow) =>
    m.validatedAt ? null : m.validationError ? 'This model failed validation' : 'This model is still being validated'
  if (!base) errors.baseModelId = ['Unknown base model']
  else if (modelProblem(base)) errors.baseModelId = [modelProblem(base)!]
  else if (!baseCheckpoint) errors.baseModelId = ['This model has no checkpoint of its own weights to evaluate; re-validate it']
  if (design.juniorModelId) {
    if (!junior) errors.juniorModelId = ['Unknown junior model']
    else if (modelProblem(junior)) errors.juniorModelId = [modelProblem(junior)!]
    else if (base && !base.validationError) {
      const [s, j] = [tokenizerOf(base), tokenizerOf(junior)]
      const differs = (['tokenizerClass', 'vocabSize', 'eosToken'] as const).filter((k) => s[k] !== undefined && j[k] !== undefined && s[k] !== j[k])
      if (differs.length) {
        errors.juniorModelId = [
          `The junior must share the senior's tokenizer; they differ in ${differs.map((k) => `${k} (${String(j[k])} vs ${String(s[k])})`).join(', ')}`,
        ]
      }
    }
  }
  if (!dataset) errors.datasetId = ['Unknown dataset']
  else if (dataset.rowCount === 0) errors.datasetId = ['This dataset has no problems']
  if (!evalDataset) errors.evalDatasetId = ['Unknown dataset']
  else if (evalDataset.rowCount === 0) errors.evalDatasetId = ['This dataset has no problems']
  if (design.clonedFromId && !clonedFrom) errors.clonedFromId = ['Unknown experiment to clone from']
  if (Object.keys(errors).length) throw fieldError(errors)
  return { baseCheckpointId: baseCheckpoint!.id }
}

/** The checkpoint of a registered model's own weights (recorded by its validation), as evaluations of a base use. */
function baseModelCheckpoint(db: Db | Prisma.TransactionClient, baseModelId: string) {
  return db.checkpoint.findFirst({
    where: { baseModelId, runId: null, format: EVALUABLE_FORMAT },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true },
  })
}

async function ownedExperiment(ctx: { db: Db; user: User }, id: string, verb: string) {
  const experiment = await ctx.db.experiment.findUnique({ where: { id }, select: { id: true, ownerId: true, status: true, priority: true } })
  if (!experiment) throw new TRPCError({ code: 'NOT_FOUND', message: `No experiment ${id}` })
  requireArtefactOwner(ctx.user, experiment.ownerId, 'the experiment’s', verb)
  return experiment
}

/** The design as stored, read back into the create form's shape (clone, the archive's experiment.json). */
export function designOf(experiment: {
  name: string; baseModelId: string; juniorModelId: string | null; datasetId: string; evalDatasetId: string
  config: Prisma.JsonValue; arms: Prisma.JsonValue; seeds: number[]; evaluation: Prisma.JsonValue
}) {
  return {
    name: experiment.name,
    baseModelId: experiment.baseModelId,
    juniorModelId: experiment.juniorModelId ?? undefined,
    datasetId: experiment.datasetId,
    evalDatasetId: experiment.evalDatasetId,
    config: experiment.config as Record<string, number | string | boolean | null>,
    arms: experiment.arms as unknown as Arm[],
    seeds: experiment.seeds,
    evaluation: experiment.evaluation as unknown as ExperimentDesign['evaluation'],
  }
}

export const experimentsRouter = createTRPCRouter({
  list: researcherProcedure.input(pageSchema).query(async ({ ctx, input }) => {
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.experiment.count(),
      ctx.db.experiment.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...skipTake(input),
        select: {
          id: true, name: true, status: true, arms: true, seeds: true, createdAt: true, finishedAt: true, reportedAt: true,
          baseModel: { select: { name: true } },
          owner: { select: { email: true } },
          runs: { select: { currentStep: true, maxSteps: true, status: true } },
        },
      }),
    ])
    return paged(
      rows.map(({ baseModel, owner, runs, arms, ...e }) => {
        const done = runs.reduce((sum, r) => sum + Math.min(r.currentStep, r.maxSteps), 0)
        const all = runs.reduce((sum, r) => sum + r.maxSteps, 0)
        return {
          ...e,
          arms: (arms as unknown as Arm[]).map((a) => ({ name: a.name, algorithm: a.algorithm })),
          baseModelName: baseModel.name,
          ownerEmail: owner.email,
          runCount: runs.length,
          runsFinished: runs.filter((r) => r.status === 'SUCCEEDED').length,
          // share of all training steps done (evaluations come after)
          progress: all ? done / all : 0,
        }
      }),
      total,
      input,
    )
  }),

  /** The experiment, its runs with their progress, its evaluations, and the claims report once computed. */
  get: researcherProcedure.input(experimentIdSchema).query(async ({ ctx, input }) => {
    const experiment = await ctx.db.experiment.findUnique({
      where: { id: input.id },
      include: {
        baseModel: { select: { id: true, name: true } },
        juniorModel: { select: { id: true, name: true } },
        dataset: { select: { id: true, name: true } },
        evalDataset: { select: { id: true, name: true } },
        owner: { select: { id: true, email: true } },
        clonedFrom: { select: { id: true, name: true } },
        runs: {
          orderBy: [{ armName: 'asc' }, { seed: 'asc' }],
          select: {
            id: true, name: true, armName: true, seed: true, algorithm: true, status: true, currentStep: true, maxSteps: true,
            error: true, startedAt: true, finishedAt: true,
            jobs: { where: { kind: 'TRAIN' }, orderBy: { createdAt: 'desc' }, take: 1, select: { id: true, status: true, progressMessage: true } },
          },
        },
        evaluations: {
          orderBy: { createdAt: 'asc' },
          select: {
            id: true, status: true, suites: true, createdAt: true,
            checkpoint: { select: { id: true, step: true, runId: true, baseModelId: true, run: { select: { armName: true, seed: true } } } },
            reports: { select: { suite: true, metrics: true } },
            jobs: { where: { kind: 'EVALUATE' }, orderBy: { createdAt: 'desc' }, take: 1, select: { status: true, progress: true, error: true } },
          },
        },
      },
    })
    if (!experiment) throw new TRPCError({ code: 'NOT_FOUND', message: `No experiment ${input.id}` })
    const mayControl = canMutateArtefact(ctx.user, experiment.ownerId)
    const runs = experiment.runs.map(({ jobs, ...run }) => ({ ...run, job: jobs[0] ?? null }))
    const evaluations = experiment.evaluations.map(({ jobs, checkpoint, reports, ...e }) => ({
      ...e,
      checkpointId: checkpoint.id,
      step: checkpoint.step,
      // the base's evaluation has no run
      arm: checkpoint.run?.armName ?? (checkpoint.runId ? null : 'base'),
      seed: checkpoint.run?.seed ?? null,
      runId: checkpoint.runId,
      metrics: Object.fromEntries(reports.map((r) => [r.suite, r.metrics])),
      job: jobs[0] ?? null,
    }))
    const anyActive = runs.some((r) => r.job && (ACTIVE_JOB as readonly string[]).includes(r.job.status))
      || evaluations.some((e) => e.job && (ACTIVE_JOB as readonly string[]).includes(e.job.status))
    const resumable = runs.some((r) => r.status === 'CANCELLED' || r.status === 'FAILED')
      || evaluations.some((e) => e.status === 'CANCELLED' || e.status === 'FAILED')
    return {
      ...experiment,
      arms: experiment.arms as unknown as Arm[],
      runs,
      evaluations,
      mayControl,
      canCancel: mayControl && anyActive,
      canResume: mayControl && resumable,
    }
  }),

  /**
   * Per arm and step: the mean and min–max over seeds of reward, accuracy, KL, senior share and completion length
   * (run_metrics). Steps are thinned evenly past MAX_CURVE_POINTS per arm, so a 2,000-step experiment loads like a
   * short one; `stride` says by how much.
   */
  curves: researcherProcedure.input(experimentCurvesSchema).query(async ({ ctx, input }) => {
    const exists = await ctx.db.experiment.findUnique({ where: { id: input.id }, select: { id: true } })
    if (!exists) throw new TRPCError({ code: 'NOT_FOUND', message: `No experiment ${input.id}` })
    const [last] = await ctx.db.$queryRaw<{ max_step: number | null }[]>`
      SELECT max(m.step) AS max_step FROM run_metrics m JOIN training_runs r ON r.id = m.run_id WHERE r.experiment_id = ${input.id}`
    const stride = Math.max(1, Math.ceil((last?.max_step ?? 0) / MAX_CURVE_POINTS))
    const rows = await ctx.db.$queryRaw<
      {
        arm: string; step: number; seeds: number
        reward_mean: number | null; reward_min: number | null; reward_max: number | null
        accuracy_mean: number | null; accuracy_min: number | null; accuracy_max: number | null
        kl_mean: number | null; kl_min: number | null; kl_max: number | null
        senior_mean: number | null; senior_min: number | null; senior_max: number | null
        length_mean: number | null; length_min: number | null; length_max: number | null
      }[]
    >`
      SELECT r.arm_name AS arm, m.step, count(*)::int AS seeds,
             avg(m.reward) AS reward_mean, min(m.reward) AS reward_min, max(m.reward) AS reward_max,
             avg(m.accuracy) AS accuracy_mean, min(m.accuracy) AS accuracy_min, max(m.accuracy) AS accuracy_max,
             avg(m.kl) AS kl_mean, min(m.kl) AS kl_min, max(m.kl) AS kl_max,
             avg(m.senior_token_share) AS senior_mean, min(m.senior_token_share) AS senior_min, max(m.senior_token_share) AS senior_max,
             avg(m.completion_length) AS length_mean, min(m.completion_length) AS length_min, max(m.completion_length) AS length_max
      FROM run_metrics m JOIN training_runs r ON r.id = m.run_id
      WHERE r.experiment_id = ${input.id} AND r.arm_name IS NOT NULL
        AND (m.step % ${stride} = 0 OR m.step = r.current_step OR m.step = r.max_steps)
      GROUP BY r.arm_name, m.step
      ORDER BY r.arm_name, m.step`
    const band = (mean: number | null, low: number | null, high: number | null) => ({ mean, low, high })
    const arms = new Map<string, unknown[]>()
    for (const r of rows) {
      const points = arms.get(r.arm) ?? []
      points.push({
        step: r.step,
        seeds: r.seeds,
        reward: band(r.reward_mean, r.reward_min, r.reward_max),
        accuracy: band(r.accuracy_mean, r.accuracy_min, r.accuracy_max),
        kl: band(r.kl_mean, r.kl_min, r.kl_max),
        seniorShare: band(r.senior_mean, r.senior_min, r.senior_max),
        completionLength: band(r.length_mean, r.length_min, r.length_max),
      })
      arms.set(r.arm, points)
    }
    type Band = { mean: number | null; low: number | null; high: number | null }
    type Point = { step: number; seeds: number; reward: Band; accuracy: Band; kl: Band; seniorShare: Band; completionLength: Band }
    return { stride, arms: [...arms].map(([arm, points]) => ({ arm, points: points as Point[] })) }
  }),

  create: researcherProcedure.input(createExperimentSchema).mutation(async ({ ctx, input }) => {
    const { baseCheckpointId } = await checkDesignTargets(ctx.db, input)
    const priority = experimentPriority()
    const juniorCheckpoint = input.juniorModelId ? await baseModelCheckpoint(ctx.db, input.juniorModelId) : null
    const evaluation = { suites: input.evaluation.suites, settings: input.evaluation.settings }
    return ctx.db.$transaction(async (tx) => {
      const experiment = await tx.experiment.create({
        data: {
          name: input.name,
          ownerId: ctx.user.id,
          baseModelId: input.baseModelId,
          juniorModelId: input.juniorModelId ?? null,
          datasetId: input.datasetId,
          evalDatasetId: input.evalDatasetId,
          config: input.config as Prisma.InputJsonValue,
          arms: input.arms as unknown as Prisma.InputJsonValue,
          seeds: input.seeds,
          evaluation: evaluation as unknown as Prisma.InputJsonValue,
          priority,
          clonedFromId: input.clonedFromId ?? null,
        },
        select: { id: true },
      })
      const runs: { id: string; jobId: string; arm: string; seed: number }[] = []
      for (const arm of input.arms) {
        for (const seed of input.seeds) {
          const config = armRunConfig(input.config, arm, seed)
          const run = await tx.trainingRun.create({
            data: {
              name: experimentRunName(input.name, arm.name, seed),
              algorithm: runAlgorithm(arm),
              config: config as Prisma.InputJsonValue,
              seed,
              maxSteps: config.max_steps as number,
              ownerId: ctx.user.id,
              baseModelId: input.baseModelId,
              juniorModelId: input.juniorModelId ?? null,
              datasetId: input.datasetId,
              experimentId: experiment.id,
              armName: arm.name,
            },
            select: { id: true },
          })
          const jobId = await enqueueJob(tx, {
            kind: 'TRAIN', payload: { runId: run.id }, trainingRunId: run.id, createdById: ctx.user.id, experimentId: experiment.id, priority,
          })
          runs.push({ id: run.id, jobId, arm: arm.name, seed })
        }
      }
      // the base, evaluated like every final checkpoint will be (the worker adds those as each run finishes)
      const baseEvaluation = await tx.evaluationRun.create({
        data: {
          checkpointId: baseCheckpointId,
          juniorCheckpointId: juniorCheckpoint?.id ?? null,
          suites: evaluation.suites,
          settings: workerSettings(input.evalDatasetId, evaluation.settings),
          createdById: ctx.user.id,
          experimentId: experiment.id,
        },
        select: { id: true },
      })
      const baseJobId = await enqueueJob(tx, {
        kind: 'EVALUATE', payload: { evaluationRunId: baseEvaluation.id }, evaluationRunId: baseEvaluation.id, createdById: ctx.user.id,
        experimentId: experiment.id, priority,
      })
      await audit(tx, {
        actorId: ctx.user.id,
        action: 'experiment.create',
        entity: 'experiments',
        entityId: experiment.id,
        details: {
          name: input.name, priority, clonedFromId: input.clonedFromId ?? null,
          runs: runs.map((r) => ({ runId: r.id, jobId: r.jobId, arm: r.arm, seed: r.seed })),
          baseEvaluation: { id: baseEvaluation.id, jobId: baseJobId },
        } as Prisma.InputJsonValue,
      })
      return { id: experiment.id, priority, runs, baseEvaluation: { id: baseEvaluation.id, jobId: baseJobId } }
    })
  }),

  /** Cancels every run's TRAIN job and every queued or running evaluation and report of the experiment. */
  cancel: researcherProcedure.input(experimentIdSchema).mutation(async ({ ctx, input }) => {
    const experiment = await ownedExperiment(ctx, input.id, 'cancel')
    return ctx.db.$transaction(async (tx) => {
      const jobs = await tx.job.findMany({
        where: {
          status: { in: ['QUEUED', 'RUNNING'] },
          OR: [
            { experimentId: experiment.id },
            { trainingRun: { experimentId: experiment.id } },
            { evaluationRun: { experimentId: experiment.id } },
          ],
        },
        select: { id: true, kind: true, trainingRunId: true, evaluationRunId: true },
      })
      if (jobs.length === 0) {
        throw new TRPCError({ code: 'CONFLICT', message: `The experiment is ${experiment.status.toLowerCase()}; nothing of it is queued or running` })
      }
      const outcomes: { jobId: string; kind: string; jobStatus: string }[] = []
      for (const job of jobs) {
        const jobStatus = await requestCancel(tx, job.id)
        if (!jobStatus) continue
        outcomes.push({ jobId: job.id, kind: job.kind, jobStatus })
        if (jobStatus !== 'CANCELLED') continue
        // never started: nothing will write to its run or evaluation again (a running one is stopped by its worker)
        if (job.trainingRunId) {
          await tx.trainingRun.updateMany({ where: { id: job.trainingRunId, status: { in: ['QUEUED', 'RUNNING'] } }, data: { status: 'CANCELLED', finishedAt: new Date() } })
        }
        if (job.evaluationRunId) {
          await tx.evaluationRun.updateMany({ where: { id: job.evaluationRunId, status: { in: ['QUEUED', 'RUNNING'] } }, data: { status: 'CANCELLED' } })
        }
      }
      // with nothing left running no worker will settle the experiment, so its status is set here; a job still
      // stopping is settled by its worker when it ends (runner/experiments.py)
      if (!outcomes.some((o) => o.jobStatus === 'CANCEL_REQUESTED')) {
        await tx.experiment.update({ where: { id: experiment.id }, data: { status: 'CANCELLED', finishedAt: new Date() } })
      }
      await audit(tx, { actorId: ctx.user.id, action: 'experiment.cancel', entity: 'experiments', entityId: experiment.id, details: { jobs: outcomes } })
      return { cancelled: outcomes }
    })
  }),

  /** Cancelled or failed runs continue from their last checkpoint; cancelled or failed evaluations run again. */
  resume: researcherProcedure.input(experimentIdSchema).mutation(async ({ ctx, input }) => {
    const experiment = await ownedExperiment(ctx, input.id, 'resume')
    return ctx.db.$transaction(async (tx) => {
      const runs = await tx.trainingRun.findMany({
        where: { experimentId: experiment.id, status: { in: ['CANCELLED', 'FAILED'] }, jobs: { none: { kind: 'TRAIN', status: { in: [...ACTIVE_JOB] } } } },
        select: { id: true },
      })
      const evaluations = await tx.evaluationRun.findMany({
        where: { experimentId: experiment.id, status: { in: ['CANCELLED', 'FAILED'] }, jobs: { none: { kind: 'EVALUATE', status: { in: [...ACTIVE_JOB] } } } },
        select: { id: true },
      })
      const resumed: { runs: { id: string; jobId: string }[]; evaluations: { id: string; jobId: string }[] } = { runs: [], evaluations: [] }
      for (const run of runs) {
        // the status condition makes two concurrent resumes enqueue one job, not two
        const updated = await tx.trainingRun.updateMany({
          where: { id: run.id, status: { in: ['CANCELLED', 'FAILED'] } },
          data: { status: 'QUEUED', finishedAt: null, error: null },
        })
        if (updated.count === 0) continue
        const jobId = await enqueueJob(tx, {
          kind: 'TRAIN', payload: { runId: run.id }, trainingRunId: run.id, createdById: ctx.user.id, experimentId: experiment.id, priority: experiment.priority,
        })
        resumed.runs.push({ id: run.id, jobId })
      }
      for (const evaluation of evaluations) {
        const updated = await tx.evaluationRun.updateMany({ where: { id: evaluation.id, status: { in: ['CANCELLED', 'FAILED'] } }, data: { status: 'QUEUED' } })
        if (updated.count === 0) continue
        const jobId = await enqueueJob(tx, {
          kind: 'EVALUATE', payload: { evaluationRunId: evaluation.id }, evaluationRunId: evaluation.id, createdById: ctx.user.id,
          experimentId: experiment.id, priority: experiment.priority,
        })
        resumed.evaluations.push({ id: evaluation.id, jobId })
      }
      if (resumed.runs.length === 0 && resumed.evaluations.length === 0) {
        throw new TRPCError({ code: 'CONFLICT', message: `The experiment is ${experiment.status.toLowerCase()}; it has no cancelled or failed run or evaluation to resume` })
      }
      await tx.experiment.update({ where: { id: experiment.id }, data: { status: 'RUNNING', finishedAt: null } })
      await audit(tx, { actorId: ctx.user.id, action: 'experiment.resume', entity: 'experiments', entityId: experiment.id, details: resumed })
      return resumed
    })
  }),

  /** The experiment's design, prefilled for the new-experiment form (changes nothing; the form calls `create`). */
  clone: researcherProcedure.input(experimentIdSchema).query(async ({ ctx, input }) => {
    const experiment = await ctx.db.experiment.findUnique({ where: { id: input.id } })
    if (!experiment) throw new TRPCError({ code: 'NOT_FOUND', message: `No experiment ${input.id}` })
    const design = designOf(experiment)
    return { ...design, name: `${design.name} (copy)`, clonedFromId: experiment.id }
  }),
})
