// The assignment rule (a cyclic Latin square): nobody sees a problem twice, every cell equally often per cycle.
import { describe, expect, test } from 'vitest'

import { DesignError, latinSquareTasks } from '@/server/studies/assignment'

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
