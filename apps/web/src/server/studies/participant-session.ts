// The participant's side of a study: who holds which session (a random token, stored only as a hash), where in the
// flow they are (consent → instructions → practice → tasks with attention checks between → complete), and the
// server-side clock of each task. Every write here is idempotent, so a reload, a second tab or a retried request
// after a dropped connection never loses or doubles anything.
import { createHash, randomBytes } from 'node:crypto'

import { TRPCError } from '@trpc/server'

import { Prisma } from '../../generated/prisma/client'
import { participantTitle, type AttentionCheck, type PracticeTask } from '../api/routers/studies.schema'
import type { Db } from '../db'
import { enqueueJob } from '../jobs'
import { PARTICIPANT_LIMITS } from '../limits'
import { finishLiveTask, liveTask, liveView, spansOf, type LiveView } from './live-session'
import { nextDesignRow } from './assignment'
import { practiceVerdict, type PracticeVerdict } from './practice-check'
import {
  completionFor,
  DROPOUT_OUTCOMES,
  effectiveTaskLimitSeconds,
  screensOut,
  SESSION_ALLOWANCE_SECONDS,
  sessionDeadline,
  sessionTimeLimitSeconds,
  type Completion,
  type Outcome,
  type OutcomeTexts,
} from './outcomes'

/** Requests reach the server a little after the page's clock runs out; within this the answer still counts. */
export const TIMEOUT_GRACE_MS = 15_000

export function newParticipantToken(): string {
  return randomBytes(32).toString('base64url')
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export const INVALID_LINK = 'This study link is not valid. Open the link you were given again.'
/** A completed session's token, once PARTICIPANT_LIMITS.tokenAfterCompletionSeconds have passed. */
export const SESSION_ENDED = 'This session has ended. Thank you for taking part; you can close this page.'

export type Stage = 'declined' | 'closed' | 'instructions' | 'practice' | 'task' | 'attention' | 'complete'

export interface TaskDraft {
  continuation: string
  answer: string
  easeRating?: number | null
  confidence?: number | null
}

export interface ParticipantRow {
  id: string
  studyId: string
  consentedAt: Date | null
  declinedAt: Date | null
  instructionsDoneAt: Date | null
  practiceDoneAt: Date | null
  attention: Prisma.JsonValue
  completedAt: Date | null
  /** how the session ended (null: still running, or declined; or completed before outcomes were recorded) */
  outcome: Outcome | null
  outcomeAt: Date | null
  study: OutcomeTexts & {
    id: string
    /** the title participants see (null: DEFAULT_PUBLIC_TITLE); the study's internal name is never read here */
    publicTitle: string | null
    status: 'DRAFT' | 'GENERATING' | 'OPEN' | 'PAUSED' | 'CLOSED'
    instructions: string
    practice: Prisma.JsonValue
    attentionChecks: Prisma.JsonValue
    timeLimitSeconds: number
    /** live tasks: the senior's token budget */
    maxNewTokens: number
    tasksPerParticipant: number
    sessionTimeLimitSeconds: number | null
  }
}

/**
 * The participant holding this token (one query: every participant call starts here); UNAUTHORIZED if none, or if
 * the session ended more than PARTICIPANT_LIMITS.tokenAfterCompletionSeconds ago (the token has expired).
 */
export async function participantByToken(db: Db | Prisma.TransactionClient, token: string, now = new Date()): Promise<ParticipantRow> {
  const rows = await db.$queryRaw<ParticipantRow[]>`
    SELECT p.id, p.study_id AS "studyId", p.consented_at AS "consentedAt", p.declined_at AS "declinedAt", p.instructions_done_at AS "instructionsDoneAt",
           p.practice_done_at AS "practiceDoneAt", p.attention, p.completed_at AS "completedAt",
           p.outcome::text AS outcome, p.outcome_at AS "outcomeAt",
           json_build_object('id', s.id, 'publicTitle', s.public_title, 'status', s.status, 'instructions', s.instructions,
             'practice', s.practice, 'attentionChecks', s.attention_checks, 'timeLimitSeconds', s.time_limit_s, 'maxNewTokens', s.max_new_tokens,
             'completionCode', s.completion_code, 'redirectUrl', s.redirect_url,
             'screenedOutCode', s.screened_out_code, 'screenedOutRedirectUrl', s.screened_out_redirect_url,
             'timedOutCode', s.timed_out_code, 'timedOutRedirectUrl', s.timed_out_redirect_url,
             'tasksPerParticipant', s.tasks_per_participant, 'sessionTimeLimitSeconds', s.session_time_limit_s) AS study
    FROM participants p JOIN studies s ON s.id = p.study_id
    WHERE p.token_hash = ${hashToken(token)}`
  const participant = rows[0]
  if (!participant) throw new TRPCError({ code: 'UNAUTHORIZED', message: INVALID_LINK })
  const endedAt = sessionEndedAt(participant)
  if (endedAt && now.getTime() >= tokenExpiry(endedAt).getTime()) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: SESSION_ENDED })
  }
  return participant
}

