// How a trace's text is cut for drawing: by author (author_spans) or by the junior's per-word surprisal
// (word_surprisal). Offsets come from the Python worker, which counts code points; JavaScript strings count
// UTF-16 units, so offsets are converted first. Spans that are out of range or overlap an earlier one are
// clipped, and text no span covers is drawn neutral: a bad row from a worker must not hide or repeat text.

export type Author = 'senior' | 'junior' | 'human'

export interface Piece<T> {
  text: string
  /** the author or surprisal of this piece; null = not covered */
  value: T | null
}

/** Maps code-point offsets (Python's str indices) to UTF-16 offsets; the identity for text without astral characters. */
export function codePointOffsets(text: string): (offset: number) => number {
  if (!/[\uD800-\uDBFF]/.test(text)) return (offset) => Math.min(Math.max(offset, 0), text.length)
  const utf16: number[] = []
  let i = 0
  for (const ch of text) {
    utf16.push(i)
    i += ch.length
  }
  utf16.push(text.length)
  return (offset) => utf16[Math.min(Math.max(offset, 0), utf16.length - 1)]!
}

/** Cuts `text` into consecutive pieces, each covered by one range (first come, first served) or by none. */
export function piecesOf<T>(text: string, ranges: { start: number; end: number; value: T }[]): Piece<T>[] {
  const toUtf16 = codePointOffsets(text)
  const sorted = ranges
    .map((r) => ({ start: toUtf16(r.start), end: toUtf16(r.end), value: r.value }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start)
  const pieces: Piece<T>[] = []
  let at = 0
  for (const r of sorted) {
    const start = Math.max(r.start, at)
    if (r.end <= start) continue // wholly inside text already drawn
    if (start > at) pieces.push({ text: text.slice(at, start), value: null })
    pieces.push({ text: text.slice(start, r.end), value: r.value })
    at = r.end
  }
  if (at < text.length) pieces.push({ text: text.slice(at), value: null })
  return pieces
}

export function authorPieces(text: string, spans: { author: Author; start: number; end: number }[]): Piece<Author>[] {
  return piecesOf(text, spans.map((s) => ({ start: s.start, end: s.end, value: s.author })))
}

export function surprisalPieces(text: string, words: { start: number; end: number; nats: number }[]): Piece<number>[] {
  return piecesOf(text, words.map((w) => ({ start: w.start, end: w.end, value: w.nats })))
}

// ---------------------------------------------------------------- colours

export const AUTHOR_STYLE: Record<Author, { label: string; className: string; swatch: string }> = {
  // light tints with dark text (contrast well above 7:1); the junior's and the human's words are also underlined
  // differently, so the authors stay apart without colour vision
  senior: { label: 'Senior', className: 'bg-indigo-100 text-indigo-950', swatch: 'bg-indigo-100 ring-indigo-300' },
  junior: { label: 'Junior', className: 'bg-amber-100 text-amber-950 underline decoration-amber-700 decoration-dotted decoration-2 underline-offset-4', swatch: 'bg-amber-100 ring-amber-400' },
  human: { label: 'Human', className: 'bg-emerald-100 text-emerald-950 underline decoration-emerald-700 decoration-double underline-offset-4', swatch: 'bg-emerald-100 ring-emerald-400' },
}

/** Surprisal at which the heat map saturates (nats); higher values get the darkest colour. */
export const HEAT_MAX_NATS = 8

// A sequential palette (ColorBrewer OrRd), light = expected word, dark = surprising word.
const HEAT_STOPS: [number, number, number][] = [
  [255, 247, 236],
  [253, 212, 158],
  [252, 141, 89],
  [215, 48, 31],
  [127, 0, 0],
]

function luminance([r, g, b]: [number, number, number]): number {
  const lin = (c: number) => {
    const s = c / 255
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

export function contrastRatio(a: [number, number, number], b: [number, number, number]): number {
  const [la, lb] = [luminance(a), luminance(b)]
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05)
}

/** Background and text colour for a word's surprisal: text is black or white, whichever contrasts more. */
export function heatColor(nats: number): { background: string; color: string } {
  const t = Math.min(Math.max(nats / HEAT_MAX_NATS, 0), 1) * (HEAT_STOPS.length - 1)
  const i = Math.min(Math.floor(t), HEAT_STOPS.length - 2)
  const f = t - i
  const [a, b] = [HEAT_STOPS[i]!, HEAT_STOPS[i + 1]!]
  const rgb = a.map((c, k) => Math.round(c + (b[k]! - c) * f)) as [number, number, number]
  const black: [number, number, number] = [17, 24, 39]
  const white: [number, number, number] = [255, 255, 255]
  const color = contrastRatio(rgb, black) >= contrastRatio(rgb, white) ? 'rgb(17, 24, 39)' : 'rgb(255, 255, 255)'
  return { background: `rgb(${rgb.join(', ')})`, color }
}

/** The legend's gradient, as a CSS background. */
export function heatGradient(): string {
  return `linear-gradient(to right, ${HEAT_STOPS.map((c) => `rgb(${c.join(', ')})`).join(', ')})`
}
