// Accounts. Admins list users, invite researchers (a link shown once), disable or enable accounts and sign an account
// out everywhere (each raises its session version, so its open sessions are refused: server/auth/access.ts); an
// invitee accepts with the link's token and chooses a password (public procedures: the invitee has no
// session yet). The first admin comes from scripts/seed-user.ts.
import { TRPCError } from '@trpc/server'

import { audit } from '../../audit'
import type { Db } from '../../db'
import { hashInviteToken, inviteExpiry, invitePath, newInviteToken } from '../../auth/invitations'
import { hashPassword } from '../../auth/password'
import { fieldError } from '../errors'
import { paged, skipTake } from '../pagination'
import { adminProcedure, createTRPCRouter, publicProcedure } from '../trpc'
import {
  acceptInviteSchema, invitationSchema, inviteUserSchema, listUsersSchema, revokeSessionsSchema, setDisabledSchema, userStatus,
} from './users.schema'

const NO_SUCH_INVITATION = 'This invitation link is not valid: it is unknown or has already been used. Ask an administrator for a new one.'

function expiredMessage(expiresAt: Date): string {
  return `This invitation expired on ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC. Ask an administrator for a new one.`
}

/** The open invitation a token stands for, or the error that says why there is none. Reads only. */
async function openInvitation(db: Db, token: string) {
  const user = await db.user.findUnique({
    where: { inviteTokenHash: hashInviteToken(token) },
    select: { id: true, email: true, name: true, role: true, passwordHash: true, disabledAt: true, inviteExpiresAt: true },
  })
  if (!user || user.passwordHash) throw new TRPCError({ code: 'NOT_FOUND', message: NO_SUCH_INVITATION })
  if (!user.inviteExpiresAt || user.inviteExpiresAt.getTime() <= Date.now()) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: expiredMessage(user.inviteExpiresAt ?? new Date(0)) })
  }
  if (user.disabledAt) throw new TRPCError({ code: 'FORBIDDEN', message: 'This account has been disabled. Ask an administrator.' })
  return { id: user.id, email: user.email, name: user.name, role: user.role, expiresAt: user.inviteExpiresAt }
}

export const usersRouter = createTRPCRouter({
  list: adminProcedure.input(listUsersSchema).query(async ({ ctx, input }) => {
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.user.count(),
      ctx.db.user.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...skipTake(input),
        select: {
          id: true, email: true, name: true, role: true, disabledAt: true, createdAt: true, passwordHash: true, inviteExpiresAt: true,
        },
      }),
    ])
    const now = Date.now()
    const items = rows.map(({ passwordHash, inviteExpiresAt, ...user }) => {
      const status = userStatus({ disabledAt: user.disabledAt, passwordHash })
      return {
        ...user,
        status,
        inviteExpiresAt: status === 'invited' ? inviteExpiresAt : null,
        inviteExpired: status === 'invited' && (!inviteExpiresAt || inviteExpiresAt.getTime() <= now),
        isSelf: user.id === ctx.user.id,
      }
    })
    return paged(items, total, input)
  }),

  /**
   * Creates an invited account (no password) with a fresh token, or issues a new token to an account that
   * was invited and has not accepted yet (the old link stops working). The link is returned once.
   */
  invite: adminProcedure.input(inviteUserSchema).mutation(async ({ ctx, input }) => {
    const token = newInviteToken()
    const inviteTokenHash = hashInviteToken(token)
    const expiresAt = inviteExpiry()
    const result = await ctx.db
      .$transaction(async (tx) => {
        const existing = await tx.user.findUnique({ where: { email: input.email }, select: { id: true, passwordHash: true, disabledAt: true } })
        if (existing?.passwordHash) throw fieldError({ email: [`${input.email} already has an account`] })
        if (existing?.disabledAt) throw fieldError({ email: [`${input.email} was invited and then disabled; enable the account before inviting again`] })
        const invite = { name: input.name, role: input.role, inviteTokenHash, inviteExpiresAt: expiresAt, invitedById: ctx.user.id }
        const user = existing
          ? await tx.user.update({ where: { id: existing.id }, data: invite, select: { id: true, email: true } })
          : await tx.user.create({ data: { email: input.email, passwordHash: null, ...invite }, select: { id: true, email: true } })
        await audit(tx, {
          actorId: ctx.user.id,
          action: 'user.invite',
          entity: 'users',
          entityId: user.id,
          // never the token: the audit log must not hold a working link
          details: { email: user.email, role: input.role, reinvite: existing !== null, expiresAt: expiresAt.toISOString() },
        })
        return { userId: user.id, email: user.email, reinvite: existing !== null }
      })
      .catch((error: unknown) => {
        // the same e-mail invited twice at once: the unique index decides
        if ((error as { code?: string }).code === 'P2002') throw fieldError({ email: [`${input.email} already has an account`] })
        throw error
      })
    return { ...result, invitePath: invitePath(token), expiresAt }
  }),

  /** What the invitation page shows before the invitee chooses a password. */
  invitation: publicProcedure.input(invitationSchema).query(async ({ ctx, input }) => {
    const { email, name, role, expiresAt } = await openInvitation(ctx.db, input.token)
    return { email, name, role, expiresAt }
  }),

  acceptInvite: publicProcedure.input(acceptInviteSchema).mutation(async ({ ctx, input }) => {
    const invitation = await openInvitation(ctx.db, input.token)
    const passwordHash = await hashPassword(input.password)
    return ctx.db.$transaction(async (tx) => {
      // the token must still be open when the password is written: two tabs accepting at once set it once
      const { count } = await tx.user.updateMany({
        where: { id: invitation.id, inviteTokenHash: hashInviteToken(input.token), passwordHash: null, disabledAt: null },
        data: { passwordHash, inviteTokenHash: null, inviteExpiresAt: null, ...(input.name ? { name: input.name } : {}) },
      })
      if (count === 0) throw new TRPCError({ code: 'NOT_FOUND', message: NO_SUCH_INVITATION })
      await audit(tx, {
        actorId: invitation.id,
        action: 'user.accept_invite',
        entity: 'users',
        entityId: invitation.id,
        details: { nameChanged: input.name !== undefined && input.name !== invitation.name },
      })
      return { email: invitation.email }
    })
  }),

  setDisabled: adminProcedure.input(setDisabledSchema).mutation(async ({ ctx, input }) => {
    if (input.userId === ctx.user.id) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'You cannot disable your own account' })
    }
    return ctx.db.$transaction(async (tx) => {
      const found = await tx.user.findUnique({ where: { id: input.userId }, select: { id: true } })
      if (!found) throw new TRPCError({ code: 'NOT_FOUND', message: `No user ${input.userId}` })
      const user = await tx.user.update({
        where: { id: input.userId },
        // a new session version either way: sessions from before a disable stay dead after the enable
        data: { disabledAt: input.disabled ? new Date() : null, sessionVersion: { increment: 1 } },
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

  /** Ends every open session of an account (a lost laptop, a shared browser); the person can sign in again. */
  revokeSessions: adminProcedure.input(revokeSessionsSchema).mutation(async ({ ctx, input }) => {
    return ctx.db.$transaction(async (tx) => {
      const { count } = await tx.user.updateMany({ where: { id: input.userId }, data: { sessionVersion: { increment: 1 } } })
      if (count === 0) throw new TRPCError({ code: 'NOT_FOUND', message: `No user ${input.userId}` })
      await audit(tx, { actorId: ctx.user.id, action: 'user.revoke_sessions', entity: 'users', entityId: input.userId })
      return { userId: input.userId }
    })
  }),
})
