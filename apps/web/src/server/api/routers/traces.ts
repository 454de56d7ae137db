// Traces: model (and human) reasoning with who wrote what, the junior's per-word surprisal and the verifier's
// verdict. List and inspect them; generate new ones (a GENERATE_TRACES job) and poll that job.
import { TRPCError } from '@trpc/server'
import { z } from 'zod'

import type { Prisma } from '../../../generated/prisma/client'
import type { Db } from '../../db'
import { audit } from '../../audit'
import { canFollowJob } from '../../auth/access'
import { enqueueJob } from '../../jobs'
import { fieldError, type FieldErrors } from '../errors'
import { paged, skipTake } from '../pagination'
import { createTRPCRouter, researcherProcedure } from '../trpc'
import { checkpointSelect, describeCheckpoint, EVALUABLE_FORMAT } from './evaluations'
import { compareExamples } from './traces.schedule'
import { generateTracesSchema, listTracesSchema, traceIdSchema, traceJobSchema } from './traces.schema'

const authorSpanSchema = z.object({
  author: z.enum(['senior', 'junior', 'human']),
  start: z.number().int().min(0),
  end: z.number().int().min(0),
})
const wordSurprisalSchema = z.object({ start: z.number().int().min(0), end: z.number().int().min(0), nats: z.number().finite() })

// a live study's spans as finishLiveTask (src/server/studies/live-session.ts) writes them into the trace's settings
const liveSpansSchema = z
  .array(
    z.object({
      seq: z.number().int(),
      author: z.enum(['senior', 'human']),
      chars: z.number().int(),
      tokens: z.number().int(),
      startedAt: z.string(),
      firstTokenAt: z.string().nullable(),
      endedAt: z.string().nullable(),
      endReason: z.string().nullable(),
    }),
  )
  .catch([])

export type AuthorSpan = z.infer<typeof authorSpanSchema>
export type WordSurprisal = z.infer<typeof wordSurprisalSchema>

/** The well-formed entries of a JSON array written by the worker (offsets are checked again when drawn). */
function validEntries<T>(value: unknown, schema: z.ZodType<T>): T[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((entry) => {
    const parsed = schema.safeParse(entry)
    return parsed.success && (parsed.data as { start: number; end: number }).end > (parsed.data as { start: number }).start ? [parsed.data] : []
  })
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

/** How the text was written, in a few words: the settings' schedule or suite, else solo / coin flip from p_junior. */
export function scheduleOf(settingsJson: unknown): string {
  const settings = record(settingsJson)
  if (typeof settings.schedule === 'string' && settings.schedule) return settings.schedule
  const p = settings.p_junior
  if (typeof p === 'number') return p > 0 ? `coin flip p_junior=${p}` : 'solo'
  if (typeof settings.suite === 'string' && settings.suite) return settings.suite
  return '—'
}

const latestVerdict = {
  orderBy: { createdAt: 'desc' },
  take: 1,
  select: { id: true, verdict: true, extractedAnswer: true, verifier: true, version: true, details: true, createdAt: true },
} satisfies Prisma.Trace$verifierResultsArgs

/** A model path nobody registered, as a name: a Hugging Face cache folder by its repository ("Qwen/Qwen3-0.6B"). */
export function unregisteredName(path: string): string {
  const hub = /models--([^/]+)\/snapshots\//.exec(path)
  if (hub) return hub[1]!.split('--').join('/')
  return path.split('/').filter(Boolean).at(-1) ?? path
}

/**
 * The junior a trace's settings name by its path (the worker writes the model directory): the registered base model
 * or checkpoint at that path, by its name and with a link; an unregistered path by its last folder. Null: no junior.
 */
async function juniorOf(db: Db, pathValue: unknown): Promise<{ label: string; href: string | null; path: string } | null> {
  if (typeof pathValue !== 'string' || !pathValue.trim()) return null
  const path = pathValue.trim()
  // the worker's Path() drops a trailing slash that the registered path may have
  const paths = [path.replace(/\/+$/, ''), `${path.replace(/\/+$/, '')}/`]
  const [model, checkpoint] = await Promise.all([
    db.baseModel.findFirst({ where: { path: { in: paths } }, orderBy: { createdAt: 'asc' }, select: { id: true, name: true } }),
    db.checkpoint.findFirst({ where: { path: { in: paths } }, orderBy: { createdAt: 'asc' }, select: checkpointSelect }),
  ])
  if (model) return { label: model.name, href: `/console/models/${model.id}`, path }
  if (checkpoint) {
    const described = describeCheckpoint(checkpoint)
    return { label: described.label, href: described.runId ? `/console/runs/${described.runId}` : null, path }
  }
  return { label: `${unregisteredName(paths[0]!)} (not registered)`, href: null, path }
}

const listSelect = {
  id: true, seed: true, settings: true, createdAt: true, evaluationRunId: true,
  problem: { select: { id: true, externalId: true, problem: true } },
  checkpoint: { select: checkpointSelect },
  verifierResults: latestVerdict,
} satisfies Prisma.TraceSelect

/** One page of traces, newest first. */
async function newestPage(db: Db, where: Prisma.TraceWhereInput, input: { page: number; pageSize: number }) {
  const [total, rows] = await db.$transaction([
    db.trace.count({ where }),
    db.trace.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], ...skipTake(input), select: listSelect }),
  ])
  return { total, rows }
}

