// Creates one throwaway database for the test run, applies the committed migrations (prisma/migrations,
// through @tandem/db), hands its URL to the tests, and drops it afterwards.
// Postgres server: TEST_DATABASE_URL, else DATABASE_URL, else postgres@127.0.0.1:5432.
import { applyMigrations, createTempDatabase, dropDatabase } from '@tandem/db'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

export default async function setup(project: TestProject) {
  const server = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
  // TEST_DATABASE_PREFIX names the throwaway database (e.g. to keep apart runs that share one Postgres)
  const url = await createTempDatabase(server, process.env.TEST_DATABASE_PREFIX ?? 'tandem_web_test')
  try {
    await applyMigrations({ url })
  } catch (error) {
    await dropDatabase(url)
    throw error
  }
  project.provide('databaseUrl', url)
  return async () => {
    if (!process.env.KEEP_TEST_DATABASE) await dropDatabase(url)
  }
}
