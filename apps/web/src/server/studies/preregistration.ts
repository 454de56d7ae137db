// The preregistration's design part, as the web app defines it: written to studies.preregistration_draft when the
// study launches (studies router, `launch`). When the study opens, the worker (runner/preregistration.py) adds each
// condition's checkpoint hash, step, run and algorithm, the items with their trace ids and prefix hashes, and the
// time; it freezes the whole as canonical JSON (preregistration_json), its Markdown, and the SHA-256 of that JSON's
// UTF-8 bytes (preregistration_sha256). The download route serves those bytes unchanged, so `sha256sum` of the
// file is the hash on the study page. Pure: the same study, conditions and problems give the same draft.
import { LATIN_SQUARE_RULE, REFILL_RULE } from './assignment'
import { AGREEMENT_METHOD, comparedConditions, differenceMethodText, exclusionRuleTexts } from './dashboard'
import { FAILED_CHECKS_TO_SCREEN_OUT, sessionTimeLimitRule, type OutcomeTexts } from './outcomes'

export const PREREGISTRATION_VERSION = 1

/** The model the worker fits (runner/study_analysis.py), as its formula. */
export const MIXED_MODEL_FORMULA = 'correct ~ C(condition) + (1|participant) + (1|problem)'

/** The study's row, as far as the preregistration reads it. */
export interface PreregistrationStudy extends OutcomeTexts {
  id: string
  name: string
  seed: number
  tasksPerParticipant: number
  timeLimitSeconds: number
  sessionTimeLimitSeconds: number | null
  temperature: number
  maxNewTokens: number
  juniorSamples: number
  minSecondsPerTask: number
  maxParticipants: number | null
  handoffRule: unknown
  assignmentRule: string
  refillDropouts: boolean
  attentionChecks: unknown
  currency: string
  basePayCents: number
  bonusPerCorrectCents: number
  bonusCapCents: number | null
  powerPlan: unknown
}

export interface PreregistrationCondition {
  name: string
  checkpointId: string
  live: boolean
  /** the checkpoint's run's algorithm (null: a base model's own weights); names the primary comparison */
  algorithm: string | null
}

