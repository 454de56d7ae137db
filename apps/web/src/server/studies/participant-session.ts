// The participant's side of a study: who holds which session (a random token, stored only as a hash), where in the
// flow they are (consent → instructions → practice → tasks with attention checks between → complete), and the
// server-side clock of each task. Every write here is idempotent, so a reload, a second tab or a retried request
// after a dropped connection never loses or doubles anything.
import { createHash, randomBytes } from 'node:crypto'

import { TRPCError } from '@trpc/server'

import type { Prisma } from '../../generated/prisma/client'
import type { AttentionCheck, PracticeTask } from '../api/routers/studies.schema'
import type { Db } from '../db'
import { enqueueJob } from '../jobs'

/** Requests reach the server a little after the page's clock runs out; within this the answer still counts. */
export const TIMEOUT_GRACE_MS = 15_000

export function newParticipantToken(): string {
  return randomBytes(32).toString('base64url')
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export const INVALID_LINK = 'This study link is not valid. Open the link you were given again.'

export type Stage = 'declined' | 'closed' | 'instructions' | 'practice' | 'task' | 'attention' | 'complete'

export interface TaskDraft {
  continuation: string
  answer: string
  easeRating?: number | null
  confidence?: number | null
}

const participantSelect = {
  id: true,
  studyId: true,
  declinedAt: true,
  instructionsDoneAt: true,
  practiceDoneAt: true,
  attention: true,
  completedAt: true,
  study: {
    select: {
      id: true, name: true, status: true, instructions: true, practice: true, attentionChecks: true,
      timeLimitSeconds: true, completionCode: true, redirectUrl: true,
    },
  },
} satisfies Prisma.ParticipantSelect

export type ParticipantRow = Prisma.ParticipantGetPayload<{ select: typeof participantSelect }>

/** The participant holding this token; UNAUTHORIZED for an unknown or forged one. */
export async function participantByToken(db: Db | Prisma.TransactionClient, token: string): Promise<ParticipantRow> {
  const participant = await db.participant.findUnique({ where: { tokenHash: hashToken(token) }, select: participantSelect })
  if (!participant) throw new TRPCError({ code: 'UNAUTHORIZED', message: INVALID_LINK })
  return participant
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
  args: { assignmentId: string; startedAt: Date; timeLimitSeconds: number; answer: TaskDraft; timedOut: boolean; now: Date },
): Promise<{ responseId: string; duplicate: boolean }> {
  const elapsedMs = Math.max(0, args.now.getTime() - args.startedAt.getTime())
  const timedOut = args.timedOut || isLate(args.startedAt, args.timeLimitSeconds, args.now)
  const id = 'r' + randomBytes(12).toString('hex')
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO responses (id, assignment_id, continuation, answer, ease_rating, confidence, elapsed_ms, timed_out, submitted_at)
    VALUES (${id}, ${args.assignmentId}, ${args.answer.continuation}, ${args.answer.answer.trim()},
            ${args.answer.easeRating ?? null}, ${args.answer.confidence ?? null}, ${elapsedMs}, ${timedOut}, ${args.now})
    ON CONFLICT (assignment_id) DO NOTHING
    RETURNING id`
  if (inserted.length === 0) {
    const existing = await tx.response.findUniqueOrThrow({ where: { assignmentId: args.assignmentId }, select: { id: true } })
    return { responseId: existing.id, duplicate: true }
  }
  await enqueueJob(tx, { kind: 'VERIFY_RESPONSES', payload: { responseIds: [id] } })
  return { responseId: id, duplicate: false }
}

/** Marks the session complete once every task has a response and every attention check an answer. */
export async function completeIfDone(tx: Prisma.TransactionClient, participantId: string, checks: AttentionCheck[]): Promise<boolean> {
  const [tasks, participant] = await Promise.all([
    tx.assignment.findMany({ where: { participantId }, select: { response: { select: { id: true } } } }),
    tx.participant.findUniqueOrThrow({ where: { id: participantId }, select: { attention: true, completedAt: true } }),
  ])
  if (participant.completedAt) return true
  const answered = new Set(attentionAnswers(participant).map((a) => a.checkId))
  const done = tasks.length > 0 && tasks.every((t) => t.response) && checks.every((c) => answered.has(c.id))
  if (done) await tx.participant.updateMany({ where: { id: participantId, completedAt: null }, data: { completedAt: new Date() } })
  return done
}

/**
 * Records a timed-out response (from the autosaved draft) for a started task whose time ran out while the page
 * was closed, so a participant who comes back finds the next task and the data say what happened.
 */
export async function expireOverdueTasks(db: Db, participant: ParticipantRow, now: Date): Promise<number> {
  const overdue = await db.assignment.findMany({
    where: { participantId: participant.id, response: null, startedAt: { not: null, lt: new Date(now.getTime() - participant.study.timeLimitSeconds * 1000 - TIMEOUT_GRACE_MS) } },
    select: { id: true, startedAt: true, draft: true },
  })
  for (const task of overdue) {
    const draft = (task.draft ?? {}) as Partial<TaskDraft>
    await db.$transaction(async (tx) => {
      await storeResponse(tx, {
        assignmentId: task.id,
        startedAt: task.startedAt!,
        timeLimitSeconds: participant.study.timeLimitSeconds,
        answer: { continuation: draft.continuation ?? '', answer: draft.answer ?? '', easeRating: draft.easeRating, confidence: draft.confidence },
        timedOut: true,
        // the response counts as given when the time ran out, not when the participant came back
        now: deadlineOf(task.startedAt!, participant.study.timeLimitSeconds),
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
    startedAt: string | null
    deadline: string | null
  } | null
  attention: { checkId: string; prompt: string; options: string[] } | null
  completion: { code: string; redirectUrl: string | null } | null
  serverNow: string
}

/** Where the participant is, and what the page must show. */
export async function sessionView(db: Db, participant: ParticipantRow, now = new Date()): Promise<SessionView> {
  const { study } = participant
  const base = {
    study: { id: study.id, name: study.name, instructions: study.instructions, timeLimitSeconds: study.timeLimitSeconds },
    practice: null,
    task: null,
    attention: null,
    completion: null,
    serverNow: now.toISOString(),
  }
  const tasks = await db.assignment.findMany({
    where: { participantId: participant.id },
    orderBy: { position: 'asc' },
    select: {
      id: true, position: true, draft: true, startedAt: true,
      response: { select: { id: true } },
      item: { select: { prefixText: true, problem: { select: { problem: true } } } },
    },
  })
  const done = tasks.filter((t) => t.response).length
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
  const current = tasks.find((t) => !t.response)
  if (!current) return { ...base, stage: 'complete', progress, completion: { code: study.completionCode, redirectUrl: study.redirectUrl } }
  return {
    ...base,
    stage: 'task',
    progress,
    task: {
      assignmentId: current.id,
      position: current.position + 1,
      total: tasks.length,
      problem: current.item.problem.problem,
      prefixText: current.item.prefixText ?? '',
      draft: (current.draft as unknown as TaskDraft | null) ?? null,
      startedAt: current.startedAt?.toISOString() ?? null,
      deadline: current.startedAt ? deadlineOf(current.startedAt, study.timeLimitSeconds).toISOString() : null,
    },
  }
}
