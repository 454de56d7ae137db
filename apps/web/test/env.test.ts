import { describe, expect, test } from 'vitest'

import { EnvError, parseEnv } from '@/env'

const GOOD = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/tandem', AUTH_SECRET: 'x'.repeat(32) }

describe('environment validation', () => {
  test('accepts a complete environment; TANDEM_RUNS_DIR is optional', () => {
    expect(parseEnv(GOOD)).toEqual({ ...GOOD, TANDEM_RUNS_DIR: undefined, LIVE_URL: undefined, TANDEM_DEMO: false })
    expect(parseEnv({ ...GOOD, LIVE_URL: 'http://live:8790' }).LIVE_URL).toBe('http://live:8790')
    expect(parseEnv({ ...GOOD, TANDEM_RUNS_DIR: '/srv/runs' }).TANDEM_RUNS_DIR).toBe('/srv/runs')
  })

  test.each([
    ['DATABASE_URL', { AUTH_SECRET: GOOD.AUTH_SECRET }, /DATABASE_URL: is not set/],
    ['AUTH_SECRET', { DATABASE_URL: GOOD.DATABASE_URL }, /AUTH_SECRET: is not set/],
    ['DATABASE_URL', { ...GOOD, DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a PostgreSQL URL/],
    ['AUTH_SECRET', { ...GOOD, AUTH_SECRET: 'short' }, /AUTH_SECRET: must be at least 16 characters/],
    ['LIVE_URL', { ...GOOD, LIVE_URL: 'live:8790' }, /LIVE_URL: must be an http\(s\) URL of the live model service/],
  ])('names the bad variable (%s)', (_name, source, message) => {
    expect(() => parseEnv(source)).toThrow(EnvError)
    expect(() => parseEnv(source)).toThrow(message)
  })

  test('lists every bad variable at once', () => {
    expect(() => parseEnv({})).toThrow(/DATABASE_URL[\s\S]*AUTH_SECRET/)
  })
})
