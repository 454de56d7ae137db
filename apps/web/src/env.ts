// The web app's environment, validated with zod on first use (not at import: `next build` loads the
// server modules without a database or secret). A missing or malformed variable fails with a message
// that names it and says what it should look like.
import { z } from 'zod'

import { SECRET_LIMITS } from './server/limits'

const postgresUrl = z
  .string({ error: 'is not set' })
  .min(1, 'is empty')
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a PostgreSQL URL (postgresql://user@host:port/db)')

/** Where the live model service (workers/live) listens; read on each use, so it can change without a restart. */
export const liveUrlSchema = z
  .string()
  .regex(/^https?:\/\/[^\s/]+/, 'must be an http(s) URL of the live model service, e.g. http://127.0.0.1:8790')
  .optional()

/**
 * The shared secret workers/live requires on every request (sent as `authorization: Bearer …`): at least 32 bytes,
 * e.g. `openssl rand -hex 32`. Unset only where the service runs unprotected on 127.0.0.1 (demo, tests).
 */
export const liveSecretSchema = z
  .string()
  .refine((value) => new TextEncoder().encode(value).length >= 32, 'must be at least 32 bytes (generate one with `openssl rand -hex 32`)')
  .optional()

export const envSchema = z.object({
  DATABASE_URL: postgresUrl,
  AUTH_SECRET: z
    .string({ error: 'is not set (generate one with `openssl rand -base64 32`)' })
    .min(16, 'must be at least 16 characters (generate one with `openssl rand -base64 32`)'),
  // where the workers write run folders; shown next to checkpoint paths (optional)
  TANDEM_RUNS_DIR: z.string().min(1).optional(),
  LIVE_URL: liveUrlSchema,
  LIVE_SECRET: liveSecretSchema,
  // set by scripts/demo.sh only (a server on 127.0.0.1): lets the demo account sign in to a production build
  TANDEM_DEMO: z
    .literal('1', { error: 'must be 1 (set by scripts/demo.sh) or unset' })
    .optional()
    .transform((value) => value === '1'),
})

export type Env = z.infer<typeof envSchema>

const GENERATE_SECRET = 'generate one with `openssl rand -base64 32`'

/** Markers of the placeholders in the env templates (infra/k8s/secret.template.yaml: REPLACE_WITH_A_LONG_RANDOM_STRING). */
const PLACEHOLDER = /REPLACE_|CHANGE_?ME|YOUR_SECRET/i

/** Bits the text could carry at most, judged by how often each character occurs (length × Shannon entropy). */
export function estimatedBits(text: string): number {
  const counts = new Map<string, number>()
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1)
  const length = [...text].length
  let bitsPerChar = 0
  for (const count of counts.values()) bitsPerChar -= (count / length) * Math.log2(count / length)
  return length * bitsPerChar
}

/**
 * Why `secret` is not good enough for a production AUTH_SECRET, or null. The rule: not a template placeholder; at
 * least 32 bytes' worth of text (64 hex digits, or 43 characters of anything else: 32 bytes in base64); and varied
 * enough to carry 128 bits (a repeated pattern is not random).
 */
export function authSecretProblem(secret: string): string | null {
  const bytes = SECRET_LIMITS.authSecretMinBytes
  if (PLACEHOLDER.test(secret)) return `is the env template's placeholder; ${GENERATE_SECRET}`
  const minLength = /^[0-9a-f]+$/i.test(secret) ? bytes * 2 : Math.ceil((bytes * 4) / 3)
  if (secret.length < minLength) {
    return `must hold at least ${bytes} random bytes in production: ${bytes * 2} hex digits or ${Math.ceil((bytes * 4) / 3)} characters of base64 (${GENERATE_SECRET})`
  }
  const bits = estimatedBits(secret)
  if (bits < SECRET_LIMITS.authSecretMinEstimatedBits) {
    return `repeats too few characters to be random (about ${Math.floor(bits)} bits, at least ${SECRET_LIMITS.authSecretMinEstimatedBits} needed); ${GENERATE_SECRET}`
  }
  return null
}

/** Production (NODE_ENV=production, as `next start` sets it): the secret must be random, not merely long. */
const productionEnvSchema = envSchema.superRefine((value, ctx) => {
  const problem = authSecretProblem(value.AUTH_SECRET)
  if (problem) ctx.addIssue({ code: 'custom', path: ['AUTH_SECRET'], message: problem })
})

export class EnvError extends Error {
  override name = 'EnvError'
}

/** Validates `source` (default process.env); throws EnvError naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const schema = source.NODE_ENV === 'production' ? productionEnvSchema : envSchema
  const result = schema.safeParse({
    DATABASE_URL: source.DATABASE_URL,
    AUTH_SECRET: source.AUTH_SECRET,
    TANDEM_RUNS_DIR: source.TANDEM_RUNS_DIR || undefined,
    LIVE_URL: source.LIVE_URL || undefined,
    LIVE_SECRET: source.LIVE_SECRET || undefined,
    TANDEM_DEMO: source.TANDEM_DEMO || undefined,
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
