// Issue 13, item 3 (sign-in part): every sign-in attempt costs a 32 MiB scrypt, so attempts are limited per address
// and consecutive failures lock the account; the auth routes refuse an oversized body before parsing it.
import { randomBytes } from 'node:crypto'

import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'

import { checkCredentials, DEMO_EMAIL } from '@/server/auth/credentials'
import { hashPassword, verifyPassword } from '@/server/auth/password'
import { limiter } from '@/server/http/rate-limit'
import { BODY_LIMITS, RATE_LIMITS } from '@/server/limits'

import { testDb, uniq } from '../support/helpers'

// count scrypt runs: a locked account must be refused before the hash is computed
vi.mock('@/server/auth/password', async (importOriginal) => {
  const original = await importOriginal<typeof import('@/server/auth/password')>()
  return { ...original, verifyPassword: vi.fn(original.verifyPassword) }
})

// next-auth's entry point imports next/server, which only resolves inside Next; config.ts needs nothing from it but
// the CredentialsSignin class (as in test/users.test.ts)
vi.mock('next-auth', async () => ({ CredentialsSignin: (await import('@auth/core/errors')).CredentialsSignin }))

// the auth route's handlers: only the body cap in front of them is under test here
const authHandlers = vi.hoisted(() => ({ GET: vi.fn(), POST: vi.fn(async (request: Request) => new Response(await request.text())) }))
vi.mock('@/server/auth', () => ({ handlers: authHandlers, auth: vi.fn(), signIn: vi.fn(), signOut: vi.fn() }))

const PASSWORD = 'a-long-enough-password'

const db = testDb()

async function account(password = PASSWORD) {
  const email = `${uniq('signin')}@test.local`
  await db.user.create({ data: { email, name: email, role: 'RESEARCHER', passwordHash: await hashPassword(password) } })
  return email
}

/** A fresh client address, so other tests' attempts do not count. */
function address() {
  return `198.51.100.${randomBytes(1)[0]}-${uniq('ip')}`
}

beforeEach(() => {
  vi.mocked(verifyPassword).mockClear()
})
afterEach(() => vi.unstubAllEnvs())

describe('item 3: sign-in is limited per address and per account', () => {
  test(`an attempt past ${RATE_LIMITS.signInPerIp.points} from one address within a minute is refused before scrypt, even with the right password`, async () => {
    const email = await account()
    const from = address()
    for (let i = 0; i < RATE_LIMITS.signInPerIp.points; i++) {
      // different (unknown) accounts: the address limit does not depend on the account
      const result = await checkCredentials(db, { email: `${uniq('nobody')}@test.local`, password: 'wrong-password-123' }, { address: from })
      expect(result).toEqual({ ok: false, reason: 'invalid' })
    }
    vi.mocked(verifyPassword).mockClear()
    const refused = await checkCredentials(db, { email, password: PASSWORD }, { address: from })
    expect(refused).toMatchObject({ ok: false, reason: 'locked' })
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0)
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(RATE_LIMITS.signInPerIp.seconds)
    expect(verifyPassword).not.toHaveBeenCalled()
    // another address is not affected
    expect(await checkCredentials(db, { email, password: PASSWORD }, { address: address() })).toMatchObject({ ok: true })
  })

  test(`after ${RATE_LIMITS.signInFailuresPerAccountAndIp.points} failures from one address, that address is locked out of the account (the right password included, without scrypt); the owner elsewhere is not`, async () => {
    const email = await account()
    const attacker = address()
    for (let i = 0; i < RATE_LIMITS.signInFailuresPerAccountAndIp.points; i++) {
      expect(await checkCredentials(db, { email, password: `wrong-password-${i}` }, { address: attacker })).toEqual({ ok: false, reason: 'invalid' })
    }
    vi.mocked(verifyPassword).mockClear()
    const refused = await checkCredentials(db, { email: email.toUpperCase(), password: PASSWORD }, { address: attacker })
    expect(refused).toMatchObject({ ok: false, reason: 'locked' })
    const wait = (refused as { retryAfterSeconds: number }).retryAfterSeconds
    expect(wait).toBeGreaterThan(RATE_LIMITS.signInFailuresPerAccountAndIp.seconds - 60)
    expect(verifyPassword).not.toHaveBeenCalled()
    // the owner, from another address, still signs in: a stranger cannot lock them out from one address
    expect(await checkCredentials(db, { email, password: PASSWORD }, { address: address() })).toMatchObject({ ok: true })
    // an unknown e-mail locks the same way (the lock says nothing about whether the account exists)
    const unknown = `${uniq('ghost')}@test.local`
    for (let i = 0; i < RATE_LIMITS.signInFailuresPerAccountAndIp.points; i++) await checkCredentials(db, { email: unknown, password: 'wrong-password-1' }, { address: attacker })
    expect(await checkCredentials(db, { email: unknown, password: 'wrong-password-1' }, { address: attacker })).toMatchObject({ ok: false, reason: 'locked' })
  })

  test(`guessing spread over many addresses is capped at ${RATE_LIMITS.signInFailuresPerAccount.points} failures per account, then the account is locked for everyone`, async () => {
    const email = await account()
    const perAddress = RATE_LIMITS.signInFailuresPerAccountAndIp.points - 1
    let failures = 0
    while (failures < RATE_LIMITS.signInFailuresPerAccount.points) {
      const from = address()
      for (let i = 0; i < perAddress && failures < RATE_LIMITS.signInFailuresPerAccount.points; i++, failures++) {
        expect(await checkCredentials(db, { email, password: 'wrong-password-1' }, { address: from })).toEqual({ ok: false, reason: 'invalid' })
      }
    }
    vi.mocked(verifyPassword).mockClear()
    expect(await checkCredentials(db, { email, password: PASSWORD }, { address: address() })).toMatchObject({ ok: false, reason: 'locked' })
    expect(verifyPassword).not.toHaveBeenCalled()
  })

  test('a successful sign-in clears the account’s failures', async () => {
    const email = await account()
    for (let i = 0; i < RATE_LIMITS.signInFailuresPerAccountAndIp.points - 1; i++) await checkCredentials(db, { email, password: 'wrong-password-1' })
    expect(await checkCredentials(db, { email, password: PASSWORD })).toMatchObject({ ok: true })
    expect(await limiter('signInFailuresPerAccountAndIp').get(`${email}|unknown`)).toBeNull()
    expect(await limiter('signInFailuresPerAccount').get(email)).toBeNull()
    for (let i = 0; i < RATE_LIMITS.signInFailuresPerAccountAndIp.points - 1; i++) await checkCredentials(db, { email, password: 'wrong-password-1' })
    expect(await checkCredentials(db, { email, password: PASSWORD })).toMatchObject({ ok: true })
  })

  test('authorize() counts the request’s address and throws a code the login page words as "Too many attempts; try again in N minutes"', async () => {
    const { authConfig, SignInLocked } = await import('@/server/auth/config')
    const { signInRefusal } = await import('@/app/login/messages')
    const provider = authConfig().providers[0] as unknown as { options: { authorize: (c: unknown, r: Request) => Promise<unknown> } }
    const email = await account()
    const from = address()
    const request = () => new Request('http://localhost/api/auth/callback/credentials', { method: 'POST', headers: { 'x-forwarded-for': from } })
    for (let i = 0; i < RATE_LIMITS.signInPerIp.points; i++) await provider.options.authorize({ email, password: 'wrong-password-1' }, request()).catch(() => {})
    const error = await provider.options.authorize({ email, password: PASSWORD }, request()).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(SignInLocked)
    expect((error as InstanceType<typeof SignInLocked>).code).toBe('locked-1')
    expect(signInRefusal('locked-1')).toBe('Too many attempts; try again in 1 minute.')
    expect(signInRefusal('locked-15')).toBe('Too many attempts; try again in 15 minutes.')
    expect(signInRefusal('credentials')).toBe('Wrong e-mail or password.')
    expect(signInRefusal('locked-<script>')).toBe('Wrong e-mail or password.')
  })
})

