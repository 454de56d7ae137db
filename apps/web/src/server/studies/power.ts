// Power before launch: how many participants the study needs to detect the difference in accuracy between the two
// compared conditions (TRL − GRPO), estimated by simulating the study as designed. Pure: no database, no server
// imports, seeded — the designer runs it in the browser and the studies router re-runs it when it saves the plan, and
// both get the same numbers.
//
// One simulated study of N participants: every participant n takes the tasks of design row n of the cyclic Latin
// square (assignment.ts, as if nobody dropped out); each task is correct with probability
// logistic(logit(p_condition) + u_participant + v_problem), u ~ N(0, participantSd²) and v ~ N(0, problemSd²) drawn
// afresh per simulated study (heterogeneity on the logit scale; p is the accuracy of a typical participant on a
// typical problem). The difference ȳ_A − ȳ_B over the responses of the two compared conditions (the dashboard's
// estimate) is tested two-sided at α with a participant-clustered z-test (below): the normal approximation of the
// dashboard's within-participant permutation test, which is too slow to repeat thousands of times. Power at N = the
// share of simulated studies that reject.
import type { HandoffRule } from '../api/routers/studies.schema'
import type { ParsedReport } from '../evaluation-reports'
import { mulberry32, tCdf, tQuantile, wilsonInterval } from '../statistics'
import { latinSquareTasks, type Cell } from './assignment'

/** What the power simulation's test is, in words (the designer, the docs and the stored plan say the same). */
export const POWER_TEST_TEXT =
  'Two-sided participant-clustered z-test of the accuracy difference ȳ_A − ȳ_B over all responses of the two ' +
  'compared conditions (cluster-robust standard error with participants as clusters): the normal approximation of ' +
  'the dashboard’s within-participant permutation test.'

export const DEFAULT_SIMULATIONS = 400
export const DEFAULT_POWER_SEED = 20_261_205
/** Participants tried (the chart's x axis); the smallest of them reaching the target power is "N needed". */
export const DEFAULT_N_GRID: readonly number[] = [10, 20, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800, 1000]

export interface PowerDesign {
  /** conditions (C), in the study's condition order */
  conditions: number
  /** problems (P) */
  problems: number
  /** tasks per participant (T ≤ P) */
  tasksPerParticipant: number
  /** expected accuracy per condition (index as in `conditions`), each in (0, 1) */
  accuracies: readonly number[]
  /** the compared conditions' indices: the estimate is accuracy(a) − accuracy(b) */
  compared: readonly [number, number]
  /** sd of the participant effect on the logit scale */
  participantSd: number
  /** sd of the problem effect on the logit scale */
  problemSd: number
  /** two-sided significance level */
  alpha: number
}

export class PowerDesignError extends Error {}

function checkDesign(d: PowerDesign) {
  const { conditions: c, problems: p, tasksPerParticipant: t } = d
  if (!Number.isInteger(c) || c < 2) throw new PowerDesignError(`power needs at least two conditions, got ${c}`)
  if (!Number.isInteger(p) || p < 1) throw new PowerDesignError(`power needs at least one problem, got ${p}`)
  if (!Number.isInteger(t) || t < 1 || t > p) throw new PowerDesignError(`tasks per participant must be between 1 and the number of problems (${p}), got ${t}`)
  if (d.accuracies.length !== c) throw new PowerDesignError(`one expected accuracy per condition: ${c} conditions, ${d.accuracies.length} accuracies`)
  d.accuracies.forEach((a, i) => {
    if (!(a > 0 && a < 1)) throw new PowerDesignError(`expected accuracy of condition ${i + 1} must be between 0 and 1 (exclusive), got ${a}`)
  })
  const [a, b] = d.compared
  if (a === b || ![a, b].every((i) => Number.isInteger(i) && i >= 0 && i < c)) throw new PowerDesignError(`compared conditions must be two different indices below ${c}, got ${a} and ${b}`)
  if (!(d.participantSd >= 0) || !(d.problemSd >= 0)) throw new PowerDesignError('heterogeneity sds must be ≥ 0')
  if (!(d.alpha > 0 && d.alpha < 1)) throw new PowerDesignError(`α must be between 0 and 1, got ${d.alpha}`)
}

