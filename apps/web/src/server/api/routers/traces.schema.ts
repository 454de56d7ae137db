// Input schemas of the traces router. Pure zod, no server imports: the generate form validates with the same schema.
// Generation fields are the GENERATE_TRACES payload's (workers/trainer/src/tandem/runner/handlers.py).
import { z } from 'zod'

import { pageInput } from '../pagination'
import { requiredNumber, wholeNumber } from '../fields'

export const VERDICTS = ['CORRECT', 'INCORRECT', 'UNPARSEABLE'] as const

/** Problems per GENERATE_TRACES job: one batch of rollouts, small enough to wait for in the browser. */
export const MAX_GENERATE_PROBLEMS = 64

export const GENERATE_DEFAULTS = { count: 4, seed: 0, temperature: 1, maxNewTokens: 96, pJunior: 0 }

export const listTracesSchema = z
  .object({
    ...pageInput,
    checkpointId: z.string().min(1).optional(),
    evaluationRunId: z.string().min(1).optional(),
    /** Part of the problem's text (case-insensitive). */
    search: z.string().trim().max(200, 'At most 200 characters').optional(),
    verdict: z.enum(VERDICTS).optional(),
  })
  .default({ page: 1, pageSize: 20 })

export const traceIdSchema = z.object({ id: z.string().min(1, 'Give a trace id') })

export const generateTracesSchema = z
  .object({
    checkpointId: z.string({ error: 'Choose a checkpoint' }).min(1, 'Choose a checkpoint'),
    /** Either these problems … */
    problemIds: z
      .array(z.string().min(1))
      .min(1, 'Give at least one problem')
      .max(MAX_GENERATE_PROBLEMS, `At most ${MAX_GENERATE_PROBLEMS} problems per job`)
      .refine((ids) => new Set(ids).size === ids.length, 'A problem is listed twice')
      .optional(),
    /** … or the first `count` problems of this dataset (by external id). */
    datasetId: z.string().min(1, 'Choose a dataset').optional(),
    count: wholeNumber('count', 1, MAX_GENERATE_PROBLEMS).optional(),
    seed: wholeNumber('seed', 0, 2_147_483_647),
    temperature: requiredNumber('temperature').min(0, 'temperature must be at least 0').max(10, 'temperature must be at most 10'),
    maxNewTokens: wholeNumber('maxNewTokens', 1, 4096),
    pJunior: requiredNumber('pJunior').min(0, 'pJunior must be between 0 and 1').max(1, 'pJunior must be between 0 and 1'),
  })
  .superRefine((v, ctx) => {
    if (v.problemIds && (v.datasetId || v.count !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['problemIds'], message: 'Give either problemIds or a dataset and a count, not both' })
    } else if (!v.problemIds) {
      if (!v.datasetId) ctx.addIssue({ code: 'custom', path: ['datasetId'], message: 'Choose a dataset' })
      if (v.count === undefined) ctx.addIssue({ code: 'custom', path: ['count'], message: 'count is required' })
    }
  })

export type GenerateTracesInput = z.input<typeof generateTracesSchema>

export const traceJobSchema = z.object({ jobId: z.string().min(1, 'Give a job id') })
