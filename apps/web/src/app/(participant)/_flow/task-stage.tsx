'use client'
// One task: the problem and the AI's reasoning, the participant's continuation, final answer and two ratings.
// The clock is the server's (startTask, corrected by the browser's offset) and stays in view while scrolling; at 0
// whatever is typed is sent as timed out, and the page says so ("Time is up — your answer so far was saved") before
// the participant goes on. Drafts autosave (server) and back up (localStorage) on every change; nothing typed is
// cleared until the server has confirmed the submit. Before the first task's clock starts, the practice's result is
// shown (from the session view, so a reload keeps it).
import { zodResolver } from '@hookform/resolvers/zod'
import { useEffect, useRef, useState } from 'react'
import { Controller, useForm, useWatch, type DeepPartial, type UseFormRegisterReturn } from 'react-hook-form'
import type { z } from 'zod'

import { FormError } from '@/components/form-error'
import { showServerErrors } from '@/components/form-field'
import { taskAnswerSchema } from '@/server/api/routers/participant.schema'
import { PARTICIPANT_LIMITS } from '@/server/limits'

import { asFlowError, type DraftValues, type FlowError, type ParticipantBackend, type SessionView, type SubmitInput, type TaskView } from './backend'
import { ContinuationFields } from './continuation-fields'
import { clearBackup, initialDraft, markBackupSynced, writeBackup } from './draft-backup'
import { HandoffTask } from './handoff-task'
import { LiveTask } from './live-task'
import { PracticeReview, type ReviewedPractice } from './practice-stage'
import { TaskProgress } from './progress'
import { RatingGroup } from './rating-group'
import { failureMessage, withRetry } from './retry'
import { FOCUS_RING, Loading, Notice, STAGE_HEADING_ID, StageHeading } from './ui'
import { useAutosave, type SaveStatus } from './use-autosave'
import { clockOffset, formatClock, useCountdown, useTimeAnnouncement } from './use-countdown'

type TaskFormInput = z.input<typeof taskAnswerSchema>
type TaskFormOutput = z.output<typeof taskAnswerSchema>

/** Errors after which the session must be reloaded (the study closed, the task was answered elsewhere, …). */
export const STALE_CODES = new Set(['PRECONDITION_FAILED', 'NOT_FOUND', 'UNAUTHORIZED'])

interface TaskStageProps {
  backend: ParticipantBackend
  token: string
  view: SessionView & { task: TaskView }
  /** server time minus browser time, measured when the session was loaded */
  offsetMs: number
  onSubmitted: () => void
  onStale: () => void
}

interface Clock {
  deadlineMs: number
  offsetMs: number
}

/** The two ratings after each task (the export's ease_rating and confidence). */
const RATINGS = [
  { name: 'easeRating', id: 'task-ease', legend: 'How easy was the reasoning to follow?' },
  { name: 'confidence', id: 'task-confidence', legend: 'How confident are you in your answer?' },
] as const

/** The practice with its result, while the first task has not started (the session view carries it then). */
export function practiceToReview(view: SessionView & { task: TaskView }): ReviewedPractice | null {
  const practice = view.practice
  return practice?.result && !view.task.startedAt ? { ...practice, result: practice.result } : null
}

