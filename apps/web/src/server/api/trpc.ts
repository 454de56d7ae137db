// tRPC setup (create-t3-app layout): the request context, the error shape, and the procedure builders.
// Access is enforced here, in middleware, by the one access policy (server/auth/access.ts):
//   publicProcedure            anyone
//   protectedProcedure         a signed-in user whose account exists, is enabled and whose session is current
//                              (re-read per call)
//   researcherProcedure        role RESEARCHER or ADMIN
//   adminProcedure             role ADMIN
//   studyProcedure(need)       a researcher with `need` on the study named by input.id (its design: everyone;
//                              participant data: owner, collaborators, admins; manage: owner, admins); ctx.study
import { initTRPC } from '@trpc/server'
import type { Session } from 'next-auth'
import superjson from 'superjson'
import { z } from 'zod'

import { authenticate, requireRole, requireStudy, RESEARCHER_ROLES, type Role, type StudyNeed } from '../auth/access'
import type { Db } from '../db'
import { getDb } from '../db'
import { fieldErrorsOf } from './errors'

export type { Role }

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

/** Signed in, account present and enabled, session not revoked; puts the fresh user row on ctx.user. */
export const protectedProcedure = t.procedure.use(async ({ ctx, next }) => {
  const user = await authenticate(ctx.db, ctx.session)
  return next({ ctx: { ...ctx, session: ctx.session!, user } })
})

function requireRoles(...roles: Role[]) {
  return protectedProcedure.use(({ ctx, next }) => {
    requireRole(ctx.user, roles)
    return next()
  })
}

export const researcherProcedure = requireRoles(...RESEARCHER_ROLES)
export const adminProcedure = requireRoles('ADMIN')

/** The study every study-scoped input names. */
const studyScopedInput = z.object({ id: z.string().min(1, 'Give a study id') })

/**
 * A researcher procedure on the study named by `input.id`, for callers with `need` on it (NOT_FOUND / FORBIDDEN
 * otherwise, or `refusal`); the study and the caller's relation to it are on ctx.study. Chain `.input(...)` for the other fields.
 */
export function studyProcedure(need: StudyNeed, refusal?: string) {
  return researcherProcedure.input(studyScopedInput).use(async ({ ctx, input, next }) => {
    const study = await requireStudy(ctx.db, ctx.user, input.id, need, refusal)
    return next({ ctx: { ...ctx, study } })
  })
}
