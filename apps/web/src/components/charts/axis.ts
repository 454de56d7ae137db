// Axes that can be read: round ticks ("nice" steps of 1, 2 or 5 × 10^k), every label of an axis written with the
// same number of decimals (enough for its step, so 0.0014 stays "0.0014" and −1.2 keeps its minus), and an axis
// as wide as its longest label, so nothing is cut. Pure: tested without a browser (test/chart-axis.test.ts).

/** How a value axis chooses its range. */
export type ValueScale =
  /** a share shown whole, 0 to 1 (accuracy, a senior token share) */
  | 'share'
  /** a share that stays small (a clip fraction): 0 to a round bound just above the data, never past 1 */
  | 'small-share'
  /** round bounds around the data */
  | 'auto'
  /** at least this range (e.g. [0, 1] for accuracies), widened to round bounds if the data go outside */
  | [number, number]

export interface Axis {
  domain: [number, number]
  ticks: number[]
  /** one label per tick */
  labels: string[]
  format: (value: number) => string
  /** px the axis needs for its longest label, tick mark and gap */
  width: number
}

/** Intervals an axis aims for (it gets between about 3 and 7). */
const TICK_INTERVALS = 4
/** The most decimals a label is written with before it switches to "1.2e-6". */
const MAX_DECIMALS = 5
/** px per character of an 11 px label (digits are ~0.55–0.6 em in the console's sans fonts) and for mark and gap. */
const CHAR_PX = 6.6
const AXIS_PAD_PX = 14

/** A round step (1, 2 or 5 × 10^k) that cuts `span` into about `intervals` parts (d3's rule for nice ticks). */
export function niceStep(span: number, intervals = TICK_INTERVALS): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1
  const raw = span / intervals
  const power = 10 ** Math.floor(Math.log10(raw))
  const fraction = raw / power
  const nice = fraction >= Math.sqrt(50) ? 10 : fraction >= Math.sqrt(10) ? 5 : fraction >= Math.sqrt(2) ? 2 : 1
  return nice * power
}

/** Decimals a label needs so that ticks `step` apart read differently: 0.2 → 1, 0.0002 → 4, 5 → 0. */
export function decimalsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9))
}

/**
 * The label function of an axis whose ticks are `step` apart and reach `maxAbs`: fixed decimals for the step;
 * thousands as "12k" / "3.5M" from 10,000 on; below 10^-5 steps, "1.2e-6". Zero is written "0" (never "-0").
 */
export function tickFormatter(step: number, maxAbs: number): (value: number) => string {
  const unit = maxAbs >= 1e9 ? { size: 1e9, suffix: 'B' } : maxAbs >= 1e6 ? { size: 1e6, suffix: 'M' } : maxAbs >= 1e4 ? { size: 1e3, suffix: 'k' } : null
  if (unit) {
    const decimals = decimalsFor(step / unit.size)
    return (value) => (value === 0 ? '0' : `${clean((value / unit.size).toFixed(decimals))}${unit.suffix}`)
  }
  const decimals = decimalsFor(step)
  if (decimals > MAX_DECIMALS) {
    const exponent = Math.floor(Math.log10(maxAbs > 0 ? maxAbs : step))
    const mantissaDecimals = decimalsFor(step / 10 ** exponent)
    return (value) => (value === 0 ? '0' : `${clean((value / 10 ** exponent).toFixed(mantissaDecimals))}e${exponent}`)
  }
  return (value) => (value === 0 ? '0' : clean(value.toFixed(decimals)))
}

/** "-0.00" → "0.00": a rounded zero has no sign. */
function clean(label: string): string {
  return /^-0(\.0*)?$/.test(label) ? label.slice(1) : label
}

/** px for an axis whose longest label is `labels`' longest. */
export function axisWidth(labels: string[]): number {
  const longest = labels.reduce((max, l) => Math.max(max, l.length), 1)
  return Math.ceil(longest * CHAR_PX + AXIS_PAD_PX)
}

function ticksBetween(lower: number, upper: number, step: number): number[] {
  const count = Math.round((upper - lower) / step)
  const decimals = decimalsFor(step) + 2
  // multiples of the step, rounded so 7 × 0.0002 is 0.0014 and not 0.0014000000000000002
  return Array.from({ length: count + 1 }, (_, i) => Number((lower + i * step).toFixed(Math.min(decimals, 100))))
}

function range(values: number[]): [number, number] | null {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return null
  return [Math.min(...finite), Math.max(...finite)]
}

/** The value axis (y) for `values`, by `scale`. Values outside a share's 0–1 (or a given range) widen the axis rather than vanish. */
export function valueAxis(values: number[], scale: ValueScale = 'auto'): Axis {
  const data = range(values)
  let lower: number
  let upper: number
  if (scale === 'share' || Array.isArray(scale)) {
    const [least, most] = Array.isArray(scale) ? scale : [0, 1]
    lower = Math.min(least, data?.[0] ?? least)
    upper = Math.max(most, data?.[1] ?? most)
  } else if (scale === 'small-share') {
    lower = Math.min(0, data?.[0] ?? 0)
    upper = data && data[1] > 0 ? data[1] : 1
  } else if (!data) {
    ;[lower, upper] = [0, 1]
  } else if (data[0] === data[1]) {
    // one value (or one point): a band around it, not recharts' 0–4 for a flat line at 0
    const pad = data[0] === 0 ? 1 : Math.abs(data[0]) * 0.1
    ;[lower, upper] = [data[0] - pad, data[0] + pad]
  } else {
    ;[lower, upper] = data
  }
  const step = niceStep(upper - lower)
  const niceLower = Math.floor(lower / step + 1e-9) * step
  const niceUpper = Math.ceil(upper / step - 1e-9) * step
  const ticks = ticksBetween(niceLower, niceUpper, step)
  const domain: [number, number] = [ticks[0]!, ticks[ticks.length - 1]!]
  const format = tickFormatter(step, Math.max(Math.abs(domain[0]), Math.abs(domain[1])))
  const labels = ticks.map(format)
  return { domain, ticks, labels, format, width: axisWidth(labels) }
}

/**
 * The step axis (x): exactly the data's first to last step (lines fill the width); every step as a tick when there
 * are few (1, 2, 3 — no "1.5"), else round whole-number steps inside.
 */
export function stepAxis(steps: number[]): Axis {
  const distinct = [...new Set(steps.filter((s) => Number.isFinite(s)))].sort((a, b) => a - b)
  if (distinct.length === 0) return { domain: [0, 1], ticks: [], labels: [], format: String, width: 0 }
  const first = distinct[0]!
  const last = distinct[distinct.length - 1]!
  let ticks: number[]
  let step: number
  if (distinct.length <= 6) {
    ticks = distinct
    step = 1
  } else {
    step = Math.max(1, niceStep(last - first, 5))
    ticks = ticksBetween(Math.ceil(first / step) * step, Math.floor(last / step) * step, step)
  }
  const format = tickFormatter(step, Math.max(Math.abs(first), Math.abs(last)))
  const labels = ticks.map(format)
  // a single step still needs a range to draw in
  const domain: [number, number] = first === last ? [first - 1, last + 1] : [first, last]
  return { domain, ticks, labels, format, width: axisWidth(labels) }
}

/** One value for a tooltip or caption: four significant digits, "1.4e-5" for tiny and "1.23e6" for huge ones. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—'
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞'
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 1e6 || abs < 1e-4) {
    const [mantissa, exponent] = value.toExponential(2).split('e')
    return `${Number(mantissa)}e${Number(exponent)}`
  }
  if (abs >= 1000) return String(Math.round(value))
  return String(Number(value.toPrecision(4)))
}
