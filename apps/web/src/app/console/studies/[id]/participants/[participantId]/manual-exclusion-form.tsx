'use client'
// The researcher's own exclusion of this participant (studies.setExclusion): mark them excluded, or as a tester, with a
// note saying why; change or clear it later. The mark applies like the automatic rules (the dashboard's "Apply
// exclusions", its counts, the participants filter, the exports' excluded / manual_exclusion / manual_note columns);
// no data is deleted. Every change is in the audit log.
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'

import { formatDate } from '@/components/format'
import { MANUAL_EXCLUSION_LABELS, MANUAL_NOTE_MAX_CHARS, type ManualExclusion } from '@/server/studies/manual-exclusion'
import { useTRPC } from '@/trpc/react'

type Choice = ManualExclusion | 'none'

const CHOICES: { value: Choice; label: string; hint: string }[] = [
  { value: 'none', label: 'Not marked', hint: 'only the automatic rules apply' },
  { value: 'excluded', label: MANUAL_EXCLUSION_LABELS.excluded, hint: 'e.g. answered in another language, or asked to be withdrawn' },
  { value: 'tester', label: MANUAL_EXCLUSION_LABELS.tester, hint: 'someone trying the study out: you, a colleague' },
]

export interface ManualExclusionState {
  manualExclusion: ManualExclusion | null
  manualNote: string | null
  manualSetAt: Date | string | null
  manualSetByEmail: string | null
}

export function ManualExclusionForm({ studyId, participantId, current }: { studyId: string; participantId: string; current: ManualExclusionState }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const ids = useId()
  const [choice, setChoice] = useState<Choice>(current.manualExclusion ?? 'none')
  const [note, setNote] = useState(current.manualNote ?? '')
  const [saved, setSaved] = useState<string | null>(null)
  const save = useMutation(
    trpc.studies.setExclusion.mutationOptions({
      onMutate: () => setSaved(null),
      onSuccess: (state) => {
        setSaved(state.manualExclusion ? `Saved: ${MANUAL_EXCLUSION_LABELS[state.manualExclusion].toLowerCase()}.` : 'Cleared: only the automatic rules apply.')
        if (!state.manualExclusion) setNote('')
        // everything that shows exclusions reads them again
        void queryClient.invalidateQueries({ queryKey: trpc.studies.participantSession.queryKey({ id: studyId, participantId }) })
        void queryClient.invalidateQueries({ queryKey: trpc.studies.participants.pathKey() })
        void queryClient.invalidateQueries({ queryKey: trpc.studies.dashboard.pathKey() })
      },
    }),
  )
  const noteError = save.error?.data?.fieldErrors?.note?.join(' ') ?? null
  const otherError = save.error && !noteError ? save.error.message : null
  const noteId = `${ids}-note`
  const kind = choice === 'none' ? null : choice
  const unchanged = kind === current.manualExclusion && (kind === null || note.trim() === (current.manualNote ?? ''))

  return (
    <section className="card space-y-3" aria-labelledby={`${ids}-heading`} data-testid="manual-exclusion">
      <div>
        <h2 id={`${ids}-heading`} className="font-semibold">
          Your exclusion
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          Applied like the automatic rules: the dashboard can leave the participant out, and the exports mark them (<code>manual_exclusion</code>,{' '}
          <code>manual_note</code>). Nothing is deleted; you can clear it.
        </p>
        {current.manualSetAt ? (
          <p className="mt-1 text-xs text-slate-600" data-testid="manual-exclusion-changed">
            Last changed {formatDate(current.manualSetAt)}
            {current.manualSetByEmail ? ` by ${current.manualSetByEmail}` : ''}.
          </p>
        ) : null}
      </div>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault()
          save.mutate({ id: studyId, participantId, kind, note: kind ? note : '' })
        }}
      >
        <fieldset>
          <legend className="label">Mark</legend>
          <div className="space-y-1">
            {CHOICES.map((c) => (
              <label key={c.value} className="flex items-start gap-2 text-sm">
                <input type="radio" className="mt-0.5" name={`${ids}-kind`} value={c.value} checked={choice === c.value} onChange={() => setChoice(c.value)} />
                <span>
                  <span className="font-medium">{c.label}</span> <span className="text-slate-600">— {c.hint}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        {kind ? (
          <div>
            <label htmlFor={noteId} className="label">
              Note: why (required)
            </label>
            <textarea
              id={noteId}
              className="input min-h-20"
              value={note}
              maxLength={MANUAL_NOTE_MAX_CHARS}
              onChange={(e) => setNote(e.target.value)}
              aria-invalid={noteError ? true : undefined}
              aria-describedby={`${noteId}-count${noteError ? ` ${noteId}-error` : ''}`}
            />
            <p id={`${noteId}-count`} className="mt-1 text-xs text-slate-600">
              {note.length} of {MANUAL_NOTE_MAX_CHARS} characters
            </p>
            {noteError ? (
              <p id={`${noteId}-error`} role="alert" className="mt-1 text-sm text-red-700" data-testid="manual-note-error">
                {noteError}
              </p>
            ) : null}
          </div>
        ) : null}
        <div className="flex flex-wrap items-center gap-3">
          <button type="submit" className="btn-primary" disabled={save.isPending || unchanged}>
            {save.isPending ? 'Saving…' : kind ? 'Save the mark' : current.manualExclusion ? 'Clear the mark' : 'Save'}
          </button>
          <p role="status" className="text-sm text-emerald-800" data-testid="manual-exclusion-saved">
            {saved}
          </p>
        </div>
        {otherError ? (
          <p role="alert" className="text-sm text-red-700">
            {otherError}
          </p>
        ) : null}
      </form>
    </section>
  )
}
