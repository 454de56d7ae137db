// The study dashboard's numbers, read from the SQL views of the studies migration (study_participant_status,
// study_response_rows). Exclusions are decided there, once, for the dashboard and the exports alike: this file
// only filters on the view's `excluded` / `exclusion_reason` and never re-derives them.
import { Prisma } from '@/generated/prisma/client'
import { paged, skipTake } from '@/server/api/pagination'
import type { Db } from '@/server/db'

import {
  clusterBootstrapDifference,
  meanInterval,
  pairedPermutationTest,
  wilsonInterval,
  type GroupRow,
  type Interval,
} from '../statistics'

export type { Interval } from '../statistics'

export interface StudyDashboard {
  applyExclusions: boolean
  /** always over every participant and response, whatever applyExclusions says */
  counts: {
    started: number
    consented: number
    declined: number
    completed: number
    excluded: number
    /** participants who claimed a time-out before the server's deadline (refused, counted, flagged: see EARLY_CLAIMS_FLAG) */
    flagged: number
    responses: number
    verified: number
    awaitingVerification: number
    timedOut: number
  }
  /** every condition of the study, by name, with or without responses */
  conditions: {
    conditionId: string
    name: string
    algorithm: string | null
    checkpointId: string
    runId: string | null
    responses: number
    /** Wilson, over verified responses */
    accuracy: Interval
    /** t interval of elapsed seconds (server-measured), over all responses */
    timeSeconds: Interval
    ease: Interval
    confidence: Interval
    timedOut: number
    /** live conditions: per task, mean take-overs, hand-backs and the participant's share of the text (t intervals) */
    live: null | { takeOvers: Interval; handBacks: Interval; humanShare: Interval; scheduledHandovers: number }
  }[]
  /** accuracy per condition and handoff step (the steps of the condition's items), by name then step */
  byHandoffStep: { conditionId: string; name: string; handoffStep: number; accuracy: Interval }[]
  /** accuracy of a minus accuracy of b, over verified responses */
  difference: null | {
    a: string
    b: string
    label: string
    estimate: number
    low: number | null
    high: number | null
    pValue: number
    permutations: number
    nParticipants: number
    method: string
  }
  exclusionRules: string[]
}

export const DIFFERENCE_PERMUTATIONS = 5000
export const DIFFERENCE_BOOTSTRAP_REPLICATES = 2000

/**
 * A participant whose page claimed a time-out before the server's deadline (a bot skipping tasks; the server refused
 * each claim and counted it in participants.early_timeout_claims). Flagged for the researcher beside the exclusions.
 */
export const EARLY_CLAIMS_FLAG = 'Flagged: claimed a time-out before the deadline (refused; the count is shown per participant)'

/** The exclusion rules in words, as study_participant_status applies them, and the flag shown beside them. */
export function exclusionRuleTexts(minSecondsPerTask: number): string[] {
  return ['Failed an attention check', `Median time per task under ${minSecondsPerTask} s (implausibly fast)`, EARLY_CLAIMS_FLAG]
}

interface ConditionRow {
  id: string
  name: string
  checkpoint_id: string
  run_id: string | null
  algorithm: string | null
  live: boolean
}

interface ResponseRow {
  participant_id: string
  condition_id: string
  handoff_step: number | null
  elapsed_ms: number
  timed_out: boolean
  ease_rating: number | null
  confidence: number | null
  correct: boolean | null
  live_take_overs: number | null
  live_hand_backs: number | null
  live_scheduled_handover: boolean | null
  live_human_share: number | null
}

/** The two conditions compared: TRL vs GRPO when there is exactly one of each, else the only two, by name. */
function comparedConditions(conditions: ConditionRow[]): { a: ConditionRow; b: ConditionRow; label: string } | null {
  const trl = conditions.filter((c) => c.algorithm === 'TRL')
  const grpo = conditions.filter((c) => c.algorithm === 'GRPO')
  if (trl.length === 1 && grpo.length === 1) return { a: trl[0]!, b: grpo[0]!, label: 'TRL − GRPO' }
  if (conditions.length === 2) {
    const [a, b] = [...conditions].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)) as [ConditionRow, ConditionRow]
    return { a, b, label: `${a.name} − ${b.name}` }
  }
  return null
}

/** A t interval of a quantity that cannot be negative (a time), its lower bound cut at 0. */
export function nonNegative(interval: Interval): Interval {
  return interval.low === null ? interval : { ...interval, low: Math.max(0, interval.low) }
}

