// Shared by the models list and a model's page.
import { StatusBadge } from '@/components/status-badge'
import type { ModelStatus } from '@/server/api/routers/models.schema'

/** How often a page asks again while a worker has not answered yet. */
export const POLL_MS = 1500

export function ModelStatusBadge({ status, testId }: { status: ModelStatus; testId?: string }) {
  return <StatusBadge status={status.toUpperCase()} testId={testId} />
}

/** 1812480 → "1.81 M": parameter counts at a glance. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} B`
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} K`
  return String(value)
}
