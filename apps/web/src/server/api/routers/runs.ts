// Training runs: list, inspect (run, metrics, log tail, the rollouts kept per step), launch one run or a TRL/GRPO pair, cancel, resume, and
// export a checkpoint to ONNX (EXPORT_ONNX) for live sessions.
// Each mutation writes its rows, its job and its audit entry in one transaction.
import { randomUUID } from 'node:crypto'

import { TRPCError } from '@trpc/server'
import { z } from 'zod'

import type { Prisma } from '../../../generated/prisma/client'
import { audit } from '../../audit'
import { canMutateArtefact, requireArtefactOwner } from '../../auth/access'
import { enqueueJob, requestCancel } from '../../jobs'
import { fieldError, type FieldErrors } from '../errors'
import { paged, skipTake } from '../pagination'
import { createTRPCRouter, researcherProcedure, type Context } from '../trpc'
import {
  compareRunsSchema,
  exportOnnxSchema,
  launchPairSchema,
  launchRunSchema,
  listRunsSchema,
  runIdSchema,
  runLogsSchema,
  runMetricsSchema,
  runRolloutsSchema,
  toTandemConfig,
  type Algorithm,
} from './runs.schema'

const ACTIVE_JOB = ['QUEUED', 'RUNNING', 'CANCEL_REQUESTED'] as const

/** The charts draw at most this many points per series; longer histories are thinned evenly (last step kept). */
export const MAX_CHART_POINTS = 2000
/** The compare page overlays up to MAX_COMPARE_RUNS runs per chart, each thinned to this many points. */
export const MAX_COMPARE_POINTS = 1000

/** The stored step nearest to `wanted` (the earlier one on a tie), or null when none is stored. */
function nearest(steps: number[], wanted: number): number | null {
  let best: number | null = null
  for (const s of steps) if (best === null || Math.abs(s - wanted) < Math.abs(best - wanted)) best = s
  return best
}

const rolloutSpanSchema = z.object({
  author: z.enum(['senior', 'junior']),
  text: z.string(),
  start: z.number().int().min(0),
  end: z.number().int().min(0),
})

/** A sample's author spans as the worker wrote them; a malformed span is left out (its text is then drawn plain). */
function rolloutSpans(value: Prisma.JsonValue): z.infer<typeof rolloutSpanSchema>[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((span) => {
    const parsed = rolloutSpanSchema.safeParse(span)
    return parsed.success ? [parsed.data] : []
  })
}

type Db = Context['db']
type User = { id: string; role: 'ADMIN' | 'RESEARCHER' }

/**
 * A run's metric rows after `afterStep`, oldest first; more than `maxPoints` are thinned evenly, counting back from
 * the newest step (always kept), and `stride` says by how much.
 */
async function thinnedMetrics(db: Db, runId: string, afterStep: number, maxPoints: number) {
  const total = await db.runMetric.count({ where: { runId, step: { gt: afterStep } } })
  const stride = Math.max(1, Math.ceil(total / maxPoints))
  const rows = await db.$queryRaw<
    {
      step: number; reward: number | null; accuracy: number | null; kl: number | null; clip_fraction: number | null
      entropy: number | null; senior_token_share: number | null; zero_signal_groups: number | null; groups: number | null
      tokens_per_second: number | null; loss: number | null; grad_norm: number | null; completion_length: number | null
      elapsed_s: number | null
    }[]
  >`
    SELECT step, reward, accuracy, kl, clip_fraction, entropy, senior_token_share, zero_signal_groups, groups,
           tokens_per_second, loss, grad_norm, completion_length, elapsed_s
    FROM (SELECT m.*, row_number() OVER (ORDER BY step DESC) - 1 AS from_end
          FROM run_metrics m WHERE run_id = ${runId} AND step > ${afterStep}) numbered
    WHERE from_end % ${stride} = 0
    ORDER BY step`
  return {
    total,
    stride,
    rows: rows.map((r) => ({
      step: r.step, reward: r.reward, accuracy: r.accuracy, kl: r.kl, clipFraction: r.clip_fraction, entropy: r.entropy,
      seniorTokenShare: r.senior_token_share, zeroSignalGroups: r.zero_signal_groups, groups: r.groups,
      tokensPerSecond: r.tokens_per_second, loss: r.loss, gradNorm: r.grad_norm, completionLength: r.completion_length,
      elapsedSeconds: r.elapsed_s,
    })),
  }
}

