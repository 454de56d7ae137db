// Issue 13 ("Show it"): a minute-long database outage costs no participant's work. The page keeps retrying long
// enough (its delays are what bench/participant-load.ts --outage-seconds 60 uses end to end), and the server fails a
// request fast instead of hanging while Postgres does not answer.
import net from 'node:net'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { FlowError } from '@/app/(participant)/_flow/backend'
import { RETRY_DELAYS_MS, withRetry } from '@/app/(participant)/_flow/retry'
import { createDb } from '@/server/db'
import { DATABASE_POOL, PARTICIPANT_RETRY } from '@/server/limits'

describe('item 13: the page rides out a 60 s database outage', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries for longer than a minute, each wait capped', () => {
    const total = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThan(60_000 + PARTICIPANT_RETRY.maxDelayMs)
    expect(total).toBeLessThanOrEqual(PARTICIPANT_RETRY.budgetMs)
    expect(Math.max(...RETRY_DELAYS_MS)).toBe(PARTICIPANT_RETRY.maxDelayMs)
  })

  it('a call that fails for 60 s then succeeds is answered, with the participant told it is retrying', async () => {
    const start = Date.now()
    let attempts = 0
    const onRetry = vi.fn()
    const result = withRetry(
      async () => {
        attempts++
        if (Date.now() - start < 60_000) throw new FlowError('The server had a problem.', 'INTERNAL_SERVER_ERROR', true)
        return 'stored'
      },
      { onRetry },
    )
    await vi.advanceTimersByTimeAsync(60_000 + PARTICIPANT_RETRY.maxDelayMs)
    await expect(result).resolves.toBe('stored')
    expect(onRetry).toHaveBeenCalledTimes(attempts - 1)
  })

  it('a final answer (4xx) is not retried', async () => {
    let attempts = 0
    const result = withRetry(async () => {
      attempts++
      throw new FlowError('This task is not part of your session.', 'NOT_FOUND', false)
    })
    await expect(result).rejects.toThrow('not part of your session')
    expect(attempts).toBe(1)
  })
})

describe('item 13: a request fails fast while Postgres does not answer', () => {
  it(`gives up on the connection after ${DATABASE_POOL.connectionTimeoutMs} ms instead of waiting forever`, async () => {
    // a "database" that accepts connections and never answers (a hung or unreachable Postgres behind a proxy)
    const sockets: net.Socket[] = []
    const silent = net.createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as net.AddressInfo
    const db = createDb(`postgresql://postgres:postgres@127.0.0.1:${port}/none`)
    const started = Date.now()
    try {
      const outcome = await Promise.race([
        db.$queryRaw`SELECT 1`.then(() => 'answered', () => 'failed'),
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), DATABASE_POOL.connectionTimeoutMs + 5_000)),
      ])
      expect(outcome).toBe('failed')
      expect(Date.now() - started).toBeLessThan(DATABASE_POOL.connectionTimeoutMs + 3_000)
    } finally {
      for (const s of sockets) s.destroy()
      silent.close()
      await db.$disconnect().catch(() => {})
    }
  }, 20_000)
})
