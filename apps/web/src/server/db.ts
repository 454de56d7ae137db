// Prisma Client over node-postgres (@prisma/adapter-pg driver adapter; Prisma 7 has no Rust query engine).
// One client per process, created on first use, and kept on globalThis in development so hot reloads do
// not open a new pool each time.
import { PrismaPg } from '@prisma/adapter-pg'

import { env } from '../env'
import { PrismaClient } from '../generated/prisma/client'
import { DATABASE_POOL } from './limits'

export type Db = PrismaClient

/** A new client on `url`; the caller owns it (`await db.$disconnect()` when done). */
export function createDb(url: string): Db {
  return new PrismaClient({
    // without a connection timeout a request waits forever for Postgres (down, or every connection busy)
    adapter: new PrismaPg({ connectionString: url, connectionTimeoutMillis: DATABASE_POOL.connectionTimeoutMs }),
    log: process.env.TANDEM_LOG_QUERIES ? ['query', 'warn', 'error'] : ['warn', 'error'],
  })
}

const globalForDb = globalThis as unknown as { tandemDb?: Db }

/** The app's shared client, on DATABASE_URL. */
export function getDb(): Db {
  if (!globalForDb.tandemDb) globalForDb.tandemDb = createDb(env().DATABASE_URL)
  return globalForDb.tandemDb
}
