// What the participant flow needs from a server, as one interface with two implementations: the real one over
// tRPC (trpc-backend.ts) and the in-browser preview (preview-backend.ts), which records nothing. The stage
// components only ever talk to a ParticipantBackend, so the preview is exactly what participants see.
import type { RouterOutputs } from '@/trpc/react'

export type SessionView = RouterOutputs['participant']['session']
export type Stage = SessionView['stage']
export type TaskView = NonNullable<SessionView['task']>
export type AttentionView = NonNullable<SessionView['attention']>
export type CompletionView = NonNullable<SessionView['completion']>
/** A live task's shared text and who has control. */
export type LiveView = NonNullable<TaskView['live']>

/** What the senior's stream sends (src/server/studies/live-session.ts StreamEvent). */
export type LiveStreamEvent =
  | { event: 'spans' | 'done'; data: LiveView }
  | { event: 'token'; data: { seq: number; text: string } }
  | { event: 'unavailable' | 'failed'; data: { message: string } }

/** What the study link's first page needs. */
export interface StudyInfo {
  id: string
  /** the study's public title (never its internal name) */
  title: string
  consentText: string
  open: boolean
  notOpenMessage: string | null
  /** the URL parameters the study keeps (e.g. PROLIFIC_PID); others are not sent. The first names the participant. */
  urlParams: string[]
  /** a link without the first URL parameter is refused; with it, the same id continues its session on any device */
  requireParticipantId: boolean
}

/** A task's answer as typed so far (ratings null until chosen). */
export interface DraftValues {
  continuation: string
  answer: string
  easeRating: number | null
  confidence: number | null
}

interface TaskRef {
  token: string
  assignmentId: string
}

/** A confirmed answer needs both ratings; at the deadline whatever is there is sent. */
export type SubmitInput = TaskRef & { continuation: string; answer: string } & (
    | { timedOut: false; easeRating: number; confidence: number }
    | { timedOut: true; easeRating: number | null; confidence: number | null }
  )

/** Where the flow keeps its browser-side state (the session token, draft backups). */
export interface KeyValueStore {
  get(key: string): string | null
  set(key: string, value: string): void
  remove(key: string): void
}

export interface ParticipantBackend {
  readonly kind: 'live' | 'preview'
  readonly storage: KeyValueStore
  /** this tab's own storage (sessionStorage; the preview's is memory): the session token and the study link it came from */
  readonly tabStorage: KeyValueStore
  studyInfo(studyId: string): Promise<StudyInfo>
  /** `token`: made by the page (newSessionToken) so that a retried join returns the same session */
  join(input: { studyId: string; consent: boolean; params: Record<string, string>; token?: string }): Promise<{ token: string; declined: boolean }>
  session(token: string): Promise<SessionView>
  finishInstructions(token: string): Promise<void>
  submitPractice(input: { token: string; continuation: string; answer: string }): Promise<{ expectedAnswer: string }>
  startTask(input: TaskRef): Promise<{ startedAt: string; deadline: string; serverNow: string }>
  saveDraft(input: TaskRef & DraftValues): Promise<{ saved: boolean; savedAt: string }>
  /** Best effort while the page is being closed (no answer is awaited). */
  saveDraftOnExit(input: TaskRef & DraftValues): void
  submit(input: SubmitInput): Promise<{ responseId: string; duplicate: boolean; complete: boolean }>
  answerAttention(input: { token: string; checkId: string; answer: string }): Promise<{ complete: boolean }>
  /** "Leave the study": ends the session as returned (no code); answers with how the session ended */
  leave(token: string): Promise<{ outcome: CompletionView['outcome'] }>
  /** Live tasks: the senior's stream (ends with done, unavailable or failed; aborting stops the senior). */
  liveStream(input: TaskRef, signal: AbortSignal): AsyncGenerator<LiveStreamEvent>
  liveTakeOver(input: TaskRef): Promise<LiveView>
  liveHandBack(input: TaskRef & { text: string }): Promise<LiveView>
}

/**
 * Every failure a backend reports. `retryable`: the request may not have arrived or the server had a passing
 * problem (network, 5xx), so sending it again is safe for the idempotent calls; otherwise the server said no.
 */
export class FlowError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    readonly fieldErrors: Record<string, string[]> | null = null,
  ) {
    super(message)
    this.name = 'FlowError'
  }
}

export function asFlowError(error: unknown): FlowError {
  if (error instanceof FlowError) return error
  return new FlowError(error instanceof Error ? error.message : String(error), 'UNKNOWN', false)
}

/** The server's wording for a token it does not know (participant-session.ts INVALID_LINK). */
export const INVALID_LINK = 'This study link is not valid. Open the link you were given again.'
export const DECLINED_MESSAGE = 'Thank you. You chose not to take part; nothing else was recorded. You can close this page.'

/**
 * sessionStorage key of this tab's session token: the session page (/take) reads it there, so the token is in no URL
 * after the first load (docs/security.md, Participants).
 */
export const TAB_SESSION_KEY = 'tandem:session'
/** localStorage key of the session token for a study: the study link resumes with it (also in a new tab). */
export const studyTokenKey = (studyId: string) => `tandem:study:${studyId}`
/**
 * Fired on window when a call with the session token is refused as UNAUTHORIZED (trpc-backend.ts): the token no longer
 * opens the session (it went on on another device, or ended long ago). The session page then loads again and says so.
 */
export const SESSION_INVALID_EVENT = 'tandem:session-invalid'
/**
 * sessionStorage key of the study link this tab came from (path and query): a session whose token stopped working
 * (the participant continued on another device) offers it, and opening it continues the session here.
 */
export const TAB_STUDY_LINK_KEY = 'tandem:study-link'
/** localStorage key of a task's draft backup. */
export const draftBackupKey = (assignmentId: string) => `tandem:draft:${assignmentId}`
/** localStorage key of a task's text typed in this browser that a newer save from another device replaced (kept). */
export const draftReplacedKey = (assignmentId: string) => `tandem:draft-replaced:${assignmentId}`

/** A session token made in the browser: 32 random bytes, base64url (the server stores only its hash). */
export function newSessionToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}
