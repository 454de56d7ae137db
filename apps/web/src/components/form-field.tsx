'use client'
// One labelled form field with its hint and its error (from the zod schema on the client, or the server's
// fieldErrors), and the glue that puts a tRPC error's fieldErrors on react-hook-form's fields.
import type { FieldValues, Path, UseFormSetError } from 'react-hook-form'

export function Field({
  id,
  label,
  error,
  hint,
  className,
  children,
}: {
  /** the input's id: the label points at it, the error is `${id}-error` */
  id: string
  label: string
  error?: string
  hint?: React.ReactNode
  className?: string
  /** the input; give it id, aria-invalid and aria-describedby from fieldAria(id, error) */
  children: React.ReactNode
}) {
  return (
    <div className={className}>
      <label htmlFor={id} className="label">
        {label}
      </label>
      {children}
      {hint && !error ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-600">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error" data-testid={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  )
}

/** The accessibility attributes of an input whose error (if any) Field renders. */
export function fieldAria(id: string, error: string | undefined, hasHint = false) {
  return {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? `${id}-error` : hasHint ? `${id}-hint` : undefined,
  } as const
}

interface ErrorWithFields {
  message: string
  data?: { fieldErrors?: Record<string, string[]> | null } | null
}

/**
 * Puts the server's field errors on the form's fields (`rename` maps a procedure field to the form field
 * that holds it). Returns the message for the top of the form.
 */
export function showServerErrors<T extends FieldValues>(
  error: ErrorWithFields,
  setError: UseFormSetError<T>,
  rename: Record<string, Path<T>> = {},
): string {
  const fieldErrors = error.data?.fieldErrors ?? null
  if (!fieldErrors) return error.message
  for (const [field, messages] of Object.entries(fieldErrors)) {
    setError((rename[field] ?? field) as Path<T>, { type: 'server', message: messages.join(' ') })
  }
  return 'Fix the fields marked below.'
}
