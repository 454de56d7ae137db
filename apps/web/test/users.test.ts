// Accounts through the tRPC procedures, against a real migrated database: the admin's user list, invitations
// (invite → accept → sign in with the Credentials provider's own authorize()), expired and used links, and
// disabling. Sign-in is checked with the authorize() Auth.js calls, so these tests cover what the login form does.
import { createHash } from 'node:crypto'

import { beforeAll, describe, expect, test, vi } from 'vitest'

import { fieldErrorsOf } from '@/server/api/errors'
import { AccountDisabled, authConfig } from '@/server/auth/config'

import { callerFor, catalogCounts, makeUser, rejectionOf, testDb, uniq, type TestUser } from './support/helpers'

// next-auth's entry point imports next/server, which only resolves inside Next; config.ts needs nothing from it but
// the CredentialsSignin class, which next-auth itself re-exports from @auth/core
vi.mock('next-auth', async () => ({ CredentialsSignin: (await import('@auth/core/errors')).CredentialsSignin }))

const db = testDb()
let admin: TestUser
let researcher: TestUser

beforeAll(async () => {
  admin = await makeUser(db, 'ADMIN')
  researcher = await makeUser(db, 'RESEARCHER')
})

const PASSWORD = 'correct horse battery'

/** The Credentials provider's authorize(), as Auth.js calls it when the login form is submitted. */
async function authorize(email: string, password: string) {
  const provider = authConfig().providers[0] as unknown as {
    options: { authorize: (credentials: Record<string, string>, request: Request) => Promise<unknown> }
  }
  return provider.options.authorize({ email, password }, new Request('http://localhost/api/auth/callback/credentials'))
}

async function invite(overrides: Partial<{ email: string; name: string; role: 'RESEARCHER' | 'ADMIN' }> = {}) {
  const api = await callerFor(db, admin)
  const input = { email: `${uniq('invitee')}@example.test`, name: 'Ada Lovelace', role: 'RESEARCHER' as const, ...overrides }
  const result = await api.users.invite(input)
  return { ...input, ...result, token: result.invitePath.replace('/invite/', '') }
}

async function anonymous() {
  return callerFor(db, null)
}

describe('invite', () => {
  test('creates an invited account: no password, a sha256 of the token, expiry in 7 days, the inviting admin; audited without the token', async () => {
    const before = Date.now()
    const invited = await invite({ email: `  ${uniq('Mixed')}@Example.TEST `, role: 'ADMIN' })
    expect(invited.invitePath).toMatch(/^\/invite\/[A-Za-z0-9_-]{43}$/)
    const user = await db.user.findUniqueOrThrow({ where: { id: invited.userId } })
    expect(user).toMatchObject({
      email: invited.email.trim().toLowerCase(), name: 'Ada Lovelace', role: 'ADMIN', passwordHash: null, disabledAt: null,
      invitedById: admin.id, inviteTokenHash: createHash('sha256').update(invited.token).digest('hex'),
    })
    const sevenDays = 7 * 24 * 3600 * 1000
    expect(user.inviteExpiresAt!.getTime()).toBeGreaterThanOrEqual(before + sevenDays - 1000)
    expect(user.inviteExpiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + sevenDays + 1000)

    const audits = await db.auditLog.findMany({ where: { entity: 'users', entityId: user.id } })
    expect(audits).toHaveLength(1)
    expect(audits[0]).toMatchObject({ actorId: admin.id, action: 'user.invite', details: { email: user.email, role: 'ADMIN', reinvite: false } })
    expect(JSON.stringify(audits[0]!.details)).not.toContain(invited.token)
  })

  test('re-inviting a user who has not accepted issues a new link; the old one stops working', async () => {
    const first = await invite()
    const second = await invite({ email: first.email, name: 'Ada King', role: 'ADMIN' })
    expect(second.userId).toBe(first.userId)
    expect(second.reinvite).toBe(true)
    expect(second.token).not.toBe(first.token)
    expect(await db.user.findUniqueOrThrow({ where: { id: first.userId } })).toMatchObject({ name: 'Ada King', role: 'ADMIN', passwordHash: null })

    const api = await anonymous()
    expect((await rejectionOf(api.users.invitation({ token: first.token }))).code).toBe('NOT_FOUND')
    expect(await api.users.invitation({ token: second.token })).toMatchObject({ email: first.email, name: 'Ada King', role: 'ADMIN' })
  })

  test('an e-mail with an active account is a field error and changes nothing', async () => {
    const api = await callerFor(db, admin)
    const before = await catalogCounts(db)
    const row = await db.user.findUniqueOrThrow({ where: { id: researcher.id } })
    const error = await rejectionOf(api.users.invite({ email: researcher.email.toUpperCase(), name: 'Someone', role: 'ADMIN' }))
    expect(fieldErrorsOf(error)).toEqual({ email: [`${researcher.email} already has an account`] })
    expect(await catalogCounts(db)).toEqual(before)
    expect(await db.user.findUniqueOrThrow({ where: { id: researcher.id } })).toEqual(row)
  })

  test.each([
    ['a malformed e-mail', { email: 'not-an-email' }, 'email', /valid e-mail/],
    ['an empty name', { name: ' ' }, 'name', /Give a name/],
    ['an unknown role', { role: 'OWNER' }, 'role', /RESEARCHER or ADMIN/],
  ])('%s: BAD_REQUEST with a field error, nothing written', async (_label, overrides, field, message) => {
    const api = await callerFor(db, admin)
    const before = await catalogCounts(db)
    const error = await rejectionOf(api.users.invite({ email: `${uniq('x')}@example.test`, name: 'X', role: 'RESEARCHER', ...overrides } as never))
    expect(fieldErrorsOf(error)?.[field]?.join(' ')).toMatch(message)
    expect(await catalogCounts(db)).toEqual(before)
  })

  test('a researcher cannot invite anyone', async () => {
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    const email = `${uniq('sneaky')}@example.test`
    expect((await rejectionOf(api.users.invite({ email, name: 'Sneaky', role: 'ADMIN' }))).code).toBe('FORBIDDEN')
    expect(await db.user.count({ where: { email } })).toBe(0)
    expect(await catalogCounts(db)).toEqual(before)
  })
})