/** Counts, per-condition intervals, accuracy by handoff step and the two-condition difference of one study. */
export async function studyDashboard(db: Db, studyId: string, opts: { applyExclusions: boolean }): Promise<StudyDashboard> {
  const study = await db.study.findUnique({ where: { id: studyId }, select: { minSecondsPerTask: true } })
  if (!study) throw new Error(`Unknown study ${studyId}`)

  // independent reads of a page that polls: in parallel
  const [[participantCounts], [responseCounts], conditions, steps, rows] = await Promise.all([
    db.$queryRaw<
      { started: number; consented: number; declined: number; completed: number; excluded: number; flagged: number }[]
    >(Prisma.sql`
      SELECT count(*)::int AS started,
             count(pa.consented_at)::int AS consented,
             count(pa.declined_at)::int AS declined,
             count(pa.completed_at)::int AS completed,
             (count(*) FILTER (WHERE ps.exclusion_reason IS NOT NULL))::int AS excluded,
             (count(*) FILTER (WHERE pa.early_timeout_claims > 0))::int AS flagged
      FROM participants pa
      JOIN study_participant_status ps ON ps.participant_id = pa.id
      WHERE pa.study_id = ${studyId}`),
    db.$queryRaw<{ responses: number; verified: number; awaiting: number; timed_out: number }[]>(Prisma.sql`
      SELECT count(*)::int AS responses,
             count(correct)::int AS verified,
             (count(*) FILTER (WHERE verifier_result_id IS NULL))::int AS awaiting,
             (count(*) FILTER (WHERE timed_out))::int AS timed_out
      FROM study_response_rows
      WHERE study_id = ${studyId}`),
    db.$queryRaw<ConditionRow[]>(Prisma.sql`
      SELECT c.id, c.name, c.checkpoint_id, ck.run_id, run.algorithm::text AS algorithm, c.live
      FROM study_conditions c
      JOIN checkpoints ck ON ck.id = c.checkpoint_id
      LEFT JOIN training_runs run ON run.id = ck.run_id
      WHERE c.study_id = ${studyId}
      ORDER BY c.name, c.id`),
    db.$queryRaw<{ condition_id: string; handoff_step: number }[]>(Prisma.sql`
      SELECT DISTINCT i.condition_id, i.handoff_step
      FROM study_items i
      WHERE i.study_id = ${studyId} AND i.handoff_step IS NOT NULL`),
    db.$queryRaw<ResponseRow[]>(Prisma.sql`
      SELECT participant_id, condition_id, handoff_step, elapsed_ms, timed_out, ease_rating, confidence, correct,
             live_take_overs, live_hand_backs, live_scheduled_handover, live_human_share
      FROM study_response_rows
      WHERE study_id = ${studyId} ${opts.applyExclusions ? Prisma.sql`AND NOT excluded` : Prisma.empty}
      ORDER BY participant_id, response_id`),
  ])

  const byCondition = new Map<string, ResponseRow[]>(conditions.map((c) => [c.id, []]))
  for (const row of rows) byCondition.get(row.condition_id)?.push(row)

  const accuracyOf = (list: ResponseRow[]) => {
    const verified = list.filter((r) => r.correct !== null)
    return wilsonInterval(verified.filter((r) => r.correct).length, verified.length)
  }
  const meanOf = (list: (number | null)[]) => meanInterval(list.filter((v): v is number => v !== null))

  const conditionStats = conditions.map((c) => {
    const list = byCondition.get(c.id)!
    return {
      conditionId: c.id,
      name: c.name,
      algorithm: c.algorithm,
      checkpointId: c.checkpoint_id,
      runId: c.run_id,
      responses: list.length,
      accuracy: accuracyOf(list),
      timeSeconds: nonNegative(meanOf(list.map((r) => r.elapsed_ms / 1000))),
      ease: meanOf(list.map((r) => r.ease_rating)),
      confidence: meanOf(list.map((r) => r.confidence)),
      timedOut: list.filter((r) => r.timed_out).length,
      live: c.live
        ? {
            takeOvers: meanOf(list.map((r) => r.live_take_overs)),
            handBacks: meanOf(list.map((r) => r.live_hand_backs)),
            humanShare: meanOf(list.map((r) => r.live_human_share)),
            scheduledHandovers: list.filter((r) => r.live_scheduled_handover).length,
          }
        : null,
    }
  })

  const byHandoffStep = conditions.flatMap((c) =>
    steps
      .filter((s) => s.condition_id === c.id)
      .map((s) => s.handoff_step)
      .sort((x, y) => x - y)
      .map((handoffStep) => ({
        conditionId: c.id,
        name: c.name,
        handoffStep,
        accuracy: accuracyOf(byCondition.get(c.id)!.filter((r) => r.handoff_step === handoffStep)),
      })),
  )

  let difference: StudyDashboard['difference'] = null
  const pair = comparedConditions(conditions)
  if (pair) {
    const groupRows: GroupRow[] = []
    for (const row of rows) {
      if (row.correct === null) continue
      const group = row.condition_id === pair.a.id ? 'A' : row.condition_id === pair.b.id ? 'B' : null
      if (group) groupRows.push({ cluster: row.participant_id, group, y: row.correct ? 1 : 0 })
    }
    if (groupRows.some((r) => r.group === 'A') && groupRows.some((r) => r.group === 'B')) {
      const test = pairedPermutationTest(groupRows, { permutations: DIFFERENCE_PERMUTATIONS, seed: 0 })
      const interval = clusterBootstrapDifference(groupRows, { replicates: DIFFERENCE_BOOTSTRAP_REPLICATES, seed: 0 })
      difference = {
        a: pair.a.id,
        b: pair.b.id,
        label: pair.label,
        estimate: test.estimate,
        low: interval.low,
        high: interval.high,
        pValue: test.pValue,
        permutations: test.permutations,
        nParticipants: test.nClusters,
        method:
          `Permutation test (${test.permutations.toLocaleString('en-US')} permutations of condition labels within each participant), ` +
          `two-sided; 95% interval: participant bootstrap (${DIFFERENCE_BOOTSTRAP_REPLICATES.toLocaleString('en-US')} resamples).`,
      }
    }
  }

  return {
    applyExclusions: opts.applyExclusions,
    counts: {
      started: participantCounts?.started ?? 0,
      consented: participantCounts?.consented ?? 0,
      declined: participantCounts?.declined ?? 0,
      completed: participantCounts?.completed ?? 0,
      excluded: participantCounts?.excluded ?? 0,
      flagged: participantCounts?.flagged ?? 0,
      responses: responseCounts?.responses ?? 0,
      verified: responseCounts?.verified ?? 0,
      awaitingVerification: responseCounts?.awaiting ?? 0,
      timedOut: responseCounts?.timed_out ?? 0,
    },
    conditions: conditionStats,
    byHandoffStep,
    difference,
    exclusionRules: exclusionRuleTexts(study.minSecondsPerTask),
  }
}

