// The study dashboard's numbers, read from the SQL views of the studies migration (study_participant_status,
// study_response_rows). Exclusions are decided there, once, for the dashboard and the exports alike: this file
// only filters on the view's `excluded` / `exclusion_reason` and never re-derives them.
import { z } from 'zod'

import { Prisma } from '@/generated/prisma/client'
import { paged, skipTake } from '@/server/api/pagination'
import type { Db } from '@/server/db'
import { enqueueJob } from '@/server/jobs'
import type { ManualExclusion } from '@/server/studies/manual-exclusion'
import type { Outcome } from '@/server/studies/outcomes'

import {
  clusterBootstrapDifference,
  clusteredWilsonInterval,
  meanInterval,
  pairedPermutationTest,
  pearsonInterval,
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
    /** consenting participants whose link carried no id (a study that does not require one admits them), counted apart */
    anonymous: number
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
  /**
   * per condition and handoff step (the steps of the condition's items), by name then step: people's accuracy
   * (Wilson over verified responses) and the junior's on the same items (pooled samples; clusteredWilsonInterval,
   * items as the units, n = items with junior samples; n = 0 for live conditions and before the junior ran)
   */
  byHandoffStep: { conditionId: string; name: string; handoffStep: number; accuracy: Interval; junior: Interval }[]
  /** per item (condition × problem): people's success rate beside the junior's, and how the two agree */
  items: ItemAgreement[]
  agreement: {
    /** Pearson's r over items with verified responses and junior samples, unweighted; 95% Fisher-z interval (n = items) */
    correlation: Interval
    method: string
  }
  /** the junior's evaluation of the study's items (the latest STUDY_JUNIOR job and the items it filled) */
  junior: JuniorStatus
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

export interface ItemAgreement {
  itemId: string
  conditionId: string
  conditionName: string
  problemId: string
  problemExternalId: string
  handoffStep: number | null
  /** people: Wilson over the item's verified responses (n = verified responses) */
  human: Interval
  /** the junior: junior_correct / junior_samples (null before the junior ran, and for live items) */
  junior: { correct: number; samples: number; accuracy: number } | null
}

export interface JuniorStatus {
  /**
   * not-applicable: every condition is live (no fixed prefix to finish); pending: no STUDY_JUNIOR job yet (it is
   * queued when the study opens); queued / running / failed: the latest job's state; done: it succeeded, or every
   * non-live item has samples
   */
  state: 'not-applicable' | 'pending' | 'queued' | 'running' | 'failed' | 'done'
  error: string | null
  /** non-live items with junior samples, of all non-live items */
  itemsEvaluated: number
  itemsExpected: number
  /** live conditions, which the junior does not take (their prefix is written as the participant watches) */
  liveConditions: string[]
  samplesPerItem: number
}

export const DIFFERENCE_PERMUTATIONS = 5000
export const DIFFERENCE_BOOTSTRAP_REPLICATES = 2000

/** How the two-condition difference is tested and bounded, in words (the dashboard and the preregistration). */
export function differenceMethodText(permutations = DIFFERENCE_PERMUTATIONS, replicates = DIFFERENCE_BOOTSTRAP_REPLICATES): string {
  return (
    `Permutation test (${permutations.toLocaleString('en-US')} permutations of condition labels within each participant), ` +
    `two-sided; 95% interval: participant bootstrap (${replicates.toLocaleString('en-US')} resamples).`
  )
}

/** How people and the junior are compared item by item, in words (the dashboard and the preregistration). */
export const AGREEMENT_METHOD =
  'Per item (condition × problem): the share of verified responses that are correct beside the share of the junior’s ' +
  'samples that are correct on the same cut trace. Pearson’s r over items with both, every item counted once ' +
  '(unweighted); 95% interval by Fisher’s z, tanh(atanh r ± 1.96/√(n − 3)).'

/**
 * A participant whose page claimed a time-out before the server's deadline (a bot skipping tasks; the server refused
 * each claim and counted it in participants.early_timeout_claims). Flagged for the researcher beside the exclusions.
 */
export const EARLY_CLAIMS_FLAG = 'Flagged: claimed a time-out before the deadline (refused; the count is shown per participant)'

/** The researcher's own rule (manual-exclusion.ts), in the words of the rule list. */
export const MANUAL_EXCLUSION_RULE = 'Marked excluded, or as a tester, by a researcher on the participant’s session page (with a note; reversible)'

/** The exclusion rules in words, as study_participant_status applies them, and the flag shown beside them. */
export function exclusionRuleTexts(minSecondsPerTask: number): string[] {
  return [
    'Failed an attention check',
    `Median time per task under ${minSecondsPerTask} s (implausibly fast)`,
    MANUAL_EXCLUSION_RULE,
    EARLY_CLAIMS_FLAG,
  ]
}

interface ConditionRow {
  id: string
  name: string
  checkpoint_id: string
  run_id: string | null
  algorithm: string | null
  live: boolean
}

interface ItemRow {
  id: string
  condition_id: string
  problem_id: string
  problem_external_id: string
  handoff_step: number | null
  junior_samples: number | null
  junior_correct: number | null
}

interface ResponseRow {
  participant_id: string
  condition_id: string
  study_item_id: string
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
export function comparedConditions<C extends { name: string; algorithm: string | null }>(conditions: C[]): { a: C; b: C; label: string } | null {
  const trl = conditions.filter((c) => c.algorithm === 'TRL')
  const grpo = conditions.filter((c) => c.algorithm === 'GRPO')
  if (trl.length === 1 && grpo.length === 1) return { a: trl[0]!, b: grpo[0]!, label: 'TRL − GRPO' }
  if (conditions.length === 2) {
    const [a, b] = [...conditions].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)) as [C, C]
    return { a, b, label: `${a.name} − ${b.name}` }
  }
  return null
}

