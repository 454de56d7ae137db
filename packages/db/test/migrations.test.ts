// The drift test: the committed migrations (prisma/migrations) must build exactly the database that
// prisma/schema.prisma describes, from an empty database, and applying them again must change nothing.
// Needs a Postgres server (TEST_DATABASE_URL or DATABASE_URL, default postgres@127.0.0.1:5432); every
// test works in its own throwaway database, dropped afterwards.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

import {
  applyMigrations,
  createMigration,
  createTempDatabase,
  diffDatabaseToSchema,
  diffMigrationsToSchema,
  dropDatabase,
  MIGRATIONS_DIR,
  migrationStatus,
  SCHEMA_PATH,
} from '@tandem/db'

const SERVER_URL =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

const HOW_TO_FIX =
  'prisma/schema.prisma and prisma/migrations disagree. Run `npm run db:migration:new -- <name>` ' +
  'and commit the new migration folder. SQL the migrations are missing:\n\n'

const committedMigrations = readdirSync(MIGRATIONS_DIR)
  .filter((name) => statSync(path.join(MIGRATIONS_DIR, name)).isDirectory())
  .sort()

const cleanups: (() => Promise<void> | void)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

async function freshDatabase(): Promise<string> {
  const url = await createTempDatabase(SERVER_URL)
  cleanups.push(() => dropDatabase(url))
  return url
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-db-test-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Everything about the database's structure, and its migration table, as comparable text. */
async function snapshot(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const parts: unknown[] = []
    for (const sql of [
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
      `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
      `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2`,
      `SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
         ORDER BY 1, e.enumsortorder`,
      `SELECT id, migration_name, checksum, started_at, finished_at, applied_steps_count, rolled_back_at
         FROM _prisma_migrations ORDER BY started_at, migration_name`,
    ]) {
      parts.push((await client.query(sql)).rows)
    }
    return JSON.stringify(parts, null, 1)
  } finally {
    await client.end()
  }
}

/** schema.prisma with one more field on the User model, written to a temp folder. */
function schemaWithExtraField(): string {
  const original = readFileSync(SCHEMA_PATH, 'utf8')
  const changed = original.replace(
    /(model User \{\n)/,
    '$1  driftProbe   String?   @map("drift_probe")\n',
  )
  expect(changed, 'could not find `model User {` in schema.prisma').not.toBe(original)
  const file = path.join(tempDir(), 'schema.prisma')
  writeFileSync(file, changed)
  return file
}

function copyOfMigrations(): string {
  const dir = path.join(tempDir(), 'migrations')
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  return dir
}

describe('committed migrations vs schema.prisma', () => {
  let url: string

  beforeAll(async () => {
    url = await freshDatabase()
  })

  test('there is at least one migration, in Prisma folder format', () => {
    expect(committedMigrations.length).toBeGreaterThan(0)
    for (const name of committedMigrations) {
      expect(name).toMatch(/^\d{14}_[A-Za-z0-9_]+$/)
      expect(statSync(path.join(MIGRATIONS_DIR, name, 'migration.sql')).isFile()).toBe(true)
    }
    expect(readFileSync(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    )
  })

  test('they apply cleanly to an empty database, in order', async () => {
    expect(await applyMigrations({ url })).toEqual(committedMigrations)
  })

  test('the migrated database matches schema.prisma exactly', async () => {
    const sql = await diffDatabaseToSchema({ url })
    expect(sql, HOW_TO_FIX + sql).toBe('')
  })

  test('applying them again is a no-op', async () => {
    const before = await snapshot(url)
    expect(await applyMigrations({ url })).toEqual([])
    expect(await snapshot(url)).toBe(before)
    const status = await migrationStatus({ url })
    expect(status).toMatchObject({
      hasMigrationsTable: true,
      history: null,
      failedMigrationNames: [],
      editedMigrationNames: [],
    })
  })

  test('replayed in a shadow database they produce schema.prisma (npm run db:check)', async () => {
    const sql = await diffMigrationsToSchema({ url })
    expect(sql, HOW_TO_FIX + sql).toBe('')
  })
})

// The checks above must be able to fail: the same functions, pointed at a schema that has a field the
// migrations lack, report it; the migration tool then writes the missing migration.
describe('the drift check catches a schema change without a migration', () => {
  test('a field added to schema.prisma is reported as missing SQL', async () => {
    const url = await freshDatabase()
    await applyMigrations({ url })
    const schemaPath = schemaWithExtraField()
    const sql = await diffDatabaseToSchema({ url, schemaPath })
    expect(sql).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"drift_probe" TEXT/)
    expect(await diffMigrationsToSchema({ url, schemaPath })).toMatch(/ADD COLUMN\s+"drift_probe"/)
  })

  test('db:migration:new writes the missing migration; then everything agrees again', async () => {
    const url = await freshDatabase()
    const schemaPath = schemaWithExtraField()
    const dir = copyOfMigrations()

    const created = await createMigration({ url, dir, schemaPath, name: 'add_drift_probe' })
    expect(created).toMatch(/^\d{14}_add_drift_probe$/)
    expect(created! > committedMigrations.at(-1)!).toBe(true)
    const sql = readFileSync(path.join(dir, created!, 'migration.sql'), 'utf8')
    expect(sql).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"drift_probe" TEXT/)

    expect(await createMigration({ url, dir, schemaPath, name: 'nothing' })).toBeNull()
    expect(await diffMigrationsToSchema({ url, dir, schemaPath })).toBe('')
    expect(await applyMigrations({ url, dir })).toEqual([...committedMigrations, created])
    expect(await diffDatabaseToSchema({ url, schemaPath })).toBe('')
  })

  test('a migration edited after it was applied is reported', async () => {
    const url = await freshDatabase()
    const dir = copyOfMigrations()
    await applyMigrations({ url, dir })
    const first = committedMigrations[0]!
    const file = path.join(dir, first, 'migration.sql')
    writeFileSync(file, readFileSync(file, 'utf8') + '\n-- edited\n')
    const status = await migrationStatus({ url, dir })
    expect(status.editedMigrationNames).toEqual([first])
  })
})

describe('hand-written SQL in migrations', () => {
  // Hand-written migrations (a NOTIFY trigger for the job queue, say) hold ';' inside function bodies
  // and strings; they must reach Postgres whole, and functions/triggers are not schema drift.
  test('a plpgsql trigger with semicolons applies, and is not reported as drift', async () => {
    const url = await freshDatabase()
    const dir = copyOfMigrations()
    const folder = path.join(dir, '29991231000000_notify_trigger')
    mkdirSync(folder)
    writeFileSync(
      path.join(folder, 'migration.sql'),
      `CREATE FUNCTION probe_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('probe', 'a;b');
  RETURN NEW;
END;
$$;
CREATE TRIGGER probe_notify AFTER INSERT ON "jobs" FOR EACH ROW EXECUTE FUNCTION probe_notify();
COMMENT ON TABLE "jobs" IS 'semi;colon';
`,
    )
    expect(await applyMigrations({ url, dir })).toContain('29991231000000_notify_trigger')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query(`SELECT tgname FROM pg_trigger WHERE tgname = 'probe_notify'`)
      expect(rows).toHaveLength(1)
    } finally {
      await client.end()
    }
    expect(await diffDatabaseToSchema({ url })).toBe('')
  })
})
