// Evaluations: which checkpoints can be evaluated, launch (one evaluation run + EVALUATE job per checkpoint, in one
// transaction, audited), list, inspect (job progress, reports), compare finished ones side by side.
import { TRPCError } from '@trpc/server'

import type { Prisma } from '../../../generated/prisma/client'
import { audit } from '../../audit'
import { mergeReports, metricLabel, orderCurveNames, orderMetricNames, parseReport, type Estimate } from '../../evaluation-reports'
import { enqueueJob } from '../../jobs'
import { fieldError, type FieldErrors } from '../errors'
import { paged, skipTake } from '../pagination'
import { createTRPCRouter, researcherProcedure } from '../trpc'
import {
  compareEvaluationsSchema,
  evaluableCheckpointsSchema,
  evaluationIdSchema,
  launchEvaluationSchema,
  listEvaluationsSchema,
  type EvalSettings,
} from './evaluations.schema'

/** Evaluation needs the weights as Hugging Face safetensors (ONNX exports are for live sessions). */
export const EVALUABLE_FORMAT = 'hf-safetensors'

export const checkpointSelect = {
  id: true,
  step: true,
  format: true,
  createdAt: true,
  run: { select: { id: true, name: true, algorithm: true, status: true, pairId: true, baseModelId: true } },
  baseModel: { select: { id: true, name: true } },
} satisfies Prisma.CheckpointSelect

type CheckpointRow = Prisma.CheckpointGetPayload<{ select: typeof checkpointSelect }>

/** A checkpoint as people name it: "run · TRL · step 40", or "base model (base)". */
export function describeCheckpoint(c: CheckpointRow) {
  // a pair's runs are already named "<name> · TRL" / "<name> · GRPO": say the algorithm once
  const runName = c.run && !c.run.name.endsWith(` · ${c.run.algorithm}`) ? `${c.run.name} · ${c.run.algorithm}` : c.run?.name
  const label = c.run ? `${runName} · step ${c.step}` : `${c.baseModel?.name ?? 'unknown model'} (base)`
  return {
    id: c.id,
    label,
    step: c.step,
    format: c.format,
    createdAt: c.createdAt,
    runId: c.run?.id ?? null,
    runName: c.run?.name ?? null,
    algorithm: c.run?.algorithm ?? null,
    baseModelName: c.baseModel?.name ?? null,
    // the base a run's checkpoint was trained from, and the pair it was launched in (TRL + GRPO, same base)
    baseModelId: c.run?.baseModelId ?? c.baseModel?.id ?? null,
    pairId: c.run?.pairId ?? null,
  }
}

/** What the worker reads from evaluation_runs.settings: the dataset and EvalSettings' fields (evaluate.py). */
export function workerSettings(datasetId: string, settings: EvalSettings) {
  return { datasetId, ...settings }
}

function seedOf(settings: unknown): number | null {
  const seed = (settings as { seed?: unknown } | null)?.seed
  return typeof seed === 'number' ? seed : null
}

function datasetIdOf(settings: unknown): string | null {
  const id = (settings as { datasetId?: unknown } | null)?.datasetId
  return typeof id === 'string' ? id : null
}

async function datasetNames(db: Prisma.TransactionClient, settingsList: unknown[]) {
  const ids = [...new Set(settingsList.map(datasetIdOf).filter((id): id is string => id !== null))]
  const rows = ids.length ? await db.dataset.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }) : []
  return new Map(rows.map((d) => [d.id, d.name]))
}

/**
 * The figure a list shows for an evaluation: of the metrics its reports hold, the first with a value in the reports'
 * reading order (solo mean@k first, then tandem accuracy, handoff, drift, legibility); null when none has one.
 */
export function headlineMetric(reports: { metrics: unknown }[]): ({ name: string; label: string } & Estimate) | null {
  const { metrics } = mergeReports(reports.map((r) => parseReport(r.metrics, null)))
  const name = orderMetricNames(Object.keys(metrics)).find((n) => metrics[n]!.value !== null)
  return name ? { name, label: metricLabel(name), ...metrics[name]! } : null
}

const latestEvaluateJob = {
  where: { kind: 'EVALUATE' },
  orderBy: { createdAt: 'desc' },
  take: 1,
  select: { id: true, status: true, attempts: true, progress: true, progressMessage: true, error: true, startedAt: true, finishedAt: true },
} satisfies Prisma.EvaluationRun$jobsArgs

