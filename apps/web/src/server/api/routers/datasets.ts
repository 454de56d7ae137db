// Datasets: list, inspect and preview; import a file (upload row + IMPORT_DATASET job + audit in one
// transaction, then the worker validates every row and creates the dataset, or records the row errors and
// creates nothing); generate demo arithmetic problems (GENERATE_DATASET job); follow those jobs.
import { TRPCError } from '@trpc/server'

import { audit } from '../../audit'
import { canFollowJob } from '../../auth/access'
import type { Db } from '../../db'
import { enqueueJob } from '../../jobs'
import type { Prisma } from '../../../generated/prisma/client'
import { fieldError } from '../errors'
import { paged, skipTake } from '../pagination'
import { createTRPCRouter, researcherProcedure } from '../trpc'
import {
  datasetIdSchema,
  datasetProblemsSchema,
  generateDatasetSchema,
  importFileSchema,
  jobIdSchema,
  listDatasetsSchema,
  uploadFormatOf,
  uploadIdSchema,
  type UploadRowError,
} from './datasets.schema'

const ACTIVE_JOB = ['QUEUED', 'RUNNING', 'CANCEL_REQUESTED'] as const
// the jobs of this router; other kinds are followed on their own pages (runs, evaluations)
const DATASET_JOB_KINDS = ['IMPORT_DATASET', 'GENERATE_DATASET'] as const

/**
 * Why `name` cannot be used for a new dataset, or null: an existing dataset, an upload still being
 * imported, or a generation still running under that name would collide when the worker creates it.
 */
async function nameInUse(db: Db | Prisma.TransactionClient, name: string): Promise<string | null> {
  const [datasets, uploads, generating] = await Promise.all([
    db.dataset.count({ where: { name } }),
    db.datasetUpload.count({ where: { name, status: 'PENDING' } }),
    db.job.count({ where: { kind: 'GENERATE_DATASET', status: { in: [...ACTIVE_JOB] }, payload: { path: ['name'], equals: name } } }),
  ])
  if (datasets) return `A dataset named “${name}” already exists`
  if (uploads) return `A file named “${name}” is being imported`
  if (generating) return `A dataset named “${name}” is being generated`
  return null
}

/** Row errors as the worker stored them; anything malformed is shown as a whole-file error rather than dropped. */
function rowErrors(value: unknown): UploadRowError[] {
  if (!Array.isArray(value)) return []
  return value.map((entry): UploadRowError => {
    const e = (entry ?? {}) as Record<string, unknown>
    return {
      line: typeof e.line === 'number' ? e.line : 0,
      field: typeof e.field === 'string' ? e.field : null,
      reason: typeof e.reason === 'string' ? e.reason : JSON.stringify(entry),
    }
  })
}

// Uploads and jobs are private to who started them (and admins) until they become a dataset (canFollowJob).