// ---------------------------------------------------------------- participants

export type ParticipantFilter = 'all' | 'completed' | 'excluded' | 'in-progress'

export interface ParticipantListRow {
  id: string
  ordinal: number | null // null: declined (no row of the design)
  externalId: string | null
  createdAt: Date
  consentedAt: Date | null
  declinedAt: Date | null
  completedAt: Date | null
  /** responses submitted */
  tasksDone: number
  /** tasks assigned */
  tasksTotal: number
  /** verified correct responses */
  correct: number
  /** responses with a verifier result */
  verified: number
  medianTaskSeconds: number | null
  excluded: boolean
  exclusionReason: string | null
  /** time-outs claimed before the deadline (refused); above 0 the participant is flagged */
  earlyTimeoutClaims: number
}

/**
 * Filters: 'completed' = completed_at set; 'excluded' = an exclusion reason (whether or not finished);
 * 'in-progress' = neither completed nor declined.
 */
function participantFilterSql(filter: ParticipantFilter): Prisma.Sql {
  switch (filter) {
    case 'completed':
      return Prisma.sql`AND pa.completed_at IS NOT NULL`
    case 'excluded':
      return Prisma.sql`AND ps.exclusion_reason IS NOT NULL`
    case 'in-progress':
      return Prisma.sql`AND pa.completed_at IS NULL AND pa.declined_at IS NULL`
    default:
      return Prisma.empty
  }
}

