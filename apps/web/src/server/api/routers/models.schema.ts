// Input schemas of the models router. Pure zod, no server imports: the register form validates with the
// same schema before it sends anything.
import { z } from 'zod'

import { pageInput } from '../pagination'

export const registerModelSchema = z.object({
  name: z
    .string({ error: 'Give the model a name' })
    .trim()
    .min(1, 'Give the model a name')
    .max(120, 'At most 120 characters'),
  // the worker loads the model from this directory on its own file system, so only it can say whether the
  // directory exists; the web app checks the form of the path
  path: z
    .string({ error: 'Give the model directory’s path' })
    .trim()
    .min(1, 'Give the model directory’s path')
    .max(1024, 'At most 1024 characters')
    .refine((value) => value.startsWith('/'), 'Must be an absolute path (starting with /) on the workers’ file system')
    .refine((value) => !value.includes('\0'), 'Must not contain NUL characters'),
})

export type RegisterModelInput = z.input<typeof registerModelSchema>

export const listModelsSchema = z.object(pageInput).default({ page: 1, pageSize: 20 })

export const modelIdSchema = z.object({ id: z.string().min(1) })

/** pending until the worker's VALIDATE_MODEL job has run; then valid or invalid. */
export type ModelStatus = 'pending' | 'valid' | 'invalid'

export function modelStatus(model: { validatedAt: Date | null; validationError: string | null }): ModelStatus {
  if (model.validationError) return 'invalid'
  return model.validatedAt ? 'valid' : 'pending'
}
