// The participant flow's API: no account; `join` hands out a session token and every other call presents it.
// A token opens only its own session (and only a hash of it is stored). Study logic lives in
// src/server/studies/participant-session.ts (stages, clock, idempotent writes, how a session ends), outcomes.ts
// (the outcome rules and completion codes) and assignment.ts (who gets what, and the dropout refill).
// Every call is rate-limited per client address (and join also per study), and an unexpected failure reaches the
// participant only as a generic message with an error id that the server log carries with the real error.
import { randomBytes } from 'node:crypto'

import { TRPCError } from '@trpc/server'

import { Prisma } from '../../../generated/prisma/client'
import { participantItems } from '../../studies/assignment'
import {
  assignDesignRow,
  attentionAnswers,
  endSession,
  timeOutAbsentSessions,
  hashToken,
  isScreenedOut,
  outcomeOf,
  sessionEndedMessage,
  sessionEndsAt,
  settleSession,
  taskLimitSeconds,
  TIMEOUT_GRACE_MS,
  newParticipantToken,
  participantByToken,
  pendingAttentionCheck,
  sessionView,
  storeResponse,
  studyAttentionChecks,
  deadlineOf,
  mayClaimTimeout,
  rejoinSession,
  requireTasksReached,
  updateOwnOpenTask,
  type ParticipantRow,
} from '../../studies/participant-session'
import { finishLiveTask, handBack, liveTask, takeOver } from '../../studies/live-session'
import { clientAddress, consume, RateLimited } from '../../http/rate-limit'
import { createTRPCRouter, publicProcedure } from '../trpc'
import { participantTitle, type PracticeTask } from './studies.schema'
import {
  attentionSchema,
  draftSchema,
  handBackSchema,
  joinSchema,
  leaveSchema,
  liveTaskSchema,
  missingParticipantIdMessage,
  practiceSchema,
  sessionSchema,
  studyInfoSchema,
  submitSchema,
} from './participant.schema'

const NOT_OPEN: Record<string, string> = {
  DRAFT: 'This study has not started yet.',
  GENERATING: 'This study is being prepared. Please try again in a few minutes.',
  PAUSED: 'This study is paused and takes no new participants right now. Please try again later.',
  CLOSED: 'This study has closed and takes no new participants. Thank you for your interest.',
}

const FULL = 'This study is full: it has all the participants it needs. Thank you for your interest.'

/** The same id again on a study that does not require it: one browser per participant (docs/studies.md). */
function conflict(declined: boolean): TRPCError {
  return new TRPCError({
    code: 'CONFLICT',
    message: declined
      ? 'You declined to take part in this study earlier, so it cannot be started again with this ID.'
      : 'You have already started this study. Please continue in the browser where you began, using the same link.',
  })
}

/** "I do not agree" from someone whose id already consented (a study that requires the id): nothing changes. */
const AGREED_EARLIER =
  'You agreed to take part earlier with this ID, so nothing was changed. To go on with your session, choose “I agree — start”; ' +
  'to stop taking part, choose “Leave the study” inside it.'

/**
 * An unexpected failure of a participant call, already logged under `errorId`: the participant sees only the id
 * (no database or internal text), and the route's own error log skips it.
 */
export class ReportedParticipantError extends Error {
  override name = 'ReportedParticipantError'
  constructor(readonly errorId: string) {
    super(`participant call failed; logged as error ${errorId}`)
  }
}

/** A RateLimited as the tRPC error the page shows (the route adds its Retry-After header). */
function tooMany(error: RateLimited): TRPCError {
  const wait = `please wait ${error.retryAfterSeconds} ${error.retryAfterSeconds === 1 ? 'second' : 'seconds'} and try again.`
  const message = error.limit === 'joinPerStudy' ? `Too many people are joining this study right now; ${wait}` : `Too many attempts from your network; ${wait}`
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message, cause: error })
}

async function limit(name: 'joinPerIp' | 'joinPerStudy' | 'participantPerIp', key: string) {
  try {
    await consume(name, key)
  } catch (error) {
    throw error instanceof RateLimited ? tooMany(error) : error
  }
}

/** Every participant procedure: generic errors outside, the per-address limit inside. */
const participantProcedure = publicProcedure
  .use(async ({ path, next }) => {
    const result = await next()
    if (result.ok || result.error.code !== 'INTERNAL_SERVER_ERROR') return result
    const errorId = randomBytes(6).toString('hex')
    console.error(`tRPC ${path} failed (participant error id ${errorId}):`, result.error.cause ?? result.error)
    throw new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: `Something went wrong on our side. Please try again in a moment. (Error id ${errorId})`,
      cause: new ReportedParticipantError(errorId),
    })
  })
  .use(async ({ ctx, next }) => {
    await limit('participantPerIp', clientAddress(ctx.headers))
    return next()
  })

