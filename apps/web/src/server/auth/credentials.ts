// The credentials check behind the sign-in form, separate from Auth.js so tests can call it directly.
// Every attempt that would run scrypt (32 MiB, tens of milliseconds of CPU) is first counted against the client's
// address, and an account with too many failures from this address, or from all addresses together, is refused before
// scrypt runs (limits.ts RATE_LIMITS).
import { z } from 'zod'

import type { Db } from '../db'
import { consume, ensureNotExhausted, RateLimited, resetLimit } from '../http/rate-limit'
import { SECRET_LIMITS } from '../limits'
import { dummyPasswordHash, verifyPassword } from './password'

/** The account scripts/demo.sh seeds: refused by a production server unless it runs as the demo (TANDEM_DEMO=1). */
export const DEMO_EMAIL = 'researcher@tandem.local'

export const signInSchema = z.object({
  email: z.email('Enter a valid e-mail address').trim().toLowerCase(),
  password: z.string().min(1, 'Enter your password').max(1024),
})

export type SignInResult =
  | { ok: true; user: { id: string; email: string; name: string; role: 'ADMIN' | 'RESEARCHER' } }
  /** demo: the demo account on a production server; weak: a password shorter than the minimum, in production */
  | { ok: false; reason: 'invalid' | 'disabled' | 'demo' | 'weak' }
  /** too many attempts from this address, or failures of this account: try again after retryAfterSeconds */
  | { ok: false; reason: 'locked'; retryAfterSeconds: number }

export interface SignInContext {
  /** The client's address (clientAddress); absent only for callers without a request (tests, scripts). */
  address?: string
  /** A production server (NODE_ENV=production) refuses the demo account and short passwords. */
  production?: boolean
  /** The server runs as scripts/demo.sh (TANDEM_DEMO=1): the demo account may sign in. */
  demo?: boolean
}

function locked(error: RateLimited): SignInResult {
  return { ok: false, reason: 'locked', retryAfterSeconds: error.retryAfterSeconds }
}

export async function checkCredentials(db: Db, input: unknown, context: SignInContext = {}): Promise<SignInResult> {
  const parsed = signInSchema.safeParse(input)
  if (!parsed.success) return { ok: false, reason: 'invalid' }
  const { email, password } = parsed.data
  const production = context.production ?? process.env.NODE_ENV === 'production'
  // failures are keyed by the e-mail as typed (normalised), whether or not the account exists: a lock reveals nothing
  const accountFromAddress = `${email}|${context.address ?? 'unknown'}`
  try {
    if (context.address) await consume('signInPerIp', context.address)
    await ensureNotExhausted('signInFailuresPerAccountAndIp', accountFromAddress)
    await ensureNotExhausted('signInFailuresPerAccount', email)
  } catch (error) {
    if (error instanceof RateLimited) return locked(error)
    throw error
  }
  if (production && email === DEMO_EMAIL && !context.demo) return { ok: false, reason: 'demo' }
  // judged on the typed password, before scrypt: says nothing about the stored one
  if (production && password.length < SECRET_LIMITS.minPasswordLength) return { ok: false, reason: 'weak' }

  const user = await db.user.findUnique({ where: { email } })
  // same work whether or not the e-mail exists, so timing does not reveal accounts
  const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()))
  if (!user || !matches) {
    try {
      await consume('signInFailuresPerAccountAndIp', accountFromAddress)
      await consume('signInFailuresPerAccount', email)
    } catch (error) {
      if (error instanceof RateLimited) return locked(error)
      throw error
    }
    return { ok: false, reason: 'invalid' }
  }
  if (user.disabledAt) return { ok: false, reason: 'disabled' }
  await Promise.all([resetLimit('signInFailuresPerAccountAndIp', accountFromAddress), resetLimit('signInFailuresPerAccount', email)])
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role } }
}
