// Series colours for charts that overlay several checkpoints: distinct hues, each dark enough for lines and text on
// white (contrast ≥ 3:1 for graphics), in a fixed order so a checkpoint keeps its colour across a page's charts.
export const SERIES_COLORS = ['#4338ca', '#b45309', '#047857', '#be123c', '#0369a1', '#6d28d9', '#4d7c0f', '#334155'] as const

export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length]!
}

/** A number for an axis tick or tooltip: three significant digits, no trailing zeros. */
export function tick(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  return Number(value.toPrecision(3)).toString()
}
