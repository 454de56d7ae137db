'use client'
// A participant's session, stage by stage. The server's session view decides what is shown (so a reload, a new
// tab or a second device always lands on the right step); after each step the view is loaded again and focus
// moves to the new stage's heading. Every page carries the study's public title (and the browser's title says it).
// A task's draft is reconciled with this browser's backup before the task shows (draft-backup.ts: by the server's
// timestamps, newest wins; text another device's newer save replaced is kept and offered here).
import { useCallback, useEffect, useRef, useState } from 'react'

import { FormError } from '@/components/form-error'

import {
  asFlowError,
  DECLINED_MESSAGE,
  INVALID_LINK,
  SESSION_INVALID_EVENT,
  studyTokenKey,
  TAB_STUDY_LINK_KEY,
  type FlowError,
  type ParticipantBackend,
  type SessionView,
} from './backend'
import { dismissReplaced, readReplaced, reconcileDraft, type ReplacedDraft } from './draft-backup'
import { AttentionStage } from './attention-stage'
import { CompleteStage } from './complete-stage'
import { InstructionsStage } from './instructions-stage'
import { LeaveStudy } from './leave-study'
import { PracticeStage } from './practice-stage'
import { failureMessage, withRetry } from './retry'
import { TaskStage } from './task-stage'
import { EndMessage, FOCUS_RING, Loading, Notice, STAGE_HEADING_ID, StudyTitle } from './ui'
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
      // before the task's form reads its backup: the newer of this browser's text and the server's wins
      if (!abort.signal.aborted && next.view.task) reconcileDraft(next.view.task, backend.storage)
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
  // a step refused for its token (e.g. an autosave after the session went on on another device): load, which says so
  useEffect(() => {
    window.addEventListener(SESSION_INVALID_EVENT, refresh)
    return () => window.removeEventListener(SESSION_INVALID_EVENT, refresh)
  }, [refresh])

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

  // the browser's title: the study's public title (the preview runs inside the console and keeps the console's)
  const title = loaded?.view.study.title
  useEffect(() => {
    if (title && backend.kind === 'live') document.title = title
  }, [backend.kind, title])

  // a token that stopped working (e.g. the session went on on another device): the study link continues it here
  if (error && isInvalidLink(error)) {
    return <InvalidLink message={error.code === 'UNAUTHORIZED' ? error.message : INVALID_LINK} studyLink={backend.tabStorage.get(TAB_STUDY_LINK_KEY)} />
  }
  if (!loaded) {
    if (error) return <ReloadError error={error} onRetry={refresh} title="The study could not be loaded" />
    return <Loading>{retrying ? 'Connection problem — still trying to reach the server…' : 'Loading…'}</Loading>
  }

  const { view, offsetMs } = loaded
  return (
    <div className="space-y-6">
      <StudyTitle>{view.study.title}</StudyTitle>
      {error ? <ReloadError error={error} onRetry={refresh} /> : null}
      {retrying ? <Loading>Connection problem — still trying to reach the server…</Loading> : null}
      {view.stage === 'task' && view.task ? <ReplacedText key={view.task.assignmentId} backend={backend} assignmentId={view.task.assignmentId} /> : null}
      <StageView backend={backend} token={token} view={view} offsetMs={offsetMs} advance={advance} refresh={refresh} />
      {RUNNING_STAGES.includes(view.stage) ? <LeaveStudy backend={backend} token={token} onLeft={advance} /> : null}
    </div>
  )
}

function InvalidLink({ message, studyLink }: { message: string; studyLink: string | null }) {
  return (
    <EndMessage title="This link does not work">
      <p role="alert">{message}</p>
      {studyLink ? (
        <p>
          Did you continue on another device or browser? To carry on here,{' '}
          <a href={studyLink} className={`font-medium text-indigo-800 underline ${FOCUS_RING}`} data-testid="study-link-again">
            open the study link again
          </a>
          .
        </p>
      ) : null}
    </EndMessage>
  )
}

/**
 * Text typed in this browser that a newer save from another device replaced (draft-backup.ts reconcileDraft): kept,
 * shown on request, and dismissed by the participant.
 */
function ReplacedText({ backend, assignmentId }: { backend: ParticipantBackend; assignmentId: string }) {
  const [replaced, setReplaced] = useState<ReplacedDraft | null>(() => readReplaced(backend.storage, assignmentId))
  if (!replaced) return null
  return (
    <div data-testid="replaced-draft" className="space-y-2">
      <Notice>
        Your other device or browser saved newer work on this task, so that is shown below. What you typed here earlier is kept: open it to copy
        anything you still need.
      </Notice>
      <details className="rounded-md border border-slate-200 px-3 py-2 text-sm">
        <summary className={`cursor-pointer font-medium ${FOCUS_RING}`}>Text typed here earlier</summary>
        <div className="mt-2 space-y-2">
          <p className="text-xs font-medium text-slate-600">Reasoning</p>
          <p className="whitespace-pre-wrap text-slate-800" data-testid="replaced-continuation">
            {replaced.draft.continuation || '(empty)'}
          </p>
          <p className="text-xs font-medium text-slate-600">Final answer</p>
          <p className="whitespace-pre-wrap text-slate-800" data-testid="replaced-answer">
            {replaced.draft.answer || '(empty)'}
          </p>
          <button
            type="button"
            className={`btn-secondary ${FOCUS_RING}`}
            onClick={() => {
              dismissReplaced(backend.storage, assignmentId)
              setReplaced(null)
            }}
          >
            I no longer need it
          </button>
        </div>
      </details>
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
      return (
        <InstructionsStage
          backend={backend}
          token={token}
          instructions={view.study.instructions}
          length={{ tasks: view.progress.total, timeLimitSeconds: view.study.timeLimitSeconds }}
          onDone={advance}
        />
      )
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