// ---------------------------------------------------------------- the test

/** One participant's responses in the two compared conditions: counts and correct ones. */
export interface ClusterCounts {
  nA: number
  sumA: number
  nB: number
  sumB: number
}

/**
 * The participant-clustered z-test of d = ȳ_A − ȳ_B (ȳ = Σ correct / Σ responses over all participants). With
 * Y = Σ sum, N = Σ n per condition, participant i contributes e_i = (sumA_i − ȳ_A·nA_i)/N_A − (sumB_i − ȳ_B·nB_i)/N_B
 * to d's linearisation; se² = G/(G − 1) · Σ e_i² over the G participants (the cluster-robust sandwich, small-sample
 * factor as Stata's). p = 2·(1 − Φ(|d| / se)). se = 0 (every participant's responses agree with the pooled means)
 * gives p = 0 when d ≠ 0 and p = 1 when d = 0. Null when a condition has no responses or fewer than 2 participants.
 */
export function clusteredDifferenceTest(clusters: readonly ClusterCounts[]): { estimate: number; se: number; z: number; pValue: number } | null {
  let nA = 0
  let sumA = 0
  let nB = 0
  let sumB = 0
  let g = 0
  for (const c of clusters) {
    if (c.nA + c.nB === 0) continue
    nA += c.nA
    sumA += c.sumA
    nB += c.nB
    sumB += c.sumB
    g++
  }
  if (nA === 0 || nB === 0 || g < 2) return null
  const meanA = sumA / nA
  const meanB = sumB / nB
  let squares = 0
  for (const c of clusters) {
    const e = (c.sumA - meanA * c.nA) / nA - (c.sumB - meanB * c.nB) / nB
    squares += e * e
  }
  const estimate = meanA - meanB
  const se = Math.sqrt((g / (g - 1)) * squares)
  if (!(se > 1e-12)) return { estimate, se: 0, z: estimate === 0 ? 0 : Math.sign(estimate) * Infinity, pValue: estimate === 0 ? 1 : 0 }
  const z = estimate / se
  return { estimate, se, z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) }
}

const normalCdf = (z: number) => tCdf(z, Infinity)
/** z_{1 − α/2}: the two-sided critical value. */
export const zCritical = (alpha: number) => tQuantile(1 - alpha / 2, Infinity)

/**
 * Closed-form power of the two-sided Wald two-proportion z-test with n_A and n_B independent responses (unpooled
 * variance): Φ(Δ/se − z) + Φ(−Δ/se − z), Δ = p_A − p_B, se = √(p_A(1 − p_A)/n_A + p_B(1 − p_B)/n_B). The simulation's
 * test reduces to it when responses are independent (no heterogeneity).
 */