export const datasetsRouter = createTRPCRouter({
  list: researcherProcedure.input(listDatasetsSchema).query(async ({ ctx, input }) => {
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.dataset.count(),
      ctx.db.dataset.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...skipTake(input),
        select: { id: true, name: true, source: true, rowCount: true, createdAt: true, createdBy: { select: { email: true } } },
      }),
    ])
    return paged(
      rows.map(({ createdBy, ...dataset }) => ({ ...dataset, createdByEmail: createdBy?.email ?? null })),
      total,
      input,
    )
  }),

  get: researcherProcedure.input(datasetIdSchema).query(async ({ ctx, input }) => {
    const dataset = await ctx.db.dataset.findUnique({
      where: { id: input.id },
      include: {
        createdBy: { select: { email: true } },
        uploads: { where: { status: 'IMPORTED' }, take: 1, select: { filename: true, format: true, sizeBytes: true } },
        _count: { select: { problems: true, runs: true, studies: true } },
      },
    })
    if (!dataset) throw new TRPCError({ code: 'NOT_FOUND', message: `No dataset ${input.id}` })
    const [byDifficulty, withSolution] = await Promise.all([
      ctx.db.problem.groupBy({ by: ['difficulty'], where: { datasetId: dataset.id }, _count: { _all: true }, orderBy: { difficulty: 'asc' } }),
      ctx.db.problem.count({ where: { datasetId: dataset.id, solution: { not: null } } }),
    ])
    const { createdBy, uploads, _count, ...rest } = dataset
    return {
      ...rest,
      createdByEmail: createdBy?.email ?? null,
      upload: uploads[0] ?? null,
      counts: {
        problems: _count.problems,
        withSolution,
        runs: _count.runs,
        studies: _count.studies,
        byDifficulty: byDifficulty.map((group) => ({ difficulty: group.difficulty, count: group._count._all })),
      },
    }
  }),

  problems: researcherProcedure.input(datasetProblemsSchema).query(async ({ ctx, input }) => {
    const { skip, take } = skipTake(input)
    const [total, items] = await Promise.all([
      ctx.db.problem.count({ where: { datasetId: input.datasetId } }),
      // external ids share a prefix and differ in a counter ("row-9", "row-10"): shorter first keeps them in file order
      ctx.db.$queryRaw<{ id: string; externalId: string; problem: string; answer: string; solution: string | null; difficulty: number | null }[]>`
        SELECT id, external_id AS "externalId", problem, answer, solution, difficulty
        FROM problems WHERE dataset_id = ${input.datasetId}
        ORDER BY length(external_id), external_id, id
        LIMIT ${take} OFFSET ${skip}`,
    ])
    return paged(items, total, input)
  }),

  importFile: researcherProcedure.input(importFileSchema).mutation(async ({ ctx, input }) => {
    const taken = await nameInUse(ctx.db, input.name)
    if (taken) throw fieldError({ name: [taken] })
    const format = uploadFormatOf(input.filename)! // the schema accepted the extension
    const content = new Uint8Array(Buffer.from(input.content, 'base64'))
    return ctx.db.$transaction(async (tx) => {
      const upload = await tx.datasetUpload.create({
        data: {
          name: input.name, filename: input.filename, format, content, sizeBytes: content.byteLength, createdById: ctx.user.id,
        },
        select: { id: true },
      })
      const jobId = await enqueueJob(tx, { kind: 'IMPORT_DATASET', payload: { uploadId: upload.id }, createdById: ctx.user.id })
      await audit(tx, {
        actorId: ctx.user.id,
        action: 'dataset.upload',
        entity: 'dataset_uploads',
        entityId: upload.id,
        details: { jobId, name: input.name, filename: input.filename, format, sizeBytes: content.byteLength },
      })
      return { id: upload.id, jobId }
    })
  }),

  /** An upload's state; its row errors are paged (a bad file can have thousands). */
  upload: researcherProcedure.input(uploadIdSchema).query(async ({ ctx, input }) => {
    const upload = await ctx.db.datasetUpload.findUnique({
      where: { id: input.id },
      select: {
        id: true, name: true, filename: true, format: true, sizeBytes: true, status: true, errors: true, datasetId: true,
        createdById: true, createdAt: true,
      },
    })
    if (!upload || !canFollowJob(ctx.user, upload.createdById)) throw new TRPCError({ code: 'NOT_FOUND', message: `No upload ${input.id}` })
    const job = await ctx.db.job.findFirst({
      where: { kind: 'IMPORT_DATASET', payload: { path: ['uploadId'], equals: upload.id } },
      orderBy: { createdAt: 'desc' },
      select: { id: true, status: true, error: true, progress: true, progressMessage: true },
    })
    const { errors, createdById: _createdById, ...rest } = upload
    const all = rowErrors(errors)
    const { skip, take } = skipTake(input)
    return { ...rest, job, errors: paged(all.slice(skip, skip + take), all.length, input) }
  }),

  generate: researcherProcedure.input(generateDatasetSchema).mutation(async ({ ctx, input }) => {
    const taken = await nameInUse(ctx.db, input.name)
    if (taken) throw fieldError({ name: [taken] })
    return ctx.db.$transaction(async (tx) => {
      const payload = { ...input, createdById: ctx.user.id }
      const jobId = await enqueueJob(tx, { kind: 'GENERATE_DATASET', payload, createdById: ctx.user.id })
      await audit(tx, { actorId: ctx.user.id, action: 'dataset.generate', entity: 'jobs', entityId: jobId, details: input })
      return { jobId }
    })
  }),

  /** A dataset job (import or generation) the caller started, or any for an admin. */
  job: researcherProcedure.input(jobIdSchema).query(async ({ ctx, input }) => {
    const job = await ctx.db.job.findUnique({
      where: { id: input.id },
      select: {
        id: true, kind: true, status: true, payload: true, result: true, error: true, progress: true, progressMessage: true,
        createdById: true, createdAt: true, finishedAt: true,
      },
    })
    if (!job || !(DATASET_JOB_KINDS as readonly string[]).includes(job.kind) || !canFollowJob(ctx.user, job.createdById)) {
      throw new TRPCError({ code: 'NOT_FOUND', message: `No dataset job ${input.id}` })
    }
    const result = (job.result ?? null) as { ok?: boolean; datasetId?: string; rowCount?: number; error?: string } | null
    const datasetId = result?.ok && typeof result.datasetId === 'string' ? result.datasetId : null
    const dataset = datasetId
      ? await ctx.db.dataset.findUnique({ where: { id: datasetId }, select: { id: true, name: true, rowCount: true } })
      : null
    const { createdById: _createdById, ...rest } = job
    return {
      ...rest,
      dataset,
      // the job can finish without a dataset (its result says why) or fail outright (its error says why)
      failure: job.status === 'FAILED' || job.status === 'CANCELLED' ? (job.error ?? `The job was ${job.status.toLowerCase()}`) : result?.ok === false ? (result.error ?? 'The job did not create a dataset') : null,
    }
  }),
})
