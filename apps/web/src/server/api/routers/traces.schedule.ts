// How a trace was written, for people: its author schedule (the worker's names: "solo", "coin_flip", "alternate",
// "senior_first_k=K", "senior_fraction=F", and "live study") in words, its settings without the empty ones, and the
// order an evaluation's examples are listed in. Pure, no server imports: the trace page and the traces router share it.
import { plural } from '@/components/format'

export type Schedule =
  | { kind: 'solo' }
  | { kind: 'coin_flip'; pJunior: number | null }
  | { kind: 'alternate' }
  | { kind: 'senior_first_k'; k: number }
  | { kind: 'senior_fraction'; fraction: number }
  | { kind: 'live' }
  | { kind: 'other'; name: string }

/** The schedule named by a trace's settings (traces.scheduleOf's text; p_junior from the settings, if any). */
export function parseSchedule(name: string, pJunior?: unknown): Schedule {
  const p = typeof pJunior === 'number' && Number.isFinite(pJunior) ? pJunior : null
  const text = name.trim()
  if (text === 'solo') return { kind: 'solo' }
  if (text === 'alternate') return { kind: 'alternate' }
  if (text === 'live study') return { kind: 'live' }
  // "coin_flip", or older traces' "coin flip p_junior=0.5" (scheduleOf)
  const coin = /^coin[ _]flip(?: p_junior=([0-9.]+))?$/.exec(text)
  if (coin) return { kind: 'coin_flip', pJunior: coin[1] !== undefined ? Number(coin[1]) : p }
  const firstK = /^senior_first_k=(\d+)$/.exec(text)
  if (firstK) return { kind: 'senior_first_k', k: Number(firstK[1]) }
  const fraction = /^senior_fraction=([0-9]*\.?[0-9]+)$/.exec(text)
  if (fraction && Number(fraction[1]) <= 1) return { kind: 'senior_fraction', fraction: Number(fraction[1]) }
  // scheduleOf's '—': nothing recorded
  return { kind: 'other', name: text === '—' ? '' : text }
}

const NAMED_FRACTIONS: Record<string, string> = { '0.25': 'a quarter', '0.5': 'half', '0.75': 'three quarters' }

