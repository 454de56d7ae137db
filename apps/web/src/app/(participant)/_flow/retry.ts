// Retrying the participant's idempotent calls (saveDraft, submit, answerAttention, …) through a dropped
// connection or a database outage: capped exponential backoff for about two minutes (the numbers and their reasons
// are in server/limits.ts), then the caller decides what to tell the participant.
import { PARTICIPANT_RETRY } from '@/server/limits'

import { asFlowError, FlowError } from './backend'

/** Doubling waits from `firstMs`, each at most `maxMs`, as many as fit in `budgetMs`. */
export function cappedBackoff(firstMs: number, maxMs: number, budgetMs: number): number[] {
  const delays: number[] = []
  let total = 0
  for (let next = firstMs; total + Math.min(next, maxMs) <= budgetMs; next *= 2) {
    delays.push(Math.min(next, maxMs))
    total += Math.min(next, maxMs)
  }
  return delays
}

/**
 * Waits between attempts: 0.5 s, 1 s, 2 s, 4 s, 8 s, then 10 s each — 115.5 s in all, so a minute-long outage
 * is ridden out (the page shows "Connection problem — still trying…" meanwhile). The benches retry with these.
 */
export const RETRY_DELAYS_MS: readonly number[] = Object.freeze(
  cappedBackoff(PARTICIPANT_RETRY.firstDelayMs, PARTICIPANT_RETRY.maxDelayMs, PARTICIPANT_RETRY.budgetMs),
)

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FlowError('Stopped', 'ABORTED', false))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(new FlowError('Stopped', 'ABORTED', false))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export interface RetryOptions {
  signal?: AbortSignal
  /** called before each wait: the participant can be told that the connection is being retried */
  onRetry?: (attempt: number, error: FlowError) => void
  delays?: readonly number[]
}

/** `fn()` until it succeeds, fails for good (not retryable), or the delays run out; always throws a FlowError. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const delays = options.delays ?? RETRY_DELAYS_MS
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw new FlowError('Stopped', 'ABORTED', false)
    try {
      return await fn()
    } catch (e) {
      const error = asFlowError(e)
      const delay = delays[attempt]
      if (!error.retryable || delay === undefined) throw error
      options.onRetry?.(attempt + 1, error)
      await sleep(delay, options.signal)
    }
  }
}

/** What to show for a failure that retrying did not fix. */
export function failureMessage(error: FlowError, whatIsKept = 'Nothing you typed is lost.'): string {
  if (error.retryable) return `We could not reach the server. ${whatIsKept} Check your connection and try again.`
  return error.message
}
