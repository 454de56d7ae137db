'use client'
// Ticking rows of a list to compare them (runs, evaluations): the ticked ids, and the bar that counts them, clears
// them and opens the comparison once at least two and at most `max` are ticked.
import { useState } from 'react'

export function useTickedIds() {
  const [ticked, setTicked] = useState<ReadonlySet<string>>(new Set())
  const toggle = (id: string) =>
    setTicked((prev) => {
      const next = new Set(prev)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })
  return { ticked, toggle, clear: () => setTicked(new Set()) }
}

export function CompareSelectionBar({ count, max, testId, onClear, onCompare }: {
  count: number
  max: number
  testId: string
  onClear: () => void
  onCompare: () => void
}) {
  const tooMany = count > max
  return (
    <div className="flex flex-wrap items-center gap-3">
      <span className="text-sm text-slate-600" data-testid={testId} aria-live="polite">
        {count === 0 ? 'None ticked' : `${count} ticked`}
        {tooMany ? ` (at most ${max})` : ''}
      </span>
      {count > 0 ? (
        <button type="button" className="btn-secondary" onClick={onClear}>
          Clear
        </button>
      ) : null}
      <button type="button" className="btn-primary" disabled={count < 2 || tooMany} onClick={onCompare}>
        Compare selected
      </button>
    </div>
  )
}
