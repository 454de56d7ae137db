// The assignment rule (a cyclic Latin square): nobody sees a problem twice, every cell equally often per cycle; and
// the dropout refill rule, which keeps every cell within one of its target under simulated recruitment with dropouts.
import { describe, expect, test } from 'vitest'

import { DesignError, latinSquareTasks, nextDesignRow, REFILL_RULE } from '@/server/studies/assignment'
import { mulberry32 } from '@/server/statistics'

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

describe('latinSquareTasks', () => {
  test.each([
    [2, 4, 4],
    [2, 6, 4],
    [3, 5, 2],
    [2, 2, 2],
    [1, 7, 3],
    [4, 9, 9],
  ])('C=%i conditions, P=%i problems, T=%i tasks: no repeats, balanced cells, both conditions per participant', (C, P, T) => {
    const cycle = (C * P) / gcd(T, C * P) // participants until every cell was assigned equally often
    const counts = new Map<string, number>()
    for (let n = 0; n < cycle * 2; n++) {
      const cells = latinSquareTasks(n, C, P, T)
      expect(cells).toHaveLength(T)
      expect(new Set(cells.map((c) => c.problem)).size).toBe(T)
      for (const c of cells) {
        expect(c.condition).toBeGreaterThanOrEqual(0)
        expect(c.condition).toBeLessThan(C)
        counts.set(`${c.condition}|${c.problem}`, (counts.get(`${c.condition}|${c.problem}`) ?? 0) + 1)
      }
      if (C > 1 && T >= C) expect(new Set(cells.map((c) => c.condition)).size).toBeGreaterThan(1)
    }
    expect(counts.size).toBe(C * P)
    expect(new Set(counts.values()).size).toBe(1)
  })

  test('is a pure function of the ordinal', () => {
    expect(latinSquareTasks(5, 2, 6, 4)).toEqual(latinSquareTasks(5, 2, 6, 4))
    expect(latinSquareTasks(0, 2, 4, 2)).toEqual([{ condition: 0, problem: 0 }, { condition: 1, problem: 1 }])
    expect(latinSquareTasks(2, 2, 4, 2)).toEqual([{ condition: 1, problem: 0 }, { condition: 0, problem: 1 }])
  })

  test('refuses designs that would repeat a problem or make no sense', () => {
    expect(() => latinSquareTasks(0, 2, 3, 4)).toThrow(DesignError)
    expect(() => latinSquareTasks(0, 0, 3, 1)).toThrow(/at least one condition/)
    expect(() => latinSquareTasks(-1, 2, 3, 1)).toThrow(/ordinal/)
    expect(() => latinSquareTasks(0, 2, 3, 0)).toThrow(/between 1 and/)
  })
})

describe('nextDesignRow (dropout refill)', () => {
  test('refill on: the lowest unrefilled dropout row first, else the next fresh row; off: the ordinal', () => {
    expect(nextDesignRow({ ordinal: 0, refillDropouts: true, highestRow: null, openDropouts: [] })).toEqual({ designRow: 0, refillsId: null })
    expect(nextDesignRow({ ordinal: 5, refillDropouts: true, highestRow: 3, openDropouts: [] })).toEqual({ designRow: 4, refillsId: null })
    const openDropouts = [{ id: 'p7', designRow: 2 }, { id: 'p3', designRow: 1 }, { id: 'p9', designRow: 1 }]
    expect(nextDesignRow({ ordinal: 9, refillDropouts: true, highestRow: 8, openDropouts })).toEqual({ designRow: 1, refillsId: 'p3' })
    expect(nextDesignRow({ ordinal: 9, refillDropouts: false, highestRow: 8, openDropouts })).toEqual({ designRow: 9, refillsId: null })
    expect(REFILL_RULE).toMatch(/lowest such row/)
  })
})


/**
 * Recruitment as Prolific runs it: `places` participants are wanted; while completed + active < places a new
 * participant arrives (a returned or timed-out submission frees its place); up to `concurrent` take the study at once
 * and finish in random order; each drops out with probability `dropout`. Returns, per condition × problem cell, how
 * many tasks completed participants took, and the target (completed × T / cells).
 */
function simulate({ refill, seed, C, P, T, places, concurrent, dropout }: { refill: boolean; seed: number; C: number; P: number; T: number; places: number; concurrent: number; dropout: number }) {
  const random = mulberry32(seed)
  const active: { id: string; designRow: number; dropsOut: boolean }[] = []
  const dropouts: { id: string; designRow: number }[] = []
  const refilled = new Set<string>()
  const completedRows: number[] = []
  let ordinal = 0
  let highestRow: number | null = null
  while (completedRows.length < places) {
    while (active.length < concurrent && completedRows.length + active.length < places) {
      const { designRow, refillsId } = nextDesignRow({ ordinal, refillDropouts: refill, highestRow, openDropouts: dropouts.filter((d) => !refilled.has(d.id)) })
      if (refillsId) refilled.add(refillsId)
      highestRow = Math.max(highestRow ?? -1, designRow)
      active.push({ id: `p${ordinal}`, designRow, dropsOut: random() < dropout })
      ordinal += 1
    }
    const [done] = active.splice(Math.floor(random() * active.length), 1)
    if (done!.dropsOut) dropouts.push({ id: done!.id, designRow: done!.designRow })
    else completedRows.push(done!.designRow)
  }
  const counts = new Map<string, number>()
  for (let c = 0; c < C; c++) for (let p = 0; p < P; p++) counts.set(`${c}|${p}`, 0)
  for (const row of completedRows) for (const cell of latinSquareTasks(row, C, P, T)) counts.set(`${cell.condition}|${cell.problem}`, counts.get(`${cell.condition}|${cell.problem}`)! + 1)
  const target = (completedRows.length * T) / (C * P)
  const maxDeviation = Math.max(...[...counts.values()].map((n) => Math.abs(n - target)))
  return { counts, target, maxDeviation, arrivals: ordinal, dropouts: dropouts.length }
}

describe('dropout refill keeps the design balanced (simulated recruitment, seeded)', () => {
  const designs = [
    { C: 2, P: 6, T: 4, places: 30 },
    { C: 3, P: 8, T: 5, places: 45 },
    { C: 2, P: 10, T: 10, places: 24 },
  ]
  test.each(designs)('C=$C conditions, P=$P problems, T=$T tasks, $places places: every cell within one of its target with refill on', (design) => {
    for (let seed = 1; seed <= 20; seed++) {
      const on = simulate({ ...design, refill: true, seed, concurrent: 6, dropout: 0.3 })
      expect(on.dropouts, `seed ${seed}`).toBeGreaterThan(0)
      for (const [cell, n] of on.counts) expect(Math.abs(n - on.target), `seed ${seed}, cell ${cell}`).toBeLessThanOrEqual(1)
    }
  })

  // Refill off (pure arrival order), same recruitment: the completed rows have holes where dropouts were, so cells
  // drift. Observed over the same 20 seeds per design (worst / mean of the per-run worst cell's deviation from its
  // target): C=2 P=6 T=4: 4 / 1.85; C=3 P=8 T=5: 5.375 / 3.04; C=2 P=10 T=10: 3 / 1.3. With refill on: 0, 0.625, 0.
  // Not asserted beyond "it can exceed one": the refill case is the claim.
  test('with refill off the same recruitment drifts further than one from the target', () => {
    const worst = Math.max(...designs.flatMap((design) => Array.from({ length: 20 }, (_, i) => simulate({ ...design, refill: false, seed: i + 1, concurrent: 6, dropout: 0.3 }).maxDeviation)))
    expect(worst).toBeGreaterThan(1)
  })
})
