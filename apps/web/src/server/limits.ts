// Every limit the web app enforces against abuse, in one place, each with its reason (docs/security.md explains
// the threat model). Pure constants: the participant pages, the server, the tests and the abuse bench import them.
// The k8s ingress (infra/k8s) repeats the body and rate caps in front of the app; infra/check.sh keeps them equal.

const KIB = 1024
const MIB = 1024 * KIB

/** Request bodies, counted in bytes as they arrive, before any parsing. */
export const BODY_LIMITS = {
  /**
   * Every anonymous or participant call, and every researcher call but an upload. The largest legal participant
   * call is a submit: MAX_CONTINUATION (20,000 characters, up to 3 bytes each in UTF-8 once JSON-escaped) plus the
   * answer and ids, about 61 kB; a tRPC batch is bounded by TRPC_MAX_BATCH on top.
   */
  defaultBytes: 64 * KIB,
  /** datasets.upload, signed-in researchers only: a 20 MB file in base64 (×4/3) plus the JSON around it. */
  uploadBytes: 28 * MIB,
} as const

/** tRPC calls per HTTP request (httpBatchLink): a page sends a few at once; a bot must not send thousands. */
export const TRPC_MAX_BATCH = 10

/**
 * Rate limits, counted in Postgres (several web instances share them): `points` requests per `seconds`; past that
 * the request is refused with 429 and a Retry-After. Keys are the client address (behind the configured number of
 * trusted proxies, see clientAddress) or the study.
 */
export const RATE_LIMITS = {
  /** Joins from one address: a lab of participants behind one NAT joins at most this fast. */
  joinPerIp: { points: 30, seconds: 60 },
  /** Joins of one study from everyone: Prolific sends hundreds per minute at most; a flood is capped here. */
  joinPerStudy: { points: 600, seconds: 60 },
  /** Any participant call from one address (autosave every few seconds per tab, a page of several calls). */
  participantPerIp: { points: 600, seconds: 60 },
  /** Sign-in attempts from one address, whatever the account (each costs a 32 MiB scrypt). */
  signInPerIp: { points: 20, seconds: 60 },
  /**
   * Consecutive failed sign-ins of one account: then it is locked for `seconds` (for everyone; a success resets
   * the count). Slows guessing to 10 tries per 15 minutes per account.
   */
  signInFailuresPerAccount: { points: 10, seconds: 15 * 60 },
  /** Live stream opens per assignment: a reconnecting page needs a few; a loop is cut off. */
  liveOpensPerTask: { points: 20, seconds: 60 },
  /** Live stream opens per address, over all tasks. */
  liveOpensPerIp: { points: 60, seconds: 60 },
} as const

/** A live task's shared text: spans and characters it may hold (take-over/hand-back loops cannot grow it forever). */
export const LIVE_LIMITS = {
  /** Spans per task: a senior and a human span per hand-back; 100 hand-backs is far beyond any real session. */
  maxSpans: 200,
  /** Characters of the whole shared text: the same bound as a typed continuation (MAX_CONTINUATION). */
  maxChars: 20_000,
  /** The open stream's lease: renewed while it runs, so a crashed web instance frees the task within this time. */
  leaseSeconds: 30,
} as const

/** Participant sessions. */
export const PARTICIPANT_LIMITS = {
  /** After completion a token only shows the completion page, and only for this long; then it is refused. */
  tokenAfterCompletionSeconds: 24 * 60 * 60,
} as const
