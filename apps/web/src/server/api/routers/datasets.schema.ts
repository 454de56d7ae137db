// Input schemas of the datasets router. Pure zod, no server imports: the upload and generate forms validate
// with the same rules before anything is sent (the upload form checks the File it holds with the same
// name, extension and size rules the procedure applies to the base64 it receives).
import { z } from 'zod'

import { pageInput } from '../pagination'
import { wholeNumber } from '../fields'

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024
export const UPLOAD_FORMATS = { jsonl: '.jsonl', csv: '.csv', parquet: '.parquet' } as const
export type UploadFormat = keyof typeof UPLOAD_FORMATS
const ACCEPTED = Object.values(UPLOAD_FORMATS).join(', ')
/** For <input type="file" accept>. */
export const UPLOAD_ACCEPT = Object.values(UPLOAD_FORMATS).join(',')

/** The format a file name's extension stands for, or null. */
export function uploadFormatOf(filename: string): UploadFormat | null {
  const match = /\.([A-Za-z0-9]+)$/.exec(filename.trim())
  const extension = match?.[1]?.toLowerCase()
  return extension && extension in UPLOAD_FORMATS ? (extension as UploadFormat) : null
}

/** Rounded up, so a file just over the limit never reads as the limit itself. */
function megabytes(bytes: number): string {
  return `${(Math.ceil((bytes / (1024 * 1024)) * 10) / 10).toFixed(1)} MB`
}

/** Decoded size of a base64 string, without decoding it. */
export function base64DecodedBytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0
  return Math.floor((base64.length * 3) / 4) - padding
}

export const datasetNameSchema = z
  .string({ error: 'Give the dataset a name' })
  .trim()
  .min(1, 'Give the dataset a name')
  .max(120, 'At most 120 characters')

const filenameSchema = z
  .string({ error: 'Choose a file' })
  .min(1, 'Choose a file')
  .max(255, 'The file name is longer than 255 characters')
  .refine((name) => uploadFormatOf(name) !== null, {
    error: (issue) => `“${String(issue.input)}” is not a dataset file: accepted types are ${ACCEPTED}`,
  })

/** A size check both sides share: the message names the size and the limit. */
function checkSize(bytes: number, ctx: z.RefinementCtx) {
  if (bytes === 0) ctx.addIssue({ code: 'custom', message: 'The file is empty' })
  else if (bytes > MAX_UPLOAD_BYTES) {
    ctx.addIssue({ code: 'custom', message: `The file is ${megabytes(bytes)}; the limit is ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB` })
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** datasets.importFile: the file's bytes as base64 (the browser reads the file and encodes it). */
export const importFileSchema = z.object({
  name: datasetNameSchema,
  filename: filenameSchema,
  content: z.string({ error: 'The file’s content is missing' }).superRefine((content, ctx) => {
    const bytes = base64DecodedBytes(content)
    checkSize(bytes, ctx)
    // only a payload within the limit is scanned
    if (bytes > 0 && bytes <= MAX_UPLOAD_BYTES && (content.length % 4 !== 0 || !BASE64.test(content))) {
      ctx.addIssue({ code: 'custom', message: 'The file’s content is not valid base64' })
    }
  }),
})

export type ImportFileInput = z.input<typeof importFileSchema>

/** What the upload form holds before it encodes the file: the same name, file type and size rules. */
export const uploadFormSchema = z.object({
  name: datasetNameSchema,
  file: z
    .custom<File>((value) => typeof value === 'object' && value !== null && 'size' in value && 'name' in value, {
      error: 'Choose a file',
    })
    .superRefine((file, ctx) => {
      const named = filenameSchema.safeParse(file.name)
      if (!named.success) for (const issue of named.error.issues) ctx.addIssue({ code: 'custom', message: issue.message })
      else checkSize(file.size, ctx)
    }),
})

export type UploadFormInput = z.input<typeof uploadFormSchema>

/** The demo generator's multi-step arithmetic word problems (tandem.data.generate_problems). */
export const generateDatasetSchema = z
  .object({
    name: datasetNameSchema,
    n: wholeNumber('Number of problems', 1, 10_000),
    seed: wholeNumber('Seed', 0, 2_147_483_647),
    minSteps: wholeNumber('Fewest steps', 1, 6),
    maxSteps: wholeNumber('Most steps', 1, 6),
  })
  .superRefine((value, ctx) => {
    if (value.maxSteps < value.minSteps) {
      ctx.addIssue({ code: 'custom', path: ['maxSteps'], message: 'Most steps must be at least the fewest steps' })
    }
  })

export type GenerateDatasetInput = z.input<typeof generateDatasetSchema>

export const listDatasetsSchema = z.object(pageInput).default({ page: 1, pageSize: 20 })

export const datasetIdSchema = z.object({ id: z.string().min(1) })

export const datasetProblemsSchema = z.object({ datasetId: z.string().min(1), ...pageInput })

export const uploadIdSchema = z.object({ id: z.string().min(1), ...pageInput })

export const jobIdSchema = z.object({ id: z.string().min(1) })

/** One rejected row of an upload, as the worker's IMPORT_DATASET job records it (line 0 = the whole file). */
export interface UploadRowError {
  line: number
  field: string | null
  reason: string
}
