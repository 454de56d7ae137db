import { describe, expect, test } from 'vitest'

import { checkCredentials } from '@/server/auth/credentials'
import { hashPassword, verifyPassword } from '@/server/auth/password'

import { testDb, uniq } from './support/helpers'

describe('password hashing', () => {
  test('hash is scrypt with its parameters, a salt and a key; never the password', async () => {
    const hash = await hashPassword('correct horse battery staple')
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{88}$/)
    expect(hash).not.toContain('correct horse')
  })

  test('the right password verifies, others do not', async () => {
    const hash = await hashPassword('s3cret-pass')
    expect(await verifyPassword('s3cret-pass', hash)).toBe(true)
    expect(await verifyPassword('s3cret-pasS', hash)).toBe(false)
    expect(await verifyPassword('', hash)).toBe(false)
    expect(await verifyPassword('s3cret-pass ', hash)).toBe(false)
  })

  test('each hash has its own salt', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')])
    expect(a).not.toBe(b)
    expect(a.split('$')[4]).not.toBe(b.split('$')[4])
    expect(await verifyPassword('same', a)).toBe(true)
    expect(await verifyPassword('same', b)).toBe(true)
  })

  test('unicode passwords are normalised (NFKC) before hashing', async () => {
    const hash = await hashPassword('caf\u00e9')
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true)
  })

  test('malformed or foreign hashes never verify', async () => {
    const good = await hashPassword('pw')
    const [, n, r, p, salt, key] = good.split('$')
    for (const stored of [
      '',
      'pw',
      'bcrypt$10$abc',
      `scrypt$${n}$${r}$${p}$${salt}`,
      `scrypt$0$${r}$${p}$${salt}$${key}`,
      `scrypt$${2 ** 30}$${r}$${p}$${salt}$${key}`, // absurd cost: refused, not attempted
      `scrypt$${n}$${r}$${p}$$${key}`,
      `scrypt$${n}$${r}$${p}$${salt}$AAAA`,
    ]) {
      expect(await verifyPassword('pw', stored), stored).toBe(false)
    }
  })

  test('an empty password cannot be set', async () => {
    await expect(hashPassword('')).rejects.toThrow(/empty/)
  })
})

describe('credentials check (the sign-in form)', () => {
  const db = testDb()

  test('accepts the right password (e-mail case-insensitive), rejects wrong ones and unknown users', async () => {
    const email = `${uniq('sign')}@test.local`
    await db.user.create({ data: { email, name: 'Sign', role: 'RESEARCHER', passwordHash: await hashPassword('pass-word-1') } })

    const ok = await checkCredentials(db, { email: email.toUpperCase(), password: 'pass-word-1' })
    expect(ok).toMatchObject({ ok: true, user: { email, role: 'RESEARCHER' } })
    expect(await checkCredentials(db, { email, password: 'pass-word-2' })).toEqual({ ok: false, reason: 'invalid' })
    expect(await checkCredentials(db, { email: `nobody-${email}`, password: 'pass-word-1' })).toEqual({ ok: false, reason: 'invalid' })
    expect(await checkCredentials(db, { email: 'not-an-email', password: 'x' })).toEqual({ ok: false, reason: 'invalid' })
    expect(await checkCredentials(db, {})).toEqual({ ok: false, reason: 'invalid' })
  })

  test('a disabled account is refused even with the right password', async () => {
    const email = `${uniq('disabled')}@test.local`
    await db.user.create({
      data: { email, name: 'D', role: 'ADMIN', passwordHash: await hashPassword('pass-word-1'), disabledAt: new Date() },
    })
    expect(await checkCredentials(db, { email, password: 'pass-word-1' })).toEqual({ ok: false, reason: 'disabled' })
    // a wrong password on a disabled account says only "invalid": no hint that the account exists
    expect(await checkCredentials(db, { email, password: 'nope' })).toEqual({ ok: false, reason: 'invalid' })
  })
})