/** When the session ended (completed, or any other outcome); null while it runs. */
export function sessionEndedAt(p: Pick<ParticipantRow, 'completedAt' | 'outcomeAt'>): Date | null {
  return p.completedAt ?? p.outcomeAt
}

/** How an ended session ended (a session completed before outcomes were recorded has only completed_at). */
export function outcomeOf(p: Pick<ParticipantRow, 'completedAt' | 'outcome'>): Outcome | null {
  return p.outcome ?? (p.completedAt ? 'COMPLETED' : null)
}

/** When the whole session's time runs out (null: not consented, so no session clock). */
export function sessionEndsAt(p: Pick<ParticipantRow, 'consentedAt' | 'study'>): Date | null {
  return p.consentedAt ? sessionDeadline(p.consentedAt, sessionTimeLimitSeconds(p.study)) : null
}

/**
 * The whole session's limit in SQL (`s` = the studies row): outcomes.ts sessionTimeLimitSeconds, written where the
 * database needs it.
 */
export function sessionTimeLimitSql(study: Prisma.Sql = Prisma.raw('s')): Prisma.Sql {
  return Prisma.sql`COALESCE(${study}.session_time_limit_s, ${study}.tasks_per_participant * ${study}.time_limit_s + ${SESSION_ALLOWANCE_SECONDS}::int)`
}

/**
 * Ends a consented, still running session with `outcome` (first wins: a session that already has one keeps it).
 * Returns whether this call set it. COMPLETED is written by completeIfDone, which also sets completed_at in the same
 * statement.
 */