function requireActive(p: ParticipantRow) {
  if (p.declinedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'You declined to take part; nothing more is recorded.' })
  if (p.study.status === 'CLOSED' && !p.completedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: NOT_OPEN.CLOSED })
}

/** After the session ended (completed or any other outcome) a token only shows the completion page. */
function requireNotComplete(p: ParticipantRow) {
  const ended = sessionEndedMessage(p)
  if (ended) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: ended })
}

/** The participant's task `assignmentId`, or NOT_FOUND: a token never reaches another participant's tasks. */
async function ownTask(db: Prisma.TransactionClient, participantId: string, assignmentId: string) {
  const task = await db.assignment.findFirst({
    where: { id: assignmentId, participantId },
    select: { id: true, startedAt: true, response: { select: { id: true } }, item: { select: { condition: { select: { live: true } } } } },
  })
  if (!task) throw new TRPCError({ code: 'NOT_FOUND', message: 'This task is not part of your session.' })
  return task
}

export const participantRouter = createTRPCRouter({
  /**
   * What the study link's first page shows: the public title and consent text, whether the link must carry the
   * participant's id, or why the study cannot be joined. Never the study's internal name.
   */
  studyInfo: participantProcedure.input(studyInfoSchema).query(async ({ ctx, input }) => {
    const study = await ctx.db.study.findUnique({
      where: { id: input.studyId },
      select: {
        id: true, publicTitle: true, status: true, consentText: true, urlParams: true, requireParticipantId: true, tasksPerParticipant: true,
        timeLimitSeconds: true, participantCount: true, maxParticipants: true,
      },
    })
    if (!study) throw new TRPCError({ code: 'NOT_FOUND', message: 'There is no such study. Check the link you were given.' })
    const full = study.status === 'OPEN' && study.maxParticipants !== null && study.participantCount >= study.maxParticipants
    return {
      id: study.id,
      title: participantTitle(study.publicTitle),
      status: study.status,
      consentText: study.consentText,
      urlParams: study.urlParams,
      // only with a parameter to carry it (the designer refuses the combination; older rows may have it)
      requireParticipantId: study.requireParticipantId && study.urlParams.length > 0,
      tasksPerParticipant: study.tasksPerParticipant,
      timeLimitSeconds: study.timeLimitSeconds,
      open: study.status === 'OPEN' && !full,
      notOpenMessage: full ? FULL : (NOT_OPEN[study.status] ?? null),
    }
  }),

  /**
   * Consent (or decline) and, on consent, the participant's tasks by the study's assignment rule. On a study that
   * requires the participant's id (requireParticipantId), a link without it is refused and writes nothing, and the
   * same id again continues that participant's session under the new token, on any device and whatever the study's
   * status (docs/studies.md, Participant identity); otherwise the same id again is refused.
   */
  join: participantProcedure.input(joinSchema).mutation(async ({ ctx, input }) => {
    await limit('joinPerIp', clientAddress(ctx.headers))
    const study = await ctx.db.study.findUnique({
      where: { id: input.studyId },
      select: { id: true, status: true, urlParams: true, requireParticipantId: true, tasksPerParticipant: true, refillDropouts: true },
    })
    if (!study) throw new TRPCError({ code: 'NOT_FOUND', message: 'There is no such study. Check the link you were given.' })
    // counted only for studies that exist, so made-up ids cannot fill the limiter's table
    await limit('joinPerStudy', study.id)
    const token = input.token ?? newParticipantToken()
    // a retried join (the reply to the first was lost) finds the session it made or continued
    const again = await ctx.db.participant.findUnique({ where: { tokenHash: hashToken(token) }, select: { studyId: true, declinedAt: true } })
    if (again) {
      if (again.studyId !== study.id) throw new TRPCError({ code: 'CONFLICT', message: 'This session token belongs to another study.' })
      return { token, declined: again.declinedAt !== null }
    }
    const params = Object.fromEntries(study.urlParams.filter((k) => input.params[k] !== undefined).map((k) => [k, input.params[k]!]))
    const idParam = study.urlParams[0]
    const externalId = (idParam && params[idParam]?.trim()) || null
    const requireId = study.requireParticipantId && idParam !== undefined
    if (requireId && !externalId) throw new TRPCError({ code: 'BAD_REQUEST', message: missingParticipantIdMessage(idParam) })

    /** The same id again: on a study that requires it, the participant's own session continues; otherwise refused. */
    const returning = async (earlier: { id: string; declinedAt: Date | null; completedAt: Date | null; outcomeAt: Date | null }) => {
      if (!requireId) throw conflict(earlier.declinedAt !== null)
      // a decline stands (a repeat is answered as the decline it is, nothing written)
      if (earlier.declinedAt) {
        if (input.consent) throw conflict(true)
        return { token, declined: true }
      }
      if (!input.consent) throw new TRPCError({ code: 'CONFLICT', message: AGREED_EARLIER })
      await rejoinSession(ctx.db, earlier, token)
      return { token, declined: false }
    }
    const findEarlier = () =>
      externalId
        ? ctx.db.participant.findFirst({
            where: { studyId: study.id, externalId },
            select: { id: true, declinedAt: true, completedAt: true, outcomeAt: true },
          })
        : null
    const earlier = await findEarlier()
    if (earlier) return returning(earlier)
    if (study.status !== 'OPEN') throw new TRPCError({ code: 'PRECONDITION_FAILED', message: NOT_OPEN[study.status] })
    const userAgent = ctx.headers.get('user-agent')?.slice(0, 500) ?? null
    try {
      if (!input.consent) {
        await ctx.db.participant.create({
          data: { studyId: study.id, externalId, tokenHash: hashToken(token), urlParams: params, userAgent, declinedAt: new Date() },
        })
        return { token, declined: true }
      }
      await ctx.db.$transaction(async (tx) => {
        // the row lock on the study serialises arrivals, so ordinals are 0, 1, 2, … with no gaps or repeats, and the
        // cap (max_participants) admits exactly that many however many arrive at once
        const counted = await tx.$queryRaw<{ ordinal: number }[]>`
          UPDATE studies SET participant_count = participant_count + 1
          WHERE id = ${study.id} AND status = 'OPEN' AND (max_participants IS NULL OR participant_count < max_participants)
          RETURNING participant_count - 1 AS ordinal`
        if (counted.length === 0) {
          const now = await tx.study.findUniqueOrThrow({ where: { id: study.id }, select: { status: true } })
          throw new TRPCError({ code: 'PRECONDITION_FAILED', message: now.status === 'OPEN' ? FULL : (NOT_OPEN[now.status] ?? NOT_OPEN.CLOSED) })
        }
        const ordinal = counted[0]!.ordinal
        // sessions whose whole time ran out while their participant was away end now, so their rows can be refilled
        await timeOutAbsentSessions(tx, study.id, TIMEOUT_GRACE_MS)
        const { designRow, refillsId } = await assignDesignRow(tx, study, ordinal)
        const items = await tx.studyItem.findMany({
          where: { studyId: study.id },
          select: { id: true, conditionId: true, problemId: true, condition: { select: { name: true } }, problem: { select: { externalId: true } } },
        })
        if (items.length === 0) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: NOT_OPEN.GENERATING })
        const mine = participantItems(
          designRow,
          items.map((i) => ({ id: i.id, conditionId: i.conditionId, conditionName: i.condition.name, problemId: i.problemId, problemExternalId: i.problem.externalId })),
          study.tasksPerParticipant,
        )
        await tx.participant.create({
          data: {
            studyId: study.id, ordinal, designRow, refillsId, externalId, tokenHash: hashToken(token), urlParams: params, userAgent, consentedAt: new Date(),
            assignments: { create: mine.map((item, position) => ({ position, itemId: item.id })) },
          },
        })
      })
      return { token, declined: false }
    } catch (error) {
      // two arrivals with the same id at the same instant: the unique index decides, and the second is a returning
      // participant (refills_id is unique too, but the study's row lock already serialises who refills whom)
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        const first = await findEarlier()
        if (first) return returning(first)
        throw conflict(false)
      }
      throw error
    }
  }),

  /** Where the participant is. Also records, as timed out, a task whose time ran out while the page was closed. */
  session: participantProcedure.input(sessionSchema).query(({ ctx, input }) => sessionView(ctx.db, input.token)),

  finishInstructions: participantProcedure.input(sessionSchema).mutation(async ({ ctx, input }) => {
    const participant = await participantByToken(ctx.db, input.token)
    requireActive(participant)
    requireNotComplete(participant)
    await ctx.db.participant.updateMany({ where: { id: participant.id, instructionsDoneAt: null }, data: { instructionsDoneAt: new Date() } })
    return { ok: true }
  }),

  /** The practice task: stored with the session (not as a response) and answered with the expected answer. */
  submitPractice: participantProcedure.input(practiceSchema).mutation(async ({ ctx, input }) => {
    const participant = await participantByToken(ctx.db, input.token)
    requireActive(participant)
    requireNotComplete(participant)
    if (!participant.instructionsDoneAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Read the instructions first.' })
    await ctx.db.participant.updateMany({
      where: { id: participant.id, practiceDoneAt: null },
      data: { practice: { continuation: input.continuation, answer: input.answer }, practiceDoneAt: new Date() },
    })
    return { expectedAnswer: (participant.study.practice as unknown as PracticeTask).answer }
  }),

  /** Starts the task's server-side clock (once: a reload or second tab gets the same start and deadline). */
  startTask: participantProcedure.input(draftSchema.pick({ token: true, assignmentId: true })).mutation(async ({ ctx, input }) => {
    let started = await updateOwnOpenTask(ctx.db, input.token, input.assignmentId, { start: true })
    if (!started) {
      // why not: a precise error, or an answered task (its clock stays as it was)
      const participant = await participantByToken(ctx.db, input.token)
      requireActive(participant)
      const task = await ownTask(ctx.db, participant.id, input.assignmentId)
      if (!task.response) requireTasksReached(participant)
      if (!task.startedAt) {
        const ends = sessionEndsAt(participant)
        if (ends && ends.getTime() <= Date.now()) {
          // calling in after the whole session's limit, with nothing running: the session has timed out
          await ctx.db.$transaction((tx) => endSession(tx, participant.id, 'TIMED_OUT'))
          throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'The time for this study has run out.' })
        }
        throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This task can no longer be started.' })
      }
      started = { startedAt: task.startedAt, timeLimitSeconds: taskLimitSeconds(participant, task.startedAt) }
    }
    const startedAt = started.startedAt!
    return { startedAt: startedAt.toISOString(), deadline: deadlineOf(startedAt, started.timeLimitSeconds).toISOString(), serverNow: new Date().toISOString() }
  }),

  /** Autosave: the latest draft of a task without a response (a draft after the response changes nothing). */
  saveDraft: participantProcedure.input(draftSchema).mutation(async ({ ctx, input }) => {
    const draft = { continuation: input.continuation, answer: input.answer, easeRating: input.easeRating ?? null, confidence: input.confidence ?? null }
    const savedAt = new Date()
    if (await updateOwnOpenTask(ctx.db, input.token, input.assignmentId, { draft, savedAt })) return { saved: true, savedAt: savedAt.toISOString() }
    // why not: a precise error, or the task already has its response (then the draft is simply not needed)
    const participant = await participantByToken(ctx.db, input.token)
    requireActive(participant)
    const task = await ownTask(ctx.db, participant.id, input.assignmentId)
    if (!task.response) requireTasksReached(participant)
    return { saved: false, savedAt: savedAt.toISOString() }
  }),

  /** One response per task, however often it is sent; time is measured on the server from startTask. */
  submit: participantProcedure.input(submitSchema).mutation(async ({ ctx, input }) => {
    const participant = await participantByToken(ctx.db, input.token)
    requireActive(participant)
    const now = new Date()
    const claimed = await ownTask(ctx.db, participant.id, input.assignmentId)
    // a resend of an answered task is answered as the duplicate it is (also after completion); a new answer needs the
    // stages before it
    if (!claimed.response) requireTasksReached(participant)
    // the server decides time-outs: a claim before the deadline is refused and counted (the dashboard flags it); the
    // deadline is the task's own, or the whole session's end when that comes first
    const limitSeconds = claimed.startedAt ? taskLimitSeconds(participant, claimed.startedAt) : participant.study.timeLimitSeconds
    if (input.timedOut === true && !claimed.response && claimed.startedAt && !mayClaimTimeout(claimed.startedAt, limitSeconds, now)) {
      await ctx.db.participant.update({ where: { id: participant.id }, data: { earlyTimeoutClaims: { increment: 1 } } })
      const left = Math.ceil((deadlineOf(claimed.startedAt, limitSeconds).getTime() - now.getTime()) / 1000)
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: `The time for this task has not run out yet (${left} s left). Give your answer and ratings, then submit.`,
      })
    }
    return ctx.db.$transaction(async (tx) => {
      const task = await ownTask(tx, participant.id, input.assignmentId)
      if (!task.response && !task.startedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This task has not been started.' })
      // a live task's continuation is the whole shared text (senior and participant spans), stored as its trace
      const finished =
        task.item.condition.live && !task.response
          ? await finishLiveTask(tx, await liveTask(tx, hashToken(input.token), task.id), input.continuation, now)
          : null
      const result = await storeResponse(tx, {
        assignmentId: task.id,
        startedAt: task.startedAt ?? now,
        timeLimitSeconds: task.startedAt ? taskLimitSeconds(participant, task.startedAt) : participant.study.timeLimitSeconds,
        answer: { continuation: finished?.text ?? input.continuation, answer: input.answer, easeRating: input.easeRating, confidence: input.confidence },
        timedOut: input.timedOut === true,
        now,
        traceId: finished?.traceId ?? null,
      })
      // the session ends here when this was its last task, or when its whole time had run out
      const complete = result.duplicate ? outcomeOf(participant) !== null : await settleSession(tx, participant, now)
      return { ...result, complete }
    })
  }),

  /** A live task: the participant takes control from the senior (its open span ends where it is). */
  liveTakeOver: participantProcedure.input(liveTaskSchema).mutation(async ({ ctx, input }) => {
    requireTasksReached(await participantByToken(ctx.db, input.token))
    return takeOver(ctx.db, await liveTask(ctx.db, hashToken(input.token), input.assignmentId))
  }),

  /** A live task: the participant hands control back; what they wrote becomes a span and the senior continues. */
  liveHandBack: participantProcedure.input(handBackSchema).mutation(async ({ ctx, input }) => {
    requireTasksReached(await participantByToken(ctx.db, input.token))
    return handBack(ctx.db, await liveTask(ctx.db, hashToken(input.token), input.assignmentId), input.text)
  }),

  /** An attention check's answer, once per check (a repeat changes nothing). */
  answerAttention: participantProcedure.input(attentionSchema).mutation(async ({ ctx, input }) => {
    const participant = await participantByToken(ctx.db, input.token)
    requireActive(participant)
    const checks = studyAttentionChecks(participant.study)
    // a repeat after the session ended is answered as before (it changes nothing); a first answer needs the stages
    // before it and a running session
    const endedBefore = outcomeOf(participant)
    if (!endedBefore) requireTasksReached(participant)
    const check = checks.find((c) => c.id === input.checkId)
    if (!check) throw new TRPCError({ code: 'NOT_FOUND', message: 'There is no such question in this study.' })
    if (!check.options.includes(input.answer)) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Choose one of the options.' })
    return ctx.db.$transaction(async (tx) => {
      // lock the participant row: two tabs answering at once append one answer
      await tx.$queryRaw`SELECT id FROM participants WHERE id = ${participant.id} FOR UPDATE`
      const current = await tx.participant.findUniqueOrThrow({ where: { id: participant.id }, select: { attention: true } })
      const answers = attentionAnswers(current)
      if (!answers.some((a) => a.checkId === check.id)) {
        if (endedBefore) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: sessionEndedMessage(participant)! })
        const done = await tx.response.count({ where: { assignment: { participantId: participant.id } } })
        if (pendingAttentionCheck(checks, answers, done)?.id !== check.id) {
          throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This question is not due yet.' })
        }
        const now = new Date()
        answers.push({ checkId: check.id, answer: input.answer, correct: input.answer === check.correct, at: now.toISOString() })
        await tx.participant.update({ where: { id: participant.id }, data: { attention: answers as unknown as Prisma.InputJsonValue } })
        // the second failed check ends the session (SCREENED_OUT); otherwise it may be the last step
        return { complete: await settleSession(tx, participant, now, { screenedOut: isScreenedOut(checks, answers) }) }
      }
      return { complete: outcomeOf(participant) !== null }
    })
  }),

  /**
   * "Leave the study": the participant ends the session themselves (RETURNED, no completion code). A repeat, or a
   * session that had already ended, changes nothing and answers with how it ended.
   */
  leave: participantProcedure.input(leaveSchema).mutation(async ({ ctx, input }) => {
    const participant = await participantByToken(ctx.db, input.token)
    requireActive(participant)
    if (!participant.consentedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'You have not consented to take part, so there is nothing to leave.' })
    const ended = outcomeOf(participant)
    if (ended) return { outcome: ended }
    await ctx.db.$transaction((tx) => endSession(tx, participant.id, 'RETURNED'))
    // another call may have ended the session first: first wins, and this says which
    const now = await ctx.db.participant.findUniqueOrThrow({ where: { id: participant.id }, select: { outcome: true, completedAt: true } })
    return { outcome: outcomeOf(now)! }
  }),
})