/** One page of a study's participants, by ordinal, with their progress, score and exclusion status. */
export async function studyParticipants(
  db: Db,
  studyId: string,
  input: { page: number; pageSize?: number; filter?: ParticipantFilter },
) {
  const page = { page: input.page, pageSize: input.pageSize ?? 20 }
  const where = Prisma.sql`WHERE pa.study_id = ${studyId} ${participantFilterSql(input.filter ?? 'all')}`
  const { skip, take } = skipTake(page)
  const [[countRow], rows] = await Promise.all([
    db.$queryRaw<{ total: number }[]>(Prisma.sql`
      SELECT count(*)::int AS total
      FROM participants pa JOIN study_participant_status ps ON ps.participant_id = pa.id
      ${where}`),
    db.$queryRaw<
      {
        id: string
        ordinal: number | null
        external_id: string | null
        created_at: Date
        consented_at: Date | null
        declined_at: Date | null
        completed_at: Date | null
        tasks_total: number
        tasks_done: number
        verified: number
        correct: number
        median_task_ms: number | null
        exclusion_reason: string | null
        early_timeout_claims: number | null
      }[]
    >(Prisma.sql`
      SELECT pa.id, pa.ordinal, pa.external_id, pa.created_at, pa.consented_at, pa.declined_at, pa.completed_at,
             (SELECT count(*) FROM assignments a WHERE a.participant_id = pa.id)::int AS tasks_total,
             r.tasks_done, r.verified, r.correct,
             ps.median_task_ms, ps.exclusion_reason, pa.early_timeout_claims
      FROM participants pa
      JOIN study_participant_status ps ON ps.participant_id = pa.id
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS tasks_done,
               count(rr.correct)::int AS verified,
               (count(*) FILTER (WHERE rr.correct))::int AS correct
        FROM study_response_rows rr WHERE rr.participant_id = pa.id
      ) r
      ${where}
      ORDER BY pa.ordinal NULLS LAST, pa.created_at, pa.id
      LIMIT ${take} OFFSET ${skip}`),
  ])
  const items: ParticipantListRow[] = rows.map((r) => ({
    id: r.id,
    ordinal: r.ordinal,
    externalId: r.external_id,
    createdAt: r.created_at,
    consentedAt: r.consented_at,
    declinedAt: r.declined_at,
    completedAt: r.completed_at,
    tasksDone: r.tasks_done,
    tasksTotal: r.tasks_total,
    correct: r.correct,
    verified: r.verified,
    medianTaskSeconds: r.median_task_ms === null ? null : Number(r.median_task_ms) / 1000,
    excluded: r.exclusion_reason !== null,
    exclusionReason: r.exclusion_reason,
    earlyTimeoutClaims: r.early_timeout_claims ?? 0,
  }))
  return paged(items, countRow?.total ?? 0, page)
}

// ---------------------------------------------------------------- one participant's session

/** Everything one participant saw and did, task by task; null when the participant is not in the study. */
export async function participantSession(db: Db, studyId: string, participantId: string) {
  const participant = await db.participant.findFirst({
    where: { id: participantId, studyId },
    include: {
      assignments: {
        orderBy: { position: 'asc' },
        include: {
          item: {
            include: {
              condition: { include: { checkpoint: { select: { id: true, runId: true, run: { select: { algorithm: true } } } } } },
              problem: { select: { id: true, problem: true, answer: true } },
            },
          },
          response: { include: { verifierResult: true } },
        },
      },
    },
  })
  if (!participant) return null
  const [status] = await db.$queryRaw<{ median_task_ms: number | null; exclusion_reason: string | null }[]>(Prisma.sql`
    SELECT median_task_ms, exclusion_reason FROM study_participant_status WHERE participant_id = ${participantId}`)
  const exclusionReason = status?.exclusion_reason ?? null
  return {
    participant: {
      id: participant.id,
      ordinal: participant.ordinal,
      externalId: participant.externalId,
      urlParams: participant.urlParams,
      userAgent: participant.userAgent,
      createdAt: participant.createdAt,
      consentedAt: participant.consentedAt,
      declinedAt: participant.declinedAt,
      instructionsDoneAt: participant.instructionsDoneAt,
      practiceDoneAt: participant.practiceDoneAt,
      practice: participant.practice,
      attention: participant.attention,
      completedAt: participant.completedAt,
      excluded: exclusionReason !== null,
      exclusionReason,
      earlyTimeoutClaims: participant.earlyTimeoutClaims ?? 0,
      medianTaskSeconds: status?.median_task_ms == null ? null : Number(status.median_task_ms) / 1000,
    },
    tasks: participant.assignments.map((a) => {
      const { item, response } = a
      const verifier = response?.verifierResult ?? null
      return {
        position: a.position,
        assignmentId: a.id,
        conditionName: item.condition.name,
        algorithm: item.condition.checkpoint.run?.algorithm ?? null,
        checkpointId: item.condition.checkpoint.id,
        runId: item.condition.checkpoint.runId,
        problemId: item.problem.id,
        problem: item.problem.problem,
        expectedAnswer: item.problem.answer,
        traceId: item.traceId,
        handoffStep: item.handoffStep,
        prefixText: item.prefixText,
        startedAt: a.startedAt,
        draft: a.draft,
        response: response
          ? {
              id: response.id,
              continuation: response.continuation,
              answer: response.answer,
              easeRating: response.easeRating,
              confidence: response.confidence,
              elapsedMs: response.elapsedMs,
              timedOut: response.timedOut,
              submittedAt: response.submittedAt,
            }
          : null,
        verifier: verifier
          ? {
              id: verifier.id,
              verdict: verifier.verdict,
              extractedAnswer: verifier.extractedAnswer,
              verifier: verifier.verifier,
              version: verifier.version,
              details: verifier.details,
            }
          : null,
      }
    }),
  }
}

export type ParticipantSession = NonNullable<Awaited<ReturnType<typeof participantSession>>>
export type StudyParticipantsPage = Awaited<ReturnType<typeof studyParticipants>>