export async function endSession(tx: Prisma.TransactionClient, participantId: string, outcome: Exclude<Outcome, 'COMPLETED'>, at = new Date()): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE participants SET outcome = ${outcome}::"ParticipantOutcome", outcome_at = ${at}
    WHERE id = ${participantId} AND outcome IS NULL AND completed_at IS NULL AND consented_at IS NOT NULL AND declined_at IS NULL
    RETURNING id`
  return rows.length > 0
}

/**
 * Times out every session of the study whose whole limit (plus `graceMs`) has passed without an outcome — the
 * participants who went away. Run at each join under the study's row lock, so the refill rule sees them.
 */
export async function timeOutAbsentSessions(tx: Prisma.TransactionClient, studyId: string, graceMs: number, now = new Date()): Promise<number> {
  return tx.$executeRaw`
    UPDATE participants p SET outcome = 'TIMED_OUT', outcome_at = ${now}
    FROM studies s
    WHERE s.id = p.study_id AND p.study_id = ${studyId} AND p.outcome IS NULL AND p.completed_at IS NULL
      AND p.consented_at IS NOT NULL AND p.declined_at IS NULL
      AND p.consented_at + make_interval(secs => ${sessionTimeLimitSql()} + ${graceMs / 1000}::float8) < ${now}`
}

/** When an ended session's token stops working. */
export function tokenExpiry(endedAt: Date): Date {
  return new Date(endedAt.getTime() + PARTICIPANT_LIMITS.tokenAfterCompletionSeconds * 1000)
}

/**
 * A returning participant (same study, same external id, on a study that requires the id, so the id is the
 * credential): the session continues under `token`, which replaces the stored one. A participant has one token, so
 * the browser that held the old one gets "This study link is not valid" and comes back the same way, by opening the
 * study link again (it carries the id). A session that ended longer ago than a token lives is not reopened.
 */
export async function rejoinSession(
  db: Db,
  participant: { id: string; completedAt: Date | null; outcomeAt: Date | null },
  token: string,
  now = new Date(),
): Promise<void> {
  const endedAt = sessionEndedAt(participant)
  if (endedAt && now.getTime() >= tokenExpiry(endedAt).getTime()) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: SESSION_ENDED })
  await db.participant.update({ where: { id: participant.id }, data: { tokenHash: hashToken(token) } })
}

const ENDED: Record<Outcome, string> = {
  COMPLETED: 'You have completed this study; there is nothing more to do.',
  SCREENED_OUT: 'This session has ended (two check questions were not answered as asked); there is nothing more to do.',
  TIMED_OUT: 'The time for this study has run out, so the session has ended; there is nothing more to do.',
  RETURNED: 'You have left this study; there is nothing more to do.',
}

/** Why an ended session takes no more answers. */
export function sessionEndedMessage(p: Pick<ParticipantRow, 'completedAt' | 'outcome'>): string | null {
  const outcome = outcomeOf(p)
  return outcome ? ENDED[outcome] : null
}

/**
 * Stage order on the server: tasks (and what belongs to them: drafts, submits, live calls, attention checks) only
 * after consent, instructions and practice, and nothing more once the session is complete.
 */
export function requireTasksReached(
  p: Pick<ParticipantRow, 'consentedAt' | 'declinedAt' | 'instructionsDoneAt' | 'practiceDoneAt' | 'completedAt' | 'outcome'>,
) {
  if (p.declinedAt || !p.consentedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'You have not consented to take part, so there are no tasks.' })
  const ended = sessionEndedMessage(p)
  if (ended) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: ended })
  if (!p.instructionsDoneAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Read the instructions first.' })
  if (!p.practiceDoneAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Do the practice task first.' })
}

/**
 * The fast path of the calls made many times per task (autosave, starting the clock): one statement that checks
 * the token, that the task is the participant's, that the session is active and the task unanswered, and writes.
 * A task is not started once the whole session's time has run out. Returns null when any check fails; the caller
 * then finds out which, for a precise error. `timeLimitSeconds` is the task's limit cut short by the session's end.
 */
export async function updateOwnOpenTask(
  db: Db,
  token: string,
  assignmentId: string,
  set: { draft: TaskDraft; savedAt: Date } | { start: true },
): Promise<{ startedAt: Date | null; timeLimitSeconds: number } | null> {
  const start = 'start' in set
  const assignment = start
    ? Prisma.sql`started_at = COALESCE(a.started_at, now())`
    : Prisma.sql`draft = ${JSON.stringify(set.draft)}::jsonb, draft_saved_at = ${set.savedAt}`
  const sessionEnd = Prisma.sql`p.consented_at + make_interval(secs => ${sessionTimeLimitSql()})`
  const rows = await db.$queryRaw<{ startedAt: Date | null; timeLimitSeconds: number; sessionEndsAt: Date }[]>`
    UPDATE assignments a SET ${assignment}
    FROM participants p JOIN studies s ON s.id = p.study_id
    WHERE a.id = ${assignmentId} AND a.participant_id = p.id AND p.token_hash = ${hashToken(token)}
      AND p.declined_at IS NULL AND s.status <> 'CLOSED'
      -- stage order (requireTasksReached): consent, instructions and practice come first
      AND p.consented_at IS NOT NULL AND p.instructions_done_at IS NOT NULL AND p.practice_done_at IS NOT NULL
      AND p.completed_at IS NULL AND p.outcome IS NULL
      ${start ? Prisma.sql`AND (a.started_at IS NOT NULL OR ${sessionEnd} > now())` : Prisma.empty}
      AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.assignment_id = a.id)
    RETURNING a.started_at AS "startedAt", s.time_limit_s AS "timeLimitSeconds", ${sessionEnd} AS "sessionEndsAt"`
  const row = rows[0]
  if (!row) return null
  const limit = row.startedAt ? effectiveTaskLimitSeconds(row.startedAt, row.timeLimitSeconds, row.sessionEndsAt) : row.timeLimitSeconds
  return { startedAt: row.startedAt, timeLimitSeconds: limit }
}

/** A task's limit for this participant: the study's, cut short by the end of the whole session. */
export function taskLimitSeconds(participant: Pick<ParticipantRow, 'consentedAt' | 'study'>, startedAt: Date): number {
  return effectiveTaskLimitSeconds(startedAt, participant.study.timeLimitSeconds, sessionEndsAt(participant))
}

interface AttentionAnswer {
  checkId: string
  answer: string
  correct: boolean
  at: string
}

export function attentionAnswers(participant: { attention: Prisma.JsonValue }): AttentionAnswer[] {
  return Array.isArray(participant.attention) ? (participant.attention as unknown as AttentionAnswer[]) : []
}

/** Whether these answers to a study's checks end the session (outcomes.ts screensOut: the second failed check). */
export function isScreenedOut(checks: AttentionCheck[], answers: AttentionAnswer[]): boolean {
  return screensOut(checks.length, answers.filter((a) => !a.correct).length)
}

export function studyAttentionChecks(study: { attentionChecks: Prisma.JsonValue }): AttentionCheck[] {
  return Array.isArray(study.attentionChecks) ? (study.attentionChecks as unknown as AttentionCheck[]) : []
}

/** The first attention check that is due (after `tasksDone` tasks) and not answered yet. */
export function pendingAttentionCheck(checks: AttentionCheck[], answered: AttentionAnswer[], tasksDone: number): AttentionCheck | null {
  const done = new Set(answered.map((a) => a.checkId))
  return [...checks].sort((a, b) => a.afterTask - b.afterTask).find((c) => c.afterTask <= tasksDone && !done.has(c.id)) ?? null
}

export function deadlineOf(startedAt: Date, timeLimitSeconds: number): Date {
  return new Date(startedAt.getTime() + timeLimitSeconds * 1000)
}

/**
 * Whether the page may claim a time-out at `at`: only at or after the server's deadline (an earlier claim would let a
 * bot skip the task, and its completion code, in seconds).
 */
export function mayClaimTimeout(startedAt: Date, timeLimitSeconds: number, at: Date): boolean {
  return at.getTime() >= deadlineOf(startedAt, timeLimitSeconds).getTime()
}

/** Whether a response arriving at `at` for a task started at `startedAt` is past the limit (plus grace). */
export function isLate(startedAt: Date, timeLimitSeconds: number, at: Date): boolean {
  return at.getTime() > startedAt.getTime() + timeLimitSeconds * 1000 + TIMEOUT_GRACE_MS
}

/**
 * Stores the participant's response once: a second submit of the same task (double click, retry after a lost
 * reply, another tab) finds the first and changes nothing. Queues its verification in the same transaction.
 */
export async function storeResponse(
  tx: Prisma.TransactionClient,
  args: { assignmentId: string; startedAt: Date; timeLimitSeconds: number; answer: TaskDraft; timedOut: boolean; now: Date; traceId?: string | null },
): Promise<{ responseId: string; duplicate: boolean }> {
  const elapsedMs = Math.max(0, args.now.getTime() - args.startedAt.getTime())
  // a time-out counts only from the deadline on (the router refuses and counts earlier claims)
  const timedOut = (args.timedOut && mayClaimTimeout(args.startedAt, args.timeLimitSeconds, args.now)) || isLate(args.startedAt, args.timeLimitSeconds, args.now)
  const id = 'r' + randomBytes(12).toString('hex')
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO responses (id, assignment_id, continuation, answer, ease_rating, confidence, elapsed_ms, timed_out, submitted_at, trace_id)
    VALUES (${id}, ${args.assignmentId}, ${args.answer.continuation}, ${args.answer.answer.trim()},
            ${args.answer.easeRating ?? null}, ${args.answer.confidence ?? null}, ${elapsedMs}, ${timedOut}, ${args.now},
            ${args.traceId ?? null})
    ON CONFLICT (assignment_id) DO NOTHING
    RETURNING id`
  if (inserted.length === 0) {
    const existing = await tx.response.findUniqueOrThrow({ where: { assignmentId: args.assignmentId }, select: { id: true } })
    return { responseId: existing.id, duplicate: true }
  }
  await enqueueJob(tx, { kind: 'VERIFY_RESPONSES', payload: { responseIds: [id] } })
  return { responseId: id, duplicate: false }
}

