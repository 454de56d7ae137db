// Input schemas of the evaluations router. Pure zod, no server imports: the launch form validates with the same
// schema. Settings use the field names, defaults and rules of tandem.evaluate.EvalSettings
// (workers/trainer/src/tandem/evaluate.py), so an error names the setting the worker would reject; the worker
// validates again.
import evalPresetsJson from '@tandem/config/eval-presets.json'
import { z } from 'zod'

import { pageInput } from '../pagination'
import { requiredNumber, wholeNumber } from '../fields'

export const SUITES = ['solo', 'tandem', 'handoff', 'drift', 'legibility'] as const
export type Suite = (typeof SUITES)[number]

export const SUITE_HELP: Record<Suite, string> = {
  solo: 'The senior alone: mean@k and pass@k.',
  tandem: 'Senior and junior co-write word by word at p_junior.',
  handoff: 'Authorship by reasoning step: alternating, and the senior writing the first k steps (a curve).',
  drift: 'Mean per-token KL(senior ‖ junior) on the senior’s own samples, and its histogram.',
  legibility: 'The junior’s log-prob and perplexity of the senior’s tokens; per-word surprisal of examples.',
}

/** How many checkpoints one launch may evaluate (one evaluation run and one job each). */
export const MAX_LAUNCH_CHECKPOINTS = 8
export const MAX_COMPARE = 8

/** EvalSettings' defaults (evaluate.py). */
export const EVAL_DEFAULTS = {
  k: 4,
  p_junior: 0.5,
  temperature: 1.0,
  top_p: 1.0,
  top_k: 0,
  max_new_tokens: 96,
  seed: 0,
  n_problems: null as number | null,
  handoff_points: [0, 1, 2, 3, 4, 5, 6],
  handoff_fractions: [0.25, 0.5, 0.75],
  displacement_threshold: 0.5,
  batch_size: 16,
  chunk_tokens: 256,
  n_examples: 3,
  n_boot: 2000,
  bf16: null as boolean | null,
}

/** The trainer's named evaluation presets (evaluate.PRESETS, generated into @tandem/config/eval-presets.json). */
export const EVAL_PRESETS = evalPresetsJson as Record<string, Partial<Record<keyof typeof EVAL_DEFAULTS, number>>>

/** The settings a preset sets; a preset field the form does not know is an error, not silently dropped. */
export function evalPresetValues(name: string): Partial<Record<keyof typeof EVAL_DEFAULTS, number>> {
  const preset = EVAL_PRESETS[name]
  if (!preset) throw new Error(`unknown evaluation preset ${name}`)
  for (const key of Object.keys(preset)) {
    if (!(key in EVAL_DEFAULTS)) throw new Error(`evaluation preset ${name}: ${key} is not an evaluation setting`)
  }
  return preset
}

/** A list of numbers, given as an array or (from a text field) as "0, 1, 2"; a bad entry is named in the message. */
function numberList(label: string, rule: { integer: boolean; min: number; max: number }, maxItems: number) {
  const kind = rule.integer ? 'whole numbers' : 'numbers'
  return z.preprocess(
    (value) => (typeof value === 'string' ? (value.trim() === '' ? [] : value.split(',').map((part) => part.trim())) : value),
    z
      .array(z.unknown(), { error: `${label} must be a list of ${kind}` })
      .min(1, `${label} needs at least one value`)
      .max(maxItems, `${label} takes at most ${maxItems} values`)
      .transform((items, ctx) => {
        const numbers: number[] = []
        for (const item of items) {
          const n = typeof item === 'number' ? item : typeof item === 'string' && item !== '' ? Number(item) : Number.NaN
          if (!Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || n < rule.min || n > rule.max) {
            ctx.addIssue({
              code: 'custom',
              message: `${label} must be ${kind} between ${rule.min} and ${rule.max}; "${String(item)}" is not`,
            })
            return z.NEVER
          }
          numbers.push(n)
        }
        return numbers
      }),
  )
}