export function TaskStage({ backend, token, view, offsetMs, onSubmitted, onStale }: TaskStageProps) {
  const { task } = view
  const [review] = useState(() => practiceToReview(view))
  const [reviewing, setReviewing] = useState(review !== null)
  const [clock, setClock] = useState<Clock | null>(() =>
    task.startedAt && task.deadline ? { deadlineMs: Date.parse(task.deadline), offsetMs } : null,
  )
  const [error, setError] = useState<FlowError | null>(null)
  const [retrying, setRetrying] = useState(false)
  const [attempt, setAttempt] = useState(0)

  // "Start the study" after the practice's result: focus moves to the first task's heading
  const startedFromReview = useRef(false)
  useEffect(() => {
    if (!reviewing && startedFromReview.current) {
      startedFromReview.current = false
      document.getElementById(STAGE_HEADING_ID)?.focus()
    }
  }, [reviewing])

  // a task not started yet: the server starts its clock (once; a reload or another tab gets the same deadline)
  useEffect(() => {
    if (clock || reviewing) return
    const abort = new AbortController()
    withRetry(
      async () => {
        const sentAt = Date.now()
        const started = await backend.startTask({ token, assignmentId: task.assignmentId })
        return { deadlineMs: Date.parse(started.deadline), offsetMs: clockOffset(started.serverNow, sentAt, Date.now()) }
      },
      { signal: abort.signal, onRetry: () => setRetrying(true) },
    ).then((started) => {
      if (!abort.signal.aborted) setClock(started)
    }, (e: unknown) => {
      const err = asFlowError(e)
      if (err.code === 'ABORTED') return
      setError(err)
      if (STALE_CODES.has(err.code)) onStale()
    })
    return () => abort.abort()
  }, [clock, reviewing, attempt, backend, token, task.assignmentId, onStale])

  if (reviewing && review) {
    return (
      <PracticeReview
        practice={review}
        onStart={() => {
          startedFromReview.current = true
          setReviewing(false)
        }}
      />
    )
  }

  return (
    <div className="space-y-6">
      <div className="space-y-3">
        <StageHeading>
          Task {task.position} of {task.total}
        </StageHeading>
        <TaskProgress done={view.progress.done} total={view.progress.total} />
      </div>
      {clock ? (
        <TaskForm backend={backend} token={token} task={task} clock={clock} onSubmitted={onSubmitted} onStale={onStale} />
      ) : error ? (
        <div className="space-y-3">
          <FormError message={failureMessage(error, 'Nothing has been lost.')} />
          <button
            type="button"
            className={`btn-secondary ${FOCUS_RING}`}
            onClick={() => {
              setError(null)
              setRetrying(false)
              setAttempt((n) => n + 1)
            }}
          >
            Try again
          </button>
        </div>
      ) : (
        <Loading>{retrying ? 'Connection problem — still trying to start the task…' : 'Preparing the task…'}</Loading>
      )}
    </div>
  )
}

function toDraft(values: DeepPartial<TaskFormInput>): DraftValues {
  return {
    continuation: values.continuation ?? '',
    answer: values.answer ?? '',
    easeRating: values.easeRating ?? null,
    confidence: values.confidence ?? null,
  }
}

const SAVE_TEXT: Record<SaveStatus, string> = {
  idle: 'Your work is saved as you type.',
  saving: 'Saving…',
  saved: 'Saved',
  retrying: 'Not saved — retrying',
  failed: 'Not saved',
}

type SendState = 'idle' | 'sending' | 'retrying' | 'sent'

