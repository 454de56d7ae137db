// The Prolific bulk-bonus file of a study. The amounts come from the view study_participant_bonus (THE definition of
// a participant's bonus: verified correct answers × the study's bonus per correct answer, capped; none when screened
// out), so only answers the verifier has judged count. Prolific's format (docs.prolific.com, "Set up bonuses",
// csv_bonuses): one line "<participant_id>,<amount>" per participant, no header, the amount in the study currency's
// major unit as a decimal ("0.75" is £0.75) — so one line per participant with an amount above 0 and a platform id.
import type { Prisma } from '../../generated/prisma/client'
import type { Db } from '../db'

type Reader = Pick<Db, '$queryRaw'> | Prisma.TransactionClient

export interface BonusLine {
  externalId: string
  bonusCents: number
}

export interface BonusSummary {
  currency: string
  /** participants the file pays (bonus above 0 and an external id that can go into the file) */
  participants: number
  totalCents: number
  /** answers of the study the verifier has not judged yet: paying now would pay less than the rule gives later */
  unverifiedAnswers: number
  /** participants with a bonus but no recruiting-platform id (they cannot be paid through the file) */
  withoutExternalId: number
  /** participants whose id cannot be written into the file as is (not a plain platform id: see isPlainId) */
  unusableIds: number
}

/**
 * A recruiting platform's participant id that can stand in the file as it is: letters, digits, "_" and "-", not
 * starting with "-" (Prolific ids are 24 hex digits). Anything else (a comma, a quote, a formula's "=") would change
 * the line or run in a spreadsheet, so such ids are left out and counted instead.
 */
export function isPlainId(id: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_-]{0,199}$/.test(id)
}

/** Cents as the major unit with two decimals, in integer arithmetic ("75" → "0.75", "1250" → "12.50"). */
export function formatBonusAmount(cents: number): string {
  if (!Number.isInteger(cents) || cents < 0) throw new RangeError(`a bonus is a whole number of cents >= 0, got ${cents}`)
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
}

/** The file: Prolific's csv_bonuses lines, each ending in a newline, no header. */
export function bonusCsv(lines: BonusLine[]): string {
  return lines.map((l) => `${l.externalId},${formatBonusAmount(l.bonusCents)}\n`).join('')
}

interface BonusRow {
  externalId: string | null
  bonusCents: number
}

/** Every participant of the study with a bonus above 0, in order of arrival. */
async function bonusRows(db: Reader, studyId: string): Promise<BonusRow[]> {
  return db.$queryRaw<BonusRow[]>`
    SELECT pa.external_id AS "externalId", b.bonus_cents AS "bonusCents"
    FROM study_participant_bonus b JOIN participants pa ON pa.id = b.participant_id
    WHERE b.study_id = ${studyId} AND b.bonus_cents > 0
    ORDER BY pa.ordinal NULLS LAST, pa.created_at, pa.id`
}

/** The study's bonus file as lines, and what it leaves out (read in one snapshot by the caller's transaction). */
export async function studyBonus(db: Reader, studyId: string): Promise<{ lines: BonusLine[]; summary: BonusSummary }> {
  const [rows, [study], [pending]] = await Promise.all([
    bonusRows(db, studyId),
    db.$queryRaw<{ currency: string }[]>`SELECT currency FROM studies WHERE id = ${studyId}`,
    db.$queryRaw<{ unverified: number }[]>`
      SELECT count(*)::int AS unverified
      FROM responses r JOIN assignments a ON a.id = r.assignment_id JOIN participants pa ON pa.id = a.participant_id
      WHERE pa.study_id = ${studyId} AND NOT EXISTS (SELECT 1 FROM verifier_results v WHERE v.response_id = r.id)`,
  ])
  const lines: BonusLine[] = []
  let withoutExternalId = 0
  let unusableIds = 0
  for (const row of rows) {
    const id = row.externalId?.trim() ?? ''
    if (!id) withoutExternalId += 1
    else if (!isPlainId(id)) unusableIds += 1
    else lines.push({ externalId: id, bonusCents: row.bonusCents })
  }
  return {
    lines,
    summary: {
      currency: study?.currency ?? 'GBP',
      participants: lines.length,
      totalCents: lines.reduce((sum, l) => sum + l.bonusCents, 0),
      unverifiedAnswers: pending?.unverified ?? 0,
      withoutExternalId,
      unusableIds,
    },
  }
}

