// A live task (a study condition marked live): the senior streams its reasoning from workers/live while the
// participant watches, takes over at any moment (or is handed over at the study's scheduled point), writes, and
// may hand back; the senior then continues from the shared text. The human plays the junior of tandem training.
//
// The shared text is stored span by span in live_spans (author, text, timing). The senior's open span grows one
// token per UPDATE, and only while it is open and no other writer got there first, so a take-over (which closes
// the span) is exact: what the participant saw is what is stored. The live service keeps no state: a stream that
// breaks (the service restarted, the page reloaded) resumes by sending the stored shared text again.
//
// Bounds (numbers in ../limits.ts LIVE_LIMITS): one open stream per task, held as a lease on the assignment row
// (renewed while it runs, so a crashed web instance frees the task within leaseSeconds); at most maxSpans spans and
// maxChars characters of shared text, so take-over/hand-back loops cannot grow a task forever; and the stored
// continuation (shared text plus the participant's last writing) never exceeds MAX_CONTINUATION.
import { randomBytes } from 'node:crypto'

import { TRPCError } from '@trpc/server'

import { Prisma } from '../../generated/prisma/client'
import { MAX_CONTINUATION } from '../api/routers/participant.schema'
import type { Db } from '../db'
import { LIVE_LIMITS } from '../limits'
import { generate, LiveRequestError, LiveUnavailableError, type GenerateRequest } from '../live/client'

export type SpanAuthor = 'senior' | 'human'
/** senior: eos | length | handover (the scheduled point) | take_over | submit; human: hand_back | submit */
export type EndReason = 'eos' | 'length' | 'handover' | 'take_over' | 'hand_back' | 'submit'

export interface LiveSpanRow {
  id: string
  seq: number
  author: SpanAuthor
  text: string
  tokens: number
  startedAt: Date
  firstTokenAt: Date | null
  endedAt: Date | null
  endReason: EndReason | null
}

export interface LiveView {
  /** who writes now: the senior (streaming, or to be resumed) or the participant */
  control: 'senior' | 'human'
  spans: { seq: number; author: SpanAuthor; text: string; endReason: EndReason | null }[]
  /** the senior may write more (its token budget is not spent and it did not finish its answer) */
  canHandBack: boolean
  /** why the senior stopped last, if it did on its own: 'eos' (finished), 'length', 'handover' (scheduled) */
  seniorStopped: 'eos' | 'length' | 'handover' | null
}

/** The study settings a live task runs with (one query). */
export interface LiveTask {
  assignmentId: string
  answered: boolean
  /** how the participant's session ended (participants.outcome); null while it runs */
  sessionOutcome: string | null
  startedAt: Date | null
  live: boolean
  studyId: string
  studyStatus: string
  seed: number
  temperature: number
  maxNewTokens: number
  /** the reading pace: at most this many tokens per second reach the participant (0 = as generated) */
  liveTokensPerSecond: number
  handoffRule: { kind: 'step'; k: number } | { kind: 'fraction'; f: number }
  problem: string
  problemId: string
  checkpointId: string
  /** the checkpoint's ONNX export folder, if it was exported */
  exportPath: string | null
}

/** Reasoning steps are lines (workers/trainer/src/tandem/boundaries.py): a run of line breaks ends one. */
export function linesIn(text: string): number {
  return text.match(/\n+/g)?.length ?? 0
}

export function sharedText(spans: Pick<LiveSpanRow, 'text'>[]): string {
  return spans.map((s) => s.text).join('')
}

/** Spans with their character offsets in the shared text: a trace's author_spans. */
export function authorSpans(spans: Pick<LiveSpanRow, 'author' | 'text'>[]): { author: SpanAuthor; text: string; start: number; end: number }[] {
  let at = 0
  return spans
    .filter((s) => s.text.length > 0)
    .map((s) => {
      const span = { author: s.author, text: s.text, start: at, end: at + s.text.length }
      at = span.end
      return span
    })
}

/**
 * Spans a hand-back needs: the participant's span, the senior's new one, and one kept for the participant's last
 * writing at submit, so a task never holds more than LIVE_LIMITS.maxSpans.
 */
const SPANS_PER_HAND_BACK = 3

/** The shared text's bound: LIVE_LIMITS.maxChars, and never more than a stored continuation may hold. */
const MAX_SHARED_CHARS = Math.min(LIVE_LIMITS.maxChars, MAX_CONTINUATION)