function TaskForm({
  backend,
  token,
  task,
  clock,
  onSubmitted,
  onStale,
}: Omit<TaskStageProps, 'view' | 'offsetMs'> & { task: TaskView; clock: Clock }) {
  const { storage } = backend
  const { assignmentId } = task
  const [start] = useState(() => initialDraft(task, storage))
  const form = useForm<TaskFormInput, unknown, TaskFormOutput>({
    resolver: zodResolver(taskAnswerSchema),
    defaultValues: {
      continuation: start.draft.continuation,
      answer: start.draft.answer,
      easeRating: start.draft.easeRating ?? undefined,
      confidence: start.draft.confidence ?? undefined,
    },
  })
  const { register, control, formState, getValues, setError } = form
  const answerValue = useWatch({ control, name: 'answer' }) ?? ''
  // a live task: who writes now (the participant's field shows only while they have control)
  const [liveControl, setLiveControl] = useState(task.live?.control ?? 'human')
  const initialControl = useRef(liveControl)
  useEffect(() => {
    // control came to the participant (take-over or the scheduled handover): their field, ready to type
    if (task.live && liveControl === 'human' && initialControl.current !== 'human') form.setFocus('continuation')
    initialControl.current = liveControl
  }, [liveControl, task.live, form])

  const autosave = useAutosave({
    save: async (draft) => {
      const result = await backend.saveDraft({ token, assignmentId, ...draft })
      // the task already has a response (another tab submitted it): move on
      if (!result.saved) onStale()
    },
    saveOnExit: (draft) => backend.saveDraftOnExit({ token, assignmentId, ...draft }),
    onSaved: (draft) => markBackupSynced(storage, assignmentId, draft),
  })
  const { change: autosaveChange, flush: autosaveFlush, stop: autosaveStop } = autosave

  // every change: backed up in the browser at once, saved on the server after a pause
  const sent = useRef(false)
  useEffect(() => {
    const subscription = form.watch((values) => {
      if (sent.current) return
      const draft = toDraft(values)
      writeBackup(storage, assignmentId, draft)
      autosaveChange(draft)
    })
    return () => subscription.unsubscribe()
  }, [form, storage, assignmentId, autosaveChange])
  // text restored from the browser's backup that the server never confirmed: save it now
  useEffect(() => {
    if (start.unsaved) autosaveChange(start.draft)
  }, [start, autosaveChange])

  const left = useCountdown(clock.deadlineMs, clock.offsetMs)
  const announcement = useTimeAnnouncement(left)
  const timeUp = left === 0

  const [sendState, setSendState] = useState<SendState>('idle')
  /** the answer was sent at the time-up: the page says so, and the participant goes on when ready */
  const [timedOutSaved, setTimedOutSaved] = useState(false)
  const [formError, setFormError] = useState<string | null>(null)
  const busy = useRef(false)
  const unmounted = useRef(new AbortController())
  useEffect(() => {
    const abort = new AbortController()
    unmounted.current = abort
    return () => abort.abort()
  }, [])

  async function send(input: SubmitInput) {
    if (busy.current || sent.current) return
    busy.current = true
    setFormError(null)
    setSendState('sending')
    try {
      // submit is idempotent on the server (one response per task), so retrying a lost reply is safe
      await withRetry(() => backend.submit(input), { signal: unmounted.current.signal, onRetry: () => setSendState('retrying') })
      sent.current = true
      autosaveStop()
      clearBackup(storage, assignmentId)
      setSendState('sent')
      if (input.timedOut) setTimedOutSaved(true)
      else onSubmitted()
    } catch (e) {
      const error = asFlowError(e)
      if (error.code === 'ABORTED') return
      setSendState('idle')
      setFormError(
        error.fieldErrors
          ? showServerErrors({ message: error.message, data: { fieldErrors: error.fieldErrors } }, setError)
          : failureMessage(error, 'Your answer is still here.'),
      )
      if (STALE_CODES.has(error.code)) onStale()
    } finally {
      busy.current = false
    }
  }
  const sendAsTimedOut = () => void send({ token, assignmentId, ...toDraft(getValues()), timedOut: true })

  // the time ran out: send whatever is there, once (a failure leaves the button to send it again), a moment after
  // the countdown's 0 — the server takes a time-out only from its own deadline on and counts an earlier claim
  const timeUpHandled = useRef(false)
  const sendAsTimedOutLatest = useRef(sendAsTimedOut)
  useEffect(() => {
    sendAsTimedOutLatest.current = sendAsTimedOut
  })
  useEffect(() => {
    if (!timeUp) return
    const timer = setTimeout(() => {
      if (timeUpHandled.current) return
      timeUpHandled.current = true
      if (!busy.current) sendAsTimedOutLatest.current()
    }, PARTICIPANT_LIMITS.timedOutSendDelayMs)
    return () => clearTimeout(timer)
  }, [timeUp])

  const pending = sendState === 'sending' || sendState === 'retrying' || sendState === 'sent'
  const readOnly = timeUp || sendState === 'sent'
  const message = (name: keyof TaskFormInput) => formState.errors[name]?.message

  return (
    <div className="space-y-6">
      <TaskClock left={left} timeUp={timeUp} saved={timedOutSaved} onContinue={onSubmitted} />
      <p className="sr-only" aria-live="polite" data-testid="time-announcement">
        {announcement}
      </p>

      {task.live ? (
        <LiveTask
          backend={backend}
          token={token}
          assignmentId={assignmentId}
          problem={task.problem}
          initial={task.live}
          readOnly={readOnly}
          writing={() => getValues('continuation') ?? ''}
          onControl={setLiveControl}
          onHandedBack={() => form.setValue('continuation', '')}
        />
      ) : (
        <HandoffTask problem={task.problem} reasoning={task.prefixText} />
      )}

      <form
        noValidate
        className="space-y-6"
        onSubmit={
          timeUp
            ? (e) => {
                e.preventDefault()
                sendAsTimedOut()
              }
            : form.handleSubmit((values) => send({ token, assignmentId, ...values, timedOut: false }))
        }
      >
        <ContinuationFields
          idPrefix="task"
          continuation={withFlush(register('continuation'), autosaveFlush)}
          answer={withFlush(register('answer'), autosaveFlush)}
          answerValue={answerValue}
          errors={{ continuation: message('continuation'), answer: message('answer') }}
          readOnly={readOnly}
          live={task.live ? { writing: liveControl === 'human' } : undefined}
        />
        {RATINGS.map(({ name, id, legend }) => (
          <Controller
            key={name}
            control={control}
            name={name}
            render={({ field, fieldState }) => (
              <RatingGroup
                id={id}
                legend={legend}
                value={field.value}
                onChange={field.onChange}
                onBlur={() => {
                  field.onBlur()
                  autosaveFlush()
                }}
                inputRef={field.ref}
                error={fieldState.error?.message}
              />
            )}
          />
        ))}

        <FormError message={formError} />
        {sendState === 'retrying' ? (
          <Notice testId="submit-retrying">
            Connection problem — still trying to send your answer. Keep this page open; nothing you typed is lost.
          </Notice>
        ) : null}

        <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
          <button type="submit" className={`btn-primary ${FOCUS_RING}`} disabled={pending}>
            {sendState === 'sent' ? 'Sent' : pending ? 'Sending…' : timeUp ? 'Send my answer' : 'Submit'}
          </button>
          <p id="save-status" className="text-sm text-slate-600" aria-live="polite" data-testid="save-status" data-status={autosave.status}>
            {autosave.status === 'failed' && autosave.message ? `Not saved: ${autosave.message}` : SAVE_TEXT[autosave.status]}
          </p>
        </div>
      </form>
    </div>
  )
}

