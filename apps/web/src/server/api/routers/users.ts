// User administration (ADMIN only). Accounts are created with scripts/seed-user.ts for now.
import { TRPCError } from '@trpc/server'

import { audit } from '../../audit'
import { adminProcedure, createTRPCRouter } from '../trpc'
import { setDisabledSchema } from './users.schema'

export const usersRouter = createTRPCRouter({
  list: adminProcedure.query(({ ctx }) =>
    ctx.db.user.findMany({
      orderBy: { createdAt: 'asc' },
      select: { id: true, email: true, name: true, role: true, disabledAt: true, createdAt: true },
    }),
  ),

  setDisabled: adminProcedure.input(setDisabledSchema).mutation(async ({ ctx, input }) => {
    if (input.userId === ctx.user.id) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'You cannot disable your own account' })
    }
    return ctx.db.$transaction(async (tx) => {
      const found = await tx.user.findUnique({ where: { id: input.userId }, select: { id: true } })
      if (!found) throw new TRPCError({ code: 'NOT_FOUND', message: `No user ${input.userId}` })
      const user = await tx.user.update({
        where: { id: input.userId },
        data: { disabledAt: input.disabled ? new Date() : null },
        select: { id: true, email: true, disabledAt: true },
      })
      await audit(tx, {
        actorId: ctx.user.id,
        action: input.disabled ? 'user.disable' : 'user.enable',
        entity: 'users',
        entityId: user.id,
      })
      return user
    })
  }),
})
