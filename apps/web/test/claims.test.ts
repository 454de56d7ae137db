// The claims port (src/server/claims.ts) against the Python module's golden numbers, and the verdict rules that
// replaced reading claims off two overlapping intervals.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { describe, expect, test } from 'vitest'

import {
  equivalenceVerdict, fmtSigned, pairedSeedBootstrap, paperClaims, superiorityVerdict, type Arm, type Claim, type PairedEstimate,
} from '@/server/claims'
import { parseReport } from '@/server/evaluation-reports'

const here = path.dirname(fileURLToPath(import.meta.url))

interface GoldenArm {
  name: string
  reports: { per_problem: Record<string, unknown> }[]
}
interface GoldenCase {
  name: string
  margin: number
  n_boot: number
  seed: number
  a?: GoldenArm
  b?: GoldenArm
  displacement?: GoldenArm
  null?: GoldenArm
  claims: Claim[]
}
const golden = JSON.parse(readFileSync(path.join(here, 'fixtures/claims-golden.json'), 'utf8')) as { cases: GoldenCase[] }

/** A golden arm as the console holds it: each report parsed like an evaluation_reports row. */
function arm(g: GoldenArm | undefined): Arm | null {
  if (!g) return null
  return { name: g.name, reports: g.reports.map((r, i) => ({ label: `${g.name} #${i + 1}`, perProblem: parseReport(null, r).perProblem })) }
}

describe('golden numbers from tandem.claims', () => {
  for (const c of golden.cases) {
    test(c.name, () => {
      const claims = paperClaims(arm(c.a), arm(c.b), arm(c.displacement), arm(c.null), c.margin, c.n_boot, c.seed)
      expect(claims.map((x) => x.id)).toEqual(c.claims.map((x) => x.id))
      claims.forEach((got, i) => {
        const want = c.claims[i]!
        const { estimate: ge, ...gotRest } = got
        const { estimate: we, ...wantRest } = want
        expect(gotRest).toEqual(wantRest) // verdict, sentence (numbers printed to 3 places), seeds, warnings
        if (we === null) expect(ge).toBeNull()
        else for (const key of Object.keys(we) as (keyof PairedEstimate)[]) expect(ge![key]).toBeCloseTo(we[key], 9)
      })
      expect(claims.some((x) => x.verdict !== 'not measured')).toBe(true)
    })
  }
})

const est = (value: number, low: number, high: number, low90: number, high90: number): PairedEstimate => ({ value, low, high, low90, high90, n: 100, seeds_a: 3, seeds_b: 3 })

describe('verdicts', () => {
  test('equivalence by two one-sided tests: inside, outside, straddling', () => {
    expect(equivalenceVerdict(est(0, -0.025, 0.025, -0.02, 0.02), 0.03)).toBe('supported')
    expect(equivalenceVerdict(est(0.1, 0.05, 0.15, 0.06, 0.14), 0.03)).toBe('refuted')
    expect(equivalenceVerdict(est(-0.1, -0.15, -0.05, -0.14, -0.06), 0.03)).toBe('refuted')
    expect(equivalenceVerdict(est(0.02, -0.01, 0.05, 0, 0.04), 0.03)).toBe('inconclusive')
    // a wider margin accepts what a narrow one cannot
    expect(equivalenceVerdict(est(0.02, -0.01, 0.05, 0, 0.04), 0.05)).toBe('supported')
  })

  test('superiority by the side of 0 the 95% interval lies on', () => {
    const up = est(0.1, 0.05, 0.15, 0.06, 0.14)
    const across = est(0, -1, 1, -1, 1)
    expect([superiorityVerdict(up, 1), superiorityVerdict(up, -1), superiorityVerdict(across, 1)]).toEqual(['supported', 'refuted', 'inconclusive'])
  })

  test('the bootstrap pairs problems: a constant shift has a zero-width interval', () => {
    const base = Array.from({ length: 30 }, (_, i) => (i % 5) / 5)
    const e = pairedSeedBootstrap([base, base, base], [base.map((x) => x + 0.1), base.map((x) => x + 0.1)], null, null, 300)
    expect(e.value).toBeCloseTo(0.1, 12)
    expect(e.high - e.low).toBeLessThan(1e-9)
    expect(e).toMatchObject({ n: 30, seeds_a: 3, seeds_b: 2 })
    expect(() => pairedSeedBootstrap([[1, 2]], [[1, 2, 3]])).toThrow(/b has 3 problems/)
  })
})

describe('claims panel logic', () => {
  const ids8 = Array.from({ length: 8 }, (_, i) => `q${i}`)
  // Two evaluations of n = 8 whose own intervals overlap ([0.063, 0.625] vs [0.125, 0.438]): the old overlap rule read
  // "Solo accuracy is kept ✓ Supported". Paired, with one seed each and ±3 points, it cannot be.
  const report = (solo: number[], low: number, high: number) =>
    parseReport({ solo_mean_at_k: { value: solo.reduce((s, x) => s + x, 0) / 8, low, high, n: 8 } }, { per_problem: { ids: ids8, solo_mean_at_k: solo } })
  const grpo = report([0.5, 0.125, 0.5, 0.125, 0.5, 0.125, 0.5, 0.625], 0.063, 0.625)
  const trl = report([0.25, 0.25, 0.375, 0.25, 0.25, 0.25, 0.25, 0.375], 0.125, 0.438)

  test('overlapping intervals of n = 8 are not "supported"', () => {
    const claims = paperClaims(
      { name: 'GRPO', reports: [{ label: 'grpo run · step 40', perProblem: grpo.perProblem }] },
      { name: 'TRL', reports: [{ label: 'trl run · step 40', perProblem: trl.perProblem }] },
    )
    const solo = claims.find((c) => c.id === 'solo')!
    expect(solo.verdict).not.toBe('supported')
    expect(solo.verdict).toBe('inconclusive')
    expect(solo.warnings.join(' ')).toMatch(/only 8 problems/)
    expect(solo.warnings.join(' ')).toMatch(/GRPO has 1 seed/)
    expect(solo.sentence).toMatch(/two one-sided tests at α = 0.05/)
    expect(claims.find((c) => c.id === 'handoff')!.verdict).toBe('not measured')
    expect(claims.find((c) => c.id === 'displacement')!.sentence).toMatch(/--suite displacement/)
  })

  test('reports on different problems are refused, naming them; no per-problem data is named too', () => {
    const other = parseReport(null, { per_problem: { ids: ids8.map((i) => `x${i}`), solo_mean_at_k: [0, 0, 0, 0, 0, 0, 0, 0] } })
    expect(() => paperClaims({ name: 'GRPO', reports: [{ label: 'g', perProblem: grpo.perProblem }] }, { name: 'TRL', reports: [{ label: 't', perProblem: other.perProblem }] }))
      .toThrow(/t and g are not on the same problems/)
    expect(() => paperClaims({ name: 'GRPO', reports: [{ label: 'old report', perProblem: null }] }, { name: 'TRL', reports: [{ label: 't', perProblem: trl.perProblem }] }))
      .toThrow(/old report: no per_problem ids/)
    expect(() => paperClaims(null, null, null, null, 0)).toThrow(/margin must be/)
  })

  test('formats numbers like Python', () => {
    expect([fmtSigned(0.0123), fmtSigned(-0.5), fmtSigned(0), fmtSigned(0.000123), fmtSigned(-0.0000456)]).toEqual(['+0.012', '-0.500', '+0.000', '+1.23e-04', '-4.56e-05'])
  })
})