/** Why the task's limits allow no further hand-back (a participant-facing sentence), or null. */
function handBackLimitReached(spans: Pick<LiveSpanRow, 'text'>[]): string | null {
  if (spans.length + SPANS_PER_HAND_BACK > LIVE_LIMITS.maxSpans) {
    return `You and the AI have taken turns as often as one task allows (${LIVE_LIMITS.maxSpans} turns). Finish the reasoning yourself.`
  }
  if (sharedText(spans).length >= MAX_SHARED_CHARS) {
    return `The shared reasoning has reached its limit of ${MAX_SHARED_CHARS.toLocaleString('en')} characters. Finish with your answer.`
  }
  return null
}

/** A participant-facing refusal of text that would make the shared reasoning longer than `max` characters. */
function tooLongMessage(length: number, max: number): string {
  return `The shared reasoning may be at most ${max.toLocaleString('en')} characters; with your text it would be ${length.toLocaleString('en')}. Shorten your text by ${(length - max).toLocaleString('en')} characters.`
}

export function liveView(spans: LiveSpanRow[], maxNewTokens: number): LiveView {
  const last = spans.at(-1)
  const control = !last || (last.author === 'senior' && !last.endedAt) ? 'senior' : 'human'
  const lastSenior = [...spans].reverse().find((s) => s.author === 'senior')
  const stopped = lastSenior?.endReason
  const seniorStopped = stopped === 'eos' || stopped === 'length' || stopped === 'handover' ? stopped : null
  const used = spans.reduce((n, s) => n + s.tokens, 0)
  return {
    control,
    spans: spans.map((s) => ({ seq: s.seq, author: s.author, text: s.text, endReason: s.endReason })),
    canHandBack: control === 'human' && used < maxNewTokens && handBackLimitReached(spans) === null,
    seniorStopped,
  }
}

/**
 * How far the senior may write in this stream. Before the participant has had control (the first span), the
 * study's handoff rule is the scheduled point: step k hands over after the senior's k-th line, fraction f after
 * f × max new tokens (a live senior has no finished trace to take a fraction of). After that, up to the budget.
 */
export function streamLimits(task: Pick<LiveTask, 'maxNewTokens' | 'handoffRule'>, spans: LiveSpanRow[], open: LiveSpanRow) {
  const left = task.maxNewTokens - spans.reduce((n, s) => n + s.tokens, 0)
  if (open.seq !== 0) return { maxNewTokens: left, stopAfterLines: undefined, scheduled: false }
  if (task.handoffRule.kind === 'step') {
    return { maxNewTokens: left, stopAfterLines: task.handoffRule.k - linesIn(open.text), scheduled: true }
  }
  const cap = Math.floor(task.handoffRule.f * task.maxNewTokens + 0.5) - open.tokens
  return { maxNewTokens: Math.min(left, cap), stopAfterLines: undefined, scheduled: cap <= left }
}

const SPAN_COLUMNS = Prisma.sql`id, seq, author, text, tokens, started_at AS "startedAt", first_token_at AS "firstTokenAt",
  ended_at AS "endedAt", end_reason AS "endReason"`

export async function spansOf(db: Db | Prisma.TransactionClient, assignmentId: string): Promise<LiveSpanRow[]> {
  return db.$queryRaw<LiveSpanRow[]>`SELECT ${SPAN_COLUMNS} FROM live_spans WHERE assignment_id = ${assignmentId} ORDER BY seq`
}

/**
 * The participant's (token's) task with its live settings; NOT_FOUND when the token does not hold it. A null
 * token hash is the server's own use (a task that timed out while the page was closed).
 */
export async function liveTask(db: Db | Prisma.TransactionClient, tokenHash: string | null, assignmentId: string): Promise<LiveTask> {
  const rows = await db.$queryRaw<LiveTask[]>`
    SELECT a.id AS "assignmentId", (r.id IS NOT NULL) AS answered, p.outcome::text AS "sessionOutcome", a.started_at AS "startedAt", c.live,
           s.id AS "studyId", s.status::text AS "studyStatus", s.seed, s.temperature, s.max_new_tokens AS "maxNewTokens",
           s.live_tokens_per_second AS "liveTokensPerSecond", s.handoff_rule AS "handoffRule", pr.problem, pr.id AS "problemId", c.checkpoint_id AS "checkpointId",
           (SELECT o.path FROM checkpoints o JOIN checkpoints src ON src.id = c.checkpoint_id
            WHERE o.format = 'onnx' AND o.step = src.step AND o.run_id IS NOT DISTINCT FROM src.run_id
              AND o.base_model_id IS NOT DISTINCT FROM src.base_model_id LIMIT 1) AS "exportPath"
    FROM assignments a JOIN participants p ON p.id = a.participant_id JOIN studies s ON s.id = p.study_id
    JOIN study_items i ON i.id = a.item_id JOIN study_conditions c ON c.id = i.condition_id
    JOIN problems pr ON pr.id = i.problem_id LEFT JOIN responses r ON r.assignment_id = a.id
    WHERE a.id = ${assignmentId} AND (${tokenHash}::text IS NULL OR p.token_hash = ${tokenHash}) AND p.declined_at IS NULL`
  const task = rows[0]
  if (!task) throw new TRPCError({ code: 'NOT_FOUND', message: 'This task is not part of your session.' })
  return task
}

