// Which tasks a participant gets: a cyclic Latin square over the conditions × problems cells, one row per
// participant; and which row a new arrival takes when others dropped out (REFILL_RULE).
// Pure: the same (row, design) always gives the same tasks, so the rule can be written down, tested and
// re-derived from an export.

/** The rule as written on the study page and in the export's codebook. */
export const LATIN_SQUARE_RULE =
  'Cyclic Latin square over the C × P cells (conditions × problems). Cells are numbered s = 0 … C·P − 1; ' +
  'cell s is problem q = s mod P under condition c = (⌊s / P⌋ + q) mod C. Design row n (participant n in order ' +
  'of consent, unless the dropout refill rule gives a dropout’s row) takes the T consecutive cells ' +
  's = n·T … n·T + T − 1 (mod C·P), in that order. Consecutive cells ' +
  'are different problems (T ≤ P), so nobody sees a problem twice; conditions alternate within a participant; ' +
  'every C·P / gcd(T, C·P) consecutive rows, every cell has been assigned equally often.'

/** Which design row a new arrival takes when participants drop out (studies.refill_dropouts). */
export const REFILL_RULE =
  'Dropout refill: a participant who consented and then dropped out (timed out of the whole session, returned, or ' +
  'screened out by two failed attention checks) leaves their design row unfinished. With refill on, each new arrival ' +
  'takes the lowest such row that nobody has refilled yet (each dropout is refilled at most once; a refiller who drops ' +
  'out frees the row again), and otherwise the next fresh row after the highest row used so far. With refill off, ' +
  'participant n takes row n (pure arrival order). The participant ordinal stays the order of arrival either way; ' +
  'the design row picks the tasks, and the export carries both (participant_ordinal, participant_design_row).'

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

/** The items of design row `designRow` (a participant's row of the Latin square), in order. */
export function participantItems(designRow: number, items: DesignItem[], tasksPerParticipant: number): DesignItem[] {
  const axes = designAxes(items)
  const tasks = Math.min(tasksPerParticipant, axes.problems.length)
  return latinSquareTasks(designRow, axes.conditions.length, axes.problems.length, tasks).map(axes.itemAt)
}

/** What the refill rule looks at when someone arrives. */
export interface DesignRowState {
  /** the arrival's ordinal (0, 1, 2, … in order of consent) */
  ordinal: number
  refillDropouts: boolean
  /** the highest design row any participant of the study holds (null: none yet) */
  highestRow: number | null
  /** dropouts whose row nobody has refilled yet */
  openDropouts: { id: string; designRow: number }[]
}

/** The arrival's design row, and the dropout it refills (REFILL_RULE). */
export function nextDesignRow(state: DesignRowState): { designRow: number; refillsId: string | null } {
  if (!state.refillDropouts) return { designRow: state.ordinal, refillsId: null }
  const lowest = [...state.openDropouts].sort((a, b) => a.designRow - b.designRow || a.id.localeCompare(b.id))[0]
  if (lowest) return { designRow: lowest.designRow, refillsId: lowest.id }
  return { designRow: state.highestRow === null ? 0 : state.highestRow + 1, refillsId: null }
}