/**
 * Marks the session complete once every task has a response and every attention check an answer (one statement,
 * which also writes the outcome COMPLETED; a session that already has another outcome is not completed).
 */
export async function completeIfDone(tx: Prisma.TransactionClient, participantId: string, checks: AttentionCheck[]): Promise<boolean> {
  const checkIds = checks.map((c) => c.id)
  const afterTasks = checks.map((c) => c.afterTask)
  const rows = await tx.$queryRaw<{ completedAt: Date | null; done: boolean }[]>`
    WITH state AS (
      SELECT p.id, p.completed_at,
             EXISTS (SELECT 1 FROM assignments a WHERE a.participant_id = p.id)
             AND NOT EXISTS (SELECT 1 FROM assignments a LEFT JOIN responses r ON r.assignment_id = a.id
                             WHERE a.participant_id = p.id AND r.id IS NULL)
             -- every attention check that comes up (after a task the participant has) is answered
             AND NOT EXISTS (SELECT 1 FROM unnest(${checkIds}::text[], ${afterTasks}::int[]) AS c(id, after_task)
                             WHERE c.after_task <= (SELECT count(*) FROM assignments a WHERE a.participant_id = p.id)
                               AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p.attention) e WHERE e ->> 'checkId' = c.id))
               AS done
      FROM participants p WHERE p.id = ${participantId}
    ), marked AS (
      UPDATE participants p SET completed_at = now(), outcome = 'COMPLETED', outcome_at = now() FROM state
      WHERE p.id = state.id AND state.done AND p.completed_at IS NULL AND p.outcome IS NULL
      RETURNING p.completed_at
    )
    SELECT COALESCE((SELECT completed_at FROM marked), state.completed_at) AS "completedAt", state.done FROM state`
  return rows[0]?.completedAt != null
}