describe('accept an invitation', () => {
  test('invite → accept → sign in: the password works, the link is used up, the invitee can no longer be re-invited', async () => {
    const invited = await invite()
    // an invited account has no password: no password signs it in
    expect(await authorize(invited.email, PASSWORD)).toBeNull()
    expect(await authorize(invited.email, '')).toBeNull()

    const api = await anonymous()
    expect(await api.users.invitation({ token: invited.token })).toMatchObject({ email: invited.email, name: 'Ada Lovelace', role: 'RESEARCHER' })
    expect(await api.users.acceptInvite({ token: invited.token, name: 'Ada L.', password: PASSWORD, confirm: PASSWORD })).toEqual({ email: invited.email })

    const user = await db.user.findUniqueOrThrow({ where: { id: invited.userId } })
    expect(user).toMatchObject({ name: 'Ada L.', inviteTokenHash: null, inviteExpiresAt: null })
    expect(user.passwordHash).toMatch(/^scrypt\$/)
    expect(await authorize(invited.email, PASSWORD)).toEqual({ id: invited.userId, email: invited.email, name: 'Ada L.', role: 'RESEARCHER' })
    expect(await authorize(invited.email, 'wrong password!')).toBeNull()
    expect(await db.auditLog.findFirst({ where: { entityId: invited.userId, action: 'user.accept_invite' } })).toMatchObject({ actorId: invited.userId })

    // the link is used: it changes nothing a second time
    const again = await rejectionOf(api.users.acceptInvite({ token: invited.token, password: 'another password', confirm: 'another password' }))
    expect(again.code).toBe('NOT_FOUND')
    expect(again.message).toMatch(/unknown or has already been used/)
    expect(await db.user.findUniqueOrThrow({ where: { id: invited.userId } })).toEqual(user)

    const adminApi = await callerFor(db, admin)
    expect(fieldErrorsOf(await rejectionOf(adminApi.users.invite({ email: invited.email, name: 'x', role: 'RESEARCHER' })))).toEqual({
      email: [`${invited.email} already has an account`],
    })
  })

  test('a blank name keeps the invited name', async () => {
    const invited = await invite({ name: 'Grace Hopper' })
    await (await anonymous()).users.acceptInvite({ token: invited.token, name: '', password: PASSWORD, confirm: PASSWORD })
    expect((await db.user.findUniqueOrThrow({ where: { id: invited.userId } })).name).toBe('Grace Hopper')
  })

  test('an expired link is refused with a clear message and changes nothing', async () => {
    const invited = await invite()
    await db.user.update({ where: { id: invited.userId }, data: { inviteExpiresAt: new Date(Date.now() - 60_000) } })
    const row = await db.user.findUniqueOrThrow({ where: { id: invited.userId } })
    const api = await anonymous()
    for (const call of [
      api.users.invitation({ token: invited.token }),
      api.users.acceptInvite({ token: invited.token, password: PASSWORD, confirm: PASSWORD }),
    ]) {
      const error = await rejectionOf(call)
      expect(error.code).toBe('BAD_REQUEST')
      expect(error.message).toMatch(/^This invitation expired on \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Ask an administrator for a new one\.$/)
    }
    expect(await db.user.findUniqueOrThrow({ where: { id: invited.userId } })).toEqual(row)
    expect(await authorize(invited.email, PASSWORD)).toBeNull()
  })

  test('unknown and malformed tokens are refused', async () => {
    const api = await anonymous()
    const unknown = 'A'.repeat(43)
    expect((await rejectionOf(api.users.invitation({ token: unknown }))).code).toBe('NOT_FOUND')
    expect((await rejectionOf(api.users.acceptInvite({ token: unknown, password: PASSWORD, confirm: PASSWORD }))).code).toBe('NOT_FOUND')
    const malformed = await rejectionOf(api.users.invitation({ token: 'short' }))
    expect(fieldErrorsOf(malformed)).toEqual({ token: ['This is not an invitation link'] })
  })

  test.each([
    ['a password under 12 characters', { password: 'short pw', confirm: 'short pw' }, 'password', /At least 12 characters/],
    ['a confirmation that does not match', { password: PASSWORD, confirm: `${PASSWORD}!` }, 'confirm', /do not match/],
  ])('%s: a field error, the invitation stays open', async (_label, overrides, field, message) => {
    const invited = await invite()
    const row = await db.user.findUniqueOrThrow({ where: { id: invited.userId } })
    const error = await rejectionOf((await anonymous()).users.acceptInvite({ token: invited.token, ...overrides }))
    expect(fieldErrorsOf(error)?.[field]?.join(' ')).toMatch(message)
    expect(await db.user.findUniqueOrThrow({ where: { id: invited.userId } })).toEqual(row)
  })

  test('a disabled invitee cannot accept', async () => {
    const invited = await invite()
    await (await callerFor(db, admin)).users.setDisabled({ userId: invited.userId, disabled: true })
    const error = await rejectionOf((await anonymous()).users.acceptInvite({ token: invited.token, password: PASSWORD, confirm: PASSWORD }))
    expect(error.code).toBe('FORBIDDEN')
    expect((await db.user.findUniqueOrThrow({ where: { id: invited.userId } })).passwordHash).toBeNull()
    // re-inviting asks for the account to be enabled first
    const again = await rejectionOf((await callerFor(db, admin)).users.invite({ email: invited.email, name: 'x', role: 'RESEARCHER' }))
    expect(fieldErrorsOf(again)?.email?.join(' ')).toMatch(/enable the account before inviting again/)
  })
})

