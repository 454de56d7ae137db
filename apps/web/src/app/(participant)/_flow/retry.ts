// Retrying the participant's idempotent calls (saveDraft, submit, answerAttention, …) through a dropped
// connection: exponential backoff for about half a minute, then the caller decides what to tell the participant.
import { asFlowError, FlowError } from './backend'

/** Waits between attempts: 0.5 s, 1 s, 2 s, 4 s, 8 s, 14 s — about 30 s in all. */
export const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000, 14_000] as const

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