/**
 * After a response or an attention check's answer given at `at`, in this order: the session times out when that was
 * past the whole session's deadline (plus grace: it came too late); it is screened out at the second failed
 * attention check (`screenedOut`); it completes when everything is done. Returns whether it has ended.
 */
export async function settleSession(
  tx: Prisma.TransactionClient,
  participant: ParticipantRow,
  at: Date,
  { screenedOut = false }: { screenedOut?: boolean } = {},
): Promise<boolean> {
  const ends = sessionEndsAt(participant)
  if (ends && at.getTime() > ends.getTime() + TIMEOUT_GRACE_MS) {
    await endSession(tx, participant.id, 'TIMED_OUT', at)
    return true
  }
  if (screenedOut) {
    await endSession(tx, participant.id, 'SCREENED_OUT', at)
    return true
  }
  return completeIfDone(tx, participant.id, studyAttentionChecks(participant.study))
}

/**
 * The design row of a new arrival (assignment.ts REFILL_RULE): call under the study's row lock, after
 * timeOutAbsentSessions, so dropouts are known and two arrivals never take the same row (refills_id is unique too).
 */
export async function assignDesignRow(
  tx: Prisma.TransactionClient,
  study: { id: string; refillDropouts: boolean },
  ordinal: number,
): Promise<{ designRow: number; refillsId: string | null }> {
  if (!study.refillDropouts) return nextDesignRow({ ordinal, refillDropouts: false, highestRow: null, openDropouts: [] })
  const [highest] = await tx.$queryRaw<{ highestRow: number | null }[]>`
    SELECT max(design_row)::int AS "highestRow" FROM participants WHERE study_id = ${study.id}`
  const openDropouts = await tx.$queryRaw<{ id: string; designRow: number }[]>`
    SELECT p.id, p.design_row AS "designRow" FROM participants p
    WHERE p.study_id = ${study.id} AND p.design_row IS NOT NULL AND p.consented_at IS NOT NULL
      AND p.outcome::text = ANY(${[...DROPOUT_OUTCOMES]}::text[])
      AND NOT EXISTS (SELECT 1 FROM participants r WHERE r.refills_id = p.id)
    ORDER BY p.design_row, p.id LIMIT 1`
  return nextDesignRow({ ordinal, refillDropouts: true, highestRow: highest?.highestRow ?? null, openDropouts })
}