export interface PreregistrationDraft {
  version: number
  study: Pick<
    PreregistrationStudy,
    | 'id' | 'name' | 'seed' | 'tasksPerParticipant' | 'timeLimitSeconds' | 'sessionTimeLimitSeconds' | 'temperature'
    | 'maxNewTokens' | 'juniorSamples' | 'minSecondsPerTask' | 'maxParticipants'
  >
  conditions: { name: string; checkpointId: string; live: boolean }[]
  problems: { id: string; externalId: string }[]
  handoffRule: unknown
  assignment: { rule: string; text: string; refillDropouts: boolean; refillText: string }
  exclusions: string[]
  attentionChecks: unknown[]
  outcomes: {
    completed: { code: string; redirectUrl: string | null }
    screenedOut: { code: string | null; redirectUrl: string | null }
    timedOut: { code: string | null; redirectUrl: string | null }
    rules: string[]
  }
  pay: { currency: string; basePayCents: number; bonusPerCorrectCents: number; bonusCapCents: number | null }
  powerPlan: unknown
  analysis: { primary: string; model: string; test: string; humanJuniorAgreement: string }
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/** The model's reference condition, as the worker picks it: the first GRPO condition by name, else the first by name. */
export function referenceCondition(conditions: readonly PreregistrationCondition[]): string | null {
  const sorted = [...conditions].sort(byName)
  return (sorted.find((c) => c.algorithm === 'GRPO') ?? sorted[0])?.name ?? null
}

/** What is compared, tested and modelled, in words. */
export function plannedAnalysis(conditions: readonly PreregistrationCondition[]): PreregistrationDraft['analysis'] {
  const pair = comparedConditions([...conditions])
  const reference = referenceCondition(conditions)
  return {
    primary:
      'Accuracy by condition: the share of verified responses whose answer the verifier judges correct, with a 95% Wilson ' +
      'interval, over participants not excluded. ' +
      (pair
        ? `Primary comparison: the difference in accuracy ${pair.label} (${pair.a.name} minus ${pair.b.name}).`
        : 'Primary comparison: none is defined (it needs exactly two conditions, or exactly one TRL and one GRPO condition); accuracy is reported per condition.'),
    model:
      `Mixed-effects logistic regression ${MIXED_MODEL_FORMULA}: crossed random intercepts for participant and problem, ` +
      'fitted by the worker on verified responses of participants not excluded. Reported: each condition’s accuracy ' +
      'from the model with its 95% interval, and each condition’s effect as an odds ratio against the reference ' +
      `condition${reference ? ` (${reference})` : ''} with its 95% interval and p-value.`,
    test: pair ? `${pair.label}: ${differenceMethodText()}` : differenceMethodText(),
    humanJuniorAgreement:
      'The frozen junior finishes each item’s cut trace (study junior samples per item, the same verifier). ' + AGREEMENT_METHOD,
  }
}

/** How each outcome is decided, in words. */
export function outcomeRuleTexts(study: Pick<PreregistrationStudy, 'sessionTimeLimitSeconds' | 'tasksPerParticipant' | 'timeLimitSeconds'>): string[] {
  return [
    'Completed: a response stored for every assigned task (a task past its time limit stores its last draft) and every attention check that comes up answered.',
    `Screened out: the session ends at the ${FAILED_CHECKS_TO_SCREEN_OUT}nd failed attention check (on Prolific a single failed check is no ground to reject); a study with fewer than ${FAILED_CHECKS_TO_SCREEN_OUT} checks screens nobody out.`,
    `Timed out: ${sessionTimeLimitRule(study)}`,
    'Returned: the participant chose to leave the study from its page.',
  ]
}

/** The design part of the preregistration (the draft the worker completes and freezes when the study opens). */
export function buildPreregistrationDraft(input: {
  study: PreregistrationStudy
  conditions: readonly PreregistrationCondition[]
  /** the study's problems, in the order launch sampled them */
  problems: readonly { id: string; externalId: string }[]
}): PreregistrationDraft {
  const { study } = input
  const conditions = [...input.conditions].sort(byName)
  return {
    version: PREREGISTRATION_VERSION,
    study: {
      id: study.id,
      name: study.name,
      seed: study.seed,
      tasksPerParticipant: study.tasksPerParticipant,
      timeLimitSeconds: study.timeLimitSeconds,
      sessionTimeLimitSeconds: study.sessionTimeLimitSeconds,
      temperature: study.temperature,
      maxNewTokens: study.maxNewTokens,
      juniorSamples: study.juniorSamples,
      minSecondsPerTask: study.minSecondsPerTask,
      maxParticipants: study.maxParticipants,
    },
    conditions: conditions.map((c) => ({ name: c.name, checkpointId: c.checkpointId, live: c.live })),
    problems: input.problems.map((p) => ({ id: p.id, externalId: p.externalId })),
    handoffRule: study.handoffRule,
    assignment: { rule: study.assignmentRule, text: LATIN_SQUARE_RULE, refillDropouts: study.refillDropouts, refillText: REFILL_RULE },
    exclusions: exclusionRuleTexts(study.minSecondsPerTask),
    attentionChecks: Array.isArray(study.attentionChecks) ? study.attentionChecks : [],
    outcomes: {
      completed: { code: study.completionCode, redirectUrl: study.redirectUrl },
      screenedOut: { code: study.screenedOutCode, redirectUrl: study.screenedOutRedirectUrl },
      timedOut: { code: study.timedOutCode, redirectUrl: study.timedOutRedirectUrl },
      rules: outcomeRuleTexts(study),
    },
    pay: { currency: study.currency, basePayCents: study.basePayCents, bonusPerCorrectCents: study.bonusPerCorrectCents, bonusCapCents: study.bonusCapCents },
    powerPlan: study.powerPlan ?? null,
    analysis: plannedAnalysis(conditions),
  }
}

/** Where the study's preregistration stands: frozen (its hash is final), drafted at launch, or not yet written. */
export type PreregistrationStatus = 'frozen' | 'draft' | 'none'

export function preregistrationStatus(study: { preregistrationSha256: string | null; preregistrationDraft: unknown }): PreregistrationStatus {
  return study.preregistrationSha256 ? 'frozen' : study.preregistrationDraft != null ? 'draft' : 'none'
}