/** A live task that can still be written to (else a precise PRECONDITION_FAILED). */
export function requireOpenLiveTask(task: LiveTask) {
  if (!task.live) throw new TRPCError({ code: 'BAD_REQUEST', message: 'This task is not a live task.' })
  if (task.studyStatus === 'CLOSED') throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This study has closed.' })
  if (task.answered) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This task already has your answer.' })
  // a session that ended (returned, screened out, timed out) streams and takes no more text
  if (task.sessionOutcome !== null) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Your session has ended.' })
  if (!task.startedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This task has not been started.' })
}

/** Serialises writers of one task's spans (take-over, hand-back, a stream opening a span, submit). */
async function lockAssignment(tx: Prisma.TransactionClient, assignmentId: string) {
  await tx.$queryRaw`SELECT id FROM assignments WHERE id = ${assignmentId} FOR UPDATE`
}

const newSpanId = () => 'ls' + randomBytes(10).toString('hex')

async function insertSpan(tx: Prisma.TransactionClient, assignmentId: string, seq: number, author: SpanAuthor, fields: { text?: string; startedAt?: Date; endedAt?: Date; endReason?: EndReason } = {}) {
  const rows = await tx.$queryRaw<LiveSpanRow[]>`
    INSERT INTO live_spans (id, assignment_id, seq, author, text, started_at, ended_at, end_reason)
    VALUES (${newSpanId()}, ${assignmentId}, ${seq}, ${author}, ${fields.text ?? ''}, ${fields.startedAt ?? new Date()},
            ${fields.endedAt ?? null}, ${fields.endReason ?? null})
    RETURNING ${SPAN_COLUMNS}`
  return rows[0]!
}

// ---------------------------------------------------------------- the participant's actions

/** Streams running in this process, by task: a take-over stops its stream at once (the UPDATE guard makes it exact). */
const running = new Map<string, AbortController>()

/** The participant takes control: the senior's open span ends where it is (or an empty one records the moment). */
export async function takeOver(db: Db, task: LiveTask): Promise<LiveView> {
  requireOpenLiveTask(task)
  const spans = await db.$transaction(async (tx) => {
    await lockAssignment(tx, task.assignmentId)
    await tx.$executeRaw`
      UPDATE live_spans SET ended_at = now(), end_reason = 'take_over'
      WHERE assignment_id = ${task.assignmentId} AND author = 'senior' AND ended_at IS NULL`
    const spans = await spansOf(tx, task.assignmentId)
    if (spans.length > 0) return spans
    await insertSpan(tx, task.assignmentId, 0, 'senior', { endedAt: new Date(), endReason: 'take_over' })
    return spansOf(tx, task.assignmentId)
  })
  running.get(task.assignmentId)?.abort()
  return liveView(spans, task.maxNewTokens)
}

/** The participant hands control back: their writing becomes a human span and the senior gets a new open span. */
export async function handBack(db: Db, task: LiveTask, text: string): Promise<LiveView> {
  requireOpenLiveTask(task)
  const spans = await db.$transaction(async (tx) => {
    await lockAssignment(tx, task.assignmentId)
    const spans = await spansOf(tx, task.assignmentId)
    const view = liveView(spans, task.maxNewTokens)
    if (view.control === 'senior') return spans // a repeated hand-back (lost reply): the first one stands
    const limit = handBackLimitReached(spans)
    if (limit) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: limit })
    if (!view.canHandBack) {
      throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `The AI has written all it may in this task (${task.maxNewTokens} tokens). Finish the reasoning yourself.` })
    }
    const length = sharedText(spans).length + text.length
    if (length > MAX_SHARED_CHARS) throw new TRPCError({ code: 'BAD_REQUEST', message: tooLongMessage(length, MAX_SHARED_CHARS) })
    const now = new Date()
    let seq = spans.length
    if (text.length > 0) await insertSpan(tx, task.assignmentId, seq++, 'human', { text, startedAt: spans.at(-1)?.endedAt ?? now, endedAt: now, endReason: 'hand_back' })
    await insertSpan(tx, task.assignmentId, seq, 'senior', { startedAt: now })
    // the draft held the participant's writing until now; it is a span from here on
    await tx.$executeRaw`UPDATE assignments SET draft = jsonb_set(COALESCE(draft, '{}'::jsonb), '{continuation}', '""'::jsonb) WHERE id = ${task.assignmentId}`
    return spansOf(tx, task.assignmentId)
  })
  return liveView(spans, task.maxNewTokens)
}

