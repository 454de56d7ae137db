import { z } from 'zod'

export const setDisabledSchema = z.object({ userId: z.string().min(1), disabled: z.boolean() })
