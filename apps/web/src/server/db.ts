// Prisma Client over node-postgres (@prisma/adapter-pg driver adapter; Prisma 7 has no Rust query engine).
// One client per process, created on first use, and kept on globalThis in development so hot reloads do
// not open a new pool each time.
import { PrismaPg } from '@prisma/adapter-pg'

import { env } from '../env'
import { PrismaClient } from '../generated/prisma/client'

export type Db = PrismaClient

/** A new client on `url`; the caller owns it (`await db.$disconnect()` when done). */
export function createDb(url: string): Db {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: url }),
    log: process.env.TANDEM_LOG_QUERIES ? ['query', 'warn', 'error'] : ['warn', 'error'],
  })
}

const globalForDb = globalThis as unknown as { tandemDb?: Db }

/** The app's shared client, on DATABASE_URL. */
export function getDb(): Db {
  if (!globalForDb.tandemDb) globalForDb.tandemDb = createDb(env().DATABASE_URL)
  return globalForDb.tandemDb
}
