// Rate limits shared by every web instance: counters in Postgres (rate-limiter-flexible's Postgres store, table
// rate_limits in schema.prisma), with an in-process limiter as insurance while Postgres is unreachable. The numbers
// live in ../limits.ts; this module only applies them.
import { Pool } from 'pg'
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible'

import { env } from '../../env'
import { RATE_LIMITS } from '../limits'

export type LimitName = keyof typeof RATE_LIMITS

/** Thrown when a limit is exhausted; route handlers answer 429 with Retry-After, tRPC answers TOO_MANY_REQUESTS. */
export class RateLimited extends Error {
  override name = 'RateLimited'
  constructor(
    readonly limit: LimitName,
    readonly retryAfterSeconds: number,
  ) {
    super(`Too many requests; try again in ${retryAfterSeconds} s`)
  }
}

const globalForLimits = globalThis as unknown as { tandemRateLimits?: { url: string; pool: Pool; limiters: Map<LimitName, RateLimiterPostgres> } }

function store() {
  const url = env().DATABASE_URL
  if (globalForLimits.tandemRateLimits?.url !== url) {
    void globalForLimits.tandemRateLimits?.pool.end().catch(() => {})
    // a small pool of its own: a limiter check must not wait behind Prisma's queries
    const pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 2_000 })
    pool.on('error', () => {}) // an idle client lost with Postgres: the next query reconnects
    globalForLimits.tandemRateLimits = { url, pool, limiters: new Map() }
  }
  return globalForLimits.tandemRateLimits
}

/** The limiter called `name` (created on first use). */
export function limiter(name: LimitName): RateLimiterPostgres {
  const s = store()
  let found = s.limiters.get(name)
  if (!found) {
    const { points, seconds } = RATE_LIMITS[name]
    found = new RateLimiterPostgres({
      storeClient: s.pool,
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true, // the migration made it
      keyPrefix: name,
      points,
      duration: seconds,
      // Postgres down: count in this process instead of failing every request (or letting all through)
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: seconds }),
    })
    s.limiters.set(name, found)
  }
  return found
}

function retryAfter(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000))
}

/** Counts one request (or `points`) against `name` for `key`; throws RateLimited when the limit is exhausted. */
export async function consume(name: LimitName, key: string, points = 1): Promise<void> {
  try {
    await limiter(name).consume(key, points)
  } catch (error) {
    if (error instanceof RateLimiterRes) throw new RateLimited(name, retryAfter(error))
    throw error
  }
}

/** Throws RateLimited when `key` has already used up `name` (without counting this request). */
export async function ensureNotExhausted(name: LimitName, key: string): Promise<void> {
  const res = await limiter(name).get(key)
  if (res && res.consumedPoints >= RATE_LIMITS[name].points) throw new RateLimited(name, retryAfter(res))
}

/** Forgets `key`'s count (a successful sign-in clears the account's failures). */
export async function resetLimit(name: LimitName, key: string): Promise<void> {
  await limiter(name).delete(key)
}

/**
 * The client's address for per-address limits. Behind TANDEM_TRUSTED_PROXIES proxies (the k8s ingress: 1) it is the
 * X-Forwarded-For entry the outermost trusted proxy appended; with none, Next.js fills X-Forwarded-For from the socket
 * only when the client sent none, so a directly exposed server can be fooled into per-address counts of a forged
 * address (docs/security.md): the per-study and per-account limits do not depend on it.
 */
export function clientAddress(headers: Headers): string {
  const hops = Math.max(1, Number.parseInt(process.env.TANDEM_TRUSTED_PROXIES ?? '1', 10) || 1)
  const chain = (headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const address = chain[chain.length - hops] ?? chain[0] ?? headers.get('x-real-ip') ?? 'unknown'
  return address.slice(0, 64)
}
