// Input schemas of the studies router, and the study design's JSON shapes (handoff rule, practice task, attention
// checks, power plan), with the design's pay and per-outcome codes. Pure zod, no server imports: the designer form
// validates with the same schema (one schema, its fieldsets in console/studies/fieldsets).
import { z } from 'zod'

import { pageInput } from '../pagination'
import { requiredNumber, wholeNumber, emailAddress } from '../fields'
import { OUTCOMES } from '../../studies/outcomes'
import { formatMoney } from '../../../components/format'

/** The URL parameters Prolific appends to a study link; a study may accept others too. */
export const PROLIFIC_PARAMS = ['PROLIFIC_PID', 'STUDY_ID', 'SESSION_ID'] as const
export const MAX_CONDITIONS = 8
export const MAX_ATTENTION_CHECKS = 5

const text = (label: string, max: number) =>
  z.string({ error: `${label} is required` }).trim().min(1, `${label} is required`).max(max, `${label}: at most ${max} characters`)

export const handoffRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('step'), k: wholeNumber('Handoff step k', 0, 100) }),
  z.object({
    kind: z.literal('fraction'),
    f: requiredNumber('Handoff fraction f').min(0, 'Handoff fraction f must be between 0 and 1').max(1, 'Handoff fraction f must be between 0 and 1'),
  }),
])
export type HandoffRule = z.infer<typeof handoffRuleSchema>

export const practiceTaskSchema = z.object({
  problem: text('The practice problem', 2_000),
  reasoning: z.string().max(5_000, 'The practice reasoning: at most 5000 characters').default(''),
  answer: text('The practice answer', 200),
})
export type PracticeTask = z.infer<typeof practiceTaskSchema>

export const attentionCheckSchema = z
  .object({
    id: z.string().trim().min(1).max(40),
    afterTask: wholeNumber('After task', 1, 100),
    prompt: text('The attention check question', 500),
    options: z.array(text('An option', 200)).min(2, 'Give at least two options').max(6, 'At most six options'),
    correct: text('The correct option', 200),
  })
  .refine((c) => c.options.includes(c.correct), { message: 'The correct option must be one of the options', path: ['correct'] })
  .refine((c) => new Set(c.options).size === c.options.length, { message: 'Options must differ', path: ['options'] })
export type AttentionCheck = z.infer<typeof attentionCheckSchema>

const conditionSchema = z.object({
  name: text('A condition name', 40),
  checkpointId: z.string({ error: 'Choose a checkpoint' }).min(1, 'Choose a checkpoint'),
  /** live: the senior writes while the participant watches, takes over and hands back (workers/live) */
  live: z.boolean().default(false),
})

/** Currencies a study pays in (all with a hundredth as their smallest unit: amounts are stored in that unit). */
export const CURRENCIES = ['GBP', 'USD', 'EUR', 'CAD', 'AUD', 'CHF'] as const
export type Currency = (typeof CURRENCIES)[number]
export const MAX_JUNIOR_SAMPLES = 32

/** An amount in the currency's smallest unit (pence, cents), typed by the designer as money. */
const cents = (label: string, maxCents: number) =>
  requiredNumber(label)
    .int(`${label}: whole pence or cents`)
    .min(0, `${label} cannot be negative`)
    .max(maxCents, `${label}: at most ${(maxCents / 100).toFixed(2)}`)

const completionCodeOf = (label: string) =>
  z.string({ error: `${label} is required` }).trim().regex(/^[A-Za-z0-9_-]{1,64}$/, `${label}: 1–64 letters, digits, _ or -`)

/** An optional redirect: '' or null is none. */
const redirectUrlOf = (label: string) =>
  z
    .union([z.literal(''), z.url({ protocol: /^https?$/, error: `${label} must be an http(s) URL` })])
    .nullable()
    .optional()
    .transform((v) => (v ? v : null))

/** An optional outcome code: '' or null is none (the participant is then told there is no code). */
const optionalCodeOf = (label: string) =>
  z
    .union([z.literal(''), completionCodeOf(label)])
    .nullable()
    .optional()
    .transform((v) => (v ? v : null))

const probability = (label: string) =>
  requiredNumber(label).gt(0, `${label} must be between 0 and 1 (exclusive)`).lt(1, `${label} must be between 0 and 1 (exclusive)`)