describe('item 10 (sign-in side): a production server refuses the demo account and short passwords', () => {
  test('the demo account and passwords under 12 characters are refused in production, before scrypt; the demo itself may sign in', async () => {
    await db.user.upsert({
      where: { email: DEMO_EMAIL },
      create: { email: DEMO_EMAIL, name: 'demo', role: 'ADMIN', passwordHash: await hashPassword(PASSWORD) },
      update: { passwordHash: await hashPassword(PASSWORD), disabledAt: null },
    })
    const short = 'short-pass1' // 11 characters
    const email = await account(short)
    vi.mocked(verifyPassword).mockClear()
    expect(await checkCredentials(db, { email: DEMO_EMAIL, password: PASSWORD }, { production: true })).toEqual({ ok: false, reason: 'demo' })
    expect(await checkCredentials(db, { email, password: short }, { production: true })).toEqual({ ok: false, reason: 'weak' })
    expect(verifyPassword).not.toHaveBeenCalled()
    expect(await checkCredentials(db, { email: DEMO_EMAIL, password: PASSWORD }, { production: true, demo: true })).toMatchObject({ ok: true })
    // development keeps working with the old accounts
    expect(await checkCredentials(db, { email, password: short }, { production: false })).toMatchObject({ ok: true })
    // authorize() decides production from NODE_ENV (next start sets it)
    vi.stubEnv('NODE_ENV', 'production')
    const { authConfig, DemoAccountRefused, PasswordTooShort } = await import('@/server/auth/config')
    const provider = authConfig().providers[0] as unknown as { options: { authorize: (c: unknown, r: Request) => Promise<unknown> } }
    const request = new Request('http://localhost/api/auth/callback/credentials', { method: 'POST', headers: { 'x-forwarded-for': address() } })
    await expect(provider.options.authorize({ email: DEMO_EMAIL, password: PASSWORD }, request)).rejects.toBeInstanceOf(DemoAccountRefused)
    await expect(provider.options.authorize({ email, password: short }, request)).rejects.toBeInstanceOf(PasswordTooShort)
  })
})

describe('item 3: the auth routes cap the request body before parsing it', () => {
  test(`a POST over ${BODY_LIMITS.defaultBytes} bytes is a 413 and never reaches Auth.js; a normal one passes through intact`, async () => {
    const { POST } = await import('@/app/api/auth/[...nextauth]/route')
    const { NextRequest } = await import('next/server')
    const url = 'http://localhost/api/auth/callback/credentials'
    const huge = `email=a%40b.c&password=${'x'.repeat(BODY_LIMITS.defaultBytes)}`
    // declared length over the cap: refused unread
    const declared = await POST(new NextRequest(url, { method: 'POST', body: huge, headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
    expect(declared.status).toBe(413)
    // no declared length (chunked): cut off while reading
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(BODY_LIMITS.defaultBytes / 2)))
        controller.close()
      },
    })
    const streamed = await POST(new NextRequest(new Request(url, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)))
    expect(streamed.status).toBe(413)
    expect(authHandlers.POST).not.toHaveBeenCalled()

    const small = await POST(new NextRequest(url, { method: 'POST', body: 'email=a%40b.c&password=pw', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
    expect(small.status).toBe(200)
    expect(await small.text()).toBe('email=a%40b.c&password=pw')
    expect(authHandlers.POST).toHaveBeenCalledTimes(1)
  })
})