interface TaskRow {
  id: string
  position: number
  draft: Prisma.JsonValue
  draftSavedAt: Date | null
  startedAt: Date | null
  answered: boolean
  prefixText: string | null
  problem: string
  live: boolean
}

/** The participant's tasks in order, with whether each has a response (one query). */
async function tasksOf(db: Db, participantId: string): Promise<TaskRow[]> {
  return db.$queryRaw<TaskRow[]>`
    SELECT a.id, a.position, a.draft, a.draft_saved_at AS "draftSavedAt", a.started_at AS "startedAt", (r.id IS NOT NULL) AS answered,
           i.prefix_text AS "prefixText", pr.problem, c.live
    FROM assignments a JOIN study_items i ON i.id = a.item_id JOIN problems pr ON pr.id = i.problem_id
    JOIN study_conditions c ON c.id = i.condition_id
    LEFT JOIN responses r ON r.assignment_id = a.id
    WHERE a.participant_id = ${participantId}
    ORDER BY a.position`
}

/**
 * Records a timed-out response (from the autosaved draft) for a started task whose time ran out while the page
 * was closed — its own limit, or the whole session's — so a participant who comes back finds the next task and the
 * data say what happened. A session that was left (RETURNED) or screened out has no running task to record.
 */
async function expireOverdueTasks(db: Db, participant: ParticipantRow, tasks: TaskRow[], now: Date): Promise<number> {
  if (participant.outcome && participant.outcome !== 'TIMED_OUT') return 0
  const overdue = tasks.filter((t) => !t.answered && t.startedAt && isLate(t.startedAt, taskLimitSeconds(participant, t.startedAt), now))
  for (const task of overdue) {
    const limit = taskLimitSeconds(participant, task.startedAt!)
    const draft = (task.draft ?? {}) as Partial<TaskDraft>
    // the response counts as given when the time ran out, not when the participant came back
    const at = deadlineOf(task.startedAt!, limit)
    await db.$transaction(async (tx) => {
      // the participant is gone: writing past MAX_CONTINUATION is cut to fit rather than refused
      const finished = task.live ? await finishLiveTask(tx, await liveTask(tx, null, task.id), draft.continuation ?? '', at, 'clip') : null
      await storeResponse(tx, {
        assignmentId: task.id,
        startedAt: task.startedAt!,
        timeLimitSeconds: limit,
        answer: { continuation: finished?.text ?? draft.continuation ?? '', answer: draft.answer ?? '', easeRating: draft.easeRating, confidence: draft.confidence },
        timedOut: true,
        now: at,
        traceId: finished?.traceId ?? null,
      })
      await settleSession(tx, participant, at)
    })
  }
  return overdue.length
}

/**
 * A running session whose whole time ran out (plus grace) before its last task: TIMED_OUT, decided when the
 * participant calls in after it (absent participants: at the next join, timeOutAbsentSessions).
 */
async function timeOutIfPast(db: Db, participant: ParticipantRow, now: Date): Promise<boolean> {
  if (participant.completedAt || participant.outcome || participant.declinedAt) return false
  const ends = sessionEndsAt(participant)
  if (!ends || now.getTime() <= ends.getTime() + TIMEOUT_GRACE_MS) return false
  return db.$transaction((tx) => endSession(tx, participant.id, 'TIMED_OUT', now))
}

/** What the participant gave in the practice and how it compares with the expected answer. */
export interface PracticeResult {
  continuation: string
  answer: string
  expected: string
  verdict: PracticeVerdict
}

/** The practice task with its result, from the answer stored with the session (null: none stored). */
async function practiceWithResult(db: Db, participant: ParticipantRow): Promise<NonNullable<SessionView['practice']> | null> {
  const row = await db.participant.findUnique({ where: { id: participant.id }, select: { practice: true } })
  const given = row?.practice as { continuation?: unknown; answer?: unknown } | null | undefined
  if (!given || typeof given.answer !== 'string') return null
  const task = participant.study.practice as unknown as PracticeTask
  const continuation = typeof given.continuation === 'string' ? given.continuation : ''
  return {
    problem: task.problem,
    reasoning: task.reasoning,
    result: { continuation, answer: given.answer, expected: task.answer, verdict: practiceVerdict(given.answer, task.answer) },
  }
}