/**
 * The designer's power plan (server/studies/power.ts simulates it; the studies router stores it in studies.power_plan
 * with the simulated curve, N needed and cost). accuracies: the expected accuracy per condition, by condition name.
 */
export const powerPlanSchema = z.object({
  alpha: requiredNumber('α').gt(0, 'α must be above 0').max(0.2, 'α must be at most 0.2'),
  power: requiredNumber('Target power').min(0.5, 'Target power must be between 0.5 and 0.99').max(0.99, 'Target power must be between 0.5 and 0.99'),
  accuracies: z.record(z.string().min(1).max(40), probability('Expected accuracy')),
  participantSd: requiredNumber('Participant sd').min(0, 'Participant sd must be between 0 and 3').max(3, 'Participant sd must be between 0 and 3').default(0.5),
  problemSd: requiredNumber('Problem sd').min(0, 'Problem sd must be between 0 and 3').max(3, 'Problem sd must be between 0 and 3').default(0.5),
  /** where each accuracy came from, by condition name (the prefill's sentence, or "entered by hand") */
  sources: z.record(z.string().min(1).max(40), z.string().max(300)).default({}),
})
export type PowerPlanInput = z.input<typeof powerPlanSchema>

const urlParamName = z
  .string()
  .trim()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'URL parameter names are letters, digits and _ (e.g. PROLIFIC_PID)')

/** What participants see as the study's title when the designer gives none (never the internal name). */
export const DEFAULT_PUBLIC_TITLE = 'Reasoning study'

/** The study's title as participants see it: its public title, or the neutral default. */
export function participantTitle(publicTitle: string | null | undefined): string {
  return publicTitle?.trim() || DEFAULT_PUBLIC_TITLE
}

export const studyDesignObject = z.object({
  name: text('Name', 120),
  /** the title participants see (blank: DEFAULT_PUBLIC_TITLE); the name above may say the hypothesis, this must not */
  publicTitle: z
    .string()
    .trim()
    .max(120, 'Title shown to participants: at most 120 characters')
    .nullable()
    .optional()
    .transform((v) => v || null),
  /**
   * true: a link without the identifying URL parameter (the first of urlParams) is refused, and that id resumes the
   * participant's session on any device; false (the API's default, as before): anonymous participants are admitted
   */
  requireParticipantId: z.boolean().default(false),
  conditions: z.array(conditionSchema).min(1, 'Add at least one condition').max(MAX_CONDITIONS, `At most ${MAX_CONDITIONS} conditions`),
  datasetId: z.string({ error: 'Choose a dataset' }).min(1, 'Choose a dataset'),
  problemCount: wholeNumber('Problems', 1, 1_000),
  seed: wholeNumber('Seed', 0, 2 ** 31 - 1).default(0),
  handoffRule: handoffRuleSchema,
  temperature: requiredNumber('Temperature').min(0, 'Temperature must be between 0 and 2').max(2, 'Temperature must be between 0 and 2').default(1),
  maxNewTokens: wholeNumber('Max new tokens', 8, 1_024).default(96),
  /** live conditions: how fast the senior's tokens reach the participant (0 = as fast as generated) */
  liveTokensPerSecond: requiredNumber('Live reading pace').min(0, 'Live reading pace must be between 0 and 200 tokens/s').max(200, 'Live reading pace must be between 0 and 200 tokens/s').default(12),
  tasksPerParticipant: wholeNumber('Tasks per participant', 1, 100),
  timeLimitSeconds: wholeNumber('Time limit per task (s)', 30, 3_600),
  consentText: text('Consent text', 10_000),
  instructions: text('Instructions', 10_000),
  practice: practiceTaskSchema,
  attentionChecks: z.array(attentionCheckSchema).max(MAX_ATTENTION_CHECKS, `At most ${MAX_ATTENTION_CHECKS} attention checks`).default([]),
  minSecondsPerTask: wholeNumber('Minimum seconds per task', 0, 3_600).default(10),
  /** consenting participants admitted at most (blank: no cap), so a flood of joins cannot use up the design */
  maxParticipants: wholeNumber('Maximum participants', 1, 100_000).nullable().optional().transform((v) => v ?? null),
  completionCode: completionCodeOf('Completion code'),
  redirectUrl: redirectUrlOf('Redirect URL'),
  /** the code and redirect of a participant screened out by the attention checks, and of one who ran out of time */
  screenedOutCode: optionalCodeOf('Screened-out code'),
  screenedOutRedirectUrl: redirectUrlOf('Screened-out redirect URL'),
  timedOutCode: optionalCodeOf('Timed-out code'),
  timedOutRedirectUrl: redirectUrlOf('Timed-out redirect URL'),
  urlParams: z.array(urlParamName).max(10, 'At most 10 URL parameters').default([...PROLIFIC_PARAMS]),
  /** the whole session's limit from consent (null: derived from the tasks' limits, server/studies/outcomes.ts) */
  sessionTimeLimitSeconds: requiredNumber('Whole-session time limit')
    .int('Whole-session time limit: whole seconds')
    .min(60, 'Whole-session time limit: at least 1 minute')
    .max(86_400, 'Whole-session time limit: at most 24 hours')
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  /** a dropout's design row goes to the next arrival (false: pure arrival order) */
  refillDropouts: z.boolean().default(true),
  /** the junior's samples per study item (k) */
  juniorSamples: wholeNumber('Junior samples per item', 1, MAX_JUNIOR_SAMPLES).default(4),
  currency: z.enum(CURRENCIES, { error: `Choose a currency (${CURRENCIES.join(', ')})` }).default('GBP'),
  basePayCents: cents('Base pay', 100_000).default(0),
  bonusPerCorrectCents: cents('Bonus per correct answer', 10_000).default(0),
  /** null: no cap */
  bonusCapCents: cents('Bonus cap', 100_000).nullable().optional().transform((v) => v ?? null),
  powerPlan: powerPlanSchema.nullable().optional().transform((v) => v ?? null),
})


