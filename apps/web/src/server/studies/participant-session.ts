// The participant's side of a study: who holds which session (a random token, stored only as a hash), where in the
// flow they are (consent → instructions → practice → tasks with attention checks between → complete), and the
// server-side clock of each task. Every write here is idempotent, so a reload, a second tab or a retried request
// after a dropped connection never loses or doubles anything.
import { createHash, randomBytes } from 'node:crypto'

import { TRPCError } from '@trpc/server'

import { Prisma } from '../../generated/prisma/client'
import type { AttentionCheck, PracticeTask } from '../api/routers/studies.schema'
import type { Db } from '../db'
import { enqueueJob } from '../jobs'
import { PARTICIPANT_LIMITS } from '../limits'
import { finishLiveTask, liveTask, liveView, spansOf, type LiveView } from './live-session'

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
  study: {
    id: string
    name: string
    status: 'DRAFT' | 'GENERATING' | 'OPEN' | 'PAUSED' | 'CLOSED'
    instructions: string
    practice: Prisma.JsonValue
    attentionChecks: Prisma.JsonValue
    timeLimitSeconds: number
    /** live tasks: the senior's token budget */
    maxNewTokens: number
    completionCode: string
    redirectUrl: string | null
  }
}

/**
 * The participant holding this token (one query: every participant call starts here); UNAUTHORIZED if none, or if
 * the session was completed more than PARTICIPANT_LIMITS.tokenAfterCompletionSeconds ago (the token has expired).
 */
export async function participantByToken(db: Db | Prisma.TransactionClient, token: string, now = new Date()): Promise<ParticipantRow> {
  const rows = await db.$queryRaw<ParticipantRow[]>`
    SELECT p.id, p.study_id AS "studyId", p.consented_at AS "consentedAt", p.declined_at AS "declinedAt", p.instructions_done_at AS "instructionsDoneAt",
           p.practice_done_at AS "practiceDoneAt", p.attention, p.completed_at AS "completedAt",
           json_build_object('id', s.id, 'name', s.name, 'status', s.status, 'instructions', s.instructions,
             'practice', s.practice, 'attentionChecks', s.attention_checks, 'timeLimitSeconds', s.time_limit_s, 'maxNewTokens', s.max_new_tokens,
             'completionCode', s.completion_code, 'redirectUrl', s.redirect_url) AS study
    FROM participants p JOIN studies s ON s.id = p.study_id
    WHERE p.token_hash = ${hashToken(token)}`
  const participant = rows[0]
  if (!participant) throw new TRPCError({ code: 'UNAUTHORIZED', message: INVALID_LINK })
  if (participant.completedAt && now.getTime() >= tokenExpiry(participant.completedAt).getTime()) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: SESSION_ENDED })
  }
  return participant
}

/** When a completed session's token stops working. */
export function tokenExpiry(completedAt: Date): Date {
  return new Date(completedAt.getTime() + PARTICIPANT_LIMITS.tokenAfterCompletionSeconds * 1000)
}

/**
 * Stage order on the server: tasks (and what belongs to them: drafts, submits, live calls, attention checks) only
 * after consent, instructions and practice, and nothing more once the session is complete.
 */
