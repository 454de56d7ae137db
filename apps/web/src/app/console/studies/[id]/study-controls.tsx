'use client'
// What the study's owner (or an admin) can do in its current status: edit and launch a draft, pause an open study,
// resume a paused one, close it (with a confirm step: closing is final). Anyone may preview it as a participant.
import { useMutation, useQueryClient } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { useTRPC } from '@/trpc/react'

import type { Study } from './study-view'

export function StudyControls({ study }: { study: Study }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const [error, setError] = useState<string | null>(null)
  const [confirmClose, setConfirmClose] = useState(false)
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.studies.get.queryKey({ id: study.id }) })
  const options = {
    onMutate: () => setError(null),
    onSuccess: () => refresh(),
    onError: (e: { message: string; data?: { fieldErrors?: Record<string, string[]> | null } | null }) => {
      const fields = e.data?.fieldErrors
      setError(fields ? Object.values(fields).flat().join(' ') : e.message)
      void refresh()
    },
  }
  const launch = useMutation(trpc.studies.launch.mutationOptions(options))
  const pause = useMutation(trpc.studies.pause.mutationOptions(options))
  const resume = useMutation(trpc.studies.resume.mutationOptions(options))
  const close = useMutation(trpc.studies.close.mutationOptions({ ...options, onSettled: () => setConfirmClose(false) }))
  const pending = launch.isPending || pause.isPending || resume.isPending || close.isPending
  const s = study.status
  const may = study.mayControl
  const closable = s === 'OPEN' || s === 'PAUSED' || s === 'GENERATING'

  return (
    <section className="card space-y-3" aria-label="Study controls">
      <div className="flex flex-wrap items-center gap-2">
        {may && study.canEdit ? (
          <Link href={`/console/studies/${study.id}/edit`} className="btn-secondary">
            Edit
          </Link>
        ) : null}
        {may && s === 'DRAFT' ? (
          <button type="button" className="btn-primary" disabled={pending} onClick={() => launch.mutate({ id: study.id })}>
            {launch.isPending ? 'Launching…' : 'Launch'}
          </button>
        ) : null}
        {may && s === 'OPEN' ? (
          <button type="button" className="btn-secondary" disabled={pending} onClick={() => pause.mutate({ id: study.id })}>
            {pause.isPending ? 'Pausing…' : 'Pause'}
          </button>
        ) : null}
        {may && s === 'PAUSED' ? (
          <button type="button" className="btn-primary" disabled={pending} onClick={() => resume.mutate({ id: study.id })}>
            {resume.isPending ? 'Resuming…' : 'Resume'}
          </button>
        ) : null}
        {may && closable && !confirmClose ? (
          <button type="button" className="btn-secondary" disabled={pending} onClick={() => setConfirmClose(true)}>
            Close study…
          </button>
        ) : null}
        <Link href={`/console/studies/${study.id}/preview`} className="btn-secondary">
          Preview as participant
        </Link>
      </div>

      {may && s === 'DRAFT' ? (
        <p className="text-sm text-slate-600">
          Launching samples the problems and has the worker generate each condition’s senior trace for every problem (stored with the
          seed and settings). The study opens by itself when all traces exist; until then it cannot be edited.
        </p>
      ) : null}
      {may && s === 'OPEN' ? <p className="text-sm text-slate-600">Pausing stops new participants from starting; those already in can finish.</p> : null}
      {!may ? <p className="text-sm text-slate-600">Only the study’s owner or an admin can change it.</p> : null}

      {confirmClose ? (
        <div role="alertdialog" aria-labelledby="close-confirm-text" className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3">
          <p id="close-confirm-text" className="text-sm text-amber-950">
            Close “{study.name}”? Closing is final: nobody can start or continue the study afterwards. The data collected so far stay
            and can still be exported.
          </p>
          <div className="flex flex-wrap gap-2">
            <button type="button" className="btn-danger" disabled={pending} onClick={() => close.mutate({ id: study.id })} autoFocus>
              {close.isPending ? 'Closing…' : 'Close the study'}
            </button>
            <button type="button" className="btn-secondary" disabled={pending} onClick={() => setConfirmClose(false)}>
              Keep it {s === 'GENERATING' ? 'generating' : s.toLowerCase()}
            </button>
          </div>
        </div>
      ) : null}

      {error ? (
        <p role="alert" className="text-sm text-red-700" data-testid="control-error">
          {error}
        </p>
      ) : null}
    </section>
  )
}
