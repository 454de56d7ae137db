// Base models: list, inspect, register (row + VALIDATE_MODEL job + audit in one transaction), re-validate.
// The worker's VALIDATE_MODEL job loads the config and tokenizer from the path and sets `info` and
// validated_at, or validation_error; both null means the validation is still pending.
import { TRPCError } from '@trpc/server'

import { audit } from '../../audit'
import { canMutateArtefact, requireArtefactOwner } from '../../auth/access'
import { enqueueJob } from '../../jobs'
import type { Prisma } from '../../../generated/prisma/client'
import type { JobStatus } from '../../../generated/prisma/enums'
import { fieldError } from '../errors'
import { paged, skipTake } from '../pagination'
import { createTRPCRouter, researcherProcedure } from '../trpc'
import { listModelsSchema, modelIdSchema, modelStatus, registerModelSchema } from './models.schema'

const ACTIVE_JOB: readonly JobStatus[] = ['QUEUED', 'RUNNING', 'CANCEL_REQUESTED']

/** A number from the worker's info (its own keys, or those `tandem seed` wrote from build.json). */
function infoNumber(info: unknown, ...keys: string[]): number | null {
  if (!info || typeof info !== 'object') return null
  for (const key of keys) {
    let value: unknown = info
    for (const part of key.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined
    if (typeof value === 'number' && Number.isFinite(value)) return value
  }
  return null
}

/** The newest VALIDATE_MODEL job of a model (jobs point at their model through the payload). */
function validationJobs(db: Prisma.TransactionClient, baseModelId: string, status?: readonly JobStatus[]) {
  return db.job.findMany({
    where: {
      kind: 'VALIDATE_MODEL',
      payload: { path: ['baseModelId'], equals: baseModelId },
      ...(status ? { status: { in: [...status] } } : {}),
    },
    orderBy: { createdAt: 'desc' },
    take: 1,
    select: { id: true, status: true, attempts: true, error: true, createdAt: true, finishedAt: true },
  })
}

async function nameTaken(db: Prisma.TransactionClient, name: string): Promise<boolean> {
  return (await db.baseModel.count({ where: { name } })) > 0
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002'
}

export const modelsRouter = createTRPCRouter({
  list: researcherProcedure.input(listModelsSchema).query(async ({ ctx, input }) => {
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.baseModel.count(),
      ctx.db.baseModel.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...skipTake(input),
        select: {
          id: true, name: true, path: true, info: true, validatedAt: true, validationError: true, createdAt: true,
          createdBy: { select: { email: true } },
        },
      }),
    ])
    const items = rows.map(({ info, createdBy, ...model }) => ({
      ...model,
      status: modelStatus(model),
      parameters: infoNumber(info, 'num_parameters', 'parameters'),
      vocabSize: infoNumber(info, 'vocab_size', 'recipe.vocab_size'),
      createdByEmail: createdBy?.email ?? null,
    }))
    return paged(items, total, input)
  }),

  get: researcherProcedure.input(modelIdSchema).query(async ({ ctx, input }) => {
    const model = await ctx.db.baseModel.findUnique({
      where: { id: input.id },
      include: {
        createdBy: { select: { email: true } },
        checkpoints: { where: { runId: null }, orderBy: { createdAt: 'desc' }, take: 1, select: { id: true, path: true, format: true, createdAt: true } },
        _count: { select: { seniorRuns: true } },
      },
    })
    if (!model) throw new TRPCError({ code: 'NOT_FOUND', message: `No base model ${input.id}` })
    const [job] = await validationJobs(ctx.db, model.id)
    const { createdBy, checkpoints, _count, ...rest } = model
    return {
      ...rest,
      info: (model.info ?? {}) as Record<string, unknown>,
      status: modelStatus(model),
      createdByEmail: createdBy?.email ?? null,
      baseCheckpoint: checkpoints[0] ?? null,
      mayRevalidate: canMutateArtefact(ctx.user, model.createdById),
      runCount: _count.seniorRuns,
      job: job ?? null,
    }
  }),

  register: researcherProcedure.input(registerModelSchema).mutation(async ({ ctx, input }) => {
    if (await nameTaken(ctx.db, input.name)) throw fieldError({ name: [`A model named “${input.name}” already exists`] })
    try {
      return await ctx.db.$transaction(async (tx) => {
        const model = await tx.baseModel.create({
          data: { name: input.name, path: input.path, createdById: ctx.user.id },
          select: { id: true },
        })
        const jobId = await enqueueJob(tx, { kind: 'VALIDATE_MODEL', payload: { baseModelId: model.id }, createdById: ctx.user.id })
        await audit(tx, {
          actorId: ctx.user.id,
          action: 'model.register',
          entity: 'base_models',
          entityId: model.id,
          details: { jobId, name: input.name, path: input.path },
        })
        return { id: model.id, jobId }
      })
    } catch (error) {
      // two registrations of one name at once: the unique index decides, the loser gets the field error
      if (isUniqueViolation(error)) throw fieldError({ name: [`A model named “${input.name}” already exists`] })
      throw error
    }
  }),

  revalidate: researcherProcedure.input(modelIdSchema).mutation(async ({ ctx, input }) => {
    return ctx.db.$transaction(async (tx) => {
      // lock the row so two clicks cannot queue two jobs
      const locked = await tx.$queryRaw<{ id: string; createdById: string | null }[]>`
        SELECT id, created_by_id AS "createdById" FROM base_models WHERE id = ${input.id} FOR UPDATE`
      if (locked.length === 0) throw new TRPCError({ code: 'NOT_FOUND', message: `No base model ${input.id}` })
      // re-validating resets the model's result: a change to the model, for who registered it or an admin
      requireArtefactOwner(ctx.user, locked[0]!.createdById, 'the model’s', 're-validate')
      const [active] = await validationJobs(tx, input.id, ACTIVE_JOB)
      if (active) throw new TRPCError({ code: 'CONFLICT', message: 'A validation of this model is already queued or running' })
      // back to pending: the page shows the new result, not the old one, until the job has run
      await tx.baseModel.update({ where: { id: input.id }, data: { validatedAt: null, validationError: null } })
      const jobId = await enqueueJob(tx, { kind: 'VALIDATE_MODEL', payload: { baseModelId: input.id }, createdById: ctx.user.id })
      await audit(tx, { actorId: ctx.user.id, action: 'model.revalidate', entity: 'base_models', entityId: input.id, details: { jobId } })
      return { id: input.id, jobId }
    })
  }),
})