function percent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`
}

/** 0.5 → "half (50%)"; fractions without a common name as a percentage: 0.3 → "30%". */
function fractionWords(fraction: number): string {
  const named = NAMED_FRACTIONS[String(fraction)]
  return named ? `${named} (${percent(fraction)})` : percent(fraction)
}

/** A short name for lists: "Coin flip, junior 50%", "Senior's first 2 steps". */
export function scheduleLabel(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'solo':
      return 'Senior alone'
    case 'coin_flip':
      return schedule.pJunior === null ? 'Coin flip' : `Coin flip, junior ${percent(schedule.pJunior)}`
    case 'alternate':
      return 'Alternating steps'
    case 'senior_first_k':
      return schedule.k === 0 ? 'Junior alone' : `Senior’s first ${plural(schedule.k, 'step')}`
    case 'senior_fraction':
      return `Senior’s first ${percent(schedule.fraction)} of steps`
    case 'live':
      return 'Live study'
    case 'other':
      return schedule.name || '—'
  }
}

/** One or two sentences on who wrote what, for the trace page. */
export function scheduleSentence(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'solo':
      return 'The senior wrote every word alone.'
    case 'coin_flip':
      return schedule.pJunior === null
        ? 'Senior and junior co-wrote: at each word a coin flip chose the author.'
        : `Senior and junior co-wrote: at each word a coin flip chose the author — the junior with probability ${schedule.pJunior} (${percent(schedule.pJunior)}), otherwise the senior.`
    case 'alternate':
      return 'Senior and junior took turns, one reasoning step (line) each, the senior first, in one shared token budget.'
    case 'senior_first_k':
      return schedule.k === 0
        ? 'The junior wrote everything (the senior wrote no steps).'
        : `The senior wrote the first ${schedule.k === 1 ? 'reasoning step' : plural(schedule.k, 'reasoning step')}; the junior wrote the rest.`
    case 'senior_fraction':
      return `The senior’s own solo reasoning was cut after ${fractionWords(schedule.fraction)} of its steps (rounded to whole lines); the junior continued from there.`
    case 'live':
      return 'Written live in a study: the senior streamed, the participant took over and handed back.'
    case 'other':
      return schedule.name ? `Schedule “${schedule.name}”.` : 'No schedule recorded.'
  }
}

// ── settings ─────────────────────────────────────────────────────────────────────────────────────────────────────

// shown elsewhere on the trace page: the schedule in words, the junior by name, the live session's card
const SHOWN_ELSEWHERE = new Set(['schedule', 'junior', 'spans', 'source', 'studyId', 'assignmentId'])

const SETTING_LABELS: Record<string, string> = {
  suite: 'Evaluation suite',
  p_junior: 'p_junior (junior’s share)',
  granularity: 'Author changes per',
  temperature: 'Temperature',
  top_p: 'Top-p',
  max_new_tokens: 'Token budget',
  handoff_rule: 'Handoff to the participant',
  clipped_chars: 'Characters cut',
}

function handoffRuleText(rule: unknown): string | null {
  if (typeof rule !== 'object' || rule === null) return null
  const r = rule as { kind?: unknown; k?: unknown; f?: unknown }
  if (r.kind === 'step' && typeof r.k === 'number') return `after ${r.k === 1 ? 'the first step' : `the first ${plural(r.k, 'step')}`}`
  if (r.kind === 'fraction' && typeof r.f === 'number') return `after ${percent(r.f)} of the token budget`
  return null
}

function settingValue(key: string, value: unknown): string {
  if (key === 'granularity' && value === 'step') return 'reasoning step'
  if (key === 'max_new_tokens' && typeof value === 'number') return plural(value, 'token')
  if (key === 'clipped_chars' && typeof value === 'number') return plural(value, 'character')
  if (key === 'handoff_rule') return handoffRuleText(value) ?? JSON.stringify(value)
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** The settings worth a row on the trace page: labelled, formatted, without empty ones or those shown elsewhere. */
export function shownSettings(settings: Record<string, unknown>): { key: string; label: string; value: string }[] {
  return Object.entries(settings)
    .filter(([key, value]) => !SHOWN_ELSEWHERE.has(key) && value !== null && value !== undefined && value !== '')
    .map(([key, value]) => ({ key, label: SETTING_LABELS[key] ?? key, value: settingValue(key, value) }))
}

// ── an evaluation's examples, in order ────────────────────────────────────────────────────────────────────────────

const KIND_ORDER: Schedule['kind'][] = ['solo', 'coin_flip', 'alternate', 'senior_first_k', 'senior_fraction', 'live', 'other']

function scheduleRank(schedule: Schedule): [number, number, string] {
  const value = schedule.kind === 'senior_first_k' ? schedule.k : schedule.kind === 'senior_fraction' ? schedule.fraction : 0
  return [KIND_ORDER.indexOf(schedule.kind), value, schedule.kind === 'other' ? schedule.name : '']
}

const natural = new Intl.Collator('en', { numeric: true })

export interface ExampleKey {
  id: string
  schedule: string
  suite: string | null
  problemExternalId: string
}

/**
 * The order an evaluation's examples are read in, as its report lists them: by schedule (solo, coin flip, alternate,
 * the senior's first k steps by k, the senior's fraction by f), then by problem (p2 before p10), then suite and id.
 */
export function compareExamples(a: ExampleKey, b: ExampleKey): number {
  const [ra, rb] = [scheduleRank(parseSchedule(a.schedule)), scheduleRank(parseSchedule(b.schedule))]
  return (
    ra[0] - rb[0] ||
    ra[1] - rb[1] ||
    natural.compare(ra[2], rb[2]) ||
    natural.compare(a.problemExternalId, b.problemExternalId) ||
    natural.compare(a.suite ?? '', b.suite ?? '') ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )
}
