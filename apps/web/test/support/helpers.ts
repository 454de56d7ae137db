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
}

/** A user row (password hash is a placeholder: these users never sign in through the form). */
export async function makeUser(db: Db, role: Role, opts: { disabled?: boolean } = {}): Promise<TestUser> {
  const email = `${uniq(role.toLowerCase())}@test.local`
  return db.user.create({
    data: { email, name: email, role, passwordHash: 'scrypt$placeholder', disabledAt: opts.disabled ? new Date() : null },
    select: { id: true, email: true, role: true },
  })
}

function sessionFor(user: TestUser): Session {
  return {
    user: { id: user.id, email: user.email, name: user.email, role: user.role },
    expires: new Date(Date.now() + 3_600_000).toISOString(),
  }
}

/** A tRPC caller as `user` would call (null: signed out). */
export async function callerFor(db: Db, user: TestUser | null) {
  return createCaller(await createTRPCContext({ db, session: user ? sessionFor(user) : null }))
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