/** Cross-field rules, shared by create and update. */
function checkDesign(d: z.infer<typeof studyDesignObject>, ctx: z.RefinementCtx) {
  if (d.tasksPerParticipant > d.problemCount) {
    ctx.addIssue({ code: 'custom', path: ['tasksPerParticipant'], message: `Tasks per participant must be at most the number of problems (${d.problemCount}): nobody sees a problem twice` })
  }
  const names = d.conditions.map((c) => c.name)
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['conditions', i, 'name'], message: `Condition names must differ ("${n}" twice)` })
  })
  const checkpoints = d.conditions.map((c) => c.checkpointId)
  checkpoints.forEach((c, i) => {
    if (checkpoints.indexOf(c) !== i) ctx.addIssue({ code: 'custom', path: ['conditions', i, 'checkpointId'], message: 'Each condition needs its own checkpoint' })
  })
  const ids = d.attentionChecks.map((c) => c.id)
  d.attentionChecks.forEach((c, i) => {
    if (ids.indexOf(c.id) !== i) ctx.addIssue({ code: 'custom', path: ['attentionChecks', i, 'id'], message: `Attention check ids must differ ("${c.id}" twice)` })
    if (c.afterTask > d.tasksPerParticipant) {
      ctx.addIssue({ code: 'custom', path: ['attentionChecks', i, 'afterTask'], message: `After task must be at most the tasks per participant (${d.tasksPerParticipant})` })
    }
  })
  if (new Set(d.urlParams).size !== d.urlParams.length) ctx.addIssue({ code: 'custom', path: ['urlParams'], message: 'URL parameters must differ' })
  if (d.requireParticipantId && d.urlParams.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['requireParticipantId'],
      message: 'Requiring a participant id needs a URL parameter to carry it: add one (the first names the participant, e.g. PROLIFIC_PID)',
    })
  }
  checkOutcomes(d, ctx)
  checkPay(d, ctx)
  checkPowerPlan(d, ctx)
}

/** Each outcome its own code (the recruiting platform tells outcomes apart by the code); a session limit that fits the tasks. */
function checkOutcomes(d: z.infer<typeof studyDesignObject>, ctx: z.RefinementCtx) {
  const codes: [string, string, string | null][] = [
    ['completionCode', 'the completion code', d.completionCode],
    ['screenedOutCode', 'the screened-out code', d.screenedOutCode],
    ['timedOutCode', 'the timed-out code', d.timedOutCode],
  ]
  codes.forEach(([path, , code], i) => {
    // compared ignoring case: a participant retyping a code may change it
    const same = codes.slice(0, i).find(([, , other]) => code && other && other.toLowerCase() === code.toLowerCase())
    if (same) ctx.addIssue({ code: 'custom', path: [path], message: `Each outcome needs its own code: this is ${same[1]} again` })
  })
  const taskSeconds = d.tasksPerParticipant * d.timeLimitSeconds
  if (d.sessionTimeLimitSeconds !== null && d.sessionTimeLimitSeconds < taskSeconds) {
    ctx.addIssue({
      code: 'custom',
      path: ['sessionTimeLimitSeconds'],
      message: `Whole-session time limit must be at least the tasks' own limits (${d.tasksPerParticipant} × ${d.timeLimitSeconds} s = ${minutes(taskSeconds)} min)`,
    })
  }
}