/** The study's junior evaluation in one word, from its items and its latest STUDY_JUNIOR job. */
export function juniorState(
  items: { live: boolean; evaluated: boolean }[],
  job: { status: string } | null,
): JuniorStatus['state'] {
  const fixed = items.filter((i) => !i.live)
  if (items.length > 0 && fixed.length === 0) return 'not-applicable'
  if (job) {
    if (job.status === 'QUEUED') return 'queued'
    if (job.status === 'RUNNING' || job.status === 'CANCEL_REQUESTED') return 'running'
    if (job.status === 'FAILED' || job.status === 'CANCELLED') return 'failed'
    return 'done'
  }
  return fixed.length > 0 && fixed.every((i) => i.evaluated) ? 'done' : 'pending'
}

/** A t interval of a quantity that cannot be negative (a time), its lower bound cut at 0. */
export function nonNegative(interval: Interval): Interval {
  return interval.low === null ? interval : { ...interval, low: Math.max(0, interval.low) }
}

/** Counts, per-condition intervals, accuracy by handoff step and the two-condition difference of one study. */
export async function studyDashboard(db: Db, studyId: string, opts: { applyExclusions: boolean }): Promise<StudyDashboard> {
  const study = await db.study.findUnique({ where: { id: studyId }, select: { minSecondsPerTask: true, juniorSamples: true } })
  if (!study) throw new Error(`Unknown study ${studyId}`)

  // independent reads of a page that polls: in parallel
  const [[participantCounts], [responseCounts], conditions, items, rows, juniorJob] = await Promise.all([
    db.$queryRaw<
      { started: number; consented: number; declined: number; completed: number; excluded: number; flagged: number; anonymous: number }[]
    >(Prisma.sql`
      SELECT count(*)::int AS started,
             count(pa.consented_at)::int AS consented,
             count(pa.declined_at)::int AS declined,
             count(pa.completed_at)::int AS completed,
             (count(*) FILTER (WHERE ps.exclusion_reason IS NOT NULL))::int AS excluded,
             (count(*) FILTER (WHERE pa.early_timeout_claims > 0))::int AS flagged,
             (count(*) FILTER (WHERE pa.external_id IS NULL AND pa.consented_at IS NOT NULL))::int AS anonymous
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
    db.$queryRaw<ItemRow[]>(Prisma.sql`
      SELECT i.id, i.condition_id, i.problem_id, p.external_id AS problem_external_id, i.handoff_step,
             i.junior_samples, i.junior_correct
      FROM study_items i
      JOIN problems p ON p.id = i.problem_id
      WHERE i.study_id = ${studyId}
      ORDER BY p.external_id, i.id`),
    db.$queryRaw<ResponseRow[]>(Prisma.sql`
      SELECT participant_id, condition_id, study_item_id, handoff_step, elapsed_ms, timed_out, ease_rating, confidence, correct,
             live_take_overs, live_hand_backs, live_scheduled_handover, live_human_share
      FROM study_response_rows
      WHERE study_id = ${studyId} ${opts.applyExclusions ? Prisma.sql`AND NOT excluded` : Prisma.empty}
      ORDER BY participant_id, response_id`),
    db.job.findFirst({
      where: { studyId, kind: 'STUDY_JUNIOR' },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: { status: true, error: true },
    }),
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

  const juniorOf = (list: ItemRow[]) =>
    clusteredWilsonInterval(
      list.filter((i) => i.junior_samples !== null && i.junior_correct !== null).map((i) => ({ successes: i.junior_correct!, trials: i.junior_samples! })),
    )
  const itemsByCondition = new Map<string, ItemRow[]>(conditions.map((c) => [c.id, []]))
  for (const item of items) itemsByCondition.get(item.condition_id)?.push(item)

  const byHandoffStep = conditions.flatMap((c) => {
    const conditionItems = itemsByCondition.get(c.id)!
    const stepsOf = [...new Set(conditionItems.map((i) => i.handoff_step).filter((s): s is number => s !== null))].sort((x, y) => x - y)
    return stepsOf.map((handoffStep) => {
      const { effectiveN: _effectiveN, ...junior } = juniorOf(conditionItems.filter((i) => i.handoff_step === handoffStep))
      return {
        conditionId: c.id,
        name: c.name,
        handoffStep,
        accuracy: accuracyOf(byCondition.get(c.id)!.filter((r) => r.handoff_step === handoffStep)),
        junior,
      }
    })
  })

  const rowsByItem = new Map<string, ResponseRow[]>()
  for (const row of rows) {
    const list = rowsByItem.get(row.study_item_id)
    if (list) list.push(row)
    else rowsByItem.set(row.study_item_id, [row])
  }
  const conditionById = new Map(conditions.map((c) => [c.id, c]))
  const itemAgreement: ItemAgreement[] = conditions.flatMap((c) =>
    itemsByCondition.get(c.id)!.map((i) => ({
      itemId: i.id,
      conditionId: c.id,
      conditionName: c.name,
      problemId: i.problem_id,
      problemExternalId: i.problem_external_id,
      handoffStep: i.handoff_step,
      human: accuracyOf(rowsByItem.get(i.id) ?? []),
      junior:
        i.junior_samples !== null && i.junior_correct !== null && i.junior_samples > 0
          ? { correct: i.junior_correct, samples: i.junior_samples, accuracy: i.junior_correct / i.junior_samples }
          : null,
    })),
  )
  const correlation = pearsonInterval(
    itemAgreement.filter((i) => i.human.n > 0 && i.junior !== null).map((i) => ({ x: i.junior!.accuracy, y: i.human.value! })),
  )
  const isLive = (conditionId: string) => conditionById.get(conditionId)?.live ?? false
  const fixedItems = items.filter((i) => !isLive(i.condition_id))
  const junior: JuniorStatus = {
    state: juniorState(items.map((i) => ({ live: isLive(i.condition_id), evaluated: i.junior_samples !== null })), juniorJob),
    error: juniorJob?.status === 'FAILED' || juniorJob?.status === 'CANCELLED' ? (juniorJob.error ?? `The job was ${juniorJob.status.toLowerCase()}`) : null,
    itemsEvaluated: fixedItems.filter((i) => i.junior_samples !== null).length,
    itemsExpected: fixedItems.length,
    liveConditions: conditions.filter((c) => c.live).map((c) => c.name),
    samplesPerItem: study.juniorSamples,
  }

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
        method: differenceMethodText(test.permutations, DIFFERENCE_BOOTSTRAP_REPLICATES),
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
      anonymous: participantCounts?.anonymous ?? 0,
      responses: responseCounts?.responses ?? 0,
      verified: responseCounts?.verified ?? 0,
      awaitingVerification: responseCounts?.awaiting ?? 0,
      timedOut: responseCounts?.timed_out ?? 0,
    },
    conditions: conditionStats,
    byHandoffStep,
    items: itemAgreement,
    agreement: { correlation, method: AGREEMENT_METHOD },
    junior,
    difference,
    exclusionRules: exclusionRuleTexts(study.minSecondsPerTask),
  }
}

// ---------------------------------------------------------------- the mixed-effects model (cached)

/** study_analyses.result as the worker writes it (workers/trainer/src/tandem/analysis/analysis.py, via runner/study_analysis.py). */
export const mixedModelResultSchema = z.object({
  method: z.string(),
  formula: z.string(),
  library: z.string(),
  responses: z.number().int(),
  participants: z.number().int(),
  problems: z.number().int(),
  reference: z.string(),
  // null where a figure is not finite (e.g. a condition whose answers are all right: its log-odds has no estimate)
  conditions: z.array(
    z.object({ condition: z.string(), accuracy: z.number(), low: z.number(), high: z.number(), logOdds: z.number(), se: z.number().nullable() }),
  ),
  effects: z.array(
    z.object({
      condition: z.string(), versus: z.string(), oddsRatio: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable(),
      logOdds: z.number(), se: z.number().nullable(), p: z.number().nullable(),
    }),
  ),
  randomEffects: z.object({ participantSd: z.number(), problemSd: z.number() }),
  warnings: z.array(z.string()),
})

export type MixedModelResult = z.infer<typeof mixedModelResultSchema>

export interface StudyAnalysisView {
  /** the newest fit (null: none yet) */
  latest: null | {
    id: string
    createdAt: Date
    /** responses the model saw: verified, of participants not excluded */
    responseCount: number
    result: MixedModelResult | null
    /** why there is no result (the worker's reason, or a stored result of another shape) */
    error: string | null
  }
  /** responses the model would see now (verified, not excluded) */
  currentResponses: number
  /** currentResponses − latest.responseCount, at least 0 (null without a fit) */
  newSinceFit: number | null
  /** the latest STUDY_ANALYSIS job (queued on verification and by "Refit") */
  job: null | { id: string; status: string; error: string | null; createdAt: Date }
}

/**
 * The newest cached mixed-model fit of a study, what changed since, and the state of the latest fitting job.
 * Reads only: the worker fits (STUDY_ANALYSIS), so the page stays cheap however many responses there are.
 */
export async function studyAnalysis(db: Db, studyId: string): Promise<StudyAnalysisView> {
  const [latest, [current], job] = await Promise.all([
    db.studyAnalysis.findFirst({
      where: { studyId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: { id: true, createdAt: true, responseCount: true, result: true, error: true },
    }),
    // the rows the model sees (study_response_rows: correct IS NOT NULL AND NOT excluded)
    db.$queryRaw<{ n: number }[]>(Prisma.sql`
      SELECT count(*)::int AS n FROM study_response_rows WHERE study_id = ${studyId} AND correct IS NOT NULL AND NOT excluded`),
    db.job.findFirst({
      where: { studyId, kind: 'STUDY_ANALYSIS' },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: { id: true, status: true, error: true, createdAt: true },
    }),
  ])
  const currentResponses = current?.n ?? 0
  let fit: StudyAnalysisView['latest'] = null
  if (latest) {
    let result: MixedModelResult | null = null
    let error = latest.error
    if (latest.result !== null) {
      const parsed = mixedModelResultSchema.safeParse(latest.result)
      if (parsed.success) result = parsed.data
      else error = `The stored fit ${latest.id} is not in the expected shape (${parsed.error.issues.map((i) => `${i.path.join('.') || 'result'}: ${i.message}`).slice(0, 3).join('; ')})`
    }
    fit = { id: latest.id, createdAt: latest.createdAt, responseCount: latest.responseCount, result, error }
  }
  return {
    latest: fit,
    currentResponses,
    newSinceFit: fit ? Math.max(0, currentResponses - fit.responseCount) : null,
    job: job ? { id: job.id, status: job.status, error: job.error, createdAt: job.createdAt } : null,
  }
}

/**
 * Queues a STUDY_ANALYSIS job for the study unless one is already QUEUED (then that one is returned). The study row is
 * locked first, so two refits at once queue one job. Call inside a transaction.
 */
export async function enqueueStudyAnalysis(
  tx: Prisma.TransactionClient,
  studyId: string,
  createdById: string | null,
): Promise<{ jobId: string; alreadyQueued: boolean }> {
  await tx.$queryRaw`SELECT id FROM studies WHERE id = ${studyId} FOR UPDATE`
  const queued = await tx.job.findFirst({
    where: { studyId, kind: 'STUDY_ANALYSIS', status: 'QUEUED' },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true },
  })
  if (queued) return { jobId: queued.id, alreadyQueued: true }
  const jobId = await enqueueJob(tx, { kind: 'STUDY_ANALYSIS', payload: { studyId }, studyId, createdById })
  return { jobId, alreadyQueued: false }
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
  /** the researcher's own mark (manual-exclusion.ts), part of exclusionReason when set */
  manualExclusion: ManualExclusion | null
  manualNote: string | null
  /** time-outs claimed before the deadline (refused); above 0 the participant is flagged */
  earlyTimeoutClaims: number
  /** how the session ended (outcomes.ts; null: running, declined, or completed before outcomes were recorded) */
  outcome: Outcome | null
  outcomeAt: Date | null
  /** the row of the design whose tasks the participant takes (assignment.ts REFILL_RULE) */
  designRow: number | null
  /** the ordinal of the dropout whose row this participant refilled (null: a fresh row) */
  refillsOrdinal: number | null
  /** the bonus as the view study_participant_bonus defines it, in the smallest unit of `currency` */
  bonusCents: number
  currency: string
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
  input: { page: number; pageSize?: number; filter?: ParticipantFilter; outcome?: Outcome },
) {
  const page = { page: input.page, pageSize: input.pageSize ?? 20 }
  const byOutcome = input.outcome ? Prisma.sql`AND pa.outcome = ${input.outcome}::"ParticipantOutcome"` : Prisma.empty
  const where = Prisma.sql`WHERE pa.study_id = ${studyId} ${participantFilterSql(input.filter ?? 'all')} ${byOutcome}`
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
        manual_exclusion: ManualExclusion | null
        manual_note: string | null
        early_timeout_claims: number | null
        outcome: Outcome | null
        outcome_at: Date | null
        design_row: number | null
        refills_ordinal: number | null
        bonus_cents: number | null
        currency: string
      }[]
    >(Prisma.sql`
      SELECT pa.id, pa.ordinal, pa.external_id, pa.created_at, pa.consented_at, pa.declined_at, pa.completed_at,
             (SELECT count(*) FROM assignments a WHERE a.participant_id = pa.id)::int AS tasks_total,
             r.tasks_done, r.verified, r.correct,
             ps.median_task_ms, ps.exclusion_reason, ps.manual_exclusion, ps.manual_note, pa.early_timeout_claims,
             pa.outcome::text AS outcome, pa.outcome_at, pa.design_row, refilled.ordinal AS refills_ordinal,
             b.bonus_cents, s.currency
      FROM participants pa
      JOIN studies s ON s.id = pa.study_id
      JOIN study_participant_status ps ON ps.participant_id = pa.id
      LEFT JOIN study_participant_bonus b ON b.participant_id = pa.id
      LEFT JOIN participants refilled ON refilled.id = pa.refills_id
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
    manualExclusion: r.manual_exclusion,
    manualNote: r.manual_note,
    earlyTimeoutClaims: r.early_timeout_claims ?? 0,
    outcome: r.outcome,
    outcomeAt: r.outcome_at,
    designRow: r.design_row,
    refillsOrdinal: r.refills_ordinal,
    bonusCents: r.bonus_cents ?? 0,
    currency: r.currency,
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
  const [[status], manualSetBy] = await Promise.all([
    db.$queryRaw<{ median_task_ms: number | null; exclusion_reason: string | null }[]>(Prisma.sql`
      SELECT median_task_ms, exclusion_reason FROM study_participant_status WHERE participant_id = ${participantId}`),
    participant.manualSetById ? db.user.findUnique({ where: { id: participant.manualSetById }, select: { email: true } }) : null,
  ])
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
      // the researcher's own mark and its last change (a clearing too), by whom and when
      manualExclusion: participant.manualExclusion as ManualExclusion | null,
      manualNote: participant.manualNote,
      manualSetAt: participant.manualSetAt,
      manualSetByEmail: manualSetBy?.email ?? null,
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
