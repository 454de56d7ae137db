// The compare pages' ?ids=a,b (or ids repeated): distinct ids, in the order given.
export function parseIds(raw: string | string[] | undefined): string[] {
  const parts = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((part) => part.split(','))
  return [...new Set(parts.map((p) => p.trim()).filter(Boolean))]
}
