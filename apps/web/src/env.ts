// The web app's environment, validated with zod on first use (not at import: `next build` loads the
// server modules without a database or secret). A missing or malformed variable fails with a message
// that names it and says what it should look like.
import { z } from 'zod'

const postgresUrl = z
  .string({ error: 'is not set' })
  .min(1, 'is empty')
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a PostgreSQL URL (postgresql://user@host:port/db)')

/** Where the live model service (workers/live) listens; read on each use, so it can change without a restart. */
export const liveUrlSchema = z
  .string()
  .regex(/^https?:\/\/[^\s/]+/, 'must be an http(s) URL of the live model service, e.g. http://127.0.0.1:8790')
  .optional()

export const envSchema = z.object({
  DATABASE_URL: postgresUrl,
  AUTH_SECRET: z
    .string({ error: 'is not set (generate one with `openssl rand -base64 32`)' })
    .min(16, 'must be at least 16 characters (generate one with `openssl rand -base64 32`)'),
  // where the workers write run folders; shown next to checkpoint paths (optional)
  TANDEM_RUNS_DIR: z.string().min(1).optional(),
  LIVE_URL: liveUrlSchema,
})

export type Env = z.infer<typeof envSchema>

export class EnvError extends Error {
  override name = 'EnvError'
}

/** Validates `source` (default process.env); throws EnvError naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = envSchema.safeParse({
    DATABASE_URL: source.DATABASE_URL,
    AUTH_SECRET: source.AUTH_SECRET,
    TANDEM_RUNS_DIR: source.TANDEM_RUNS_DIR || undefined,
    LIVE_URL: source.LIVE_URL || undefined,
  })
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
  throw new EnvError(`Invalid environment for the Tandem Lab web app:\n${lines.join('\n')}`)
}

let cached: Env | undefined

/** The validated environment (parsed once per process). */
export function env(): Env {
  cached ??= parseEnv()
  return cached
}