export interface SessionView {
  stage: Stage
  /** `title`: what participants see (studies.public_title or the neutral default, never studies.name) */
  study: { id: string; title: string; instructions: string; timeLimitSeconds: number }
  progress: { done: number; total: number }
  /** the practice task at its stage; after it, until the first task starts, also its result (a reload still shows it) */
  practice: { problem: string; reasoning: string; result?: PracticeResult } | null
  task: {
    assignmentId: string
    position: number
    total: number
    problem: string
    prefixText: string
    draft: TaskDraft | null
    /** when the server stored the draft (to compare with a local backup) */
    draftSavedAt: string | null
    startedAt: string | null
    deadline: string | null
    /** a live task's shared text and who has control (null: the senior's reasoning is pre-generated) */
    live: LiveView | null
  } | null
  attention: { checkId: string; prompt: string; options: string[] } | null
  /** how the session ended: its code and redirect, or a message where the outcome has no code */
  completion: Completion | null
  /** when the whole session's time runs out (null: no session clock yet) */
  sessionDeadline: string | null
  serverNow: string
}

/**
 * Where the participant is, and what the page must show. First records, as timed out, any task whose time ran
 * out while the page was closed, and times the session out when its whole limit has passed.
 */
export async function sessionView(db: Db, token: string, now = new Date()): Promise<SessionView> {
  let participant = await participantByToken(db, token, now)
  let tasks = await tasksOf(db, participant.id)
  // rare: then the participant (and tasks) are read again
  const expired = await expireOverdueTasks(db, participant, tasks, now)
  if (expired) participant = await participantByToken(db, token, now)
  const timedOut = await timeOutIfPast(db, participant, now)
  if (timedOut) participant = await participantByToken(db, token, now)
  if (expired) tasks = await tasksOf(db, participant.id)
  const { study } = participant
  const ends = sessionEndsAt(participant)
  const base = {
    study: { id: study.id, title: participantTitle(study.publicTitle), instructions: study.instructions, timeLimitSeconds: study.timeLimitSeconds },
    practice: null,
    task: null,
    attention: null,
    completion: null,
    sessionDeadline: ends?.toISOString() ?? null,
    serverNow: now.toISOString(),
  }
  const done = tasks.filter((t) => t.answered).length
  const progress = { done, total: tasks.length }
  if (participant.declinedAt) return { ...base, stage: 'declined', progress }
  const outcome = outcomeOf(participant)
  if (outcome) return { ...base, stage: 'complete', progress, completion: completionFor(outcome, study) }
  if (study.status === 'CLOSED') return { ...base, stage: 'closed', progress }
  if (!participant.instructionsDoneAt) return { ...base, stage: 'instructions', progress }
  if (!participant.practiceDoneAt) {
    const practice = study.practice as unknown as PracticeTask
    return { ...base, stage: 'practice', progress, practice: { problem: practice.problem, reasoning: practice.reasoning } }
  }
  const check = pendingAttentionCheck(studyAttentionChecks(study), attentionAnswers(participant), done)
  if (check) return { ...base, stage: 'attention', progress, attention: { checkId: check.id, prompt: check.prompt, options: check.options } }
  const current = tasks.find((t) => !t.answered)
  if (!current) return { ...base, stage: 'complete', progress, completion: completionFor('COMPLETED', study) }
  // the practice's result stays on the page until the first task starts
  const practice = done === 0 && current.position === 0 && !current.startedAt ? await practiceWithResult(db, participant) : null
  return {
    ...base,
    stage: 'task',
    progress,
    practice,
    task: {
      assignmentId: current.id,
      position: current.position + 1,
      total: tasks.length,
      problem: current.problem,
      prefixText: current.prefixText ?? '',
      draft: (current.draft as unknown as TaskDraft | null) ?? null,
      draftSavedAt: current.draftSavedAt?.toISOString() ?? null,
      startedAt: current.startedAt?.toISOString() ?? null,
      deadline: current.startedAt ? deadlineOf(current.startedAt, taskLimitSeconds(participant, current.startedAt)).toISOString() : null,
      live: current.live ? liveView(await spansOf(db, current.id), study.maxNewTokens) : null,
    },
  }
}
