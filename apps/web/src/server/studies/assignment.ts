// Which tasks a participant gets: a cyclic Latin square over the conditions × problems cells.
// Pure: the same (ordinal, design) always gives the same tasks, so the rule can be written down, tested and
// re-derived from an export.

/** The rule as written on the study page and in the export's codebook. */
export const LATIN_SQUARE_RULE =
  'Cyclic Latin square over the C × P cells (conditions × problems). Cells are numbered s = 0 … C·P − 1; ' +
  'cell s is problem q = s mod P under condition c = (⌊s / P⌋ + q) mod C. Participant n (0, 1, 2, … in order ' +
  'of consent) takes the T consecutive cells s = n·T … n·T + T − 1 (mod C·P), in that order. Consecutive cells ' +
  'are different problems (T ≤ P), so nobody sees a problem twice; conditions alternate within a participant; ' +
  'every C·P / gcd(T, C·P) participants, every cell has been assigned equally often.'

export interface Cell {
  /** index into the conditions, in the study's condition order */
  condition: number
  /** index into the problems, in the study's problem order */
  problem: number
}

export class DesignError extends Error {}

/** The cells of participant `ordinal` (0-based), in presentation order. */
export function latinSquareTasks(ordinal: number, conditions: number, problems: number, tasks: number): Cell[] {
  if (!Number.isInteger(ordinal) || ordinal < 0) throw new DesignError(`ordinal must be a whole number >= 0, got ${ordinal}`)
  if (!Number.isInteger(conditions) || conditions < 1) throw new DesignError(`need at least one condition, got ${conditions}`)
  if (!Number.isInteger(problems) || problems < 1) throw new DesignError(`need at least one problem, got ${problems}`)
  if (!Number.isInteger(tasks) || tasks < 1 || tasks > problems) {
    throw new DesignError(`tasks per participant must be between 1 and the number of problems (${problems}), got ${tasks}`)
  }
  const cells = conditions * problems
  const out: Cell[] = []
  for (let j = 0; j < tasks; j++) {
    // BigInt-free: ordinal * tasks stays far below 2^53 for any real study
    const s = (ordinal * tasks + j) % cells
    const problem = s % problems
    out.push({ condition: (Math.floor(s / problems) + problem) % conditions, problem })
  }
  return out
}

export interface DesignItem {
  id: string
  conditionId: string
  conditionName: string
  problemId: string
  problemExternalId: string
}

/**
 * The design's axes from a study's items: conditions in name order and problems in dataset-id order (ties by
 * id), so the same study always numbers its cells the same way; and the item of a cell.
 */
export function designAxes(items: DesignItem[]) {
  const ordered = (pairs: [string, string][]) =>
    [...new Map(pairs).entries()].sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0])).map(([id]) => id)
  const conditions = ordered(items.map((i) => [i.conditionId, i.conditionName]))
  const problems = ordered(items.map((i) => [i.problemId, i.problemExternalId]))
  const byCell = new Map(items.map((i) => [`${i.conditionId}|${i.problemId}`, i]))
  return {
    conditions,
    problems,
    itemAt: (cell: Cell): DesignItem => byCell.get(`${conditions[cell.condition]}|${problems[cell.problem]}`)!,
  }
}

/** The items participant `ordinal` gets, in order. */
export function participantItems(ordinal: number, items: DesignItem[], tasksPerParticipant: number): DesignItem[] {
  const axes = designAxes(items)
  const tasks = Math.min(tasksPerParticipant, axes.problems.length)
  return latinSquareTasks(ordinal, axes.conditions.length, axes.problems.length, tasks).map(axes.itemAt)
}