/** A metric's value at the newest step that logged it. */
export interface FinalValue {
  value: number
  step: number
}

/** Per run id: reward and accuracy at the newest step that logged each (null where none did). */
async function finalMetrics(db: Db, runIds: string[]) {
  const out = new Map<string, { reward: FinalValue | null; accuracy: FinalValue | null }>()
  if (runIds.length === 0) return out
  const rows = await db.$queryRaw<
    { run_id: string; reward: number | null; reward_step: number | null; accuracy: number | null; accuracy_step: number | null }[]
  >`
    SELECT r.id AS run_id, rw.reward, rw.step AS reward_step, ac.accuracy, ac.step AS accuracy_step
    FROM unnest(${runIds}::text[]) AS r(id)
    LEFT JOIN LATERAL (SELECT reward, step FROM run_metrics m WHERE m.run_id = r.id AND m.reward IS NOT NULL
                       ORDER BY step DESC LIMIT 1) rw ON true
    LEFT JOIN LATERAL (SELECT accuracy, step FROM run_metrics m WHERE m.run_id = r.id AND m.accuracy IS NOT NULL
                       ORDER BY step DESC LIMIT 1) ac ON true`
  for (const r of rows) {
    out.set(r.run_id, {
      reward: r.reward != null && r.reward_step != null ? { value: r.reward, step: r.reward_step } : null,
      accuracy: r.accuracy != null && r.accuracy_step != null ? { value: r.accuracy, step: r.accuracy_step } : null,
    })
  }
  return out
}

/**
 * Wall-clock seconds from the run's first start to its end (to now while it runs; resumes and waits included);
 * null before it started, and while a resumed run waits in the queue.
 */
export function runDurationSeconds(run: { status: string; startedAt: Date | null; finishedAt: Date | null }, now = new Date()): number | null {
  if (!run.startedAt) return null
  const end = run.finishedAt ?? (run.status === 'RUNNING' ? now : null)
  return end ? Math.max(0, (end.getTime() - run.startedAt.getTime()) / 1000) : null
}

/**
 * The settings whose values differ between runs, in the order first seen, each with every run's value as text
 * (a string as is, null as "none", other values as JSON, "—" where a run lacks the field): what a comparison of
 * curves must be read against.
 */
export function configDifferences(configs: Record<string, unknown>[]): { field: string; values: string[] }[] {
  const fields = [...new Set(configs.flatMap((c) => Object.keys(c)))]
  const text = (c: Record<string, unknown>, field: string) => {
    if (!(field in c)) return '—'
    const value = c[field]
    return value === null ? 'none' : typeof value === 'string' ? value : JSON.stringify(value)
  }
  return fields.flatMap((field) => {
    const same = new Set(configs.map((c) => (field in c ? JSON.stringify(c[field]) : undefined))).size === 1
    return same ? [] : [{ field, values: configs.map((c) => text(c, field)) }]
  })
}

const runSummarySelect = {
  id: true, name: true, algorithm: true, status: true, currentStep: true, maxSteps: true, createdAt: true,
  startedAt: true, finishedAt: true, pairId: true,
  baseModel: { select: { name: true } },
  owner: { select: { email: true } },
} satisfies Prisma.TrainingRunSelect

type RunSummaryRow = Prisma.TrainingRunGetPayload<{ select: typeof runSummarySelect }>

