// Input schemas of the experiments router. Pure zod, no server imports: the new-experiment form validates with the
// same schema before it sends anything. An experiment is arms × seeds from one base and one budget; the budget is
// the run launch form's TandemConfig fields (runs.schema.ts, from @tandem/config) without `seed` (each run gets one
// of the experiment's seeds), and the evaluation is the evaluation launch form's suites and EvalSettings
// (evaluations.schema.ts). An error names the field the way the form names it: `config.max_steps`, `arms.1.name`,
// `seeds`, `evaluation.settings.k`.
import { z } from 'zod'

import { EVAL_DEFAULTS, SUITES, evalSettingsSchema } from './evaluations.schema'
import { CONFIG_FIELDS, CONFIG_SHAPE, checkConfigRules, type ConfigValues } from './runs.schema'

export const ARM_ALGORITHMS = ['GRPO', 'TANDEM'] as const
export type ArmAlgorithm = (typeof ARM_ALGORITHMS)[number]

export const MAX_ARMS = 8
export const MAX_SEEDS = 10
export const DEFAULT_SEEDS = [0, 1, 2]

/** The config fields an arm may set for itself; everything else is the shared budget. */
export const ARM_OVERRIDE_FIELDS = ['p_junior', 'handoff_rule', 'junior_token_weight'] as const

const HANDOFF_RULES = (CONFIG_FIELDS.find((f) => f.name === 'handoff_rule')?.choices ?? ['paper']) as [string, ...string[]]

/** A blank form input (NaN from an empty number box, '' from a select) means "the budget's value". */
const blankToUndefined = (v: unknown) => (v === '' || v === null || (typeof v === 'number' && Number.isNaN(v)) ? undefined : v)

const armSchema = z
  .object({
    // arm names become folder names in the archive (runs/<arm>-s<seed>) and labels in the charts
    name: z
      .string({ error: 'Give the arm a name' })
      .trim()
      .min(1, 'Give the arm a name')
      .max(40, 'An arm name has at most 40 characters')
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'An arm name is letters, digits, -, _ and . (it names files in the archive)'),
    algorithm: z.enum(ARM_ALGORITHMS, { error: 'An arm is GRPO or TANDEM' }),
    overrides: z
      .object({
        p_junior: z.preprocess(
          blankToUndefined,
          z.number({ error: 'p_junior must be a number' }).min(0, 'p_junior must be between 0 and 1').max(1, 'p_junior must be between 0 and 1').optional(),
        ),
        handoff_rule: z.preprocess(blankToUndefined, z.enum(HANDOFF_RULES, { error: `handoff_rule must be one of ${HANDOFF_RULES.join(', ')}` }).optional()),
        junior_token_weight: z.preprocess(
          blankToUndefined,
          z.number({ error: 'junior_token_weight must be a number' }).min(0, 'junior_token_weight must be between 0 and 1').max(1, 'junior_token_weight must be between 0 and 1').optional(),
        ),
      })
      .default({}),
  })
  .superRefine((arm, ctx) => {
    // the same rule as a single run: GRPO is p_junior 0, a tandem arm needs a junior that writes something
    if (arm.algorithm === 'GRPO' && arm.overrides.p_junior !== undefined && arm.overrides.p_junior !== 0) {
      ctx.addIssue({ code: 'custom', path: ['overrides', 'p_junior'], message: 'A GRPO arm has p_junior 0' })
    }
    if (arm.algorithm === 'TANDEM' && arm.overrides.p_junior === 0) {
      ctx.addIssue({ code: 'custom', path: ['overrides', 'p_junior'], message: 'A TANDEM arm needs p_junior above 0 (p_junior 0 is GRPO)' })
    }
  })

export type Arm = z.output<typeof armSchema>

/** The shared budget: every launch config field but `seed` (the experiment's seeds give each run its own). */
const { seed: _seedField, ...budgetShape } = CONFIG_SHAPE
const budgetSchema = z.object(budgetShape, { error: 'Give the budget (config)' }).superRefine((value, ctx) => checkConfigRules(value as ConfigValues, ctx))

