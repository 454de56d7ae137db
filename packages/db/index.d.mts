/** Types for prisma/migrate.mjs, re-exported by @tandem/db. */

export declare const SCHEMA_PATH: string
export declare const MIGRATIONS_DIR: string

/** A user-facing error (missing DATABASE_URL, bad migration name); the CLI prints only its message. */
export declare class MigrateError extends Error {}

interface UrlOption {
  /** Postgres URL; defaults to process.env.DATABASE_URL. */
  url?: string
}
interface DirOption {
  /** Migrations folder; defaults to prisma/migrations. */
  dir?: string
}
interface SchemaOption {
  /** Prisma schema file; defaults to prisma/schema.prisma. */
  schemaPath?: string
}

export interface HistoryStatus {
  editedMigrationNames: string[]
  failedMigrationNames: string[]
  hasMigrationsTable: boolean
  history:
    | null
    | { diagnostic: 'databaseIsBehind'; unappliedMigrationNames: string[] }
    | { diagnostic: 'migrationsDirectoryIsBehind'; unpersistedMigrationNames: string[] }
    | {
        diagnostic: 'historiesDiverge'
        lastCommonMigrationName: string | null
        unpersistedMigrationNames: string[]
        unappliedMigrationNames: string[]
      }
}

/** Applies the committed migrations the database lacks; returns the names applied now ([] when up to date). */
export declare function applyMigrations(opts?: UrlOption & DirOption): Promise<string[]>
/** Where the database's migration history stands against the committed migrations. */
export declare function migrationStatus(opts?: UrlOption & DirOption): Promise<HistoryStatus>
/** SQL taking the database as it is now to schema.prisma; '' when they agree. */
export declare function diffDatabaseToSchema(opts?: UrlOption & SchemaOption): Promise<string>
/** SQL taking a database migrated with the committed migrations to schema.prisma; '' when they agree. */
export declare function diffMigrationsToSchema(opts?: UrlOption & DirOption & SchemaOption): Promise<string>
/** Writes <dir>/<UTC timestamp>_<name>/migration.sql; returns the folder name, or null when nothing changed. */
export declare function createMigration(
  opts: UrlOption & DirOption & SchemaOption & { name: string; now?: Date },
): Promise<string | null>
/** Creates an empty database on the server of `url` (default DATABASE_URL); returns its URL. */
export declare function createTempDatabase(url?: string, prefix?: string): Promise<string>
/** Drops the database named in `url` (closing its connections). */
export declare function dropDatabase(url: string): Promise<void>
/** The schema engine's version (the prisma-engines git hash). */
export declare function engineVersion(): Promise<string>
/** The URL with its password replaced by ***. */
export declare function redact(url: string): string
/** The committed migrations in the engine's input shape. */
export declare function readMigrations(dir?: string): unknown
export declare function readSchema(schemaPath?: string): { files: { path: string; content: string }[] }
/** The raw engine on the database at `url`; `await close()` frees it and its connections. */
export declare function openEngine(url?: string): Promise<{ engine: unknown; close: () => Promise<void> }>
