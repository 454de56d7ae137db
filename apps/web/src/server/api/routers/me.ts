import { createTRPCRouter, protectedProcedure } from '../trpc'

export const meRouter = createTRPCRouter({
  /** The signed-in user, as the database has it now. */
  get: protectedProcedure.query(({ ctx }) => {
    const { id, email, name, role } = ctx.user
    return { id, email, name, role }
  }),
})
