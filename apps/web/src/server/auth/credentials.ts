// The credentials check behind the sign-in form, separate from Auth.js so tests can call it directly.
import { z } from 'zod'

import type { Db } from '../db'
import { dummyPasswordHash, verifyPassword } from './password'

export const signInSchema = z.object({
  email: z.email('Enter a valid e-mail address').trim().toLowerCase(),
  password: z.string().min(1, 'Enter your password').max(1024),
})

export type SignInResult =
  | { ok: true; user: { id: string; email: string; name: string; role: 'ADMIN' | 'RESEARCHER' } }
  | { ok: false; reason: 'invalid' | 'disabled' }

export async function checkCredentials(db: Db, input: unknown): Promise<SignInResult> {
  const parsed = signInSchema.safeParse(input)
  if (!parsed.success) return { ok: false, reason: 'invalid' }
  const { email, password } = parsed.data
  const user = await db.user.findUnique({ where: { email } })
  // same work whether or not the e-mail exists, so timing does not reveal accounts
  const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()))
  if (!user || !matches) return { ok: false, reason: 'invalid' }
  if (user.disabledAt) return { ok: false, reason: 'disabled' }
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role } }
}