export const evaluationsRouter = createTRPCRouter({
  checkpoints: researcherProcedure.input(evaluableCheckpointsSchema).query(async ({ ctx, input }) => {
    const where: Prisma.CheckpointWhereInput = {
      format: EVALUABLE_FORMAT,
      OR: [{ runId: { not: null } }, { baseModelId: { not: null } }],
      ...(input.ids ? { id: { in: input.ids } } : {}),
      ...(input.search
        ? {
            AND: [
              {
                OR: [
                  { run: { name: { contains: input.search, mode: 'insensitive' } } },
                  { baseModel: { name: { contains: input.search, mode: 'insensitive' } } },
                ],
              },
            ],
          }
        : {}),
    }
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.checkpoint.count({ where }),
      ctx.db.checkpoint.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], ...skipTake(input), select: checkpointSelect }),
    ])
    return paged(rows.map(describeCheckpoint), total, input)
  }),

  launch: researcherProcedure.input(launchEvaluationSchema).mutation(async ({ ctx, input }) => {
    const wanted = [...input.checkpointIds, ...(input.juniorCheckpointId ? [input.juniorCheckpointId] : [])]
    const [checkpoints, dataset] = await Promise.all([
      ctx.db.checkpoint.findMany({ where: { id: { in: wanted } }, select: checkpointSelect }),
      ctx.db.dataset.findUnique({ where: { id: input.datasetId }, select: { id: true, rowCount: true } }),
    ])
    const byId = new Map(checkpoints.map((c) => [c.id, c]))
    const errors: FieldErrors = {}
    const problem = (c: CheckpointRow | undefined, id: string) =>
      !c ? `Unknown checkpoint ${id}` : c.format !== EVALUABLE_FORMAT ? `Checkpoint ${describeCheckpoint(c).label} is ${c.format}; evaluation needs ${EVALUABLE_FORMAT}` : null
    const checkpointProblems = input.checkpointIds.map((id) => problem(byId.get(id), id)).filter((m): m is string => m !== null)
    if (checkpointProblems.length) errors.checkpointIds = checkpointProblems
    if (input.juniorCheckpointId) {
      const juniorProblem = problem(byId.get(input.juniorCheckpointId), input.juniorCheckpointId)
      if (juniorProblem) errors.juniorCheckpointId = [juniorProblem]
    }
    if (!dataset) errors.datasetId = ['Unknown dataset']
    else if (dataset.rowCount === 0) errors.datasetId = ['This dataset has no problems']
    if (Object.keys(errors).length) throw fieldError(errors)

    const settings = workerSettings(input.datasetId, input.settings)
    return ctx.db.$transaction(async (tx) => {
      const launched: { id: string; jobId: string; checkpointId: string }[] = []
      for (const checkpointId of input.checkpointIds) {
        const evaluation = await tx.evaluationRun.create({
          data: {
            checkpointId,
            juniorCheckpointId: input.juniorCheckpointId ?? null,
            suites: input.suites,
            settings,
            createdById: ctx.user.id,
          },
          select: { id: true },
        })
        const jobId = await enqueueJob(tx, {
          kind: 'EVALUATE',
          payload: { evaluationRunId: evaluation.id },
          evaluationRunId: evaluation.id,
          createdById: ctx.user.id,
        })
        await audit(tx, {
          actorId: ctx.user.id,
          action: 'evaluation.launch',
          entity: 'evaluation_runs',
          entityId: evaluation.id,
          details: { jobId, checkpointId, juniorCheckpointId: input.juniorCheckpointId ?? null, suites: input.suites, settings },
        })
        launched.push({ id: evaluation.id, jobId, checkpointId })
      }
      return { ids: launched.map((l) => l.id), evaluations: launched }
    })
  }),

  list: researcherProcedure.input(listEvaluationsSchema).query(async ({ ctx, input }) => {
    const where: Prisma.EvaluationRunWhereInput = {
      ...(input.checkpointId ? { checkpointId: input.checkpointId } : {}),
      ...(input.status ? { status: input.status } : {}),
    }
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.evaluationRun.count({ where }),
      ctx.db.evaluationRun.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...skipTake(input),
        select: {
          id: true, suites: true, settings: true, status: true, createdAt: true,
          checkpoint: { select: checkpointSelect },
          createdBy: { select: { email: true } },
          jobs: latestEvaluateJob,
          // the small metrics column only (not the full report): enough for the headline figure
          reports: { orderBy: { createdAt: 'asc' }, select: { metrics: true } },
        },
      }),
    ])
    const names = await datasetNames(ctx.db, rows.map((r) => r.settings))
    return paged(
      rows.map((r) => {
        const datasetId = datasetIdOf(r.settings)
        return {
          id: r.id,
          status: r.status,
          suites: r.suites,
          createdAt: r.createdAt,
          createdByEmail: r.createdBy?.email ?? null,
          checkpoint: describeCheckpoint(r.checkpoint),
          datasetId,
          datasetName: datasetId ? (names.get(datasetId) ?? null) : null,
          seed: seedOf(r.settings),
          progress: r.jobs[0]?.progress ?? null,
          headline: headlineMetric(r.reports),
        }
      }),
      total,
      input,
    )
  }),

  get: researcherProcedure.input(evaluationIdSchema).query(async ({ ctx, input }) => {
    const row = await ctx.db.evaluationRun.findUnique({
      where: { id: input.id },
      select: {
        id: true, suites: true, settings: true, status: true, createdAt: true,
        checkpoint: { select: checkpointSelect },
        juniorCheckpoint: { select: checkpointSelect },
        createdBy: { select: { email: true } },
        jobs: latestEvaluateJob,
        reports: { orderBy: { createdAt: 'asc' }, select: { id: true, suite: true, metrics: true, report: true, createdAt: true } },
        _count: { select: { traces: true } },
      },
    })
    if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: `No evaluation ${input.id}` })
    const names = await datasetNames(ctx.db, [row.settings])
    const datasetId = datasetIdOf(row.settings)
    const reports = row.reports.map((r) => {
      // per-problem series are for comparisons; the report page does not need them
      const { perProblem: _perProblem, ...parsed } = parseReport(r.metrics, r.report)
      return { id: r.id, suite: r.suite, createdAt: r.createdAt, ...parsed }
    })
    return {
      id: row.id,
      status: row.status,
      suites: row.suites,
      settings: row.settings as Record<string, unknown>,
      createdAt: row.createdAt,
      createdByEmail: row.createdBy?.email ?? null,
      checkpoint: describeCheckpoint(row.checkpoint),
      juniorCheckpoint: row.juniorCheckpoint ? describeCheckpoint(row.juniorCheckpoint) : null,
      dataset: datasetId ? { id: datasetId, name: names.get(datasetId) ?? null } : null,
      job: row.jobs[0] ?? null,
      reports,
      traceCount: row._count.traces,
    }
  }),

  compare: researcherProcedure.input(compareEvaluationsSchema).query(async ({ ctx, input }) => {
    const rows = await ctx.db.evaluationRun.findMany({
      where: { id: { in: input.ids } },
      select: {
        id: true, suites: true, settings: true, status: true, createdAt: true,
        checkpoint: { select: checkpointSelect },
        reports: { orderBy: { createdAt: 'asc' }, select: { metrics: true, report: true } },
      },
    })
    const byId = new Map(rows.map((r) => [r.id, r]))
    const problems: string[] = []
    for (const id of input.ids) {
      const row = byId.get(id)
      if (!row) problems.push(`No evaluation ${id}`)
      else if (row.status !== 'SUCCEEDED') problems.push(`Evaluation ${id} (${describeCheckpoint(row.checkpoint).label}) is ${row.status.toLowerCase()}; only finished evaluations can be compared`)
      else if (row.reports.length === 0) problems.push(`Evaluation ${id} has no report`)
    }
    if (problems.length) throw fieldError({ ids: problems }, 'Only finished evaluations can be compared')

    const ordered = input.ids.map((id) => byId.get(id)!)
    const names = await datasetNames(ctx.db, ordered.map((r) => r.settings))
    const evaluations = ordered.map((r) => {
        const datasetId = datasetIdOf(r.settings)
        return {
          id: r.id,
          suites: r.suites,
          settings: r.settings as Record<string, unknown>,
          createdAt: r.createdAt,
          checkpoint: describeCheckpoint(r.checkpoint),
          datasetId,
          datasetName: datasetId ? (names.get(datasetId) ?? null) : null,
          report: mergeReports(r.reports.map((rep) => parseReport(rep.metrics, rep.report))),
        }
      })
    const union = (pick: (e: (typeof evaluations)[number]) => Record<string, unknown>) => [...new Set(evaluations.flatMap((e) => Object.keys(pick(e))))]
    return {
      evaluations,
      // aligned by name: one row per metric / curve / histogram, one entry per evaluation (null where it lacks it)
      metrics: orderMetricNames(union((e) => e.report.metrics)).map((name) => ({
        name,
        estimates: evaluations.map((e) => e.report.metrics[name] ?? null),
      })),
      curves: orderCurveNames(union((e) => e.report.curves)).map((name) => ({ name, series: evaluations.map((e) => e.report.curves[name] ?? null) })),
      histograms: union((e) => e.report.histograms).sort().map((name) => ({
        name,
        series: evaluations.map((e) => e.report.histograms[name] ?? null),
      })),
      warnings: comparabilityWarnings(evaluations),
    }
  }),
})

/** Differences between the evaluations' setups that make their figures less comparable. */
function comparabilityWarnings(evaluations: { datasetName: string | null; datasetId: string | null; settings: Record<string, unknown> }[]) {
  const warnings: string[] = []
  const distinct = (values: unknown[]) => new Set(values.map((v) => JSON.stringify(v ?? null))).size > 1
  if (distinct(evaluations.map((e) => e.datasetId))) {
    warnings.push(`Different datasets (${evaluations.map((e) => e.datasetName ?? e.datasetId ?? '?').join(', ')}): figures are on different problems.`)
  }
  for (const key of ['n_problems', 'k', 'temperature', 'max_new_tokens', 'p_junior']) {
    if (distinct(evaluations.map((e) => e.settings[key]))) {
      warnings.push(`Different ${key} (${evaluations.map((e) => JSON.stringify(e.settings[key] ?? null)).join(', ')}).`)
    }
  }
  return warnings
}
