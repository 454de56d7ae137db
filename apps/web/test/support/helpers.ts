import { randomBytes } from 'node:crypto'

import { TRPCError } from '@trpc/server'
import type { Session } from 'next-auth'
import { afterAll, inject } from 'vitest'

import { createCaller } from '@/server/api/root'
import { createTRPCContext, type Role } from '@/server/api/trpc'
import { createDb, type Db } from '@/server/db'

/** A Prisma client on this run's test database, closed after the file. */
export function testDb(): Db {
  const db = createDb(inject('databaseUrl'))
  afterAll(() => db.$disconnect())
  return db
}

export function uniq(prefix = 'x'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`
}

export interface TestUser {
  id: string
  email: string
  role: Role
  /** The session version the caller's session carries; by default the account's current one (a fresh sign-in). */
  sessionVersion?: number
}

/** A user row (password hash is a placeholder: these users never sign in through the form). */
export async function makeUser(db: Db, role: Role, opts: { disabled?: boolean } = {}): Promise<TestUser> {
  const email = `${uniq(role.toLowerCase())}@test.local`
  return db.user.create({
    data: { email, name: email, role, passwordHash: 'scrypt$placeholder', disabledAt: opts.disabled ? new Date() : null },
    select: { id: true, email: true, role: true },
  })
}

/** The Auth.js session `user` would have after signing in now (or with `user.sessionVersion`, when given). */
export async function sessionFor(db: Db, user: TestUser): Promise<Session> {
  const current = await db.user.findUnique({ where: { id: user.id }, select: { sessionVersion: true } })
  const sessionVersion = user.sessionVersion ?? current?.sessionVersion ?? 0
  return {
    user: { id: user.id, email: user.email, name: user.email, role: user.role, sessionVersion },
    expires: new Date(Date.now() + 3_600_000).toISOString(),
  }
}

/** A tRPC caller as `user` would call (null: signed out); its session is fixed when it is made, as a browser's is. */
export async function callerFor(db: Db, user: TestUser | null) {
  return createCaller(await createTRPCContext({ db, session: user ? await sessionFor(db, user) : null }))
}

/** `user` with a session issued before the account's session version was last raised (a revoked session). */
export async function staleSessionOf(db: Db, user: TestUser): Promise<TestUser> {
  const { sessionVersion } = await db.user.findUniqueOrThrow({ where: { id: user.id }, select: { sessionVersion: true } })
  await db.user.update({ where: { id: user.id }, data: { sessionVersion: { increment: 1 } } })
  return { ...user, sessionVersion }
}

/** A base model and a dataset with two problems, as `tandem seed` would register them. */
export async function makeCatalog(db: Db) {
  const baseModel = await db.baseModel.create({ data: { name: uniq('model'), path: '/models/tiny', validatedAt: new Date() } })
  const dataset = await db.dataset.create({
    data: {
      name: uniq('dataset'),
      source: 'generated',
      rowCount: 2,
      problems: {
        create: [
          { externalId: 'p1', problem: 'What is 2 + 3?', answer: '5' },
          { externalId: 'p2', problem: 'What is 4 * 6?', answer: '24' },
        ],
      },
    },
  })
  const emptyDataset = await db.dataset.create({ data: { name: uniq('empty'), source: 'upload', rowCount: 0 } })
  return { baseModel, dataset, emptyDataset }
}

export function validLaunch(catalog: { baseModel: { id: string }; dataset: { id: string } }, overrides: Record<string, unknown> = {}) {
  return {
    name: uniq('run'),
    algorithm: 'GRPO' as const,
    baseModelId: catalog.baseModel.id,
    datasetId: catalog.dataset.id,
    max_steps: 2,
    num_generations: 4,
    per_device_train_batch_size: 8,
    learning_rate: 0.0002,
    seed: 0,
    ...overrides,
  }
}

/** The tRPC error code of a rejected call, or 'OK' when it resolved. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (error) {
    if (error instanceof TRPCError) return error.code
    throw error
  }
}

/** Row counts of the tables a launch writes to. */
export async function writeCounts(db: Db) {
  const [runs, jobs, audits] = await Promise.all([db.trainingRun.count(), db.job.count(), db.auditLog.count()])
  return { runs, jobs, audits }
}

/** The TRPCError a call was rejected with (fails the test when it resolved or threw something else). */
export async function rejectionOf(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${error === null ? 'success' : String(error)}`)
  return error
}

/** Row counts of the tables the catalog and account procedures write to (to prove a refused call wrote nothing). */
export async function catalogCounts(db: Db) {
  const [baseModels, datasets, uploads, problems, users, jobs, audits] = await Promise.all([
    db.baseModel.count(), db.dataset.count(), db.datasetUpload.count(), db.problem.count(), db.user.count(), db.job.count(),
    db.auditLog.count(),
  ])
  return { baseModels, datasets, uploads, problems, users, jobs, audits }
}

