// How the runs list and the compare-runs page write a run's summary figures.
import { formatNumber } from '@/components/format'

export { formatDuration } from '@/components/format'


/** A final metric as "0.750", its step in the tooltip text; "—" when the run logged none. */
export function formatFinal(final: { value: number; step: number } | null): { text: string; title: string | undefined } {
  if (!final) return { text: '—', title: undefined }
  return { text: formatNumber(final.value, 3), title: `at step ${final.step}` }
}