const seedsSchema = z
  .array(z.number({ error: 'A seed must be a number' }).int('A seed must be a whole number').min(0, 'A seed must be at least 0').max(2_147_483_647, 'A seed must be at most 2147483647'), {
    error: 'seeds must be a list of whole numbers',
  })
  .min(1, 'Give at least one seed')
  .max(MAX_SEEDS, `At most ${MAX_SEEDS} seeds`)
  .refine((seeds) => new Set(seeds).size === seeds.length, 'A seed is listed twice')

const evaluationSchema = z.object({
  suites: z
    .array(z.enum(SUITES, { error: `Suites are ${SUITES.join(', ')}` }), { error: 'Choose at least one suite' })
    .min(1, 'Choose at least one suite')
    .refine((suites) => new Set(suites).size === suites.length, 'A suite is listed twice')
    .refine((suites) => suites.includes('solo'), 'The solo suite is needed: held-out accuracy and solo parity are read from it'),
  settings: evalSettingsSchema,
})

const id = (message: string) => z.string({ error: message }).min(1, message)

const experimentDesign = z.object({
  name: z.string({ error: 'Give the experiment a name' }).trim().min(1, 'Give the experiment a name').max(120, 'At most 120 characters'),
  baseModelId: id('Choose a base model'),
  /** Absent: self-paired, a frozen copy of the base (the paper's runs). */
  juniorModelId: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().min(1).optional()),
  datasetId: id('Choose a training dataset'),
  evalDatasetId: id('Choose a held-out dataset'),
  config: budgetSchema,
  arms: z
    .array(armSchema, { error: 'Give the arms' })
    .min(1, 'Give at least one arm')
    .max(MAX_ARMS, `At most ${MAX_ARMS} arms`)
    .superRefine((arms, ctx) => {
      const seen = new Set<string>()
      arms.forEach((arm, i) => {
        if (seen.has(arm.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `Arm name ${arm.name} is used twice` })
        seen.add(arm.name)
      })
      // every claim compares against GRPO: without a GRPO arm there is nothing to compare with
      if (!arms.some((arm) => arm.algorithm === 'GRPO')) ctx.addIssue({ code: 'custom', message: 'Add a GRPO arm: every claim is measured against GRPO' })
    }),
  seeds: seedsSchema.default(DEFAULT_SEEDS),
  evaluation: evaluationSchema,
  /** Set by the form when it was prefilled by `clone`. */
  clonedFromId: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().min(1).optional()),
})

type DesignOutput = Omit<z.output<typeof experimentDesign>, 'config'> & { config: ConfigValues }
export type ExperimentDesignInput = z.input<typeof experimentDesign>
export const createExperimentSchema = experimentDesign as unknown as z.ZodType<DesignOutput, ExperimentDesignInput>
export type ExperimentDesign = DesignOutput

export const experimentIdSchema = z.object({ id: z.string().min(1, 'Give an experiment id') })

export const experimentCurvesSchema = z.object({ id: z.string().min(1, 'Give an experiment id') })

/** Total runs of a design: one per arm and seed. */
export const runCount = (design: { arms: unknown[]; seeds: unknown[] }) => design.arms.length * design.seeds.length

/** The run config of one arm and seed: the budget, the arm's overrides, the seed; GRPO writes alone. */
export function armRunConfig(budget: ConfigValues, arm: Arm, seed: number): Record<string, number | string | boolean | null> {
  const config: Record<string, number | string | boolean | null> = {}
  for (const f of CONFIG_FIELDS) config[f.name] = budget[f.name] ?? f.default
  for (const key of ARM_OVERRIDE_FIELDS) {
    const value = arm.overrides[key]
    if (value !== undefined) config[key] = value
  }
  if (arm.algorithm === 'GRPO') config.p_junior = 0
  config.seed = seed
  return config
}

/** The arms the form starts with: the paper's comparison, GRPO against TRL at the trainer's default p_junior. */
export const DEFAULT_ARMS: Arm[] = [
  { name: 'grpo', algorithm: 'GRPO', overrides: {} },
  { name: 'tandem', algorithm: 'TANDEM', overrides: {} },
]

export const DEFAULT_EVALUATION = {
  suites: ['solo', 'handoff', 'drift', 'legibility'] as (typeof SUITES)[number][],
  settings: { ...EVAL_DEFAULTS },
}
