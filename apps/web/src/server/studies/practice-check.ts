// The practice task's check, the same on the server (the session view keeps the verdict after a reload) and in the
// page. Like the worker's verifier (math-verify) for the real tasks, a plain number, a decimal or a fraction is
// compared by its value, so "1/2", "0.5" and "\frac{1}{2}" are all right for 1/2. No imports: the browser uses it too.

/** correct / incorrect by value or identical text; `different`: it could not be compared (not a plain number). */
export type PracticeVerdict = 'correct' | 'incorrect' | 'different'

interface Rational {
  n: bigint
  d: bigint
}

const DELIMITERS: [string, string][] = [
  ['$$', '$$'],
  ['\\[', '\\]'],
  ['\\(', '\\)'],
  ['$', '$'],
]

/** The answer without surrounding math delimiters, \boxed{…}, spacing commands, a trailing full stop and spaces. */
function bare(answer: string): string {
  let text = answer.trim()
  for (const [open, close] of DELIMITERS) {
    if (text.length >= open.length + close.length && text.startsWith(open) && text.endsWith(close)) {
      text = text.slice(open.length, text.length - close.length).trim()
      break
    }
  }
  const boxed = /^\\boxed\{(.*)\}$/s.exec(text)
  if (boxed) text = boxed[1]!
  return text
    .replace(/[\u2212\u2013\u2014]/g, '-') // minus-likes
    .replace(/\\[,;:! ]|\\thinspace/g, '') // TeX spacing, also between digit groups (1\,000)
    .replace(/\s+/g, '')
    .replace(/(?<=\d)\.$/, '')
}

const DECIMAL = String.raw`[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+`

function decimal(text: string): Rational | null {
  if (!new RegExp(`^(?:${DECIMAL})$`).test(text)) return null
  const negative = text.startsWith('-')
  const [whole = '', fraction = ''] = text.replace(/^[+-]/, '').replaceAll(',', '').split('.')
  const n = BigInt((whole || '0') + fraction)
  return { n: negative ? -n : n, d: 10n ** BigInt(fraction.length) }
}

function divide(a: Rational | null, b: Rational | null, negate = false): Rational | null {
  if (!a || !b || b.n === 0n) return null
  const n = a.n * b.d * (negate ? -1n : 1n)
  const d = a.d * b.n
  return d < 0n ? { n: -n, d: -d } : { n, d }
}

/** The answer's value when it is a plain number, decimal or fraction (a/b, \frac{a}{b}); otherwise null. */
export function answerValue(answer: string): Rational | null {
  const text = bare(answer)
  const plain = decimal(text)
  if (plain) return plain
  const slash = new RegExp(`^(${DECIMAL})/(${DECIMAL})$`).exec(text)
  if (slash) return divide(decimal(slash[1]!), decimal(slash[2]!))
  const frac = new RegExp(`^([+-]?)\\\\[dt]?frac\\{(${DECIMAL})\\}\\{(${DECIMAL})\\}$`).exec(text)
  if (frac) return divide(decimal(frac[2]!), decimal(frac[3]!), frac[1] === '-')
  return null
}

/** Whether the participant's practice answer is the expected one. */
export function practiceVerdict(given: string, expected: string): PracticeVerdict {
  const a = answerValue(given)
  const b = answerValue(expected)
  if (a && b) return a.n * b.d === b.n * a.d ? 'correct' : 'incorrect'
  if (bare(given) !== '' && bare(given).toLowerCase() === bare(expected).toLowerCase()) return 'correct'
  // a number against a number-like expected answer that did not match: plainly wrong; anything else, unread
  return a && !b ? 'incorrect' : 'different'
}
