'use client'
// The real backend: the participant router over tRPC, with its errors turned into FlowErrors and the session
// token and draft backups kept in localStorage. A session step refused for its token is announced
// (SESSION_INVALID_EVENT), and each confirmed draft save records the server's version (draft-backup.ts).
import { TRPCClientError } from '@trpc/client'
import { useMemo } from 'react'
import superjson from 'superjson'

import { useTRPCClient } from '@/trpc/react'

import { readServerSentEvents } from '@/components/server-sent-events'

import { FlowError, SESSION_INVALID_EVENT, type KeyValueStore, type LiveStreamEvent, type ParticipantBackend } from './backend'
import { noteServerSave } from './draft-backup'

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

/** A step of the session: a refused token is announced (SESSION_INVALID_EVENT) so the page can say what to do. */
async function step<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await call(fn)
  } catch (e) {
    if (e instanceof FlowError && e.code === 'UNAUTHORIZED' && typeof window !== 'undefined') window.dispatchEvent(new Event(SESSION_INVALID_EVENT))
    throw e
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
    tabStorage,
    studyInfo: (studyId) =>
      call(async () => {
        const s = await p.studyInfo.query({ studyId })
        return {
          id: s.id,
          title: s.title,
          consentText: s.consentText,
          open: s.open,
          notOpenMessage: s.notOpenMessage,
          urlParams: s.urlParams,
          requireParticipantId: s.requireParticipantId,
        }
      }),
    join: (input) => call(() => p.join.mutate(input)),
    session: (token) => call(() => p.session.query({ token })),
    finishInstructions: (token) => step(async () => void (await p.finishInstructions.mutate({ token }))),
    submitPractice: (input) => step(() => p.submitPractice.mutate(input)),
    startTask: (input) => step(() => p.startTask.mutate(input)),
    saveDraft: (input) =>
      step(async () => {
        const result = await p.saveDraft.mutate(input)
        // the server's version this browser's backup now builds on (draft-backup.ts reconcileDraft)
        if (result.saved) noteServerSave(browserStorage, input.assignmentId, result.savedAt)
        return result
      }),
    saveDraftOnExit(input) {
      // keepalive lets the request outlive the page; the body is what the tRPC client would send (superjson, unbatched)
      try {
        void fetch('/api/trpc/participant.saveDraft', {
          method: 'POST',
          keepalive: true,
          headers: { 'content-type': 'application/json', 'x-trpc-source': 'pagehide' },
          body: JSON.stringify(superjson.serialize(input)),
        })
          // a page that was only hidden (another tab or app) is still here for the reply: note the server's version
          .then(async (response) => {
            if (!response.ok) return
            const body = (await response.json()) as { result?: { data?: { json?: { saved?: boolean; savedAt?: string } } } }
            const reply = body.result?.data?.json
            if (reply?.saved && typeof reply.savedAt === 'string') noteServerSave(browserStorage, input.assignmentId, reply.savedAt)
          })
          .catch(() => undefined)
      } catch {
        /* nothing more can be done while the page goes away; the local backup has the text */
      }
    },
    submit: (input) => step(() => p.submit.mutate(input)),
    answerAttention: (input) => step(() => p.answerAttention.mutate(input)),
    leave: (token) => step(() => p.leave.mutate({ token })),
    liveStream: streamSenior,
    liveTakeOver: (input) => step(() => p.liveTakeOver.mutate(input)),
    liveHandBack: (input) => step(() => p.liveHandBack.mutate(input)),
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
