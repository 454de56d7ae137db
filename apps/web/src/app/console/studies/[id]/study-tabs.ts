// The study page's tabs, pure (tested without a browser): which tabs a caller sees, which one a URL selects
// (?tab=participants, so a reload or a shared link keeps it), and the assignment note's number.
import { plural } from '@/components/format'

export const STUDY_TABS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'participants', label: 'Participants' },
  { id: 'exports', label: 'Exports' },
  { id: 'design', label: 'Design' },
  { id: 'settings', label: 'Settings' },
] as const

export type StudyTabId = (typeof STUDY_TABS)[number]['id']

/** ?tab=all: every section stacked in one page, as before the tabs (for printing, and the load bench's baseline). */
export const ALL_SECTIONS = 'all'
export type StudyTabSelection = StudyTabId | typeof ALL_SECTIONS

/** The participant-data tabs: shown to the owner, collaborators and admins only. */
const PARTICIPANT_DATA_TABS: readonly StudyTabId[] = ['dashboard', 'participants', 'exports']

export interface TabStudy {
  status: 'DRAFT' | 'GENERATING' | 'OPEN' | 'PAUSED' | 'CLOSED'
  mayReadParticipantData: boolean
}

export function visibleStudyTabs(study: TabStudy) {
  return STUDY_TABS.filter((t) => study.mayReadParticipantData || !PARTICIPANT_DATA_TABS.includes(t.id))
}

/** Launched (traces generated, the study opened at least once): the dashboard comes first; before that, the design. */
export function defaultStudyTab(study: TabStudy): StudyTabId {
  const launched = study.status !== 'DRAFT' && study.status !== 'GENERATING'
  return launched && study.mayReadParticipantData ? 'dashboard' : 'design'
}

/** The tab the URL's ?tab= names when this caller sees it, else the default. */
export function selectedStudyTab(param: string | null, study: TabStudy): StudyTabSelection {
  if (param === ALL_SECTIONS) return ALL_SECTIONS
  return visibleStudyTabs(study).find((t) => t.id === param)?.id ?? defaultStudyTab(study)
}

/**
 * The study page's address with `tab` selected. Always explicit: a tab once chosen stays when the default changes
 * (a generating study opens and the dashboard becomes the default).
 */
export function studyTabHref(pathname: string, tab: StudyTabSelection): string {
  return `${pathname}?tab=${tab}`
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

/**
 * After how many consecutive design rows every condition × problem cell has been assigned equally often, by the
 * Latin square rule (assignment.ts LATIN_SQUARE_RULE): C·P / gcd(T, C·P), with T the tasks a participant actually
 * gets (at most P).
 */
export function balancedEvery(conditions: number, problems: number, tasksPerParticipant: number): number {
  const cells = conditions * problems
  const tasks = Math.min(tasksPerParticipant, problems)
  if (!(cells > 0 && tasks > 0)) throw new RangeError(`need conditions, problems and tasks above 0, got ${conditions}, ${problems}, ${tasksPerParticipant}`)
  return cells / gcd(tasks, cells)
}

/** The assignment note in words, with the study's own number. */
export function balanceNote(conditions: number, problems: number, tasksPerParticipant: number): string {
  const n = balancedEvery(conditions, problems, tasksPerParticipant)
  return (
    `Balanced every ${plural(n, 'participant')}: with ${plural(conditions, 'condition')}, ${plural(problems, 'problem')} and ` +
    `${plural(Math.min(tasksPerParticipant, problems), 'task')} each, every condition × problem cell has been assigned equally often ` +
    `after each ${n === 1 ? 'participant' : `${n} consecutive participants (design rows)`}.`
  )
}
