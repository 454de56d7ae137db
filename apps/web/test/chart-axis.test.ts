// The chart axes (src/components/charts/axis.ts) and what the metric chart draws (metricChartModel): tick labels
// that are whole (0.0014 stays "0.0014", −1.2 keeps its minus), wide enough axes, shares on 0–1, a flat line not
// on 0–4, straight segments between few points, and several runs overlaid by step.
import { describe, expect, test } from 'vitest'

import { axisWidth, formatValue, niceStep, stepAxis, tickFormatter, valueAxis } from '@/components/charts/axis'
import { DOTS_BELOW, metricChartModel } from '@/components/charts/metric-chart'
import { RUN_METRIC_CHARTS, runSeries, type RunMetricRow } from '@/components/charts/run-metric-charts'

const row = (step: number, values: Partial<RunMetricRow>): RunMetricRow => ({
  step, reward: null, accuracy: null, kl: null, clipFraction: null, seniorTokenShare: null, zeroSignalGroups: null, groups: null,
  tokensPerSecond: null, loss: null, ...values,
})

describe('tick labels', () => {
  test('a KL of 0.0014 is labelled "0.0014", every tick of its axis with the same four decimals', () => {
    const axis = valueAxis([0.001, 0.0012, 0.0014])
    expect(axis.labels).toContain('0.0014')
    expect(axis.labels).toEqual(['0.0010', '0.0011', '0.0012', '0.0013', '0.0014'])
    expect(axis.domain).toEqual([0.001, 0.0014])
  })

  test('a negative loss keeps its minus sign on every negative tick', () => {
    const axis = valueAxis([-1.2, -0.8, -0.4])
    expect(axis.labels).toEqual(['-1.2', '-1.0', '-0.8', '-0.6', '-0.4'])
    const crossing = valueAxis([-1.2, 0.3])
    expect(crossing.labels[0]).toBe('-1.5')
    expect(crossing.labels).toContain('0')
    expect(crossing.labels).not.toContain('-0')
    expect(crossing.labels.filter((l) => l.startsWith('-'))).toEqual(crossing.ticks.filter((t) => t < 0).map((t) => `${t.toFixed(1)}`))
  })

  test('ticks are round multiples without floating-point noise', () => {
    const axis = valueAxis([0.1, 0.7])
    for (const t of axis.ticks) expect(String(t).length).toBeLessThanOrEqual(4)
    expect(niceStep(1)).toBe(0.2)
    expect(niceStep(0.0004)).toBeCloseTo(0.0001, 12)
    expect(niceStep(1999, 5)).toBe(500)
  })

  test('big numbers in thousands and millions, tiny ones in powers of ten, zero plain', () => {
    expect(valueAxis([12_000, 48_000]).labels).toEqual(['10k', '20k', '30k', '40k', '50k'])
    expect(tickFormatter(500_000, 2_500_000)(2_500_000)).toBe('2.5M')
    expect(tickFormatter(1e-7, 5e-7)(3e-7)).toBe('3e-7')
    expect(tickFormatter(2e-7, 1.2e-6)(1.2e-6)).toBe('1.2e-6')
    expect(tickFormatter(0.2, 1)(0)).toBe('0')
    expect(tickFormatter(0.2, 1)(-0.00001)).toBe('0.0')
    expect(valueAxis([1200, 1500]).labels).toEqual(['1200', '1300', '1400', '1500'])
  })

  test('the axis is as wide as its longest label, so none is cut', () => {
    const kl = valueAxis([0.001, 0.0014])
    const loss = valueAxis([-1.2, -0.4])
    expect(kl.width).toBe(axisWidth(['0.0014']))
    expect(kl.width).toBeGreaterThan(loss.width)
    // 6 characters at 11 px need more than the 48 px minus the 12 px negative margin the old chart gave them
    expect(kl.width).toBeGreaterThan(36)
    expect(axisWidth(['-1.2'])).toBeGreaterThan(axisWidth(['1.2']))
  })
})

