// Model and problem text with its math typeset by KaTeX, rendered safely: the text is split into plain and math
// segments; plain segments become React text nodes (escaped by React), math segments go through
// katex.renderToString with trust off, so KaTeX's own markup is the only HTML this component injects. Text
// from a model is untrusted: `<script>`, `<img onerror>`, `\href{javascript:…}` all end up as visible text.
import katex from 'katex'
import 'katex/dist/katex.min.css'

export type MathSegment = { kind: 'text'; text: string } | { kind: 'math'; tex: string; display: boolean; source: string }

/** Longer math than this is shown as its source: typesetting a megabyte of model output is not worth it. */
export const MAX_MATH_CHARS = 2000

const KATEX_OPTIONS = {
  throwOnError: false,
  trust: false,
  strict: 'ignore',
  // bounds on macro expansion and \rule/\kern sizes, so hostile input cannot hang or blow up the page
  maxExpand: 200,
  maxSize: 20,
  output: 'htmlAndMathml',
} as const

/** Index of the `}` closing the `{` at `open` (nested braces counted, escaped ones skipped); -1 if unclosed within MAX_MATH_CHARS. */
function closingBrace(text: string, open: number): number {
  let depth = 0
  const stop = Math.min(text.length, open + MAX_MATH_CHARS)
  for (let i = open; i < stop; i++) {
    const ch = text[i]
    if (ch === '\\') {
      i++
      continue
    }
    if (ch === '{') depth++
    else if (ch === '}') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

function isEscaped(text: string, at: number): boolean {
  let backslashes = 0
  for (let i = at - 1; i >= 0 && text[i] === '\\'; i--) backslashes++
  return backslashes % 2 === 1
}

/** Commands typeset as math outside delimiters, with how many brace groups each takes. */
const BARE_COMMANDS: [string, number][] = [
  ['\\boxed', 1],
  ['\\frac', 2],
  ['\\dfrac', 2],
  ['\\tfrac', 2],
  ['\\sqrt', 1],
]

/** Scans for math; remembers which closing delimiters are absent from a position on, so unclosed openers stay linear. */
class MathScanner {
  private noCloseFrom = new Map<string, number>()

  constructor(private readonly text: string) {}

  private find(close: string, from: number): number {
    const missing = this.noCloseFrom.get(close)
    if (missing !== undefined && from >= missing) return -1
    const at = this.text.indexOf(close, from)
    if (at < 0) this.noCloseFrom.set(close, Math.min(from, missing ?? from))
    return at
  }

  private delimited(i: number, open: string, close: string, display: boolean): [number, MathSegment] | null {
    const text = this.text
    if (!text.startsWith(open, i)) return null
    let from = i + open.length
    for (;;) {
      const end = this.find(close, from)
      if (end < 0) return null
      if (close === '$$' && isEscaped(text, end)) {
        from = end + 1
        continue
      }
      const tex = text.slice(i + open.length, end)
      if (tex.trim() === '') return null
      return [end + close.length, { kind: 'math', tex, display, source: text.slice(i, end + close.length) }]
    }
  }

  /** The math starting at `i`, if any: [end index (exclusive), segment]. */
  at(i: number): [number, MathSegment] | null {
    const text = this.text
    if (isEscaped(text, i)) return null
    const found =
      this.delimited(i, '$$', '$$', true) ?? this.delimited(i, '\\[', '\\]', true) ?? this.delimited(i, '\\(', '\\)', false)
    if (found) return found
    if (text[i] === '$' && !text.startsWith('$$', i)) {
      // inline $…$: the opening $ is not followed by a space and the closing one is not preceded by one nor
      // followed by a digit (so "costs $5 and $6" stays text), and the math stays on one line
      if (/\s/.test(text[i + 1] ?? ' ')) return null
      for (let end = i + 1; end < text.length; end++) {
        const ch = text[end]
        if (ch === '\n') return null
        if (ch === '$' && !isEscaped(text, end)) {
          const tex = text.slice(i + 1, end)
          if (/\s$/.test(tex) || /\d/.test(text[end + 1] ?? '')) return null
          return [end + 1, { kind: 'math', tex, display: false, source: text.slice(i, end + 1) }]
        }
      }
      return null
    }
    return this.bareCommand(i)
  }

  /** A command models write without delimiters (\boxed{…}, \frac{…}{…}, \sqrt{…}), with all its brace groups closed. */
  private bareCommand(i: number): [number, MathSegment] | null {
    const text = this.text
    for (const [name, groups] of BARE_COMMANDS) {
      if (!text.startsWith(name, i) || text[i + name.length] !== '{') continue
      let end = i + name.length - 1
      for (let group = 0; group < groups; group++) {
        if (text[end + 1] !== '{') return null
        end = closingBrace(text, end + 1)
        if (end < 0) return null
      }
      const source = text.slice(i, end + 1)
      return [end + 1, { kind: 'math', tex: source, display: false, source }]
    }
    return null
  }
}

/**
 * Splits text into plain and math segments: $…$, $$…$$, \(…\), \[…\] and bare \boxed{…}, \frac{…}{…}, \sqrt{…}.
 * Unclosed math stays text.
 */
export function splitMath(text: string): MathSegment[] {
  const scanner = new MathScanner(text)
  const segments: MathSegment[] = []
  let plainStart = 0
  let i = 0
  while (i < text.length) {
    const ch = text[i]
    const found = ch === '$' || ch === '\\' ? scanner.at(i) : null
    if (!found) {
      i++
      continue
    }
    if (i > plainStart) segments.push({ kind: 'text', text: text.slice(plainStart, i) })
    segments.push(found[1])
    i = found[0]
    plainStart = i
  }
  if (plainStart < text.length) segments.push({ kind: 'text', text: text.slice(plainStart) })
  return segments
}

/** KaTeX's HTML for one math segment, or null when it is too long or KaTeX fails anyway (then it is shown as text). */
export function renderMath(tex: string, display: boolean): string | null {
  if (tex.length > MAX_MATH_CHARS) return null
  try {
    return katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display })
  } catch {
    return null
  }
}

export function MathText({ text, className, testId }: { text: string; className?: string; testId?: string }) {
  return (
    <span className={`whitespace-pre-wrap break-words ${className ?? ''}`} data-testid={testId}>
      {splitMath(text).map((segment, index) => {
        if (segment.kind === 'text') return segment.text
        const html = renderMath(segment.tex, segment.display)
        if (html === null) return segment.source
        return (
          <span
            key={index}
            className={segment.display ? 'block overflow-x-auto py-1' : undefined}
            data-math=""
            // KaTeX output (trust: false) is the only HTML rendered from text; everything else is a text node
            dangerouslySetInnerHTML={{ __html: html }}
          />
        )
      })}
    </span>
  )
}
