'use client'
// The real backend: the participant router over tRPC, with its errors turned into FlowErrors and the session
// token and draft backups kept in localStorage.
import { TRPCClientError } from '@trpc/client'
import { useMemo } from 'react'
import superjson from 'superjson'

import { useTRPCClient } from '@/trpc/react'

import { readServerSentEvents } from '@/components/server-sent-events'

import { FlowError, type KeyValueStore, type LiveStreamEvent, type ParticipantBackend } from './backend'

type Client = ReturnType<typeof useTRPCClient>

interface ErrorData {
  code?: string
  httpStatus?: number
  fieldErrors?: Record<string, string[]> | null
}

/** A tRPC client error as a FlowError: no reply or a 5xx is worth retrying, any other answer is final. */
export function fromTrpcError(error: unknown): FlowError {
  if (error instanceof FlowError) return error
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? null) as ErrorData | null
    if (!data?.code) return new FlowError('The server could not be reached.', 'NETWORK', true)
    const status = data.httpStatus ?? 500
    // the server's generic message carries the error id its log has; a retry may well succeed
    if (status >= 500) return new FlowError(error.message || 'The server had a problem.', data.code, true)
    // "please wait N seconds": the participant is told, not retried into the same limit
    const fieldErrors = data.fieldErrors ?? null
    const first = fieldErrors ? Object.values(fieldErrors).flat()[0] : undefined
    return new FlowError(first ?? error.message, data.code, false, fieldErrors)
  }
  return new FlowError(error instanceof Error ? error.message : String(error), 'UNKNOWN', false)
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    throw fromTrpcError(e)
  }
}

/** Web storage, tolerating browsers where it is off or full (the flow then just has no local copy). */
function webStorage(which: () => Storage): KeyValueStore {
  return {
    get(key) {
      try {
        return which().getItem(key)
      } catch {
        return null
      }
    },
    set(key, value) {
      try {
        which().setItem(key, value)
      } catch {
        /* storage off or full: the server copy still counts */
      }
    },
    remove(key) {
      try {
        which().removeItem(key)
      } catch {
        /* as above */
      }
    },
  }
}

/** localStorage: draft backups and the study link's token per study (it outlives the tab). */
export const browserStorage: KeyValueStore = webStorage(() => window.localStorage)
/** sessionStorage: this tab's session token (TAB_SESSION_KEY), which the session page reads instead of its URL. */
export const tabStorage: KeyValueStore = webStorage(() => window.sessionStorage)

export function createTrpcBackend(client: Client): ParticipantBackend {
  const p = client.participant
  return {
    kind: 'live',
    storage: browserStorage,
    studyInfo: (studyId) =>
      call(async () => {
        const s = await p.studyInfo.query({ studyId })
        return { id: s.id, name: s.name, consentText: s.consentText, open: s.open, notOpenMessage: s.notOpenMessage, urlParams: s.urlParams }
      }),
    join: (input) => call(() => p.join.mutate(input)),
    session: (token) => call(() => p.session.query({ token })),
    finishInstructions: (token) => call(async () => void (await p.finishInstructions.mutate({ token }))),
    submitPractice: (input) => call(() => p.submitPractice.mutate(input)),
    startTask: (input) => call(() => p.startTask.mutate(input)),
    saveDraft: (input) => call(() => p.saveDraft.mutate(input)),
    saveDraftOnExit(input) {
      // keepalive lets the request outlive the page; the body is what the tRPC client would send (superjson, unbatched)
      try {
        void fetch('/api/trpc/participant.saveDraft', {
          method: 'POST',
          keepalive: true,
          headers: { 'content-type': 'application/json', 'x-trpc-source': 'pagehide' },
          body: JSON.stringify(superjson.serialize(input)),
        }).catch(() => undefined)
      } catch {
        /* nothing more can be done while the page goes away; the local backup has the text */
      }
    },
    submit: (input) => call(() => p.submit.mutate(input)),
    answerAttention: (input) => call(() => p.answerAttention.mutate(input)),
    leave: (token) => call(() => p.leave.mutate({ token })),
    liveStream: streamSenior,
    liveTakeOver: (input) => call(() => p.liveTakeOver.mutate(input)),
    liveHandBack: (input) => call(() => p.liveHandBack.mutate(input)),
  }
}

/** POST /api/participant/live as server-sent events; a broken connection is reported as `unavailable`. */
async function* streamSenior(input: { token: string; assignmentId: string }, signal: AbortSignal): AsyncGenerator<LiveStreamEvent> {
  let response: Response
  try {
    response = await fetch('/api/participant/live', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(input),
      signal,
    })
  } catch {
    if (!signal.aborted) yield { event: 'unavailable', data: { message: 'The server could not be reached.' } }
    return
  }
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null
    // 409 (the task's stream is still open elsewhere) and 429 (opened too often) pass: the page tries again later
    const passing = response.status >= 500 || response.status === 409 || response.status === 429
    yield { event: passing ? 'unavailable' : 'failed', data: { message: body?.error ?? `The server answered ${response.status}.` } }
    return
  }
  try {
    for await (const message of readServerSentEvents(response.body)) yield { event: message.event, data: JSON.parse(message.data) } as LiveStreamEvent
  } catch {
    if (!signal.aborted) yield { event: 'unavailable', data: { message: 'The connection to the server broke off.' } }
  }
}

export function useLiveBackend(): ParticipantBackend {
  const client = useTRPCClient()
  return useMemo(() => createTrpcBackend(client), [client])
}