/**
 * On submit (or a timeout): the senior's open span ends, the participant's writing since their last hand-back
 * becomes the last span, and the whole shared text is stored as a trace with its author spans and timing, linked
 * from the response. Returns the shared text (the response's continuation) and the trace to link.
 *
 * The continuation may hold at most MAX_CONTINUATION characters. `tooLong` says what happens to writing that would
 * pass it: 'refuse' (the participant's own submit: BAD_REQUEST saying by how much to shorten it, nothing stored) or
 * 'clip' (the server recording a time-out while the page was closed: the writing is cut to fit, and the trace's
 * settings say how many characters were cut).
 */
export async function finishLiveTask(
  tx: Prisma.TransactionClient,
  task: Pick<LiveTask, 'assignmentId' | 'checkpointId' | 'problemId' | 'seed' | 'temperature' | 'maxNewTokens' | 'handoffRule' | 'studyId'>,
  humanText: string,
  now: Date,
  tooLong: 'refuse' | 'clip' = 'refuse',
) {
  await lockAssignment(tx, task.assignmentId)
  // a second submit (another tab, a retry) that waited for the lock finds the first one's response: nothing to do
  const answered = await tx.$queryRaw<unknown[]>`SELECT 1 FROM responses WHERE assignment_id = ${task.assignmentId}`
  if (answered.length > 0) return null
  let spans = await spansOf(tx, task.assignmentId)
  const length = sharedText(spans).length + humanText.length
  let clippedChars = 0
  if (length > MAX_CONTINUATION) {
    if (tooLong === 'refuse') throw new TRPCError({ code: 'BAD_REQUEST', message: tooLongMessage(length, MAX_CONTINUATION) })
    clippedChars = length - MAX_CONTINUATION
    humanText = humanText.slice(0, Math.max(0, humanText.length - clippedChars))
  }
  await tx.$executeRaw`UPDATE live_spans SET ended_at = ${now}, end_reason = 'submit' WHERE assignment_id = ${task.assignmentId} AND ended_at IS NULL`
  spans = await spansOf(tx, task.assignmentId)
  if (humanText.length > 0) {
    await insertSpan(tx, task.assignmentId, spans.length, 'human', { text: humanText, startedAt: spans.at(-1)?.endedAt ?? now, endedAt: now, endReason: 'submit' })
    spans = await spansOf(tx, task.assignmentId)
  }
  const text = sharedText(spans)
  const trace = await tx.trace.create({
    data: {
      checkpointId: task.checkpointId,
      problemId: task.problemId,
      text,
      authorSpans: authorSpans(spans),
      seed: task.seed,
      settings: {
        schedule: 'live study',
        source: 'live-study',
        studyId: task.studyId,
        assignmentId: task.assignmentId,
        temperature: task.temperature,
        top_p: 1.0,
        max_new_tokens: task.maxNewTokens,
        handoff_rule: task.handoffRule,
        ...(clippedChars > 0 ? { clipped_chars: clippedChars } : {}),
        spans: spans.map((s) => ({
          seq: s.seq, author: s.author, chars: s.text.length, tokens: s.tokens, startedAt: s.startedAt.toISOString(),
          firstTokenAt: s.firstTokenAt?.toISOString() ?? null, endedAt: s.endedAt?.toISOString() ?? null, endReason: s.endReason,
        })),
      },
    },
    select: { id: true },
  })
  return { text, traceId: trace.id }
}

// ---------------------------------------------------------------- the senior's stream

export type StreamEvent =
  | { event: 'spans'; data: LiveView }
  | { event: 'token'; data: { seq: number; text: string } }
  | { event: 'done'; data: LiveView }
  /** the service is down or broke off: the page tries again (the stored text is kept) */
  | { event: 'unavailable'; data: { message: string } }
  /** trying again will not help (no export, the task is answered, …) */
  | { event: 'failed'; data: { message: string } }