describe('domains', () => {
  test('a share is drawn on 0–1, even when all its values are 0 (not recharts’ 0–4)', () => {
    for (const values of [[0, 0, 0], [0.25, 0.5], [1], []]) {
      const axis = valueAxis(values, 'share')
      expect(axis.domain).toEqual([0, 1])
      expect(axis.labels).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1.0'])
    }
  })

  test('a small share runs from 0 to a round bound just above its data, never past 1', () => {
    expect(valueAxis([0.0004, 0.0023], 'small-share').domain).toEqual([0, 0.0025])
    expect(valueAxis([0.3, 0.97], 'small-share').domain).toEqual([0, 1])
    expect(valueAxis([0, 0], 'small-share').domain).toEqual([0, 1])
  })

  test('a flat line sits in a band around its value', () => {
    expect(valueAxis([0, 0, 0]).domain).toEqual([-1, 1])
    const flat = valueAxis([120, 120])
    expect(flat.domain[0]).toBeLessThan(120)
    expect(flat.domain[1]).toBeGreaterThan(120)
    expect(flat.domain[1] - flat.domain[0]).toBeLessThanOrEqual(40)
  })

  test('a given range is kept and widened when the data leave it', () => {
    expect(valueAxis([0.2, 0.4], [0, 1]).domain).toEqual([0, 1])
    expect(valueAxis([-0.1, 1.3], [0, 1]).domain).toEqual([-0.5, 1.5])
  })

  test('steps: few are each a tick (no 1.5), many get round whole ticks', () => {
    expect(stepAxis([1, 2]).ticks).toEqual([1, 2])
    expect(stepAxis([1, 2]).domain).toEqual([1, 2])
    expect(stepAxis([3]).domain).toEqual([2, 4])
    const long = stepAxis(Array.from({ length: 2000 }, (_, i) => i + 1))
    expect(long.ticks).toEqual([500, 1000, 1500, 2000])
    expect(long.domain).toEqual([1, 2000])
    expect(stepAxis(Array.from({ length: 30 }, (_, i) => (i + 1) * 1000)).labels.at(-1)).toBe('30k')
  })
})

describe('values in captions and tooltips', () => {
  test('four significant digits, minus kept, exponents only at the extremes', () => {
    expect(formatValue(0.0014)).toBe('0.0014')
    expect(formatValue(-1.2)).toBe('-1.2')
    expect(formatValue(0.123456)).toBe('0.1235')
    expect(formatValue(1234.56)).toBe('1235')
    expect(formatValue(0.000014)).toBe('1.4e-5')
    expect(formatValue(2_345_678)).toBe('2.35e6')
    expect(formatValue(0)).toBe('0')
    expect(formatValue(null)).toBe('—')
  })
})

describe('metricChartModel', () => {
  test('straight segments and a dot on each point while a series is short', () => {
    const model = metricChartModel([{ name: 'run', points: [{ step: 1, value: 0.2 }, { step: 2, value: 0.5 }, { step: 3, value: 0.4 }] }], 'share')
    expect(model.curve).toBe('linear')
    expect(model.dots).toEqual([true])
    expect(model.points).toBe(3)
    expect(model.x.ticks).toEqual([1, 2, 3])
    expect(model.y.domain).toEqual([0, 1])
    expect(model.latest).toEqual([{ step: 3, value: 0.4 }])
    const long = metricChartModel([{ name: 'run', points: Array.from({ length: DOTS_BELOW }, (_, i) => ({ step: i, value: i })) }])
    expect(long.dots).toEqual([false])
  })

  test('runs overlaid by step: one row per step, a column per run, null where a run has no value', () => {
    const model = metricChartModel([
      { name: 'TRL', points: [{ step: 1, value: 0.1 }, { step: 2, value: 0.3 }, { step: 3, value: Number.NaN }] },
      { name: 'GRPO', points: [{ step: 2, value: 0.2 }, { step: 4, value: null }] },
    ])
    expect(model.rows).toEqual([
      { step: 1, s0: 0.1, s1: null },
      { step: 2, s0: 0.3, s1: 0.2 },
      { step: 3, s0: null, s1: null },
      { step: 4, s0: null, s1: null },
    ])
    expect(model.points).toBe(3)
    // the x axis spans the steps that have values
    expect(model.x.domain).toEqual([1, 2])
    expect(model.latest).toEqual([{ step: 2, value: 0.3 }, { step: 2, value: 0.2 }])
  })

  test('the run charts: shares on 0–1, the clip fraction zoomed below 1, KL and loss around their data', () => {
    const rows = [row(1, { reward: 0, accuracy: 0, kl: 0.001, clipFraction: 0, seniorTokenShare: 0, zeroSignalGroups: 0, groups: 4, loss: -1.2 }),
      row(2, { reward: 0, accuracy: 0, kl: 0.0014, clipFraction: 0.002, seniorTokenShare: 0, zeroSignalGroups: 0, groups: 4, loss: -0.4 })]
    const axis = (id: string) => {
      const chart = RUN_METRIC_CHARTS.find((c) => c.id === id)!
      return metricChartModel([runSeries('run', rows, chart)], chart.scale).y
    }
    for (const id of ['reward', 'accuracy', 'senior-token-share', 'zero-signal-share']) expect(axis(id).domain).toEqual([0, 1])
    expect(axis('clip-fraction').domain).toEqual([0, 0.002])
    expect(axis('kl').labels).toContain('0.0014')
    expect(axis('loss').labels[0]).toBe('-1.2')
    expect(RUN_METRIC_CHARTS.find((c) => c.id === 'kl')!.never!({ beta: 0 })).toMatch(/beta is 0/)
  })
})
