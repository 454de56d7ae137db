// Training runs: list, inspect, launch (row + TRAIN job + audit in one transaction), cancel.
import { TRPCError } from '@trpc/server'

import { audit } from '../../audit'
import { enqueueJob, requestCancel } from '../../jobs'
import { fieldError, type FieldErrors } from '../errors'
import { createTRPCRouter, researcherProcedure } from '../trpc'
import { launchRunSchema, listRunsSchema, runIdSchema, toTandemConfig } from './runs.schema'

const ACTIVE_JOB = ['QUEUED', 'RUNNING', 'CANCEL_REQUESTED'] as const

export const runsRouter = createTRPCRouter({
  list: researcherProcedure.input(listRunsSchema).query(async ({ ctx, input }) => {
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.trainingRun.count(),
      ctx.db.trainingRun.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        skip: (input.page - 1) * input.pageSize,
        take: input.pageSize,
        select: {
          id: true, name: true, algorithm: true, status: true, currentStep: true, maxSteps: true, createdAt: true,
          baseModel: { select: { name: true } },
          owner: { select: { email: true } },
        },
      }),
    ])
    return {
      items: rows.map(({ baseModel, owner, ...run }) => ({ ...run, baseModelName: baseModel.name, ownerEmail: owner.email })),
      total,
      page: input.page,
      pageSize: input.pageSize,
      pageCount: Math.max(1, Math.ceil(total / input.pageSize)),
    }
  }),

  get: researcherProcedure.input(runIdSchema).query(async ({ ctx, input }) => {
    const run = await ctx.db.trainingRun.findUnique({
      where: { id: input.id },
      include: {
        baseModel: { select: { id: true, name: true } },
        dataset: { select: { id: true, name: true } },
        owner: { select: { id: true, email: true } },
        metrics: { orderBy: { step: 'asc' } },
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
    const { jobs, checkpoints, ...rest } = run
    return {
      ...rest,
      job: jobs[0] ?? null,
      // sizes fit a double (< 2^53 bytes); plain numbers are easier on the client than bigint
      checkpoints: checkpoints.map((c) => ({ ...c, sizeBytes: Number(c.sizeBytes) })),
      canCancel:
        (ctx.user.role === 'ADMIN' || run.ownerId === ctx.user.id) &&
        jobs[0] != null &&
        (jobs[0].status === 'QUEUED' || jobs[0].status === 'RUNNING'),
    }
  }),

  launch: researcherProcedure.input(launchRunSchema).mutation(async ({ ctx, input }) => {
    const [baseModel, dataset] = await Promise.all([
      ctx.db.baseModel.findUnique({ where: { id: input.baseModelId }, select: { id: true } }),
      ctx.db.dataset.findUnique({ where: { id: input.datasetId }, select: { id: true, rowCount: true } }),
    ])
    const errors: FieldErrors = {}
    if (!baseModel) errors.baseModelId = ['Unknown base model']
    if (!dataset) errors.datasetId = ['Unknown dataset']
    else if (dataset.rowCount === 0) errors.datasetId = ['This dataset has no problems']
    if (Object.keys(errors).length) throw fieldError(errors)

    const config = toTandemConfig(input)
    return ctx.db.$transaction(async (tx) => {
      const run = await tx.trainingRun.create({
        data: {
          name: input.name,
          algorithm: input.algorithm,
          config,
          seed: input.seed,
          maxSteps: input.max_steps,
          ownerId: ctx.user.id,
          baseModelId: input.baseModelId,
          datasetId: input.datasetId,
        },
        select: { id: true },
      })
      const jobId = await enqueueJob(tx, {
        kind: 'TRAIN',
        payload: { runId: run.id },
        trainingRunId: run.id,
        createdById: ctx.user.id,
      })
      await audit(tx, {
        actorId: ctx.user.id,
        action: 'run.launch',
        entity: 'training_runs',
        entityId: run.id,
        details: { jobId, name: input.name, algorithm: input.algorithm, baseModelId: input.baseModelId, datasetId: input.datasetId, config },
      })
      return { id: run.id, jobId }
    })
  }),

  cancel: researcherProcedure.input(runIdSchema).mutation(async ({ ctx, input }) => {
    const run = await ctx.db.trainingRun.findUnique({ where: { id: input.id }, select: { id: true, ownerId: true, status: true } })
    if (!run) throw new TRPCError({ code: 'NOT_FOUND', message: `No training run ${input.id}` })
    if (run.ownerId !== ctx.user.id && ctx.user.role !== 'ADMIN') {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'Only the run’s owner or an admin can cancel it' })
    }
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
})
