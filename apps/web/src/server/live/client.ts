// The web app's side of the live model service (workers/live): one streamed generation request, its server-sent
// events read with eventsource-parser. The service is stateless; the caller stores what streams (live-session.ts).
import { readServerSentEvents } from '@/components/server-sent-events'
import { liveSecretSchema, liveUrlSchema } from '@/env'

/** Where workers/live listens (LIVE_URL, checked as src/env.ts does; its default port is 8790). */
function liveServiceUrl(): string {
  const url = liveUrlSchema.safeParse(process.env.LIVE_URL || undefined)
  if (!url.success) throw new LiveRequestError(`LIVE_URL ${url.error.issues[0]!.message} (it is "${process.env.LIVE_URL}")`, 500)
  return (url.data ?? 'http://127.0.0.1:8790').replace(/\/+$/, '')
}

/**
 * The secret workers/live requires (LIVE_SECRET, checked as src/env.ts does, read on each use like LIVE_URL).
 * Unset: no header (a service without a secret listens on 127.0.0.1 only).
 */
function liveServiceSecret(): string | undefined {
  const secret = liveSecretSchema.safeParse(process.env.LIVE_SECRET || undefined)
  // the message names the rule, never the value
  if (!secret.success) throw new LiveRequestError(`LIVE_SECRET ${secret.error.issues[0]!.message}`, 500)
  return secret.data
}

export interface GenerateRequest {
  /** the checkpoint's ONNX export folder */
  model: string
  problem: string
  /** the shared text so far (senior and participant), which the senior continues */
  text: string
  maxNewTokens: number
  temperature: number
  topP: number
  seed: number
  /** the reading pace: token events leave the service at most this fast (0 = as generated) */
  tokensPerSecond: number
  /** hand over right after this many more lines (the study's scheduled point) */
  stopAfterLines?: number
}

export type GenerateEvent =
  | { type: 'start'; promptTokens: number }
  | { type: 'token'; text: string; n: number }
  | { type: 'done'; reason: 'eos' | 'length' | 'lines'; tokens: number; ttftMs: number }

/** The service could not be reached, or broke off mid-stream: worth trying again later. */
export class LiveUnavailableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LiveUnavailableError'
  }
}

/** The service refused the request (no export, bad settings): trying again will not help. */
export class LiveRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'LiveRequestError'
  }
}

function unreachable(url: string, cause: unknown): LiveUnavailableError {
  const why = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)
  return new LiveUnavailableError(`The live model service at ${url} is not reachable (${why}). Start it with: npm run start -w workers/live`)
}

/** Streams one generation; ends after `done`. Aborting `signal` stops the senior at the service too. */
export async function* generate(request: GenerateRequest, signal: AbortSignal): AsyncGenerator<GenerateEvent> {
  const url = liveServiceUrl() // a malformed LIVE_URL or LIVE_SECRET is the operator's to fix: reported, not retried
  const secret = liveServiceSecret()
  let response: Response
  try {
    response = await fetch(`${url}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
      body: JSON.stringify(request),
      signal,
    })
  } catch (error) {
    if (signal.aborted) return
    throw unreachable(url, error)
  }
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null
    const message = body?.error ?? `the live model service answered ${response.status} ${response.statusText}`
    if (response.status === 401) {
      throw new LiveRequestError(`The live model service at ${url} refused this web app (${message}): give web and workers/live the same LIVE_SECRET.`, 401)
    }
    // 503: the service's queue is full (it sends Retry-After); the page tries again with backoff
    if (response.status >= 500) throw new LiveUnavailableError(message)
    throw new LiveRequestError(message, response.status)
  }
  let finished = false
  try {
    for await (const message of readServerSentEvents(response.body)) {
      const data = JSON.parse(message.data) as Record<string, unknown>
      if (message.event === 'start') yield { type: 'start', promptTokens: Number(data.promptTokens) }
      else if (message.event === 'token') yield { type: 'token', text: String(data.text ?? ''), n: Number(data.n) }
      else if (message.event === 'done') {
        finished = true
        yield { type: 'done', reason: data.reason as 'eos' | 'length' | 'lines', tokens: Number(data.tokens), ttftMs: Number(data.ttftMs) }
        return
      } else if (message.event === 'error') throw new LiveUnavailableError(`The live model failed: ${String(data.message)}`)
    }
  } catch (error) {
    if (signal.aborted) return
    if (error instanceof LiveUnavailableError) throw error
    throw unreachable(url, error)
  }
  if (!finished && !signal.aborted) throw new LiveUnavailableError(`The live model service at ${url} stopped mid-stream`)
}
