// Input schemas of the users router. Pure zod, no server imports: the invite and accept-invitation forms
// validate with the same schemas before anything is sent.
import { z } from 'zod'

import { emailAddress } from '../fields'

import { SECRET_LIMITS } from '../../limits'
import { pageInput } from '../pagination'

export const ROLES = ['RESEARCHER', 'ADMIN'] as const
export const MIN_PASSWORD_LENGTH = SECRET_LIMITS.minPasswordLength
export const INVITE_DAYS = 7

export const setDisabledSchema = z.object({ userId: z.string().min(1), disabled: z.boolean() })
export const revokeSessionsSchema = z.object({ userId: z.string().min(1, 'Name the account to sign out') })

export const listUsersSchema = z.object(pageInput).default({ page: 1, pageSize: 20 })

const personName = z.string({ error: 'Give a name' }).trim().min(1, 'Give a name').max(120, 'At most 120 characters')

export const inviteUserSchema = z.object({
  email: emailAddress(),
  name: personName,
  role: z.enum(ROLES, { error: 'Choose RESEARCHER or ADMIN' }),
})

export type InviteUserInput = z.input<typeof inviteUserSchema>

// invitation tokens are 32 random bytes in base64url (43 characters); anything else cannot be one
export const inviteTokenSchema = z.string({ error: 'The invitation link has no token' }).regex(/^[A-Za-z0-9_-]{43}$/, 'This is not an invitation link')

export const invitationSchema = z.object({ token: inviteTokenSchema })

export const acceptInviteSchema = z
  .object({
    token: inviteTokenSchema,
    // blank keeps the name the admin entered
    name: z
      .string()
      .trim()
      .max(120, 'At most 120 characters')
      .optional()
      .transform((value) => value || undefined),
    password: z
      .string({ error: 'Choose a password' })
      .min(MIN_PASSWORD_LENGTH, `At least ${MIN_PASSWORD_LENGTH} characters`)
      .max(1024, 'At most 1024 characters'),
    confirm: z.string({ error: 'Repeat the password' }),
  })
  .refine((value) => value.password === value.confirm, { path: ['confirm'], message: 'The passwords do not match' })

export type AcceptInviteInput = z.input<typeof acceptInviteSchema>

/** How a user row reads in the admin list. */
export type UserStatus = 'active' | 'invited' | 'disabled'

export function userStatus(user: { disabledAt: Date | null; passwordHash: string | null }): UserStatus {
  if (user.disabledAt) return 'disabled'
  return user.passwordHash ? 'active' : 'invited'
}
