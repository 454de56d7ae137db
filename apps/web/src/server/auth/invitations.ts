// Invitation tokens: 32 random bytes, sent to the invitee once as a link (/invite/<token>); the database keeps
// only their SHA-256, so a leaked table cannot be turned into working links. A plain hash (not scrypt) is
// enough because the token itself has 256 bits of entropy.
import { createHash, randomBytes } from 'node:crypto'

import { INVITE_DAYS } from '../api/routers/users.schema'

export function newInviteToken(): string {
  return randomBytes(32).toString('base64url')
}

export function hashInviteToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

export function inviteExpiry(from = new Date()): Date {
  return new Date(from.getTime() + INVITE_DAYS * 24 * 60 * 60 * 1000)
}

export function invitePath(token: string): string {
  return `/invite/${token}`
}
