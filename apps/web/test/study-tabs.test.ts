// The study page's tabs (issue 16 item 10), pure: which tabs a caller sees, which one the URL selects, the default
// (the dashboard once the study has opened), and the assignment note's number checked against the Latin square itself.
import { describe, expect, test } from 'vitest'

import {
  ALL_SECTIONS, balanceNote, balancedEvery, defaultStudyTab, selectedStudyTab, studyTabHref, visibleStudyTabs, type TabStudy,
} from '@/app/console/studies/[id]/study-tabs'
import { latinSquareTasks } from '@/server/studies/assignment'

const reader = (status: TabStudy['status']): TabStudy => ({ status, mayReadParticipantData: true })
const stranger = (status: TabStudy['status']): TabStudy => ({ status, mayReadParticipantData: false })

describe('tabs', () => {
  test('readers see all five in order; other researchers the design and settings only', () => {
    expect(visibleStudyTabs(reader('OPEN')).map((t) => t.label)).toEqual(['Dashboard', 'Participants', 'Exports', 'Design', 'Settings'])
    expect(visibleStudyTabs(stranger('OPEN')).map((t) => t.id)).toEqual(['design', 'settings'])
  })

  test('the default: the dashboard once the study has opened (open, paused, closed), the design before', () => {
    expect(['OPEN', 'PAUSED', 'CLOSED'].map((s) => defaultStudyTab(reader(s as TabStudy['status'])))).toEqual(['dashboard', 'dashboard', 'dashboard'])
    expect(defaultStudyTab(reader('DRAFT'))).toBe('design')
    expect(defaultStudyTab(reader('GENERATING'))).toBe('design')
    expect(defaultStudyTab(stranger('OPEN'))).toBe('design')
  })

  test('the URL selects a tab the caller sees, or all sections; anything else falls back to the default', () => {
    expect(selectedStudyTab('participants', reader('OPEN'))).toBe('participants')
    expect(selectedStudyTab('settings', reader('DRAFT'))).toBe('settings')
    expect(selectedStudyTab('all', reader('OPEN'))).toBe(ALL_SECTIONS)
    expect(selectedStudyTab(null, reader('OPEN'))).toBe('dashboard')
    expect(selectedStudyTab('nonsense', reader('CLOSED'))).toBe('dashboard')
    expect(selectedStudyTab('__proto__', reader('OPEN'))).toBe('dashboard')
    // a shared link to participant data opens the design for someone who may not read it
    expect(selectedStudyTab('exports', stranger('OPEN'))).toBe('design')
  })

  test('each tab has its own address, the default too (a chosen tab stays when the default changes)', () => {
    expect(studyTabHref('/console/studies/s1', 'participants')).toBe('/console/studies/s1?tab=participants')
    expect(studyTabHref('/console/studies/s1', 'dashboard')).toBe('/console/studies/s1?tab=dashboard')
    expect(studyTabHref('/console/studies/s1', ALL_SECTIONS)).toBe('/console/studies/s1?tab=all')
  })
})

describe('the assignment note: balanced every N participants', () => {
  /** The Latin square's own answer: the fewest rows from 0 after which every cell has been assigned equally often. */
  function firstBalancedRow(conditions: number, problems: number, tasks: number): number {
    const counts = new Map<string, number>()
    for (let rows = 1; rows <= 10_000; rows++) {
      for (const cell of latinSquareTasks(rows - 1, conditions, problems, Math.min(tasks, problems))) {
        const key = `${cell.condition}|${cell.problem}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      const values = [...counts.values()]
      if (counts.size === conditions * problems && values.every((v) => v === values[0])) return rows
    }
    throw new Error('never balanced')
  }

  test('N = C·P / gcd(T, C·P), as the square itself gives it', () => {
    for (let conditions = 1; conditions <= 4; conditions++) {
      for (let problems = 1; problems <= 7; problems++) {
        for (let tasks = 1; tasks <= problems; tasks++) {
          expect(balancedEvery(conditions, problems, tasks), `C=${conditions} P=${problems} T=${tasks}`).toBe(firstBalancedRow(conditions, problems, tasks))
        }
      }
    }
  })

  test('the issue’s example and the words', () => {
    // 2 conditions × 4 problems, 2 tasks each: 8 cells, 2 per participant
    expect(balancedEvery(2, 4, 2)).toBe(4)
    expect(balanceNote(2, 4, 2)).toMatch(/^Balanced every 4 participants: with 2 conditions, 4 problems and 2 tasks each/)
    // 2 × 4 with 3 tasks: gcd(3, 8) = 1
    expect(balancedEvery(2, 4, 3)).toBe(8)
    // more tasks asked than problems: a participant gets P
    expect(balancedEvery(2, 3, 9)).toBe(2)
    expect(balanceNote(1, 2, 2)).toMatch(/^Balanced every 1 participant: with 1 condition, 2 problems and 2 tasks each.*after each participant\.$/)
    expect(() => balancedEvery(0, 4, 2)).toThrow(/above 0/)
  })
})