/**
 * The time left, sticky at the top of the screen (also on a phone while typing further down). When the time is up it
 * says so there, where the participant looks, and once the answer is saved offers to continue.
 */
export function TaskClock({ left, timeUp, saved, onContinue }: { left: number; timeUp: boolean; saved: boolean; onContinue: () => void }) {
  return (
    <div className="sticky top-0 z-10 -mx-4 space-y-2 border-b border-slate-200 bg-white px-4 py-2" data-testid="task-clock">
      <p className="flex flex-wrap items-baseline gap-x-2 text-sm" data-testid="time-left">
        <span className="text-slate-600">Time left</span>
        <span className={`font-mono text-lg tabular-nums ${left <= 60 ? 'font-semibold text-red-700' : 'text-slate-900'}`}>{formatClock(left)}</span>
      </p>
      {/* always in the page, so that the change to "saved" is announced */}
      <p role="status" data-testid="time-up" className={timeUp ? 'rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900' : 'sr-only'}>
        {timeUp ? (saved ? 'Time is up — your answer so far was saved.' : 'Time is up — saving your answer so far…') : ''}
      </p>
      {saved ? (
        // the form below is read-only now: the keyboard goes straight to the way on
        <button type="button" className={`btn-primary ${FOCUS_RING}`} onClick={onContinue} autoFocus data-testid="time-up-continue">
          Continue
        </button>
      ) : null}
    </div>
  )
}

/** A registered field that also saves the draft at once when it loses focus. */
function withFlush<N extends string>(registered: UseFormRegisterReturn<N>, flush: () => void): UseFormRegisterReturn<N> {
  return {
    ...registered,
    onBlur: async (event) => {
      const result = await registered.onBlur(event)
      flush()
      return result
    },
  }
}