/** What the runs list and the compare page show of a run: its final reward and accuracy, steps and duration. */
async function summarise(db: Db, rows: RunSummaryRow[]) {
  const finals = await finalMetrics(db, rows.map((r) => r.id))
  const pairIds = [...new Set(rows.flatMap((r) => (r.pairId ? [r.pairId] : [])))]
  const paired = pairIds.length
    ? await db.trainingRun.findMany({ where: { pairId: { in: pairIds } }, select: { id: true, pairId: true } })
    : []
  const now = new Date()
  return rows.map(({ baseModel, owner, ...run }) => ({
    ...run,
    baseModelName: baseModel.name,
    ownerEmail: owner.email,
    // the other run of its TRL/GRPO pair, to compare the two
    partnerId: run.pairId ? (paired.find((p) => p.pairId === run.pairId && p.id !== run.id)?.id ?? null) : null,
    finalReward: finals.get(run.id)?.reward ?? null,
    finalAccuracy: finals.get(run.id)?.accuracy ?? null,
    durationSeconds: runDurationSeconds(run, now),
  }))
}

export type OnnxExportState =
  | { status: 'exported'; checkpointId: string }
  | { status: 'QUEUED' | 'RUNNING' | 'FAILED'; jobId: string; error: string | null }

/**
 * Per hf-safetensors checkpoint: its ONNX export (an 'onnx' row of the same run and step), else the state of its
 * newest EXPORT_ONNX job, if any.
 */
async function onnxExports(db: Db, checkpoints: { id: string; runId: string | null; step: number; format: string }[]): Promise<Map<string, OnnxExportState>> {
  const sources = checkpoints.filter((c) => c.format === 'hf-safetensors')
  const out = new Map<string, OnnxExportState>()
  if (sources.length === 0) return out
  for (const c of sources) {
    const exported = checkpoints.find((o) => o.format === 'onnx' && o.step === c.step && o.runId === c.runId)
    if (exported) out.set(c.id, { status: 'exported', checkpointId: exported.id })
  }
  const jobs = await db.$queryRaw<{ id: string; status: string; error: string | null; checkpointId: string }[]>`
    SELECT DISTINCT ON (payload ->> 'checkpointId') id, status::text AS status, error, payload ->> 'checkpointId' AS "checkpointId"
    FROM jobs WHERE kind = 'EXPORT_ONNX' AND payload ->> 'checkpointId' = ANY(${sources.map((c) => c.id)})
    ORDER BY payload ->> 'checkpointId', created_at DESC`
  for (const job of jobs) {
    if (out.has(job.checkpointId)) continue
    const status = job.status === 'RUNNING' || job.status === 'CANCEL_REQUESTED' ? 'RUNNING' : job.status === 'QUEUED' ? 'QUEUED' : job.status === 'FAILED' ? 'FAILED' : null
    if (status) out.set(job.checkpointId, { status, jobId: job.id, error: job.error })
  }
  return out
}

/** Base model, junior and dataset must exist and be usable; field errors otherwise. */
async function checkLaunchTargets(db: Db, input: { baseModelId: string; juniorModelId?: string; datasetId: string }) {
  const [baseModel, junior, dataset] = await Promise.all([
    db.baseModel.findUnique({ where: { id: input.baseModelId }, select: { validatedAt: true, validationError: true } }),
    input.juniorModelId
      ? db.baseModel.findUnique({ where: { id: input.juniorModelId }, select: { validatedAt: true, validationError: true } })
      : null,
    db.dataset.findUnique({ where: { id: input.datasetId }, select: { rowCount: true } }),
  ])
  const errors: FieldErrors = {}
  const modelProblem = (m: { validatedAt: Date | null; validationError: string | null }) =>
    m.validatedAt ? null : m.validationError ? 'This model failed validation' : 'This model is still being validated'
  if (!baseModel) errors.baseModelId = ['Unknown base model']
  else if (modelProblem(baseModel)) errors.baseModelId = [modelProblem(baseModel)!]
  if (input.juniorModelId) {
    if (!junior) errors.juniorModelId = ['Unknown junior model']
    else if (modelProblem(junior)) errors.juniorModelId = [modelProblem(junior)!]
  }
  if (!dataset) errors.datasetId = ['Unknown dataset']
  else if (dataset.rowCount === 0) errors.datasetId = ['This dataset has no problems']
  if (Object.keys(errors).length) throw fieldError(errors)
}