/** The senior's open span, opened if the senior has control and none is open yet; null when the participant has control. */
async function openSeniorSpan(db: Db, task: LiveTask): Promise<{ spans: LiveSpanRow[]; open: LiveSpanRow | null }> {
  return db.$transaction(async (tx) => {
    await lockAssignment(tx, task.assignmentId)
    let spans = await spansOf(tx, task.assignmentId)
    if (spans.length === 0) {
      await insertSpan(tx, task.assignmentId, 0, 'senior')
      spans = await spansOf(tx, task.assignmentId)
    }
    const last = spans.at(-1)!
    return { spans, open: last.author === 'senior' && !last.endedAt ? last : null }
  })
}

async function endSpan(db: Db, span: LiveSpanRow, reason: EndReason) {
  await db.$executeRaw`UPDATE live_spans SET ended_at = now(), end_reason = ${reason} WHERE id = ${span.id} AND ended_at IS NULL`
}

// ---------------------------------------------------------------- one open stream per task: the lease

/** The task's stream is already open (in another tab, or a stream that has not noticed its page left): HTTP 409. */
export class LiveStreamBusy extends Error {
  override name = 'LiveStreamBusy'
  constructor(readonly retryAfterSeconds: number) {
    super(`The AI is already writing this task in another tab or window. Close that one, or try again in ${retryAfterSeconds} s.`)
  }
}

/** The right to write one task's senior span: a random id stored on the assignment with its expiry. */
export interface StreamLease {
  id: string
  assignmentId: string
}

/**
 * Takes the task's stream lease in one statement: only when no lease is held or the holder's has lapsed (a web
 * instance that crashed mid-stream stops renewing it). Throws LiveStreamBusy when another stream holds it.
 */
export async function takeStreamLease(db: Db, assignmentId: string): Promise<StreamLease> {
  const id = 'll' + randomBytes(10).toString('hex')
  const taken = await db.$executeRaw`
    UPDATE assignments SET live_lease_id = ${id}, live_lease_expires_at = now() + make_interval(secs => ${LIVE_LIMITS.leaseSeconds})
    WHERE id = ${assignmentId} AND (live_lease_id IS NULL OR live_lease_expires_at IS NULL OR live_lease_expires_at <= now())`
  if (taken === 1) return { id, assignmentId }
  const [held] = await db.$queryRaw<{ seconds: number | null }[]>`
    SELECT ceil(extract(epoch FROM live_lease_expires_at - now()))::int AS seconds FROM assignments WHERE id = ${assignmentId}`
  if (!held) throw new TRPCError({ code: 'NOT_FOUND', message: 'This task is not part of your session.' })
  throw new LiveStreamBusy(Math.max(1, held.seconds ?? 1))
}

/** Extends the lease by leaseSeconds from now; false when it is no longer this stream's (it lapsed and was taken). */
async function renewStreamLease(db: Db, lease: StreamLease): Promise<boolean> {
  const renewed = await db.$executeRaw`
    UPDATE assignments SET live_lease_expires_at = now() + make_interval(secs => ${LIVE_LIMITS.leaseSeconds})
    WHERE id = ${lease.assignmentId} AND live_lease_id = ${lease.id}`
  return renewed === 1
}

/** Gives the lease up (only if it is still this stream's); safe to call more than once. */
export async function releaseStreamLease(db: Db, lease: StreamLease): Promise<void> {
  await db.$executeRaw`
    UPDATE assignments SET live_lease_id = NULL, live_lease_expires_at = NULL WHERE id = ${lease.assignmentId} AND live_lease_id = ${lease.id}`
}

/** How often an open stream renews its lease: three times per lease, so one slow renewal does not lose it. */
const LEASE_RENEW_MS = (LIVE_LIMITS.leaseSeconds * 1000) / 3

/**
 * Runs the senior from the stored shared text until it stops, the participant takes over, or `signal` aborts
 * (the page went away: the span stays open and the next stream resumes it). Every token is stored before it is sent.
 *
 * The stream holds the task's lease (`lease`, taken by the caller, or taken here: LiveStreamBusy on the first
 * next()), renews it while it runs and releases it when it ends, however it ends.
 */
