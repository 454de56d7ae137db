// Input schemas of the runs router. Pure zod, no server imports: the launch form validates with the same
// schemas before it sends anything. The training fields are TandemConfig's own
// (workers/trainer/src/tandem/config.py), read from the spec the trainer generates (@tandem/config), so the
// form shows every field with the trainer's default, unit and help, and an error names the field the worker
// would reject. The worker validates the stored config again before it trains.
import fieldsJson from '@tandem/config/fields.json'
import { z } from 'zod'

import { pageInput } from '../pagination'

export const ALGORITHMS = ['TRL', 'GRPO'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

export interface ConfigField {
  name: string
  type: 'int' | 'float' | 'str' | 'bool'
  nullable: boolean
  default: number | string | boolean | null
  help: string
  group: 'model' | 'data' | 'grpo' | 'tandem' | 'generation' | 'runtime'
  unit: string | null
  minimum: number | null
  maximum: number | null
  above: number | null
  choices: string[] | null
  launch: boolean
}

/** Every TandemConfig field the researcher sets at launch, in the trainer's order. */
export const CONFIG_FIELDS = (fieldsJson as ConfigField[]).filter((f) => f.launch)

export const CONFIG_GROUPS = [
  { id: 'grpo', title: 'GRPO', description: 'Group-relative policy optimisation, with HF TRL’s GRPOConfig names.' },
  { id: 'tandem', title: 'Tandem', description: 'Who writes each word. p_junior = 0 is vanilla GRPO.' },
  { id: 'generation', title: 'Generation', description: 'How rollouts are sampled.' },
  { id: 'runtime', title: 'Runtime', description: 'Seed, checkpoints, logging and hardware.' },
] as const

/** Fields a launch must state; the others default to the trainer's defaults. */
const REQUIRED = new Set(['max_steps', 'num_generations', 'per_device_train_batch_size', 'learning_rate', 'seed'])

const fieldByName = new Map(CONFIG_FIELDS.map((f) => [f.name, f]))
export const configDefault = (name: string) => fieldByName.get(name)?.default ?? null

/** A blank form input (NaN from an empty number box, '' from a select) means "not given". */
const blank = (v: unknown) => v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v))

function fieldSchema(f: ConfigField): z.ZodType {
  const label = f.name
  let schema: z.ZodType
  if (f.choices) {
    schema = z.enum(f.choices as [string, ...string[]], { error: `${label} must be one of ${f.choices.join(', ')}` })
  } else if (f.type === 'bool') {
    schema = z.boolean({ error: `${label} must be true or false` })
  } else if (f.type === 'str') {
    schema = z.string({ error: `${label} must be text` })
  } else {
    let n = z.number({ error: (issue) => (issue.input === undefined ? `${label} is required` : `${label} must be a number`) })
    if (f.type === 'int') n = n.int(`${label} must be a whole number`)
    if (f.above !== null) n = n.gt(f.above, f.above === 0 ? `${label} must be positive` : `${label} must be above ${f.above}`)
    if (f.minimum !== null && f.maximum !== null && f.type === 'float') {
      const msg = `${label} must be between ${f.minimum} and ${f.maximum}`
      n = n.min(f.minimum, msg).max(f.maximum, msg)
    } else {
      if (f.minimum !== null) n = n.min(f.minimum, `${label} must be at least ${f.minimum}`)
      if (f.maximum !== null) n = n.max(f.maximum, `${label} must be at most ${f.maximum}`)
    }
    schema = n
  }
  if (f.nullable) return z.preprocess((v) => (blank(v) || v === 'auto' ? null : v), schema.nullable())
  if (REQUIRED.has(f.name)) return z.preprocess((v) => (blank(v) ? undefined : v), schema)
  return z.preprocess((v) => (blank(v) ? undefined : v), schema.optional())
}

const configShape = Object.fromEntries(CONFIG_FIELDS.map((f) => [f.name, fieldSchema(f)])) as Record<string, z.ZodType>

const optionalId = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().min(1).optional())

/** Everything but the algorithm: what a single launch and a launched pair share. */
const runBase = z.object({
  name: z.string({ error: 'Give the run a name' }).trim().min(1, 'Give the run a name').max(120, 'At most 120 characters'),
  baseModelId: z.string({ error: 'Choose a base model' }).min(1, 'Choose a base model'),
  juniorModelId: optionalId,
  datasetId: z.string({ error: 'Choose a dataset' }).min(1, 'Choose a dataset'),
  ...configShape,
})

/** The config fields' values, keyed by TandemConfig field name (the shape is built at run time from the spec). */
export type ConfigValues = Record<string, number | string | boolean | null | undefined>

type Issues = { addIssue: (issue: { code: 'custom'; path: string[]; message: string }) => void }

function checkBatch(v: Record<string, unknown>, ctx: Issues) {
  const batch = v.per_device_train_batch_size
  const group = v.num_generations
  if (typeof batch === 'number' && typeof group === 'number' && group > 0 && batch % group !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['per_device_train_batch_size'],
      message: `per_device_train_batch_size must be a multiple of num_generations (${group})`,
    })
  }
  const rule = typeof v.handoff_rule === 'string' ? v.handoff_rule : configDefault('handoff_rule')
  if (v.handoff_granularity === 'step' && rule !== 'whole_word') {
    ctx.addIssue({
      code: 'custom',
      path: ['handoff_granularity'],
      message: `handoff_granularity step applies to handoff_rule whole_word only (got ${String(rule)})`,
    })
  }
  const eps = typeof v.epsilon === 'number' ? v.epsilon : (configDefault('epsilon') as number)
  if (typeof v.epsilon_high === 'number' && v.epsilon_high < eps) {
    ctx.addIssue({ code: 'custom', path: ['epsilon_high'], message: `epsilon_high must be at least epsilon (${eps})` })
  }
}