async function createRun(
  tx: Prisma.TransactionClient,
  user: User,
  input: Parameters<typeof toTandemConfig>[0],
  algorithm: Algorithm,
  name: string,
  pairId: string | null,
) {
  const config = toTandemConfig(input, algorithm)
  const run = await tx.trainingRun.create({
    data: {
      name,
      algorithm,
      config: config as Prisma.InputJsonValue,
      seed: config.seed as number,
      maxSteps: config.max_steps as number,
      ownerId: user.id,
      baseModelId: input.baseModelId,
      juniorModelId: input.juniorModelId ?? null,
      datasetId: input.datasetId,
      pairId,
    },
    select: { id: true },
  })
  const jobId = await enqueueJob(tx, { kind: 'TRAIN', payload: { runId: run.id }, trainingRunId: run.id, createdById: user.id })
  await audit(tx, {
    actorId: user.id,
    action: 'run.launch',
    entity: 'training_runs',
    entityId: run.id,
    details: {
      jobId, name, algorithm, pairId, baseModelId: input.baseModelId, juniorModelId: input.juniorModelId ?? null,
      datasetId: input.datasetId, config,
    },
  })
  return { id: run.id, jobId }
}

async function ownedRun(ctx: { db: Db; user: User }, id: string, verb: string) {
  const run = await ctx.db.trainingRun.findUnique({ where: { id }, select: { id: true, ownerId: true, status: true } })
  if (!run) throw new TRPCError({ code: 'NOT_FOUND', message: `No training run ${id}` })
  requireArtefactOwner(ctx.user, run.ownerId, 'the run’s', verb)
  return run
}

