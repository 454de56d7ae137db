'use client'
// A 1–5 rating as a native radio group in a <fieldset>/<legend>: arrow keys move within it, one Tab stop.
import { RATING_MAX, RATING_MIN } from '@/server/api/routers/participant.schema'

import { FOCUS_RING } from './ui'

const VALUES = Array.from({ length: RATING_MAX - RATING_MIN + 1 }, (_, i) => RATING_MIN + i)

export function RatingGroup({
  id,
  legend,
  low = 'not at all',
  high = 'completely',
  value,
  onChange,
  onBlur,
  inputRef,
  error,
}: {
  id: string
  legend: string
  low?: string
  high?: string
  value: number | null | undefined
  onChange: (value: number) => void
  onBlur: () => void
  /** react-hook-form focuses this (the first radio) when the rating is missing */
  inputRef: (element: HTMLInputElement | null) => void
  error?: string
}) {
  const describedBy = error ? `${id}-hint ${id}-error` : `${id}-hint`
  return (
    <fieldset aria-describedby={describedBy} data-testid={id}>
      <legend className="label">{legend}</legend>
      <p id={`${id}-hint`} className="mb-2 text-xs text-slate-600">
        {RATING_MIN} = {low}, {RATING_MAX} = {high}
      </p>
      <div className="flex flex-wrap gap-2">
        {VALUES.map((n) => (
          <label
            key={n}
            className={`flex min-w-12 cursor-pointer items-center justify-center gap-2 rounded-md border px-3 py-2 text-sm has-checked:border-indigo-600 has-checked:bg-indigo-50 has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-indigo-700 ${
              error ? 'border-red-500' : 'border-slate-300'
            }`}
          >
            <input
              type="radio"
              name={id}
              value={n}
              checked={value === n}
              onChange={() => onChange(n)}
              onBlur={onBlur}
              ref={n === VALUES[0] ? inputRef : undefined}
              aria-describedby={describedBy}
              className={`h-4 w-4 accent-indigo-600 ${FOCUS_RING}`}
            />
            {n}
          </label>
        ))}
      </div>
      {error ? (
        <p id={`${id}-error`} className="field-error" data-testid={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </fieldset>
  )
}
