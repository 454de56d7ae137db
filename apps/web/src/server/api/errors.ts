// Field errors: zod validation failures (input parsers) and checks made inside procedures (an unknown
// base model) both reach the client as { fieldErrors: { field: [message] } } on error.data.
import { TRPCError } from '@trpc/server'
import { z } from 'zod'

export type FieldErrors = Record<string, string[]>

/** The cause of a fieldError(): field name -> messages. */
export class FieldValidationError extends Error {
  constructor(readonly fieldErrors: FieldErrors) {
    super(Object.entries(fieldErrors).map(([field, messages]) => `${field}: ${messages.join(' ')}`).join('; '))
    this.name = 'FieldValidationError'
  }
}

/** A BAD_REQUEST error carrying field errors, like a failed input parse. */
export function fieldError(errors: FieldErrors, message = 'Invalid input'): TRPCError {
  return new TRPCError({ code: 'BAD_REQUEST', message, cause: new FieldValidationError(errors) })
}

/** The field errors of an error (from an input parser or fieldError()), or null. */
export function fieldErrorsOf(error: unknown): FieldErrors | null {
  const cause = error instanceof TRPCError ? error.cause : error
  if (cause instanceof FieldValidationError) return cause.fieldErrors
  if (!(cause instanceof z.ZodError)) return null
  const out: FieldErrors = {}
  for (const issue of cause.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_form'
    ;(out[key] ??= []).push(issue.message)
  }
  return out
}
