// The building blocks every limit uses: the body reader that counts bytes before parsing, the Postgres-backed rate
// limiter shared by web instances, the client address behind trusted proxies, and the limits file itself.
import { afterAll, describe, expect, test } from 'vitest'

import { MAX_ANSWER, MAX_CONTINUATION } from '@/server/api/routers/participant.schema'
import { BodyTooLarge, readBodyWithin, withBody } from '@/server/http/body-limit'
import { clientAddress, consume, ensureNotExhausted, limiter, RateLimited, resetLimit } from '@/server/http/rate-limit'
import { BODY_LIMITS, RATE_LIMITS } from '@/server/limits'

import { testDb, uniq } from '../support/helpers'

const db = testDb()

function chunked(chunks: Uint8Array[], onCancel: () => void): Request {
  let i = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!)
      else controller.close()
    },
    cancel: onCancel,
  })
  return new Request('http://test.local/api/x', { method: 'POST', body, duplex: 'half' } as RequestInit)
}

describe('item 3: bodies are capped before parsing', () => {
  test('a declared Content-Length over the cap is refused without reading the body', async () => {
    let pulled = false
    const body = new ReadableStream<Uint8Array>({
      pull() {
        pulled = true
      },
    }, { highWaterMark: 0 }) // nothing is pulled until someone reads
    const request = new Request('http://test.local/api/x', {
      method: 'POST', body, headers: { 'content-length': String(BODY_LIMITS.defaultBytes + 1) }, duplex: 'half',
    } as RequestInit)
    await expect(readBodyWithin(request, BODY_LIMITS.defaultBytes)).rejects.toBeInstanceOf(BodyTooLarge)
    expect(pulled).toBe(false)
  })

  test('a chunked body is cut off as soon as it passes the cap, and the stream is cancelled', async () => {
    let cancelled = false
    const chunk = new Uint8Array(16 * 1024)
    const request = chunked(Array.from({ length: 100 }, () => chunk), () => (cancelled = true))
    await expect(readBodyWithin(request, BODY_LIMITS.defaultBytes)).rejects.toThrow(`larger than ${BODY_LIMITS.defaultBytes} bytes`)
    expect(cancelled).toBe(true)
  })

  test('a body within the cap is read whole and can be parsed again by the handler', async () => {
    const text = JSON.stringify({ hello: 'wörld', n: 42 })
    const request = chunked([new TextEncoder().encode(text.slice(0, 5)), new TextEncoder().encode(text.slice(5))], () => {})
    const bytes = await readBodyWithin(request, 1024)
    expect(new TextDecoder().decode(bytes)).toBe(text)
    expect(await withBody(request, bytes).json()).toEqual({ hello: 'wörld', n: 42 })
  })

  test('the default cap admits the largest legal participant call (a full continuation of 3-byte characters)', () => {
    const submit = { json: { token: 'x'.repeat(43), assignmentId: 'c'.repeat(25), continuation: '€'.repeat(MAX_CONTINUATION), answer: '€'.repeat(MAX_ANSWER), easeRating: 5, confidence: 5 } }
    expect(new TextEncoder().encode(JSON.stringify(submit)).byteLength).toBeLessThanOrEqual(BODY_LIMITS.defaultBytes)
  })
})

describe('item 3: rate limits are counted in Postgres', () => {
  afterAll(async () => {
    await db.rateLimit.deleteMany({ where: { key: { startsWith: 'joinPerIp:' } } })
  })

  test('the limit admits exactly its points, then refuses with a Retry-After within its window', async () => {
    const key = uniq('203.0.113')
    const { points, seconds } = RATE_LIMITS.joinPerIp
    for (let i = 0; i < points; i++) await consume('joinPerIp', key)
    const refused = await consume('joinPerIp', key).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(RateLimited)
    expect((refused as RateLimited).retryAfterSeconds).toBeGreaterThan(0)
    expect((refused as RateLimited).retryAfterSeconds).toBeLessThanOrEqual(seconds)
    // the count is a row in the shared table, so a second web instance sees it
    const row = await db.rateLimit.findUnique({ where: { key: `joinPerIp:${key}` } })
    expect(row?.points).toBe(points + 1)
  })

  test('a second instance (a new limiter on the same database) sees the first one’s count', async () => {
    const key = uniq('198.51.100')
    const { points } = RATE_LIMITS.joinPerIp
    await consume('joinPerIp', key, points)
    const fresh = new (limiter('joinPerIp').constructor as typeof import('rate-limiter-flexible').RateLimiterPostgres)({
      storeClient: (limiter('joinPerIp') as unknown as { client: unknown }).client,
      storeType: 'pool', tableName: 'rate_limits', tableCreated: true, keyPrefix: 'joinPerIp', points, duration: 60,
    })
    await expect(fresh.consume(key)).rejects.toMatchObject({ remainingPoints: 0 })
  })

  test('ensureNotExhausted checks without counting; resetLimit forgets', async () => {
    const key = uniq('account')
    const { points } = RATE_LIMITS.signInFailuresPerAccount
    await ensureNotExhausted('signInFailuresPerAccount', key)
    await ensureNotExhausted('signInFailuresPerAccount', key)
    await consume('signInFailuresPerAccount', key, points)
    await expect(ensureNotExhausted('signInFailuresPerAccount', key)).rejects.toBeInstanceOf(RateLimited)
    await resetLimit('signInFailuresPerAccount', key)
    await ensureNotExhausted('signInFailuresPerAccount', key)
  })
})

describe('item 3: the client address behind trusted proxies', () => {
  const headers = (xff: string) => new Headers({ 'x-forwarded-for': xff })
  test('one trusted proxy (the default): the entry it appended, not what the client claimed', () => {
    expect(clientAddress(headers('6.6.6.6, 203.0.113.9'))).toBe('203.0.113.9')
  })
  test('two trusted proxies: the entry the outer one appended', () => {
    const before = process.env.TANDEM_TRUSTED_PROXIES
    process.env.TANDEM_TRUSTED_PROXIES = '2'
    try {
      expect(clientAddress(headers('6.6.6.6, 203.0.113.9, 10.0.0.2'))).toBe('203.0.113.9')
    } finally {
      if (before === undefined) delete process.env.TANDEM_TRUSTED_PROXIES
      else process.env.TANDEM_TRUSTED_PROXIES = before
    }
  })
  test('no header: one shared bucket, never a crash', () => {
    expect(clientAddress(new Headers())).toBe('unknown')
  })
})

describe('the limits file', () => {
  test('every rate limit has positive points and a window', () => {
    for (const [name, { points, seconds }] of Object.entries(RATE_LIMITS)) {
      expect(points, name).toBeGreaterThan(0)
      expect(seconds, name).toBeGreaterThan(0)
    }
    expect(BODY_LIMITS.uploadBytes).toBeGreaterThan(BODY_LIMITS.defaultBytes)
  })
})
