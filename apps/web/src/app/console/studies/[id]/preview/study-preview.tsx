'use client'
// "Preview as participant": the participant flow exactly as participants see it (consent, instructions,
// practice, the first participant's tasks, attention checks, completion), run in the browser by the preview
// backend. The only request is studies.preview; nothing is recorded.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'

import { LoadError } from '@/components/load-error'
import { useTRPC } from '@/trpc/react'

import type { ParticipantBackend } from '../../../../(participant)/_flow/backend'
import { JoinStage } from '../../../../(participant)/_flow/join-stage'
import { createPreviewBackend, type PreviewData } from '../../../../(participant)/_flow/preview-backend'
import { SessionFlow } from '../../../../(participant)/_flow/session-flow'
import { FOCUS_RING, Loading } from '../../../../(participant)/_flow/ui'

export function StudyPreview({ id }: { id: string }) {
  const trpc = useTRPC()
  // one request: no refetching, so the preview sends nothing more
  const preview = useQuery(
    trpc.studies.preview.queryOptions({ id }, { staleTime: Infinity, refetchOnWindowFocus: false, refetchOnReconnect: false, retry: 1 }),
  )
  const [run, setRun] = useState(0)

  return (
    <div className="mx-auto max-w-2xl space-y-6">
      <div role="note" data-testid="preview-banner" className="flex flex-wrap items-center gap-x-4 gap-y-2 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950">
        <p className="font-semibold">Preview — nothing is recorded</p>
        <Link href={`/console/studies/${encodeURIComponent(id)}`} className={`text-indigo-800 underline ${FOCUS_RING}`}>
          Back to the study
        </Link>
        {preview.data ? (
          <button type="button" className={`btn-secondary ml-auto py-1 ${FOCUS_RING}`} onClick={() => setRun((n) => n + 1)}>
            Start over
          </button>
        ) : null}
      </div>
      {preview.data && preview.data.liveConditions.length > 0 ? (
        <p role="note" className="text-sm text-slate-700" data-testid="preview-live-note">
          Live conditions ({preview.data.liveConditions.join(', ')}) are shown without the AI: in the study its reasoning streams
          from the live model service, and the participant can take over and hand back.
        </p>
      ) : null}
      {preview.isPending ? <Loading /> : null}
      {preview.error ? <LoadError title="Preview" noun="study" error={preview.error} backHref="/console" backLabel="Back to the console" /> : null}
      {preview.data ? <PreviewRun key={run} data={preview.data} /> : null}
    </div>
  )
}

/** One pass through the flow with a fresh in-memory session ("Start over" makes a new one). */
function PreviewRun({ data }: { data: PreviewData }) {
  const [backend] = useState<ParticipantBackend>(() => createPreviewBackend(data))
  const [token, setToken] = useState<string | null>(null)
  return (
    <div className="rounded-lg border border-slate-200 bg-white px-4 py-6 sm:px-6" data-testid="preview-flow">
      {token ? (
        <SessionFlow backend={backend} token={token} />
      ) : (
        <JoinStage backend={backend} studyId={data.id} query={{}} onJoined={setToken} />
      )}
    </div>
  )
}
