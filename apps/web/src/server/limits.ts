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
  /** UPLOAD_PROCEDURE, signed-in researchers only: a 20 MB file in base64 (×4/3) plus the JSON around it. */
  uploadBytes: 28 * MIB,
} as const

/** The one tRPC call that may carry BODY_LIMITS.uploadBytes (sent alone, never batched: src/trpc/react.tsx). */
export const UPLOAD_PROCEDURE = 'datasets.importFile'

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
   * Failed sign-ins of one account from one address: then that address may not try the account for `seconds` (a
   * success resets the count). Slows one guesser to 10 tries per 15 minutes, and locks out only that address, so
   * a stranger hammering an account does not lock its owner out.
   */
  signInFailuresPerAccountAndIp: { points: 10, seconds: 15 * 60 },
  /**
   * Failed sign-ins of one account from all addresses together: a guesser spread over many addresses gets at most 100
   * tries an hour. Past it the account is locked for everyone for the rest of the hour: the price of a cap on
   * distributed guessing is that a distributed attacker can lock an account out (docs/security.md, Sign-in).
   */
  signInFailuresPerAccount: { points: 100, seconds: 60 * 60 },
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
  /**
   * The page sends a timed-out task this long after its countdown reaches 0: the server accepts a time-out only at or
   * after its own deadline, and the page's estimate of the server clock can be off by up to half a round trip.
   */
  timedOutSendDelayMs: 2_000,
} as const

/** The participant page's retries of a call that got no answer or a 5xx/429 (_flow/retry.ts; the benches use them). */
export const PARTICIPANT_RETRY = {
  /** The first wait; each next one doubles… */
  firstDelayMs: 500,
  /** …up to this: once the server is back, a waiting page notices within this time. */
  maxDelayMs: 10_000,
  /**
   * Then the page says it could not reach the server (drafts keep retrying after that). Rides out a database outage
   * of a minute (bench/participant-load.ts --outage-seconds 60) with room for the restart; a longer silence is
   * worth telling the participant about.
   */
  budgetMs: 2 * 60_000,
} as const

/** The web server's Postgres pool (src/server/db.ts). */
export const DATABASE_POOL = {
  /**
   * Waiting for a connection (a new one, or a free one from a full pool): past this the request fails with a 500
   * that the page retries, instead of hanging while Postgres is unreachable or every connection is busy.
   */
  connectionTimeoutMs: 5_000,
} as const

/** Secrets and passwords (src/env.ts, src/server/auth/credentials.ts, scripts/seed-user.ts). */
export const SECRET_LIMITS = {
  /** AUTH_SECRET in production: 32 random bytes (256 bits), what `openssl rand -base64 32` prints. */
  authSecretMinBytes: 32,
  /**
   * …and its characters must be varied enough to carry this many bits (length × the entropy of their frequencies):
   * random hex or base64 of 32 bytes scores 177 or more, a repeated or hand-typed pattern far less.
   */
  authSecretMinEstimatedBits: 128,
  /** Passwords (seed-user, invitations; production sign-in refuses shorter ones): NIST SP 800-63B's floor is 8. */
  minPasswordLength: 12,
} as const

/** Streamed CSV/JSONL exports (src/server/studies/export.ts). */
export const EXPORT_LIMITS = {
  /**
   * An export reads one REPEATABLE READ snapshot, holding a database connection until the download ends; past this it
   * is cut off and marked FAILED (a stalled client cannot pin a connection and an old snapshot forever). 100,000
   * responses stream in well under a minute.
   */
  maxSeconds: 10 * 60,
  /** Streamed exports at once per web instance: each holds a connection of the shared pool (pg's default: 10). */
  concurrentPerInstance: 3,
} as const

/** Response headers (src/proxy.ts). */
export const HEADER_LIMITS = {
  /** Strict-Transport-Security max-age, sent only over TLS: one year, the common floor for HSTS. */
  hstsMaxAgeSeconds: 365 * 24 * 60 * 60,
} as const

/**
 * Per client address at the k8s ingress (nginx, infra/k8s/ingress.example.yaml; infra/check.sh keeps it equal to these),
 * before a request reaches any web instance. Its body caps are BODY_LIMITS.
 */
export const INGRESS_LIMITS = {
  /**
   * Requests per second (nginx limit-rps; it lets bursts of 5× through): the most the app itself accepts from one
   * address, participantPerIp, so the edge never refuses what the app would serve, and a flood is cut before it.
   */
  requestsPerSecond: RATE_LIMITS.participantPerIp.points / RATE_LIMITS.participantPerIp.seconds,
  /**
   * Open connections (nginx limit-connections): a lab of joinPerIp (30) participants behind one NAT, each with a page
   * request, a live stream and an autosave in flight, with room to spare.
   */
  connectionsPerIp: 100,
} as const
