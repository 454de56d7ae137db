// The researcher's own exclusion of a participant: "excluded" or "tester" (someone trying the study out), with a note
// saying why; set and cleared from the participant's session page (studies.setExclusion). It only marks the
// participant: the SQL views (study_participant_status) fold it into exclusion_reason, so the dashboard's "Apply
// exclusions", its counts, the participants filter and every export apply it like the automatic rules. Nothing is
// deleted, clearing it restores the participant, and each change is in the audit log with what it replaced.
import { z } from 'zod'

import type { Prisma } from '@/generated/prisma/client'
import { audit } from '@/server/audit'

export const MANUAL_EXCLUSIONS = ['excluded', 'tester'] as const
export type ManualExclusion = (typeof MANUAL_EXCLUSIONS)[number]

export const MANUAL_NOTE_MAX_CHARS = 500

/** What the researcher's mark means, in the words the session page and the docs use. */
export const MANUAL_EXCLUSION_LABELS: Record<ManualExclusion, string> = {
  excluded: 'Excluded by the researcher',
  tester: 'A tester (not a real participant)',
}

/** studies.setExclusion: a kind with a note, or kind null to clear the mark. */
export const setExclusionSchema = z
  .object({
    id: z.string().min(1, 'Give a study id'),
    participantId: z.string().min(1, 'Give a participant id'),
    kind: z.enum(MANUAL_EXCLUSIONS, { error: 'The kind is "excluded", "tester" or null (clear)' }).nullable(),
    note: z.string().trim().max(MANUAL_NOTE_MAX_CHARS, `The note is at most ${MANUAL_NOTE_MAX_CHARS} characters`).default(''),
  })
  .superRefine((input, ctx) => {
    // an exclusion the analyses follow needs its reason on record (exports carry it in manual_note)
    if (input.kind && !input.note) ctx.addIssue({ code: 'custom', path: ['note'], message: 'Say why in the note' })
  })
export type SetExclusionInput = z.infer<typeof setExclusionSchema>

export interface ManualExclusionState {
  participantId: string
  manualExclusion: ManualExclusion | null
  manualNote: string | null
}

/**
 * Sets (or, with kind null, clears) the participant's manual exclusion and audits it, in the caller's transaction.
 * Null when the participant is not in the study.
 */
export async function setManualExclusion(
  tx: Prisma.TransactionClient,
  args: { studyId: string; participantId: string; kind: ManualExclusion | null; note: string; userId: string },
): Promise<ManualExclusionState | null> {
  const before = await tx.participant.findFirst({
    where: { id: args.participantId, studyId: args.studyId },
    select: { id: true, manualExclusion: true, manualNote: true },
  })
  if (!before) return null
  const note = args.kind ? args.note : null
  await tx.participant.update({
    where: { id: before.id },
    data: { manualExclusion: args.kind, manualNote: note, manualSetById: args.userId, manualSetAt: new Date() },
  })
  await audit(tx, {
    actorId: args.userId,
    action: args.kind ? 'study.participant.exclude' : 'study.participant.include',
    entity: 'studies',
    entityId: args.studyId,
    details: { participantId: before.id, kind: args.kind, note, previous: { kind: before.manualExclusion, note: before.manualNote } },
  })
  return { participantId: before.id, manualExclusion: args.kind, manualNote: note }
}
