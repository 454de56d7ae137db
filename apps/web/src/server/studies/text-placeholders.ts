// Placeholders in a study's consent text — [DURATION], [PAYMENT], [CONTACT], … — that the researcher must replace
// with the study's own details: the designer lists those left, and launch refuses while any is. No imports: the
// designer (browser) and the studies router share it.

/** A bracketed name in capitals (letters, digits, spaces, _ and -; at least three characters), e.g. [HOW TO WITHDRAW]. */
const PLACEHOLDER = /\[[A-Z][A-Z0-9 _-]*[A-Z0-9]\]/g

/** The distinct placeholders left in `text`, in the order they first appear. */
export function unfilledPlaceholders(text: string): string[] {
  return [...new Set((text.match(PLACEHOLDER) ?? []).filter((p) => p.length >= 5))]
}

/** Why a consent text cannot go to participants yet, or null when it has no placeholder left. */
export function consentPlaceholderProblem(consentText: string): string | null {
  const left = unfilledPlaceholders(consentText)
  if (left.length === 0) return null
  return `The consent text still has ${left.length === 1 ? 'a placeholder' : 'placeholders'} to fill in: ${left.join(', ')}. Replace ${left.length === 1 ? 'it' : 'them'} with the study's details before launching.`
}
