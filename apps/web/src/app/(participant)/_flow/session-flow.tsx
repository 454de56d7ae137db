'use client'
// A participant's session, stage by stage. The server's session view decides what is shown (so a reload, a new
// tab or a second device always lands on the right step); after each step the view is loaded again and focus
// moves to the new stage's heading.
import { useCallback, useEffect, useRef, useState } from 'react'

import { FormError } from '@/components/form-error'

import {
  asFlowError,
  DECLINED_MESSAGE,
  INVALID_LINK,
  studyTokenKey,
  type FlowError,
  type ParticipantBackend,
  type SessionView,
} from './backend'
import { AttentionStage } from './attention-stage'
import { CompleteStage } from './complete-stage'
import { InstructionsStage } from './instructions-stage'
import { LeaveStudy } from './leave-study'
import { PracticeStage } from './practice-stage'
import { failureMessage, withRetry } from './retry'
import { TaskStage } from './task-stage'
import { EndMessage, FOCUS_RING, Loading, STAGE_HEADING_ID } from './ui'
import { clockOffset } from './use-countdown'

interface Loaded {
  view: SessionView
  /** server time minus browser time */
  offsetMs: number
}

/** Stages of a running session, where the participant may choose to leave. */
const RUNNING_STAGES: readonly SessionView['stage'][] = ['instructions', 'practice', 'task', 'attention']

function isInvalidLink(error: FlowError) {
  return error.code === 'UNAUTHORIZED' || error.code === 'BAD_REQUEST'
}

export function SessionFlow({ backend, token }: { backend: ParticipantBackend; token: string }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null)
  const [error, setError] = useState<FlowError | null>(null)
  const [retrying, setRetrying] = useState(false)
  const moved = useRef(false)
  const inFlight = useRef<AbortController | null>(null)

  const load = useCallback(async () => {
    inFlight.current?.abort()
    const abort = new AbortController()
    inFlight.current = abort
    setError(null)
    try {
      const next = await withRetry(
        async () => {
          const sentAt = Date.now()
          const view = await backend.session(token)
          return { view, offsetMs: clockOffset(view.serverNow, sentAt, Date.now()) }
        },
        { signal: abort.signal, onRetry: () => setRetrying(true) },
      )
      // a newer load started meanwhile: its view wins
      if (!abort.signal.aborted) setLoaded(next)
    } catch (e) {
      const err = asFlowError(e)
      if (err.code !== 'ABORTED') setError(err)
    } finally {
      if (inFlight.current === abort) setRetrying(false)
    }
  }, [backend, token])

  useEffect(() => {
    void load()
    return () => inFlight.current?.abort()
  }, [load])

  /** A step is done: load where the participant is now, and move focus there. */
  const advance = useCallback(() => {
    moved.current = true
    void load()
  }, [load])
  /** Something changed elsewhere (another tab, the study closed): load the view again. */
  const refresh = useCallback(() => void load(), [load])

  useEffect(() => {
    if (loaded && moved.current) {
      moved.current = false
      document.getElementById(STAGE_HEADING_ID)?.focus()
    }
  }, [loaded])

  // the study link resumes this session, also when it was opened from a copied /take link
  const studyId = loaded?.view.study.id
  const stage = loaded?.view.stage
  useEffect(() => {
    if (!studyId || stage === 'complete' || stage === 'declined') return
    const key = studyTokenKey(studyId)
    if (backend.storage.get(key) !== token) backend.storage.set(key, token)
  }, [backend, studyId, stage, token])

  if (!loaded) {
    if (error && isInvalidLink(error)) {
      return (
        <EndMessage title="This link does not work">
          <p role="alert">{error.code === 'UNAUTHORIZED' ? error.message : INVALID_LINK}</p>
        </EndMessage>
      )
    }
    if (error) return <ReloadError error={error} onRetry={refresh} title="The study could not be loaded" />
    return <Loading>{retrying ? 'Connection problem — still trying to reach the server…' : 'Loading…'}</Loading>
  }

  const { view, offsetMs } = loaded
  return (
    <div className="space-y-6">
      {error ? <ReloadError error={error} onRetry={refresh} /> : null}
      {retrying ? <Loading>Connection problem — still trying to reach the server…</Loading> : null}
      <StageView backend={backend} token={token} view={view} offsetMs={offsetMs} advance={advance} refresh={refresh} />
      {RUNNING_STAGES.includes(view.stage) ? <LeaveStudy backend={backend} token={token} onLeft={advance} /> : null}
    </div>
  )
}

function StageView({
  backend,
  token,
  view,
  offsetMs,
  advance,
  refresh,
}: {
  backend: ParticipantBackend
  token: string
  view: SessionView
  offsetMs: number
  advance: () => void
  refresh: () => void
}) {
  switch (view.stage) {
    case 'declined':
      return (
        <EndMessage title="You chose not to take part">
          <p>{DECLINED_MESSAGE}</p>
        </EndMessage>
      )
    case 'closed':
      return (
        <EndMessage title="This study has closed">
          <p>The study has closed and takes no more answers. Thank you for your time. You can close this page.</p>
        </EndMessage>
      )
    case 'instructions':
      return <InstructionsStage backend={backend} token={token} instructions={view.study.instructions} onDone={advance} />
    case 'practice':
      return view.practice ? <PracticeStage backend={backend} token={token} practice={view.practice} onDone={advance} /> : null
    case 'task':
      return view.task ? (
        <TaskStage
          key={view.task.assignmentId}
          backend={backend}
          token={token}
          view={{ ...view, task: view.task }}
          offsetMs={offsetMs}
          onSubmitted={advance}
          onStale={refresh}
        />
      ) : null
    case 'attention':
      return view.attention ? (
        <AttentionStage key={view.attention.checkId} backend={backend} token={token} attention={view.attention} onDone={advance} onStale={refresh} />
      ) : null
    case 'complete':
      return view.completion ? <CompleteStage studyId={view.study.id} completion={view.completion} storage={backend.storage} /> : null
  }
}

function ReloadError({ error, onRetry, title }: { error: FlowError; onRetry: () => void; title?: string }) {
  return (
    <div className="space-y-3">
      {title ? <h1 className="text-2xl font-semibold">{title}</h1> : null}
      <FormError message={failureMessage(error, 'Nothing you did is lost.')} />
      <button type="button" className={`btn-secondary ${FOCUS_RING}`} onClick={onRetry}>
        Try again
      </button>
    </div>
  )
}
