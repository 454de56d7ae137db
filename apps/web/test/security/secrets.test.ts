// Issue 13, item 10: a production server refuses a guessable AUTH_SECRET (short, patterned, or the template's
// placeholder); new passwords have at least 12 characters; the demo listens on 127.0.0.1 with a random password.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'

import { describe, expect, inject, test } from 'vitest'

import { EnvError, parseEnv } from '@/env'
import { SECRET_LIMITS } from '@/server/limits'

const repoRoot = path.resolve(__dirname, '../../../..')
const DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tandem'
const production = (AUTH_SECRET: string) => ({ NODE_ENV: 'production', DATABASE_URL, AUTH_SECRET })

describe('item 10: production refuses a weak AUTH_SECRET', () => {
  test('accepts what `openssl rand -base64 32`, `openssl rand -hex 32` and `npx auth secret` print', () => {
    for (let i = 0; i < 50; i++) {
      for (const secret of [randomBytes(32).toString('base64'), randomBytes(32).toString('hex'), randomBytes(32).toString('base64url')]) {
        expect(parseEnv(production(secret)).AUTH_SECRET).toBe(secret)
      }
    }
  })

  test.each([
    ['the k8s template placeholder', 'REPLACE_WITH_A_LONG_RANDOM_STRING', /AUTH_SECRET: is the env template's placeholder/],
    ['16 random bytes in hex (32 characters)', randomBytes(16).toString('hex'), /AUTH_SECRET: must hold at least 32 random bytes in production: 64 hex digits or 43 characters of base64/],
    ['24 random bytes in base64', randomBytes(24).toString('base64'), /AUTH_SECRET: must hold at least 32 random bytes/],
    ['a repeated character', 'x'.repeat(64), /AUTH_SECRET: repeats too few characters to be random \(about 0 bits, at least 128 needed\)/],
    ['a two-letter pattern', 'ab'.repeat(32), /AUTH_SECRET: repeats too few characters to be random/],
  ])('refuses %s, saying why', (_what, secret, message) => {
    expect(() => parseEnv(production(secret))).toThrow(EnvError)
    expect(() => parseEnv(production(secret))).toThrow(message)
  })

  test('outside production a 16-character secret still does (tests, next dev)', () => {
    expect(parseEnv({ DATABASE_URL, AUTH_SECRET: 'x'.repeat(16) }).AUTH_SECRET).toBe('x'.repeat(16))
    expect(parseEnv({ NODE_ENV: 'development', DATABASE_URL, AUTH_SECRET: 'x'.repeat(16) }).TANDEM_DEMO).toBe(false)
  })

  test('TANDEM_DEMO is 1 or unset', () => {
    expect(parseEnv({ ...production(randomBytes(32).toString('hex')), TANDEM_DEMO: '1' }).TANDEM_DEMO).toBe(true)
    expect(() => parseEnv({ ...production(randomBytes(32).toString('hex')), TANDEM_DEMO: 'yes' })).toThrow(/TANDEM_DEMO: must be 1/)
  })
})

describe('item 10: passwords have at least 12 characters; the demo binds to 127.0.0.1 with a random password', () => {
  const seedUser = (password: string) =>
    promisify(execFile)('npx', ['tsx', 'scripts/seed-user.ts', '--email', `seed-${randomBytes(4).toString('hex')}@test.local`, '--password', password,
      '--database-url', inject('databaseUrl')], { cwd: path.join(repoRoot, 'apps/web') }).then(
      (out) => ({ code: 0, stderr: out.stderr }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    )

  test(`seed-user refuses a password under ${SECRET_LIMITS.minPasswordLength} characters (the old demo default among them)`, async () => {
    const refused = await seedUser('tandem-demo')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('seed-user: --password must be at least 12 characters (got 11)')
    expect((await seedUser('twelve-chars')).code).toBe(0)
  }, 120_000)

  test('the invitation form asks for the same minimum', async () => {
    const { acceptInviteSchema } = await import('@/server/api/routers/users.schema')
    const result = acceptInviteSchema.safeParse({ token: 'x'.repeat(43), password: 'elevenchars', confirm: 'elevenchars' })
    expect(result.success).toBe(false)
  })

  test('scripts/demo.sh starts the web app on 127.0.0.1, with TANDEM_DEMO_PASSWORD or a random password, never a fixed one', () => {
    const demo = readFileSync(path.join(repoRoot, 'scripts/demo.sh'), 'utf8')
    const start = demo.split('\n').find((line) => /npm run -s start -w apps\/web/.test(line))
    expect(start).toMatch(/-H 127\.0\.0\.1/)
    expect(demo).toMatch(/password="\$\{TANDEM_DEMO_PASSWORD:-\$\(node -e .*randomBytes/)
    expect(demo).not.toContain('tandem-demo')
    expect(demo).toMatch(/export TANDEM_DEMO=1/)
  })
})