describe('list and disable', () => {
  test('the list is paged and tells active, invited and disabled accounts apart', async () => {
    const invited = await invite()
    const disabled = await makeUser(db, 'RESEARCHER', { disabled: true })
    const api = await callerFor(db, admin)
    const total = await db.user.count()
    // other test files share the database and add accounts: read every page
    const all = await api.users.list({ page: 1, pageSize: 100 })
    expect(all.page).toBe(1)
    expect(all.total).toBeGreaterThanOrEqual(total)
    expect(all.pageCount).toBe(Math.ceil(all.total / 100))
    const items = [...all.items]
    for (let p = 2; p <= all.pageCount; p++) items.push(...(await api.users.list({ page: p, pageSize: 100 })).items)
    const byId = new Map(items.map((u) => [u.id, u]))
    expect(byId.get(invited.userId)).toMatchObject({ status: 'invited', inviteExpired: false, inviteExpiresAt: expect.any(Date) })
    expect(byId.get(researcher.id)).toMatchObject({ status: 'active', inviteExpiresAt: null, isSelf: false })
    expect(byId.get(disabled.id)).toMatchObject({ status: 'disabled' })
    expect(byId.get(admin.id)).toMatchObject({ status: 'active', isSelf: true })
    // no password hashes leave the server
    expect(JSON.stringify(all)).not.toContain('scrypt')

    const page = await api.users.list({ page: 2, pageSize: 2 })
    expect(page.items).toHaveLength(Math.min(2, page.total - 2))
    expect(page.pageCount).toBe(Math.ceil(page.total / 2))
  })

  test('a disabled account cannot sign in, even with its password; enabling it again lets it in; both audited', async () => {
    const invited = await invite()
    await (await anonymous()).users.acceptInvite({ token: invited.token, password: PASSWORD, confirm: PASSWORD })
    const api = await callerFor(db, admin)
    await api.users.setDisabled({ userId: invited.userId, disabled: true })
    await expect(authorize(invited.email, PASSWORD)).rejects.toBeInstanceOf(AccountDisabled)
    await api.users.setDisabled({ userId: invited.userId, disabled: false })
    expect(await authorize(invited.email, PASSWORD)).toMatchObject({ id: invited.userId })
    const actions = await db.auditLog.findMany({ where: { entityId: invited.userId }, orderBy: { id: 'asc' }, select: { action: true } })
    expect(actions.map((a) => a.action)).toEqual(['user.invite', 'user.accept_invite', 'user.disable', 'user.enable'])
  })

  test('an admin cannot disable their own account', async () => {
    const error = await rejectionOf((await callerFor(db, admin)).users.setDisabled({ userId: admin.id, disabled: true }))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toBe('You cannot disable your own account')
    expect((await db.user.findUniqueOrThrow({ where: { id: admin.id } })).disabledAt).toBeNull()
  })
})