/** Evaluable checkpoints on `catalog`: the base model's own, a TRL run's and a GRPO run's (same base), and an ONNX export. */
export async function makeCheckpoints(db: Db, catalog: { baseModel: { id: string }; dataset: { id: string } }, owner: TestUser) {
  const checkpoint = (data: { runId?: string; baseModelId?: string; step: number; format?: string }) =>
    db.checkpoint.create({
      data: { runId: data.runId ?? null, baseModelId: data.baseModelId ?? null, step: data.step, format: data.format ?? 'hf-safetensors',
        path: `/runs/${uniq('ckpt')}`, sha256: 'a'.repeat(64), sizeBytes: BigInt(1024) },
    })
  const run = (algorithm: 'TRL' | 'GRPO') =>
    db.trainingRun.create({
      data: { name: uniq(algorithm.toLowerCase()), algorithm, config: {}, seed: 0, maxSteps: 2, status: 'SUCCEEDED', ownerId: owner.id,
        baseModelId: catalog.baseModel.id, datasetId: catalog.dataset.id },
    })
  const [trlRun, grpoRun] = [await run('TRL'), await run('GRPO')]
  return {
    trlRun,
    grpoRun,
    base: await checkpoint({ baseModelId: catalog.baseModel.id, step: 0 }),
    trl: await checkpoint({ runId: trlRun.id, step: 2 }),
    grpo: await checkpoint({ runId: grpoRun.id, step: 2 }),
    onnx: await checkpoint({ runId: grpoRun.id, step: 2, format: 'onnx' }),
  }
}

/** A launch input for evaluations.launch that passes validation (EvalSettings' defaults, one problem). */
export function validEvaluationLaunch(checkpointIds: string[], datasetId: string, overrides: Record<string, unknown> = {}) {
  return {
    checkpointIds,
    suites: ['solo', 'handoff'] as ('solo' | 'tandem' | 'handoff' | 'drift' | 'legibility')[],
    datasetId,
    settings: {
      k: 2, p_junior: 0.5, temperature: 1, max_new_tokens: 32, seed: 0, n_problems: 1, handoff_points: [0, 1, 2],
      handoff_fractions: [0.5], displacement_threshold: 0.5, batch_size: 16, chunk_tokens: 256, n_examples: 1, n_boot: 200, bf16: null,
    },
    ...overrides,
  }
}

/** A finished evaluation run with one report, as the worker writes it (metrics column + full report JSON). */
export async function makeFinishedEvaluation(
  db: Db,
  opts: {
    checkpointId: string
    datasetId: string
    metrics: Record<string, { value: number | null; low: number | null; high: number | null; n: number }>
    perProblem?: Record<string, (string | number)[]>
    curves?: Record<string, unknown>
    histograms?: Record<string, unknown>
    status?: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED'
    settings?: Record<string, unknown>
    suites?: string[]
  },
) {
  const suites = opts.suites ?? ['solo', 'handoff', 'drift', 'legibility']
  const evaluation = await db.evaluationRun.create({
    data: {
      checkpointId: opts.checkpointId, suites, status: opts.status ?? 'SUCCEEDED',
      settings: { datasetId: opts.datasetId, k: 4, seed: 0, n_problems: null, ...opts.settings },
    },
  })
  if ((opts.status ?? 'SUCCEEDED') === 'SUCCEEDED') {
    await db.evaluationReport.create({
      data: {
        evaluationRunId: evaluation.id, suite: suites.join(','), metrics: opts.metrics,
        // through JSON, as the worker writes it
        report: JSON.parse(JSON.stringify({ metrics: opts.metrics, curves: opts.curves ?? {}, histograms: opts.histograms ?? {}, examples: [],
          per_problem: opts.perProblem ?? {}, settings: { k: 4 }, versions: { verifier: 'test' } })),
      },
    })
  }
  return evaluation
}

/** A trace of `checkpointId` on `problemId` with its verdict. */
export async function makeTrace(
  db: Db,
  opts: { checkpointId: string; problemId: string; verdict?: 'CORRECT' | 'INCORRECT' | 'UNPARSEABLE'; evaluationRunId?: string; text?: string; seed?: number },
) {
  const text = opts.text ?? 'We add. The answer is \\boxed{5}'
  return db.trace.create({
    data: {
      checkpointId: opts.checkpointId, problemId: opts.problemId, text, seed: opts.seed ?? 0, evaluationRunId: opts.evaluationRunId ?? null,
      authorSpans: [{ author: 'senior', text, start: 0, end: text.length }], settings: { suite: 'solo', p_junior: 0, temperature: 1 },
      verifierResults: { create: { verifier: 'math-verify', version: '0', verdict: opts.verdict ?? 'CORRECT', extractedAnswer: '5', details: '' } },
    },
  })
}
