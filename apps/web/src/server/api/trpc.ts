// tRPC setup (create-t3-app layout): the request context, the error shape, and the procedure builders.
// Access is enforced here, once, in middleware:
//   publicProcedure      anyone
//   protectedProcedure   a signed-in user whose account exists and is not disabled (re-read per call)
//   researcherProcedure  role RESEARCHER or ADMIN
//   adminProcedure       role ADMIN
import { initTRPC, TRPCError } from '@trpc/server'
import type { Session } from 'next-auth'
import superjson from 'superjson'

import type { Db } from '../db'
import { getDb } from '../db'
import { fieldErrorsOf } from './errors'

export type Role = 'ADMIN' | 'RESEARCHER'

export interface ContextOptions {
  /** The Auth.js session (null when signed out). */
  session: Session | null
  headers?: Headers
  /** Defaults to the app's shared client; tests pass their own. */
  db?: Db
}

export async function createTRPCContext(opts: ContextOptions) {
  return { db: opts.db ?? getDb(), session: opts.session, headers: opts.headers ?? new Headers() }
}

export type Context = Awaited<ReturnType<typeof createTRPCContext>>

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    return { ...shape, data: { ...shape.data, fieldErrors: fieldErrorsOf(error) } }
  },
})

export const createCallerFactory = t.createCallerFactory
export const createTRPCRouter = t.router

export const publicProcedure = t.procedure

/** Signed in, account present and enabled; puts the fresh user row on ctx.user. */
export const protectedProcedure = t.procedure.use(async ({ ctx, next }) => {
  const userId = ctx.session?.user?.id
  if (!userId) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue' })
  const user = await ctx.db.user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, name: true, role: true, disabledAt: true },
  })
  if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your account no longer exists' })
  if (user.disabledAt) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'This account is disabled' })
  return next({ ctx: { ...ctx, session: ctx.session!, user } })
})

function requireRole(...roles: Role[]) {
  return protectedProcedure.use(({ ctx, next }) => {
    if (!roles.includes(ctx.user.role)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `Requires role ${roles.join(' or ')}` })
    }
    return next()
  })
}

export const researcherProcedure = requireRole('RESEARCHER', 'ADMIN')
export const adminProcedure = requireRole('ADMIN')