const minutes = (seconds: number) => Number((seconds / 60).toFixed(1)).toString()

function checkPay(d: z.infer<typeof studyDesignObject>, ctx: z.RefinementCtx) {
  if (d.bonusCapCents !== null && d.bonusPerCorrectCents > 0 && d.bonusCapCents < d.bonusPerCorrectCents) {
    ctx.addIssue({
      code: 'custom',
      path: ['bonusCapCents'],
      message: `The bonus cap (${formatMoney(d.bonusCapCents, d.currency)}) is below the bonus per correct answer (${formatMoney(d.bonusPerCorrectCents, d.currency)}): nobody could earn even one`,
    })
  }
}

/** The plan's accuracies are the conditions' (by name), one for each. */
function checkPowerPlan(d: z.infer<typeof studyDesignObject>, ctx: z.RefinementCtx) {
  if (!d.powerPlan) return
  const names = new Set(d.conditions.map((c) => c.name))
  const strangers = Object.keys(d.powerPlan.accuracies).filter((n) => !names.has(n))
  const missing = [...names].filter((n) => !(n in d.powerPlan!.accuracies))
  if (strangers.length) ctx.addIssue({ code: 'custom', path: ['powerPlan', 'accuracies'], message: `Power plan: no condition is named ${strangers.map((n) => `"${n}"`).join(', ')}` })
  if (missing.length) ctx.addIssue({ code: 'custom', path: ['powerPlan', 'accuracies'], message: `Power plan: give an expected accuracy for ${missing.map((n) => `"${n}"`).join(', ')}` })
}

export const studyDesignSchema = studyDesignObject.superRefine(checkDesign)
export type StudyDesign = z.infer<typeof studyDesignSchema>
export type StudyDesignInput = z.input<typeof studyDesignSchema>

export const updateStudySchema = z.object({ id: z.string().min(1), design: studyDesignSchema })

/** The power panel's prefill: the chosen checkpoints' model-side handoff accuracy at the study's handoff rule. */
export const powerPrefillSchema = z.object({
  checkpointIds: z.array(z.string().min(1)).min(1, 'Choose a checkpoint').max(MAX_CONDITIONS, `At most ${MAX_CONDITIONS} checkpoints`),
  handoffRule: handoffRuleSchema,
})
export const studyIdSchema = z.object({ id: z.string().min(1, 'Give a study id') })

export const STUDY_STATUSES = ['DRAFT', 'GENERATING', 'OPEN', 'PAUSED', 'CLOSED'] as const
export const listStudiesSchema = z
  .object({ ...pageInput, status: z.enum(STUDY_STATUSES).optional(), search: z.string().trim().max(200).optional() })
  .default({ page: 1, pageSize: 20 })

export const dashboardSchema = z.object({ id: z.string().min(1), applyExclusions: z.boolean().default(true) })

export const participantsSchema = z.object({
  id: z.string().min(1),
  ...pageInput,
  filter: z.enum(['all', 'completed', 'excluded', 'in-progress']).default('all'),
  // how the session ended (participants.outcome); absent: any
  outcome: z.enum(OUTCOMES).optional(),
})

export const participantSessionSchema = z.object({ id: z.string().min(1), participantId: z.string().min(1) })

export const ID_MODES = ['raw', 'hashed'] as const
export type IdMode = (typeof ID_MODES)[number]
export const requestExportSchema = z.object({ id: z.string().min(1), idMode: z.enum(ID_MODES).default('hashed') })

/** A collaborator is named by the e-mail address of their account. */
export const addCollaboratorSchema = z.object({
  id: z.string().min(1),
  email: emailAddress(),
})
export type AddCollaboratorInput = z.input<typeof addCollaboratorSchema>
export const removeCollaboratorSchema = z.object({ id: z.string().min(1), userId: z.string().min(1, 'Name the collaborator to remove') })