export const evalSettingsSchema = z.object({
  k: wholeNumber('k', 1, 64),
  p_junior: requiredNumber('p_junior').min(0, 'p_junior must be between 0 and 1').max(1, 'p_junior must be between 0 and 1'),
  temperature: requiredNumber('temperature').min(0, 'temperature must be at least 0').max(10, 'temperature must be at most 10'),
  // optional with EvalSettings' defaults: callers from before these settings existed keep working
  top_p: requiredNumber('top_p').gt(0, 'top_p must be above 0').max(1, 'top_p must be at most 1').default(EVAL_DEFAULTS.top_p),
  top_k: wholeNumber('top_k', 0, 100_000).default(EVAL_DEFAULTS.top_k),
  max_new_tokens: wholeNumber('max_new_tokens', 1, 32_768),
  seed: wholeNumber('seed', 0, 2_147_483_647),
  /** Evaluate only the first n problems (by external id); null = all. */
  n_problems: wholeNumber('n_problems', 1, 1_000_000).nullable(),
  handoff_points: numberList('handoff_points', { integer: true, min: 0, max: 1000 }, 32),
  handoff_fractions: numberList('handoff_fractions', { integer: false, min: 0, max: 1 }, 32),
  displacement_threshold: requiredNumber('displacement_threshold').gt(0, 'displacement_threshold must be positive').max(100, 'displacement_threshold must be at most 100'),
  batch_size: wholeNumber('batch_size', 1, 4096),
  chunk_tokens: wholeNumber('chunk_tokens', 1, 65_536),
  n_examples: wholeNumber('n_examples', 0, 100),
  n_boot: wholeNumber('n_boot', 1, 100_000),
  bf16: z.boolean({ error: 'bf16 must be on, off or automatic' }).nullable(),
})

export type EvalSettingsInput = z.input<typeof evalSettingsSchema>
export type EvalSettings = z.output<typeof evalSettingsSchema>

const id = (what: string) => z.string({ error: `Choose ${what}` }).min(1, `Choose ${what}`)

export const launchEvaluationSchema = z.object({
  checkpointIds: z
    .array(z.string().min(1), { error: 'Choose at least one checkpoint' })
    .min(1, 'Choose at least one checkpoint')
    .max(MAX_LAUNCH_CHECKPOINTS, `At most ${MAX_LAUNCH_CHECKPOINTS} checkpoints per launch`)
    .refine((ids) => new Set(ids).size === ids.length, 'A checkpoint is listed twice'),
  /** Null: the junior of the checkpoint's run (or its base model), as the worker resolves it. */
  juniorCheckpointId: z.string().min(1).nullable().optional(),
  suites: z
    .array(z.enum(SUITES, { error: `Suites are ${SUITES.join(', ')}` }), { error: 'Choose at least one suite' })
    .min(1, 'Choose at least one suite')
    .refine((suites) => new Set(suites).size === suites.length, 'A suite is listed twice'),
  datasetId: id('a dataset'),
  settings: evalSettingsSchema,
})

export type LaunchEvaluationInput = z.input<typeof launchEvaluationSchema>

export const evaluableCheckpointsSchema = z
  .object({
    ...pageInput,
    /** Matches the run's or the base model's name (case-insensitive). */
    search: z.string().trim().max(200).optional(),
    /** Exactly these checkpoints (e.g. the ones preselected from a link). */
    ids: z.array(z.string().min(1)).max(50).optional(),
  })
  .default({ page: 1, pageSize: 20 })

export const listEvaluationsSchema = z
  .object({
    ...pageInput,
    checkpointId: z.string().min(1).optional(),
    status: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']).optional(),
  })
  .default({ page: 1, pageSize: 20 })

export const evaluationIdSchema = z.object({ id: z.string().min(1, 'Give an evaluation id') })

export const compareEvaluationsSchema = z.object({
  ids: z
    .array(z.string().min(1), { error: 'Give the evaluations to compare' })
    .min(2, 'Compare at least two evaluations')
    .max(MAX_COMPARE, `Compare at most ${MAX_COMPARE} evaluations`)
    .refine((ids) => new Set(ids).size === ids.length, 'An evaluation is listed twice'),
})