export function requireTasksReached(p: Pick<ParticipantRow, 'consentedAt' | 'declinedAt' | 'instructionsDoneAt' | 'practiceDoneAt' | 'completedAt'>) {
  if (p.declinedAt || !p.consentedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'You have not consented to take part, so there are no tasks.' })
  if (p.completedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'You have completed this study; there is nothing more to do.' })
  if (!p.instructionsDoneAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Read the instructions first.' })
  if (!p.practiceDoneAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Do the practice task first.' })
}

/**
 * The fast path of the calls made many times per task (autosave, starting the clock): one statement that checks
 * the token, that the task is the participant's, that the session is active and the task unanswered, and writes.
 * Returns null when any check fails; the caller then finds out which, for a precise error.
 */
export async function updateOwnOpenTask(
  db: Db,
  token: string,
  assignmentId: string,
  set: { draft: TaskDraft; savedAt: Date } | { start: true },
): Promise<{ startedAt: Date | null; timeLimitSeconds: number } | null> {
  const assignment = 'start' in set
    ? Prisma.sql`started_at = COALESCE(a.started_at, now())`
    : Prisma.sql`draft = ${JSON.stringify(set.draft)}::jsonb, draft_saved_at = ${set.savedAt}`
  const rows = await db.$queryRaw<{ startedAt: Date | null; timeLimitSeconds: number }[]>`
    UPDATE assignments a SET ${assignment}
    FROM participants p JOIN studies s ON s.id = p.study_id
    WHERE a.id = ${assignmentId} AND a.participant_id = p.id AND p.token_hash = ${hashToken(token)}
      AND p.declined_at IS NULL AND s.status <> 'CLOSED'
      -- stage order (requireTasksReached): consent, instructions and practice come first
      AND p.consented_at IS NOT NULL AND p.instructions_done_at IS NOT NULL AND p.practice_done_at IS NOT NULL
      AND p.completed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.assignment_id = a.id)
    RETURNING a.started_at AS "startedAt", s.time_limit_s AS "timeLimitSeconds"`
  return rows[0] ?? null
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

/** Marks the session complete once every task has a response and every attention check an answer (one statement). */
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
      UPDATE participants p SET completed_at = now() FROM state
      WHERE p.id = state.id AND state.done AND p.completed_at IS NULL
      RETURNING p.completed_at
    )
    SELECT COALESCE((SELECT completed_at FROM marked), state.completed_at) AS "completedAt", state.done FROM state`
  return rows[0]?.completedAt != null
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
 * was closed, so a participant who comes back finds the next task and the data say what happened.
 */
async function expireOverdueTasks(db: Db, participant: ParticipantRow, tasks: TaskRow[], now: Date): Promise<number> {
  const limit = participant.study.timeLimitSeconds
  const overdue = tasks.filter((t) => !t.answered && t.startedAt && isLate(t.startedAt, limit, now))
  for (const task of overdue) {
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
      await completeIfDone(tx, participant.id, studyAttentionChecks(participant.study))
    })
  }
  return overdue.length
}

export interface SessionView {
  stage: Stage
  study: { id: string; name: string; instructions: string; timeLimitSeconds: number }
  progress: { done: number; total: number }
  practice: { problem: string; reasoning: string } | null
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
  completion: { code: string; redirectUrl: string | null } | null
  serverNow: string
}

/**
 * Where the participant is, and what the page must show. First records, as timed out, any task whose time ran
 * out while the page was closed (rare: then the participant and tasks are read again).
 */
export async function sessionView(db: Db, token: string, now = new Date()): Promise<SessionView> {
  let participant = await participantByToken(db, token, now)
  let tasks = await tasksOf(db, participant.id)
  if (await expireOverdueTasks(db, participant, tasks, now)) {
    participant = await participantByToken(db, token, now)
    tasks = await tasksOf(db, participant.id)
  }
  const { study } = participant
  const base = {
    study: { id: study.id, name: study.name, instructions: study.instructions, timeLimitSeconds: study.timeLimitSeconds },
    practice: null,
    task: null,
    attention: null,
    completion: null,
    serverNow: now.toISOString(),
  }
  const done = tasks.filter((t) => t.answered).length
  const progress = { done, total: tasks.length }
  if (participant.declinedAt) return { ...base, stage: 'declined', progress }
  if (participant.completedAt) {
    return { ...base, stage: 'complete', progress, completion: { code: study.completionCode, redirectUrl: study.redirectUrl } }
  }
  if (study.status === 'CLOSED') return { ...base, stage: 'closed', progress }
  if (!participant.instructionsDoneAt) return { ...base, stage: 'instructions', progress }
  if (!participant.practiceDoneAt) {
    const practice = study.practice as unknown as PracticeTask
    return { ...base, stage: 'practice', progress, practice: { problem: practice.problem, reasoning: practice.reasoning } }
  }
  const check = pendingAttentionCheck(studyAttentionChecks(study), attentionAnswers(participant), done)
  if (check) return { ...base, stage: 'attention', progress, attention: { checkId: check.id, prompt: check.prompt, options: check.options } }
  const current = tasks.find((t) => !t.answered)
  if (!current) return { ...base, stage: 'complete', progress, completion: { code: study.completionCode, redirectUrl: study.redirectUrl } }
  return {
    ...base,
    stage: 'task',
    progress,
    task: {
      assignmentId: current.id,
      position: current.position + 1,
      total: tasks.length,
      problem: current.problem,
      prefixText: current.prefixText ?? '',
      draft: (current.draft as unknown as TaskDraft | null) ?? null,
      draftSavedAt: current.draftSavedAt?.toISOString() ?? null,
      startedAt: current.startedAt?.toISOString() ?? null,
      deadline: current.startedAt ? deadlineOf(current.startedAt, study.timeLimitSeconds).toISOString() : null,
      live: current.live ? liveView(await spansOf(db, current.id), study.maxNewTokens) : null,
    },
  }
}
