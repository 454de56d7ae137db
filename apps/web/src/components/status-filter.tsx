'use client'
// The "Status" select above a list: "All" or one status (in words, as the badges write it).
import { statusText } from './status-badge'

export function StatusFilter({ statuses, value, onChange }: { statuses: readonly string[]; value: string | null | undefined; onChange: (status: string) => void }) {
  return (
    <div>
      <label htmlFor="status-filter" className="label">
        Status
      </label>
      <select id="status-filter" className="input" value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
        <option value="">All</option>
        {statuses.map((s) => (
          <option key={s} value={s}>
            {statusText(s)}
          </option>
        ))}
      </select>
    </div>
  )
}
