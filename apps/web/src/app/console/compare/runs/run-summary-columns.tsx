// A run's summary figures as table columns — steps, final reward and accuracy, duration — shared by the runs list
// and the compare-runs page, so both write them alike.
import type { ColumnDef } from '@/components/data-table'
import { formatDuration, formatNumber } from '@/components/format'

type Final = { value: number; step: number } | null

export interface RunSummary {
  currentStep: number
  maxSteps: number
  finalReward: Final
  finalAccuracy: Final
  durationSeconds: number | null
}

/** A final metric as "0.750", its step in the tooltip; "—" when the run logged none. */
function FinalCell({ final }: { final: Final }) {
  return (
    <span className="tabular-nums" title={final ? `at step ${final.step}` : undefined}>
      {final ? formatNumber(final.value, 3) : '—'}
    </span>
  )
}

export function runSummaryColumns<T extends RunSummary>(): ColumnDef<T>[] {
  return [
    {
      header: 'Steps',
      cell: (c) => (
        <span className="tabular-nums">
          {c.row.original.currentStep}/{c.row.original.maxSteps}
        </span>
      ),
    },
    { header: 'Final reward', cell: (c) => <FinalCell final={c.row.original.finalReward} /> },
    { header: 'Final accuracy', cell: (c) => <FinalCell final={c.row.original.finalAccuracy} /> },
    { header: 'Duration', cell: (c) => <span className="tabular-nums whitespace-nowrap">{formatDuration(c.row.original.durationSeconds)}</span> },
  ]
}
