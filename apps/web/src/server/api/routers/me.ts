import { audit } from '../../audit'
import { createTRPCRouter, protectedProcedure } from '../trpc'

export const meRouter = createTRPCRouter({
  /** The signed-in user, as the database has it now. */
  get: protectedProcedure.query(({ ctx }) => {
    const { id, email, name, role } = ctx.user
    return { id, email, name, role }
  }),

  /**
   * Ends every session of the caller's account, this one included (a new session version: server/auth/access.ts);
   * the page then clears its own cookie and signs in again.
   */
  signOutEverywhere: protectedProcedure.mutation(async ({ ctx }) => {
    await ctx.db.$transaction(async (tx) => {
      await tx.user.update({ where: { id: ctx.user.id }, data: { sessionVersion: { increment: 1 } } })
      await audit(tx, { actorId: ctx.user.id, action: 'user.sign_out_everywhere', entity: 'users', entityId: ctx.user.id })
    })
    return { signedOut: true }
  }),
})
