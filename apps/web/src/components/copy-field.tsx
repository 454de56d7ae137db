'use client'
// A read-only value with a Copy button and a spoken result: the participant link, a preregistration hash.
import { useState } from 'react'

export function CopyField({ id, label, value, what, testId, visibleLabel = false, primary = false }: {
  id: string
  label: string
  value: string
  /** what the value is, in the status line: "link", "hash" */
  what: string
  testId?: string
  visibleLabel?: boolean
  primary?: boolean
}) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null)
  return (
    <>
      <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
        <label htmlFor={id} className={visibleLabel ? 'text-sm font-medium' : 'sr-only'}>
          {label}
        </label>
        <input id={id} className="input font-mono text-xs" readOnly value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          className={`${primary ? 'btn-primary' : 'btn-secondary'} shrink-0`}
          aria-label={`Copy the ${what}`}
          onClick={() => {
            navigator.clipboard.writeText(value).then(
              () => setCopied('yes'),
              () => setCopied('failed'),
            )
          }}
        >
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p className="text-xs text-slate-700" aria-live="polite">
        {copied === 'yes' ? `The ${what} is on your clipboard.` : copied === 'failed' ? `Could not copy: select the ${what} and copy it by hand.` : ''}
      </p>
    </>
  )
}
