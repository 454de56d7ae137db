// Input schemas of the runs router. Pure zod, no server imports: the launch form validates with the same
// schema before it sends anything. Training fields use TandemConfig's names
// (workers/trainer/src/tandem/config.py), so an error names the config field the worker would reject.
import { z } from 'zod'

export const ALGORITHMS = ['TRL', 'GRPO'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

/** The junior's share of words in a TRL rollout unless the researcher changes it; GRPO is p_junior = 0. */
export const DEFAULT_P_JUNIOR = 0.5
export const DEFAULT_SAVE_STEPS = 10
export const DEFAULT_MAX_COMPLETION_LENGTH = 96

const requiredNumber = (label: string) =>
  z.number({ error: (issue) => (issue.input === undefined ? `${label} is required` : `${label} must be a number`) })

const wholeNumber = (label: string, min: number, max: number) =>
  requiredNumber(label)
    .int(`${label} must be a whole number`)
    .min(min, `${label} must be at least ${min}`)
    .max(max, `${label} must be at most ${max}`)

export const launchRunSchema = z
  .object({
    name: z.string({ error: 'Give the run a name' }).trim().min(1, 'Give the run a name').max(120, 'At most 120 characters'),
    algorithm: z.enum(ALGORITHMS, { error: 'Choose TRL or GRPO' }),
    baseModelId: z.string({ error: 'Choose a base model' }).min(1, 'Choose a base model'),
    datasetId: z.string({ error: 'Choose a dataset' }).min(1, 'Choose a dataset'),
    max_steps: wholeNumber('max_steps', 1, 100_000),
    num_generations: wholeNumber('num_generations', 2, 256),
    per_device_train_batch_size: wholeNumber('per_device_train_batch_size', 1, 4096),
    learning_rate: requiredNumber('learning_rate')
      .gt(0, 'learning_rate must be positive')
      .max(1, 'learning_rate must be at most 1'),
    seed: wholeNumber('seed', 0, 2_147_483_647),
    p_junior: requiredNumber('p_junior').min(0, 'p_junior must be between 0 and 1').max(1, 'p_junior must be between 0 and 1').optional(),
    save_steps: wholeNumber('save_steps', 1, 100_000).optional(),
    max_completion_length: wholeNumber('max_completion_length', 1, 32_768).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.per_device_train_batch_size % v.num_generations !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['per_device_train_batch_size'],
        message: `per_device_train_batch_size must be a multiple of num_generations (${v.num_generations})`,
      })
    }
    if (v.algorithm === 'TRL' && v.p_junior === 0) {
      ctx.addIssue({ code: 'custom', path: ['p_junior'], message: 'TRL needs p_junior above 0 (p_junior 0 is GRPO)' })
    }
    if (v.algorithm === 'GRPO' && v.p_junior !== undefined && v.p_junior !== 0) {
      ctx.addIssue({ code: 'custom', path: ['p_junior'], message: 'GRPO runs have p_junior 0' })
    }
  })

export type LaunchRunInput = z.input<typeof launchRunSchema>

/** The TandemConfig fields a launched run stores in training_runs.config (the worker adds paths and seed). */
export function toTandemConfig(input: z.output<typeof launchRunSchema>) {
  return {
    num_generations: input.num_generations,
    per_device_train_batch_size: input.per_device_train_batch_size,
    max_steps: input.max_steps,
    learning_rate: input.learning_rate,
    p_junior: input.algorithm === 'GRPO' ? 0 : (input.p_junior ?? DEFAULT_P_JUNIOR),
    save_steps: input.save_steps ?? DEFAULT_SAVE_STEPS,
    max_completion_length: input.max_completion_length ?? DEFAULT_MAX_COMPLETION_LENGTH,
    seed: input.seed,
  }
}

export const listRunsSchema = z
  .object({
    page: z.number().int().min(1).default(1),
    pageSize: z.number().int().min(1).max(100).default(20),
  })
  .default({ page: 1, pageSize: 20 })

export const runIdSchema = z.object({ id: z.string().min(1) })
