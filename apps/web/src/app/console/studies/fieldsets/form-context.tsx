'use client'
// What every fieldset of the study designer shares: the form (react-hook-form's context, validated by the one schema,
// studyDesignSchema), field messages by path, the card a fieldset sits in, and the inputs that convert what is typed
// (money, minutes, lines) into what the schema stores (cents, seconds, lists).
import { useState } from 'react'
import { get, useFormContext, type FieldErrors } from 'react-hook-form'

import type { StudyDesign, StudyDesignInput } from '@/server/api/routers/studies.schema'

export type FormInput = StudyDesignInput

/** A number input's text as the schema's number: blank is "not given" (the schema says if that is allowed). */
export const blankToUndefined = (v: unknown) => (v === '' || v == null ? undefined : Number(v))

/** The designer's form, its errors and the message of one field (by path, e.g. "conditions.0.name"). */
export function useDesignForm() {
  const form = useFormContext<FormInput, unknown, StudyDesign>()
  const errors = form.formState.errors as FieldErrors<FormInput>
  const message = (name: string): string | undefined => {
    const e = get(errors, name) as { message?: string; root?: { message?: string } } | undefined
    return e?.message ?? e?.root?.message
  }
  return { ...form, errors, message }
}

/** The first error among a list's items (e.g. an option that is too long), for a field that edits the whole list. */
export function firstItemError(errors: FieldErrors<FormInput>, name: string): string | undefined {
  const list = get(errors, name) as Record<string, { message?: string }> | { message?: string }[] | undefined
  if (!list || typeof list !== 'object') return undefined
  for (const value of Object.values(list)) {
    if (value && typeof value === 'object' && typeof value.message === 'string') return value.message
  }
  return undefined
}

/** One fieldset's card: a heading (the section's accessible name) and an optional line on what it is for. */
export function DesignSection({ id, title, description, children }: { id: string; title: string; description?: React.ReactNode; children: React.ReactNode }) {
  return (
    <section className="card space-y-4" aria-labelledby={`${id}-heading`}>
      <div>
        <h2 id={`${id}-heading`} className="font-semibold">
          {title}
        </h2>
        {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
      </div>
      {children}
    </section>
  )
}

/** A textarea that edits a list of strings, one per line (blank lines ignored); the text is kept as typed. */
export function LinesTextarea({
  value,
  onChange,
  onBlur,
  inputRef,
  ...rest
}: {
  value: string[]
  onChange: (lines: string[]) => void
  onBlur: () => void
  inputRef: React.Ref<HTMLTextAreaElement>
} & Omit<React.TextareaHTMLAttributes<HTMLTextAreaElement>, 'value' | 'onChange' | 'onBlur'>) {
  const [text, setText] = useState(() => value.join('\n'))
  return (
    <textarea
      {...rest}
      ref={inputRef}
      value={text}
      onBlur={onBlur}
      onChange={(e) => {
        setText(e.target.value)
        onChange(
          e.target.value
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean),
        )
      }}
    />
  )
}

/**
 * A number typed in one unit and stored in a smaller whole one: money typed as 2.50 and stored as 250 (scale 100),
 * minutes typed as 45 and stored as 2700 seconds (scale 60). Blank stores `blank` (null: "none"; undefined:
 * "required"); text that is not a number stores NaN, which the schema reports. The text is kept as typed.
 */
export function ScaledNumberInput({
  value,
  onChange,
  onBlur,
  inputRef,
  scale,
  decimals,
  blank,
  ...rest
}: {
  value: number | null | undefined
  onChange: (value: number | null | undefined) => void
  onBlur: () => void
  inputRef: React.Ref<HTMLInputElement>
  scale: number
  decimals: number
  blank: null | undefined
} & Omit<React.InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'onBlur'>) {
  const [text, setText] = useState(() => (typeof value === 'number' && Number.isFinite(value) ? Number((value / scale).toFixed(decimals)).toString() : ''))
  return (
    <input
      {...rest}
      ref={inputRef}
      type="text"
      inputMode="decimal"
      value={text}
      onBlur={onBlur}
      onChange={(e) => {
        setText(e.target.value)
        const typed = e.target.value.trim()
        if (typed === '') return onChange(blank)
        const number = Number(typed)
        onChange(Number.isFinite(number) ? Math.round(number * scale) : Number.NaN)
      }}
    />
  )
}
