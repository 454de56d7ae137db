// Input schemas of the studies router, and the study design's JSON shapes (handoff rule, practice task, attention
// checks). Pure zod, no server imports: the designer form validates with the same schema.
import { z } from 'zod'

import { pageInput } from '../pagination'
import { requiredNumber, wholeNumber, emailAddress } from '../fields'

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

const urlParamName = z
  .string()
  .trim()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'URL parameter names are letters, digits and _ (e.g. PROLIFIC_PID)')

export const studyDesignObject = z.object({
  name: text('Name', 120),
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
  completionCode: z
    .string({ error: 'Completion code is required' })
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'Completion code: 1–64 letters, digits, _ or -'),
  redirectUrl: z
    .union([z.literal(''), z.url({ protocol: /^https?$/, error: 'Redirect URL must be an http(s) URL' })])
    .nullable()
    .optional()
    .transform((v) => (v ? v : null)),
  urlParams: z.array(urlParamName).max(10, 'At most 10 URL parameters').default([...PROLIFIC_PARAMS]),
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
}

export const studyDesignSchema = studyDesignObject.superRefine(checkDesign)
export type StudyDesign = z.infer<typeof studyDesignSchema>
export type StudyDesignInput = z.input<typeof studyDesignSchema>

export const updateStudySchema = z.object({ id: z.string().min(1), design: studyDesignSchema })
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
