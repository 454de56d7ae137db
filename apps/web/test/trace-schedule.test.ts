// How a trace was written, in words: the worker's schedule names explained, empty settings hidden, and an
// evaluation's examples in the order its report lists them.
import { describe, expect, test } from 'vitest'

import { compareExamples, parseSchedule, scheduleLabel, scheduleSentence, shownSettings, type ExampleKey } from '@/server/api/routers/traces.schedule'

const words = (name: string, pJunior?: number) => {
  const schedule = parseSchedule(name, pJunior)
  return { label: scheduleLabel(schedule), sentence: scheduleSentence(schedule) }
}

describe('schedules in words', () => {
  test('coin_flip names the junior’s probability', () => {
    expect(words('coin_flip', 0.5)).toEqual({
      label: 'Coin flip, junior 50%',
      sentence: 'Senior and junior co-wrote: at each word a coin flip chose the author — the junior with probability 0.5 (50%), otherwise the senior.',
    })
    // older traces carried it in the name (traces.scheduleOf)
    expect(words('coin flip p_junior=0.25').label).toBe('Coin flip, junior 25%')
    expect(words('coin_flip').sentence).toBe('Senior and junior co-wrote: at each word a coin flip chose the author.')
  })

  test('senior_fraction says how much of the senior’s reasoning was kept', () => {
    expect(words('senior_fraction=0.5')).toEqual({
      label: 'Senior’s first 50% of steps',
      sentence: 'The senior’s own solo reasoning was cut after half (50%) of its steps (rounded to whole lines); the junior continued from there.',
    })
    expect(words('senior_fraction=0.3').sentence).toContain('cut after 30% of its steps')
    expect(words('senior_fraction=0.75').sentence).toContain('three quarters (75%)')
  })

  test('senior_first_k counts steps with correct plurals; k = 0 is the junior alone', () => {
    expect(words('senior_first_k=1').sentence).toBe('The senior wrote the first reasoning step; the junior wrote the rest.')
    expect(words('senior_first_k=3')).toEqual({
      label: 'Senior’s first 3 steps',
      sentence: 'The senior wrote the first 3 reasoning steps; the junior wrote the rest.',
    })
    expect(words('senior_first_k=0').label).toBe('Junior alone')
  })

  test('solo, alternate, live and unknown names', () => {
    expect(words('solo').sentence).toBe('The senior wrote every word alone.')
    expect(words('alternate').label).toBe('Alternating steps')
    expect(words('live study').label).toBe('Live study')
    expect(words('legibility')).toEqual({ label: 'legibility', sentence: 'Schedule “legibility”.' })
    expect(parseSchedule('senior_fraction=1.5')).toEqual({ kind: 'other', name: 'senior_fraction=1.5' })
    expect(words('—')).toEqual({ label: '—', sentence: 'No schedule recorded.' })
  })
})

describe('shownSettings', () => {
  test('hides null and empty settings and those the page shows elsewhere; labels and formats the rest', () => {
    const shown = shownSettings({
      suite: null, schedule: 'coin_flip', p_junior: 0.5, granularity: 'step', temperature: 1, max_new_tokens: 1, junior: '/models/tiny',
      top_p: undefined, clipped_chars: 12, handoff_rule: { kind: 'fraction', f: 0.05 }, source: 'live-study', note: '',
    })
    expect(shown).toEqual([
      { key: 'p_junior', label: 'p_junior (junior’s share)', value: '0.5' },
      { key: 'granularity', label: 'Author changes per', value: 'reasoning step' },
      { key: 'temperature', label: 'Temperature', value: '1' },
      { key: 'max_new_tokens', label: 'Token budget', value: '1 token' },
      { key: 'clipped_chars', label: 'Characters cut', value: '12 characters' },
      { key: 'handoff_rule', label: 'Handoff to the participant', value: 'after 5% of the token budget' },
    ])
    expect(shownSettings({ handoff_rule: { kind: 'step', k: 2 } })[0]!.value).toBe('after the first 2 steps')
    expect(shownSettings({ custom: { a: 1 } })).toEqual([{ key: 'custom', label: 'custom', value: '{"a":1}' }])
  })
})

describe('compareExamples', () => {
  test('an evaluation’s examples by schedule (k and f numerically), then problem (p2 before p10)', () => {
    const key = (schedule: string, problemExternalId: string, suite: string | null = 'handoff'): ExampleKey => ({
      id: `${schedule}/${problemExternalId}/${suite}`, schedule, suite, problemExternalId,
    })
    const shuffled = [
      key('senior_fraction=0.75', 'p1'), key('senior_first_k=10', 'p1'), key('coin_flip', 'p10', 'tandem'), key('solo', 'p10', 'solo'),
      key('senior_fraction=0.25', 'p1'), key('alternate', 'p1'), key('senior_first_k=2', 'p1'), key('solo', 'p2', 'legibility'),
      key('solo', 'p2', 'solo'), key('coin_flip', 'p2', 'tandem'),
    ]
    expect(shuffled.sort(compareExamples).map((k) => k.id)).toEqual([
      'solo/p2/legibility', 'solo/p2/solo', 'solo/p10/solo', 'coin_flip/p2/tandem', 'coin_flip/p10/tandem', 'alternate/p1/handoff',
      'senior_first_k=2/p1/handoff', 'senior_first_k=10/p1/handoff', 'senior_fraction=0.25/p1/handoff', 'senior_fraction=0.75/p1/handoff',
    ])
  })
})
