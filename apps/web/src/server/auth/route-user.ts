// Access for route handlers (downloads) that cannot go through tRPC: the same rule as researcherProcedure.
import { getDb } from '../db'

import { auth } from '.'

/** The signed-in, enabled researcher or admin, or the Response to send instead (401 / 403). */
export async function researcherOrResponse(): Promise<{ id: string; email: string } | Response> {
  const session = await auth()
  const userId = session?.user?.id
  if (!userId) return new Response('Sign in to continue\n', { status: 401 })
  const user = await getDb().user.findUnique({ where: { id: userId }, select: { id: true, email: true, role: true, disabledAt: true } })
  if (!user || user.disabledAt) return new Response('This account is disabled or no longer exists\n', { status: 401 })
  if (user.role !== 'RESEARCHER' && user.role !== 'ADMIN') return new Response('Requires role RESEARCHER or ADMIN\n', { status: 403 })
  return { id: user.id, email: user.email }
}