/**
 * One page of an evaluation's examples in reading order (compareExamples): the order is the schedule's, which lives
 * in the settings JSON, so the ids are ordered here (an evaluation keeps at most a few thousand examples).
 */
async function orderedPage(db: Db, where: Prisma.TraceWhereInput, input: { page: number; pageSize: number }) {
  const keys = await db.trace.findMany({ where, select: { id: true, settings: true, problem: { select: { externalId: true } } } })
  const ordered = keys
    .map((t) => {
      const settings = record(t.settings)
      return { id: t.id, schedule: scheduleOf(settings), suite: typeof settings.suite === 'string' ? settings.suite : null, problemExternalId: t.problem.externalId }
    })
    .sort(compareExamples)
  const { skip, take } = skipTake(input)
  const ids = ordered.slice(skip, skip + take).map((t) => t.id)
  const rows = await db.trace.findMany({ where: { id: { in: ids } }, select: listSelect })
  const byId = new Map(rows.map((r) => [r.id, r]))
  return { total: keys.length, rows: ids.flatMap((id) => byId.get(id) ?? []) }
}

export const tracesRouter = createTRPCRouter({
  list: researcherProcedure.input(listTracesSchema).query(async ({ ctx, input }) => {
    const where: Prisma.TraceWhereInput = {
      ...(input.checkpointId ? { checkpointId: input.checkpointId } : {}),
      ...(input.evaluationRunId ? { evaluationRunId: input.evaluationRunId } : {}),
      ...(input.search ? { problem: { problem: { contains: input.search, mode: 'insensitive' } } } : {}),
      ...(input.verdict ? { verifierResults: { some: { verdict: input.verdict } } } : {}),
    }
    // an evaluation's examples read as its report lists them; everything else newest first
    const { total, rows } = input.evaluationRunId
      ? await orderedPage(ctx.db, where, input)
      : await newestPage(ctx.db, where, input)
    return paged(
      rows.map((t) => ({
        id: t.id,
        seed: t.seed,
        createdAt: t.createdAt,
        evaluationRunId: t.evaluationRunId,
        schedule: scheduleOf(t.settings),
        problem: t.problem,
        checkpoint: describeCheckpoint(t.checkpoint),
        verdict: t.verifierResults[0]?.verdict ?? null,
      })),
      total,
      input,
    )
  }),

  get: researcherProcedure.input(traceIdSchema).query(async ({ ctx, input }) => {
    const t = await ctx.db.trace.findUnique({
      where: { id: input.id },
      select: {
        id: true, text: true, authorSpans: true, settings: true, seed: true, wordSurprisal: true, evaluationRunId: true, createdAt: true,
        problem: { select: { id: true, externalId: true, problem: true, answer: true, dataset: { select: { id: true, name: true } } } },
        checkpoint: { select: checkpointSelect },
        verifierResults: latestVerdict,
        // a live study's trace is judged through the participant's response
        liveResponse: {
          select: {
            id: true,
            verifierResult: { select: { id: true, verdict: true, extractedAnswer: true, verifier: true, version: true, details: true, createdAt: true } },
            assignment: { select: { participant: { select: { studyId: true } } } },
          },
        },
      },
    })
    if (!t) throw new TRPCError({ code: 'NOT_FOUND', message: `No trace ${input.id}` })
    const settings = record(t.settings)
    const { spans: liveSpans, ...shownSettings } = settings
    const junior = await juniorOf(ctx.db, settings.junior)
    return {
      id: t.id,
      text: t.text,
      seed: t.seed,
      createdAt: t.createdAt,
      evaluationRunId: t.evaluationRunId,
      settings: shownSettings,
      schedule: scheduleOf(t.settings),
      // the junior model by its registered name (the settings hold its path)
      junior,
      authorSpans: validEntries(t.authorSpans, authorSpanSchema),
      wordSurprisal: t.wordSurprisal == null ? null : validEntries(t.wordSurprisal, wordSurprisalSchema),
      problem: t.problem,
      checkpoint: describeCheckpoint(t.checkpoint),
      verifierResult: t.verifierResults[0] ?? t.liveResponse?.verifierResult ?? null,
      // who wrote what when, in a live study task (the spans as stored in live_spans)
      liveSession: t.liveResponse
        ? { studyId: t.liveResponse.assignment.participant.studyId, responseId: t.liveResponse.id, spans: liveSpansSchema.parse(liveSpans ?? []) }
        : null,
    }
  }),

  generate: researcherProcedure.input(generateTracesSchema).mutation(async ({ ctx, input }) => {
    const errors: FieldErrors = {}
    const checkpoint = await ctx.db.checkpoint.findUnique({ where: { id: input.checkpointId }, select: checkpointSelect })
    if (!checkpoint) errors.checkpointId = ['Unknown checkpoint']
    else if (checkpoint.format !== EVALUABLE_FORMAT) errors.checkpointId = [`This checkpoint is ${checkpoint.format}; generation needs ${EVALUABLE_FORMAT}`]

    let problemIds: string[] = []
    if (input.problemIds) {
      const found = await ctx.db.problem.findMany({ where: { id: { in: input.problemIds } }, select: { id: true } })
      const known = new Set(found.map((p) => p.id))
      const unknown = input.problemIds.filter((id) => !known.has(id))
      if (unknown.length) errors.problemIds = [`Unknown problem${unknown.length === 1 ? '' : 's'} ${unknown.slice(0, 5).join(', ')}`]
      problemIds = input.problemIds
    } else {
      const dataset = await ctx.db.dataset.findUnique({ where: { id: input.datasetId! }, select: { id: true } })
      if (!dataset) errors.datasetId = ['Unknown dataset']
      else {
        const first = await ctx.db.problem.findMany({
          where: { datasetId: dataset.id },
          orderBy: { externalId: 'asc' },
          take: input.count!,
          select: { id: true },
        })
        if (first.length === 0) errors.datasetId = ['This dataset has no problems']
        problemIds = first.map((p) => p.id)
      }
    }
    if (Object.keys(errors).length) throw fieldError(errors)

    const payload = {
      checkpointId: input.checkpointId,
      problemIds,
      seed: input.seed,
      temperature: input.temperature,
      maxNewTokens: input.maxNewTokens,
      pJunior: input.pJunior,
    }
    return ctx.db.$transaction(async (tx) => {
      const jobId = await enqueueJob(tx, { kind: 'GENERATE_TRACES', payload, createdById: ctx.user.id })
      await audit(tx, {
        actorId: ctx.user.id,
        action: 'traces.generate',
        entity: 'jobs',
        entityId: jobId,
        details: { ...payload, datasetId: input.datasetId ?? null },
      })
      return { jobId, problemCount: problemIds.length }
    })
  }),

  job: researcherProcedure.input(traceJobSchema).query(async ({ ctx, input }) => {
    const job = await ctx.db.job.findFirst({
      where: { id: input.jobId, kind: 'GENERATE_TRACES' },
      select: {
        id: true, status: true, progress: true, progressMessage: true, error: true, result: true, attempts: true, createdAt: true, finishedAt: true,
        createdById: true,
      },
    })
    // a job is followed by who started it (or an admin), as dataset jobs are; its traces, once written, are lab-wide
    if (!job || !canFollowJob(ctx.user, job.createdById)) throw new TRPCError({ code: 'NOT_FOUND', message: `No trace generation job ${input.jobId}` })
    const { result, createdById: _createdById, ...rest } = job
    const traceIds = record(result).traceIds
    return { ...rest, traceIds: Array.isArray(traceIds) ? traceIds.filter((id): id is string => typeof id === 'string') : [] }
  }),
})