const launchRun = runBase
  .extend({ algorithm: z.enum(ALGORITHMS, { error: 'Choose TRL or GRPO' }) })
  .superRefine((value, ctx) => {
    const v = value as ConfigValues & { algorithm: Algorithm }
    checkBatch(v, ctx)
    if (v.algorithm === 'TRL' && v.p_junior === 0) {
      ctx.addIssue({ code: 'custom', path: ['p_junior'], message: 'TRL needs p_junior above 0 (p_junior 0 is GRPO)' })
    }
    if (v.algorithm === 'GRPO' && v.p_junior !== undefined && v.p_junior !== 0) {
      ctx.addIssue({ code: 'custom', path: ['p_junior'], message: 'GRPO runs have p_junior 0' })
    }
  })

/** A TRL run and a GRPO run from the same base, seed and budget; p_junior is the TRL run's. */
const launchPair = runBase.superRefine((value, ctx) => {
  const v = value as ConfigValues
  checkBatch(v, ctx)
  if (v.p_junior === 0) {
    ctx.addIssue({ code: 'custom', path: ['p_junior'], message: 'The TRL run of a pair needs p_junior above 0' })
  }
})

// The config fields' keys come from the spec at run time, so their static types are stated here.
type RunBaseOutput = z.output<typeof runBase> & ConfigValues
export type LaunchRunInput = z.input<typeof launchRun> & ConfigValues
export type LaunchPairInput = z.input<typeof launchPair> & ConfigValues
export const launchRunSchema = launchRun as unknown as z.ZodType<RunBaseOutput & { algorithm: Algorithm }, LaunchRunInput>
export const launchPairSchema = launchPair as unknown as z.ZodType<RunBaseOutput, LaunchPairInput>

/** The full TandemConfig a launched run stores in training_runs.config (the worker adds paths and the dataset). */
export function toTandemConfig(input: RunBaseOutput, algorithm: Algorithm): Record<string, number | string | boolean | null> {
  const values = input as unknown as ConfigValues
  const config: Record<string, number | string | boolean | null> = {}
  for (const f of CONFIG_FIELDS) config[f.name] = values[f.name] ?? f.default
  if (algorithm === 'GRPO') config.p_junior = 0
  return config
}

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

/** A page of runs, newest first; `search` finds a name (any case, any part) or an exact id. */
export const listRunsSchema = z
  .object({
    ...pageInput,
    // a blank search box is no search
    search: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
      z.string({ error: 'search must be text' }).trim().max(200, 'search takes at most 200 characters').optional(),
    ),
    status: z.enum(RUN_STATUSES, { error: `status must be one of ${RUN_STATUSES.join(', ')}` }).optional(),
    algorithm: z.enum(ALGORITHMS, { error: `algorithm must be one of ${ALGORITHMS.join(', ')}` }).optional(),
  })
  .default({ page: 1, pageSize: 20 })

/** How many runs one compare page overlays (each a colour of charts/palette.ts). */
export const MAX_COMPARE_RUNS = 8

export const compareRunsSchema = z.object({
  ids: z
    .array(z.string().min(1, 'A run id is empty'), { error: 'Give the runs to compare' })
    .min(2, 'Compare at least two runs')
    .max(MAX_COMPARE_RUNS, `Compare at most ${MAX_COMPARE_RUNS} runs`)
    .refine((ids) => new Set(ids).size === ids.length, 'A run is listed twice'),
})

export const runIdSchema = z.object({ id: z.string().min(1) })

/** A checkpoint to export to ONNX (for live study conditions and workers/live). */
export const exportOnnxSchema = z.object({ checkpointId: z.string().min(1).max(100) })

export const runMetricsSchema = z.object({
  id: z.string().min(1),
  /** Only rows after this step: the run page polls for what is new. */
  afterStep: z.number().int().min(0).default(0),
})

export const runLogsSchema = z.object({
  id: z.string().min(1),
  /** Only lines after this log id (a string: job_logs ids are bigints). */
  after: z.string().regex(/^\d+$/, 'after must be a log line id').optional(),
  limit: z.number().int().min(1).max(500).default(200),
})

/** The config fields' schemas by name, and their cross-field rules: an experiment's shared budget reuses both. */
export const CONFIG_SHAPE = configShape
export const checkConfigRules = checkBatch

/** Which of a step's rollout samples to show: correct = verdict CORRECT; incorrect = any other verdict (incorrect or
 * unparseable: reward 0); zeroSignal = samples of groups whose rewards were all equal (no gradient). */
export const ROLLOUT_FILTERS = ['all', 'correct', 'incorrect', 'zeroSignal'] as const

export const runRolloutsSchema = z.object({
  id: z.string().min(1),
  /** The step to show; absent: the newest step with samples; a step without samples: the nearest one that has. */
  step: z.number().int().min(0).optional(),
  filter: z.enum(ROLLOUT_FILTERS).default('all'),
  page: z.number().int().min(1).default(1),
  /** Samples per page: a step holds up to rollout_log_groups x num_generations of them (16 x 256 at most). */
  pageSize: z.number().int().min(1).max(64).default(32),
})