export async function* streamSenior(db: Db, task: LiveTask, signal: AbortSignal, lease?: StreamLease): AsyncGenerator<StreamEvent> {
  const held = lease ?? (await takeStreamLease(db, task.assignmentId))
  const upstream = new AbortController()
  const stop = () => upstream.abort()
  signal.addEventListener('abort', stop)
  if (signal.aborted) stop()
  const renewal = setInterval(() => {
    // a lease lost to another stream (this one stalled past its expiry) stops this one: one writer at a time
    renewStreamLease(db, held).then((mine) => mine || stop(), () => undefined) // Postgres away: the token writes fail too
  }, LEASE_RENEW_MS)
  renewal.unref?.()
  try {
    yield* runSenior(db, task, upstream)
  } finally {
    clearInterval(renewal)
    signal.removeEventListener('abort', stop)
    await releaseStreamLease(db, held).catch(() => undefined) // else it lapses within leaseSeconds
  }
}

async function* runSenior(db: Db, task: LiveTask, upstream: AbortController): AsyncGenerator<StreamEvent> {
  try {
    requireOpenLiveTask(task)
  } catch (error) {
    yield { event: 'failed', data: { message: (error as Error).message } }
    return
  }
  if (!task.exportPath) {
    yield { event: 'failed', data: { message: `The AI for this task is not available: its checkpoint (${task.checkpointId}) has no ONNX export. The researcher must export it (job EXPORT_ONNX).` } }
    return
  }
  const { spans, open } = await openSeniorSpan(db, task)
  yield { event: 'spans', data: liveView(spans, task.maxNewTokens) }
  if (!open) return

  const limits = streamLimits(task, spans, open)
  // the senior stops where the shared text reaches its bound, as if its token budget ran out
  let charsLeft = MAX_SHARED_CHARS - sharedText(spans).length
  if (limits.maxNewTokens <= 0 || (limits.stopAfterLines !== undefined && limits.stopAfterLines <= 0) || charsLeft <= 0) {
    await endSpan(db, open, limits.scheduled && charsLeft > 0 ? 'handover' : 'length')
    yield { event: 'done', data: liveView(await spansOf(db, task.assignmentId), task.maxNewTokens) }
    return
  }

  running.get(task.assignmentId)?.abort() // a stream whose lease lapsed and was taken over stops: one writer at a time
  running.set(task.assignmentId, upstream)
  const request: GenerateRequest = {
    model: task.exportPath,
    problem: task.problem,
    text: sharedText(spans),
    maxNewTokens: limits.maxNewTokens,
    temperature: task.temperature,
    topP: 1.0,
    // the service holds tokens to the reading pace, so a take-over or a restart loses only tokens nobody saw
    tokensPerSecond: task.liveTokensPerSecond,
    // a resumed stream samples afresh: the seed moves on with the tokens already written
    seed: task.seed * 1_000_003 + open.seq * 10_007 + open.tokens,
    ...(limits.stopAfterLines !== undefined ? { stopAfterLines: limits.stopAfterLines } : {}),
  }
  let tokens = open.tokens
  try {
    for await (const event of generate(request, upstream.signal)) {
      if (event.type === 'token') {
        if (event.text.length > charsLeft) {
          upstream.abort() // the service stops generating; the token that would pass the bound is neither stored nor shown
          await endSpan(db, open, 'length')
          yield { event: 'done', data: liveView(await spansOf(db, task.assignmentId), task.maxNewTokens) }
          return
        }
        // stored only while the span is open and this stream is its only writer (tokens as expected)
        const stored = await db.$executeRaw`
          UPDATE live_spans SET text = text || ${event.text}, tokens = tokens + 1, first_token_at = COALESCE(first_token_at, now())
          WHERE id = ${open.id} AND ended_at IS NULL AND tokens = ${tokens}`
        if (stored === 0) return upstream.abort()
        tokens += 1
        charsLeft -= event.text.length
        if (event.text) yield { event: 'token', data: { seq: open.seq, text: event.text } }
      } else if (event.type === 'done') {
        const reason: EndReason = event.reason === 'lines' || (event.reason === 'length' && limits.scheduled) ? 'handover' : event.reason
        await endSpan(db, open, reason)
        yield { event: 'done', data: liveView(await spansOf(db, task.assignmentId), task.maxNewTokens) }
        return
      }
    }
  } catch (error) {
    if (error instanceof LiveRequestError) yield { event: 'failed', data: { message: error.message } }
    else if (error instanceof LiveUnavailableError) yield { event: 'unavailable', data: { message: error.message } }
    else throw error
  } finally {
    if (running.get(task.assignmentId) === upstream) running.delete(task.assignmentId)
  }
}