export const runsRouter = createTRPCRouter({
  list: researcherProcedure.input(listRunsSchema).query(async ({ ctx, input }) => {
    const where: Prisma.TrainingRunWhereInput = {
      ...(input.status ? { status: input.status } : {}),
      ...(input.algorithm ? { algorithm: input.algorithm } : {}),
      ...(input.search ? { OR: [{ name: { contains: input.search, mode: 'insensitive' } }, { id: input.search }] } : {}),
    }
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.trainingRun.count({ where }),
      ctx.db.trainingRun.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], ...skipTake(input), select: runSummarySelect }),
    ])
    return paged(await summarise(ctx.db, rows), total, input)
  }),

  /**
   * Runs side by side: each one's summary, config and metric rows (thinned to MAX_COMPARE_POINTS), in the order
   * asked, and the config fields that differ between them. An unknown id is a field error naming it.
   */
  compare: researcherProcedure.input(compareRunsSchema).query(async ({ ctx, input }) => {
    const found = await ctx.db.trainingRun.findMany({
      where: { id: { in: input.ids } },
      select: {
        ...runSummarySelect, seed: true, config: true,
        juniorModel: { select: { name: true } },
        dataset: { select: { name: true } },
      },
    })
    const byId = new Map(found.map((r) => [r.id, r]))
    const missing = input.ids.filter((id) => !byId.has(id))
    if (missing.length) throw fieldError({ ids: missing.map((id) => `No training run ${id}`) }, 'Unknown training runs')
    const ordered = input.ids.map((id) => byId.get(id)!)
    const summaries = await summarise(ctx.db, ordered)
    const metrics = await Promise.all(ordered.map((r) => thinnedMetrics(ctx.db, r.id, 0, MAX_COMPARE_POINTS)))
    const configs = ordered.map((r) => (r.config ?? {}) as Record<string, unknown>)
    // what was trained on and with, beside the config: a curve is read against all of it
    const setups = ordered.map((r, i) => ({
      base_model: r.baseModel.name, junior_model: r.juniorModel?.name ?? null, dataset: r.dataset.name, ...configs[i],
    }))
    return {
      runs: ordered.map((r, i) => ({
        ...summaries[i]!,
        seed: r.seed,
        config: configs[i]!,
        juniorModelName: r.juniorModel?.name ?? null,
        datasetName: r.dataset.name,
        metrics: metrics[i]!,
      })),
      differences: configDifferences(setups),
    }
  }),

  /** The run without its metrics (see `metrics`) and logs (see `logs`). */
  get: researcherProcedure.input(runIdSchema).query(async ({ ctx, input }) => {
    const run = await ctx.db.trainingRun.findUnique({
      where: { id: input.id },
      include: {
        baseModel: { select: { id: true, name: true } },
        juniorModel: { select: { id: true, name: true } },
        dataset: { select: { id: true, name: true } },
        owner: { select: { id: true, email: true } },
        checkpoints: { orderBy: [{ step: 'asc' }, { createdAt: 'asc' }] },
        jobs: {
          where: { kind: 'TRAIN' },
          orderBy: { createdAt: 'desc' },
          take: 1,
          select: { id: true, status: true, attempts: true, error: true, progress: true, progressMessage: true },
        },
      },
    })
    if (!run) throw new TRPCError({ code: 'NOT_FOUND', message: `No training run ${input.id}` })
    const pair = run.pairId
      ? await ctx.db.trainingRun.findMany({
          where: { pairId: run.pairId, id: { not: run.id } },
          select: { id: true, name: true, algorithm: true, status: true },
        })
      : []
    const { jobs, checkpoints, ...rest } = run
    const job = jobs[0] ?? null
    const exports = await onnxExports(ctx.db, checkpoints)
    const mayControl = canMutateArtefact(ctx.user, run.ownerId)
    const jobActive = job != null && (ACTIVE_JOB as readonly string[]).includes(job.status)
    return {
      ...rest,
      job,
      pair,
      // sizes fit a double (< 2^53 bytes); plain numbers are easier on the client than bigint
      checkpoints: checkpoints.map((c) => ({ ...c, sizeBytes: Number(c.sizeBytes), onnx: exports.get(c.id) ?? null })),
      canCancel: mayControl && job != null && (job.status === 'QUEUED' || job.status === 'RUNNING'),
      canResume: mayControl && !jobActive && (run.status === 'CANCELLED' || run.status === 'FAILED'),
    }
  }),

  /**
   * Metric rows after `afterStep`, oldest first. The run page loads all once, then polls for new steps.
   * Longer histories than MAX_CHART_POINTS are thinned evenly (the newest step always kept) so a 10k-step
   * run loads as fast as a short one; `stride` says by how much.
   */
  metrics: researcherProcedure.input(runMetricsSchema).query(async ({ ctx, input }) => {
    const exists = await ctx.db.trainingRun.findUnique({ where: { id: input.id }, select: { id: true } })
    if (!exists) throw new TRPCError({ code: 'NOT_FOUND', message: `No training run ${input.id}` })
    return thinnedMetrics(ctx.db, input.id, input.afterStep, MAX_CHART_POINTS)
  }),

  /** The run's job log lines (all its TRAIN jobs): the newest `limit`, or those after `after`. */
  logs: researcherProcedure.input(runLogsSchema).query(async ({ ctx, input }) => {
    const exists = await ctx.db.trainingRun.findUnique({ where: { id: input.id }, select: { id: true } })
    if (!exists) throw new TRPCError({ code: 'NOT_FOUND', message: `No training run ${input.id}` })
    const where = { job: { trainingRunId: input.id }, ...(input.after ? { id: { gt: BigInt(input.after) } } : {}) }
    const rows = await ctx.db.jobLog.findMany({
      where,
      // first lines after a cursor; otherwise the tail
      orderBy: { id: input.after ? 'asc' : 'desc' },
      take: input.limit,
      select: { id: true, line: true, createdAt: true, jobId: true },
    })
    const lines = (input.after ? rows : rows.reverse()).map((r) => ({ ...r, id: r.id.toString() }))
    return { lines }
  }),

  /**
   * The rollouts the worker kept for the run page (workers/trainer/src/tandem/rollout_log.py): every step that has
   * samples, and one step's samples (filtered, paged, in group then sample order) with how many match each filter.
   * `step` absent: the newest step; a step the worker has since thinned away: the nearest step still kept.
   */
  rollouts: researcherProcedure.input(runRolloutsSchema).query(async ({ ctx, input }) => {
    const exists = await ctx.db.trainingRun.findUnique({ where: { id: input.id }, select: { id: true } })
    if (!exists) throw new TRPCError({ code: 'NOT_FOUND', message: `No training run ${input.id}` })
    const grouped = await ctx.db.rolloutSample.groupBy({ by: ['step'], where: { runId: input.id }, orderBy: { step: 'asc' } })
    const steps = grouped.map((g) => g.step)
    const step = input.step === undefined ? (steps.at(-1) ?? null) : nearest(steps, input.step)
    if (step === null) return { steps, step, counts: { all: 0, correct: 0, incorrect: 0, zeroSignal: 0 }, ...paged([], 0, input) }
    const atStep = { runId: input.id, step }
    const [all, correct, zeroSignal] = await Promise.all([
      ctx.db.rolloutSample.count({ where: atStep }),
      ctx.db.rolloutSample.count({ where: { ...atStep, verdict: 'CORRECT' } }),
      ctx.db.rolloutSample.count({ where: { ...atStep, zeroSignal: true } }),
    ])
    const counts = { all, correct, incorrect: all - correct, zeroSignal }
    const filters = {
      all: {},
      correct: { verdict: 'CORRECT' as const },
      // any verdict but correct, and a missing one: all of them scored reward 0
      incorrect: { OR: [{ verdict: { not: 'CORRECT' as const } }, { verdict: null }] },
      zeroSignal: { zeroSignal: true },
    }
    const rows = await ctx.db.rolloutSample.findMany({
      where: { ...atStep, ...filters[input.filter] },
      orderBy: [{ groupIndex: 'asc' }, { sampleIndex: 'asc' }],
      ...skipTake(input),
      select: {
        id: true, groupIndex: true, sampleIndex: true, prompt: true, completion: true, spans: true, reward: true,
        verdict: true, advantage: true, zeroSignal: true,
      },
    })
    const items = rows.map((r) => ({ ...r, spans: rolloutSpans(r.spans) }))
    return { steps, step, counts, ...paged(items, counts[input.filter], input) }
  }),

  launch: researcherProcedure.input(launchRunSchema).mutation(async ({ ctx, input }) => {
    await checkLaunchTargets(ctx.db, input)
    return ctx.db.$transaction((tx) => createRun(tx, ctx.user, input, input.algorithm, input.name, null))
  }),

  /** A TRL run and a GRPO run from the same base, junior, dataset, seed and budget, linked by a pair id. */
  launchPair: researcherProcedure.input(launchPairSchema).mutation(async ({ ctx, input }) => {
    await checkLaunchTargets(ctx.db, input)
    const pairId = `pair-${randomUUID()}`
    return ctx.db.$transaction(async (tx) => {
      const trl = await createRun(tx, ctx.user, input, 'TRL', `${input.name} · TRL`, pairId)
      const grpo = await createRun(tx, ctx.user, input, 'GRPO', `${input.name} · GRPO`, pairId)
      return { pairId, trl, grpo }
    })
  }),

  cancel: researcherProcedure.input(runIdSchema).mutation(async ({ ctx, input }) => {
    const run = await ownedRun(ctx, input.id, 'cancel')
    return ctx.db.$transaction(async (tx) => {
      const job = await tx.job.findFirst({
        where: { trainingRunId: run.id, kind: 'TRAIN', status: { in: [...ACTIVE_JOB] } },
        orderBy: { createdAt: 'desc' },
        select: { id: true, status: true },
      })
      if (!job) {
        throw new TRPCError({ code: 'CONFLICT', message: `The run is ${run.status.toLowerCase()}; there is nothing to cancel` })
      }
      if (job.status === 'CANCEL_REQUESTED') return { jobId: job.id, jobStatus: job.status, runStatus: run.status }
      const jobStatus = await requestCancel(tx, job.id)
      if (!jobStatus) throw new TRPCError({ code: 'CONFLICT', message: 'The job finished meanwhile; nothing to cancel' })
      let runStatus = run.status
      if (jobStatus === 'CANCELLED') {
        // never started (or waiting for a retry): nothing will write to the run again
        await tx.trainingRun.updateMany({
          where: { id: run.id, status: { in: ['QUEUED', 'RUNNING'] } },
          data: { status: 'CANCELLED', finishedAt: new Date() },
        })
        runStatus = 'CANCELLED'
      }
      await audit(tx, {
        actorId: ctx.user.id,
        action: 'run.cancel',
        entity: 'training_runs',
        entityId: run.id,
        details: { jobId: job.id, jobStatus },
      })
      return { jobId: job.id, jobStatus, runStatus }
    })
  }),

  /** Queues an ONNX export of a checkpoint (once: while one is queued or running, that job is returned). */
  exportOnnx: researcherProcedure.input(exportOnnxSchema).mutation(async ({ ctx, input }) => {
    const checkpoint = await ctx.db.checkpoint.findUnique({ where: { id: input.checkpointId }, select: { id: true, format: true, runId: true } })
    if (!checkpoint) throw new TRPCError({ code: 'NOT_FOUND', message: `No checkpoint ${input.checkpointId}` })
    if (checkpoint.format !== 'hf-safetensors') {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `This checkpoint is ${checkpoint.format}; only hf-safetensors checkpoints export to ONNX` })
    }
    return ctx.db.$transaction(async (tx) => {
      // serialise exports of one checkpoint, so two clicks queue one job
      await tx.$queryRaw`SELECT id FROM checkpoints WHERE id = ${checkpoint.id} FOR UPDATE`
      const pending = await tx.job.findFirst({
        where: { kind: 'EXPORT_ONNX', status: { in: [...ACTIVE_JOB] }, payload: { path: ['checkpointId'], equals: checkpoint.id } },
        select: { id: true },
      })
      if (pending) return { jobId: pending.id, queued: false }
      const jobId = await enqueueJob(tx, { kind: 'EXPORT_ONNX', payload: { checkpointId: checkpoint.id }, createdById: ctx.user.id })
      await audit(tx, { actorId: ctx.user.id, action: 'checkpoint.export_onnx', entity: 'checkpoints', entityId: checkpoint.id, details: { jobId } })
      return { jobId, queued: true }
    })
  }),

  /** A cancelled or failed run continues from its newest complete checkpoint (the worker resumes it). */
  resume: researcherProcedure.input(runIdSchema).mutation(async ({ ctx, input }) => {
    const run = await ownedRun(ctx, input.id, 'resume')
    return ctx.db.$transaction(async (tx) => {
      const active = await tx.job.findFirst({
        where: { trainingRunId: run.id, kind: 'TRAIN', status: { in: [...ACTIVE_JOB] } },
        select: { id: true },
      })
      // the status condition makes two concurrent resumes enqueue one job, not two
      const updated = await tx.trainingRun.updateMany({
        where: { id: run.id, status: { in: ['CANCELLED', 'FAILED'] } },
        data: { status: 'QUEUED', finishedAt: null, error: null },
      })
      if (active || updated.count === 0) {
        throw new TRPCError({
          code: 'CONFLICT',
          message: `The run is ${run.status.toLowerCase()}; only a cancelled or failed run can be resumed`,
        })
      }
      const jobId = await enqueueJob(tx, { kind: 'TRAIN', payload: { runId: run.id }, trainingRunId: run.id, createdById: ctx.user.id })
      await audit(tx, { actorId: ctx.user.id, action: 'run.resume', entity: 'training_runs', entityId: run.id, details: { jobId } })
      return { jobId }
    })
  }),
})