export function twoProportionPower(pA: number, pB: number, nA: number, nB: number, alpha: number): number {
  const se = Math.sqrt((pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB)
  const z = zCritical(alpha)
  const shift = (pA - pB) / se
  return normalCdf(shift - z) + normalCdf(-shift - z)
}

// ---------------------------------------------------------------- simulation

const logit = (p: number) => Math.log(p / (1 - p))

/** A standard normal draw (Box–Muller) from a uniform generator. */
function normal(rand: () => number): number {
  const u = 1 - rand() // (0, 1]: log(u) is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}

/** The design rows' cells of the first `n` participants (row n = participant n, nobody dropping out). */
function rowsOf(d: PowerDesign, n: number): Cell[][] {
  return Array.from({ length: n }, (_, row) => latinSquareTasks(row, d.conditions, d.problems, d.tasksPerParticipant))
}

/** A seed per N, so every point of the grid has its own stream and adding a point changes no other. */
function seedFor(seed: number, n: number): number {
  return (seed + Math.imul(n, 0x9e3779b1)) >>> 0
}

/** One simulated study: its participants' counts in the two compared conditions and their correct answers overall. */
function simulateStudy(d: PowerDesign, rows: readonly Cell[][], intercepts: readonly number[], rand: () => number, clusters: ClusterCounts[], correct?: number[]) {
  const problemEffect = Array.from({ length: d.problems }, () => (d.problemSd > 0 ? d.problemSd * normal(rand) : 0))
  const [a, b] = d.compared
  for (let i = 0; i < rows.length; i++) {
    const u = d.participantSd > 0 ? d.participantSd * normal(rand) : 0
    const c = clusters[i]!
    c.nA = c.sumA = c.nB = c.sumB = 0
    let right = 0
    for (const cell of rows[i]!) {
      const eta = intercepts[cell.condition]! + u + problemEffect[cell.problem]!
      const y = rand() < 1 / (1 + Math.exp(-eta)) ? 1 : 0
      right += y
      if (cell.condition === a) {
        c.nA++
        c.sumA += y
      } else if (cell.condition === b) {
        c.nB++
        c.sumB += y
      }
    }
    if (correct) correct[i] = right
  }
}

export interface PowerPoint {
  n: number
  /** share of simulated studies that rejected */
  power: number
  /** 95% Wilson interval of that share (Monte-Carlo error) */
  low: number
  high: number
  simulations: number
}

/** Power at `n` participants: the rejection rate over `simulations` simulated studies. */
export function simulatePower(d: PowerDesign, n: number, { simulations = DEFAULT_SIMULATIONS, seed = DEFAULT_POWER_SEED } = {}): PowerPoint {
  checkDesign(d)
  if (!Number.isInteger(n) || n < 2) throw new PowerDesignError(`N must be a whole number ≥ 2, got ${n}`)
  return pointAt(d, rowsOf(d, n), simulations, seed)
}

function pointAt(d: PowerDesign, rows: readonly Cell[][], simulations: number, seed: number): PowerPoint {
  const n = rows.length
  const intercepts = d.accuracies.map(logit)
  const critical = zCritical(d.alpha)
  const rand = mulberry32(seedFor(seed, n))
  const clusters: ClusterCounts[] = Array.from({ length: n }, () => ({ nA: 0, sumA: 0, nB: 0, sumB: 0 }))
  let rejections = 0
  for (let s = 0; s < simulations; s++) {
    simulateStudy(d, rows, intercepts, rand, clusters)
    const test = clusteredDifferenceTest(clusters)
    if (test && Math.abs(test.z) > critical) rejections++
  }
  const interval = wilsonInterval(rejections, simulations)
  return { n, power: rejections / simulations, low: interval.low!, high: interval.high!, simulations }
}

/** Power this close to 1 at two N in a row ends the grid early. */
const SATURATED = 0.98

export interface PowerCurve {
  points: PowerPoint[]
  /** the smallest N of the grid whose simulated power reaches the target; null if none does */
  nNeeded: number | null
  target: number
  /** how long the grid took (ms), for the page's note */
  elapsedMs: number
}

/**
 * Power at the N of the grid (ascending; it stops after two points in a row at ≥ max(target, 0.98)), and the
 * smallest N reaching `target`.
 */
export function powerCurve(
  d: PowerDesign,
  target: number,
  { grid = DEFAULT_N_GRID, simulations = DEFAULT_SIMULATIONS, seed = DEFAULT_POWER_SEED }: { grid?: readonly number[]; simulations?: number; seed?: number } = {},
): PowerCurve {
  checkDesign(d)
  if (!(target > 0 && target < 1)) throw new PowerDesignError(`target power must be between 0 and 1, got ${target}`)
  const started = Date.now()
  const ns = [...new Set(grid)].filter((n) => Number.isInteger(n) && n >= 2).sort((x, y) => x - y)
  const allRows = rowsOf(d, ns.at(-1) ?? 0) // row n is the same whatever N: compute the largest N's once
  const points: PowerPoint[] = []
  for (const n of ns) {
    points.push(pointAt(d, allRows.slice(0, n), simulations, seed))
    // past the target, once two points in a row are near 1 the larger N would only add time
    if (points.length >= 2 && points.slice(-2).every((p) => p.power >= Math.max(target, SATURATED))) break
  }
  return { points, nNeeded: points.find((p) => p.power >= target)?.n ?? null, target, elapsedMs: Date.now() - started }
}

/**
 * The expected bonus per participant (smallest currency unit) under the study's bonus rule: min(cap, bonus per
 * correct × correct answers), averaged over simulated participants of the same model (every condition's tasks count,
 * as verified answers do). Ignores screening out (a screened-out participant gets none), so it errs on the side of cost.
 */
export function expectedBonusCents(
  d: PowerDesign,
  pay: { bonusPerCorrectCents: number; bonusCapCents: number | null },
  { participants = 2000, seed = DEFAULT_POWER_SEED } = {},
): number {
  checkDesign(d)
  if (pay.bonusPerCorrectCents <= 0) return 0
  const rows = rowsOf(d, participants)
  const correct = new Array<number>(participants).fill(0)
  const clusters = rows.map(() => ({ nA: 0, sumA: 0, nB: 0, sumB: 0 }))
  simulateStudy(d, rows, d.accuracies.map(logit), mulberry32(seedFor(seed, 1)), clusters, correct)
  const cap = pay.bonusCapCents ?? Infinity
  return correct.reduce((s, k) => s + Math.min(cap, k * pay.bonusPerCorrectCents), 0) / participants
}

// ---------------------------------------------------------------- which conditions are compared

/**
 * The dashboard's comparison (dashboard.ts): TRL vs GRPO when exactly one condition of each algorithm, else the only
 * two conditions in name order; null otherwise. a − b is the difference.
 */
export function comparedPair(conditions: readonly { name: string; algorithm: string | null }[]): { a: number; b: number; label: string } | null {
  const indices = (algorithm: string) => conditions.flatMap((c, i) => (c.algorithm === algorithm ? [i] : []))
  const trl = indices('TRL')
  const grpo = indices('GRPO')
  if (trl.length === 1 && grpo.length === 1) return { a: trl[0]!, b: grpo[0]!, label: 'TRL − GRPO' }
  if (conditions.length === 2) {
    const [a, b] = conditions[0]!.name <= conditions[1]!.name ? [0, 1] : [1, 0]
    return { a, b, label: `${conditions[a]!.name} − ${conditions[b]!.name}` }
  }
  return null
}

// ---------------------------------------------------------------- the plan a study stores

/** The designer's inputs of the power plan (studies.schema.ts powerPlanSchema's output). */
export interface PowerPlanInput {
  alpha: number
  power: number
  /** expected accuracy by condition name */
  accuracies: Record<string, number>
  participantSd: number
  problemSd: number
  /** where each accuracy came from, by condition name (e.g. "from evaluation …, handoff after step 2: 0.62") */
  sources?: Record<string, string>
}

/** studies.power_plan: the inputs and what the simulation made of them (part of the preregistration). */
export interface PowerPlan extends PowerPlanInput {
  compared: { a: string; b: string; label: string } | null
  test: string
  simulations: number
  seed: number
  curve: { n: number; power: number }[]
  nNeeded: number | null
  currency: string
  /** expected bonus per participant, smallest currency unit (rounded) */
  expectedBonusCents: number
  /** N needed × (base pay + expected bonus); null without an N */
  costCents: number | null
  /** why no power could be computed (e.g. one condition only), else null */
  note: string | null
}

export interface PowerStudy {
  conditions: { name: string; algorithm: string | null }[]
  problemCount: number
  tasksPerParticipant: number
  currency: string
  basePayCents: number
  bonusPerCorrectCents: number
  bonusCapCents: number | null
}

/** The design as the simulation reads it, or why it cannot be simulated. */
export function powerDesignOf(study: PowerStudy, plan: PowerPlanInput): { design: PowerDesign; label: string } | { note: string } {
  const pair = comparedPair(study.conditions)
  if (!pair) {
    return { note: 'No power computed: it needs exactly one TRL and one GRPO condition, or exactly two conditions (the pair the dashboard compares).' }
  }
  if (!(study.tasksPerParticipant >= 1 && study.tasksPerParticipant <= study.problemCount)) {
    return { note: 'No power computed: tasks per participant must be between 1 and the number of problems.' }
  }
  const missing = study.conditions.filter((c) => !(plan.accuracies[c.name]! > 0 && plan.accuracies[c.name]! < 1))
  if (missing.length) return { note: `No power computed: give an expected accuracy between 0 and 1 for ${missing.map((c) => c.name).join(', ')}.` }
  return {
    label: pair.label,
    design: {
      conditions: study.conditions.length,
      problems: study.problemCount,
      tasksPerParticipant: study.tasksPerParticipant,
      accuracies: study.conditions.map((c) => plan.accuracies[c.name]!),
      compared: [pair.a, pair.b],
      participantSd: plan.participantSd,
      problemSd: plan.problemSd,
      alpha: plan.alpha,
    },
  }
}

/** The whole plan: the curve over the grid, N needed and its cost. Deterministic for the same inputs. */
export function powerPlanFor(study: PowerStudy, plan: PowerPlanInput, opts: { simulations?: number; seed?: number; grid?: readonly number[] } = {}): PowerPlan & { elapsedMs: number } {
  const simulations = opts.simulations ?? DEFAULT_SIMULATIONS
  const seed = opts.seed ?? DEFAULT_POWER_SEED
  const base = { ...plan, test: POWER_TEST_TEXT, simulations, seed, currency: study.currency }
  const of = powerDesignOf(study, plan)
  if ('note' in of) return { ...base, compared: null, curve: [], nNeeded: null, expectedBonusCents: 0, costCents: null, note: of.note, elapsedMs: 0 }
  const curve = powerCurve(of.design, plan.power, { simulations, seed, grid: opts.grid })
  const bonus = Math.round(expectedBonusCents(of.design, study, { seed }))
  const [a, b] = of.design.compared
  return {
    ...base,
    compared: { a: study.conditions[a]!.name, b: study.conditions[b]!.name, label: of.label },
    curve: curve.points.map((p) => ({ n: p.n, power: p.power })),
    nNeeded: curve.nNeeded,
    expectedBonusCents: bonus,
    costCents: curve.nNeeded === null ? null : curve.nNeeded * (study.basePayCents + bonus),
    note: null,
    elapsedMs: curve.elapsedMs,
  }
}

// ---------------------------------------------------------------- prefill from the model-side evaluation

/** The evaluation curve matching a handoff rule: after step k ↔ senior_first_k; at fraction f ↔ handoff_fraction. */
export function handoffCurveName(rule: HandoffRule): 'handoff_senior_first_k' | 'handoff_fraction' {
  return rule.kind === 'step' ? 'handoff_senior_first_k' : 'handoff_fraction'
}

/**
 * The point of an evaluation's handoff curve nearest the study's handoff rule (ties: the smaller x), with the
 * accuracy there; null when the report has no such curve or point.
 */
export function nearestHandoffPoint(report: Pick<ParsedReport, 'curves'>, rule: HandoffRule): { curve: string; x: number; accuracy: number } | null {
  const curve = handoffCurveName(rule)
  const target = rule.kind === 'step' ? rule.k : rule.f
  const points = (report.curves[curve]?.points ?? []).filter((p) => p.value !== null).sort((p, q) => p.x - q.x)
  let best: (typeof points)[number] | null = null
  for (const p of points) if (!best || Math.abs(p.x - target) < Math.abs(best.x - target)) best = p
  return best ? { curve, x: best.x, accuracy: best.value! } : null
}

/** "handoff after step 2" / "handoff at f = 0.5": a curve point in the designer's words. */
export function handoffPointText(rule: HandoffRule, x: number): string {
  return rule.kind === 'step' ? `handoff after step ${x}` : `handoff at f = ${x}`
}
