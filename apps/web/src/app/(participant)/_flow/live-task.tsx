'use client'
// A live task's shared reasoning. While the AI (the senior) has control its words stream in; "Take over" gives the
// participant control at once (the AI stops where it is), "Hand back to the AI" returns it together with what the
// participant wrote, and the AI continues from the shared text. The server stores every span with its author and
// timing; when the connection or the live model service breaks, the page reconnects and the AI resumes from what
// was stored (src/server/studies/live-session.ts).
import { useEffect, useRef, useState } from 'react'

import { MathText } from '@/components/math-text'

import { asFlowError, type LiveView, type ParticipantBackend } from './backend'
import { ProblemSection, REASONING_BOX } from './handoff-task'
import { failureMessage, sleep } from './retry'
import { FOCUS_RING } from './ui'

const RETRY_MS = [1000, 2000, 4000, 8000]

type StreamStatus =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'streaming' }
  | { kind: 'waiting'; message: string; seconds: number }
  | { kind: 'failed'; message: string }

function appendToken(view: LiveView, seq: number, text: string): LiveView {
  return { ...view, spans: view.spans.map((s) => (s.seq === seq ? { ...s, text: s.text + text } : s)) }
}

const AUTHOR_STYLE = {
  senior: 'text-slate-900',
  human: 'rounded-sm bg-emerald-100 text-emerald-950 underline decoration-emerald-600 decoration-2 underline-offset-4',
} as const

export function LiveTask({
  backend,
  token,
  assignmentId,
  problem,
  initial,
  readOnly,
  writing,
  onControl,
  onHandedBack,
}: {
  backend: ParticipantBackend
  token: string
  assignmentId: string
  problem: string
  initial: LiveView
  /** the task is being sent or its time ran out: the AI stops and nothing changes hands */
  readOnly: boolean
  /** what the participant has written since they took control (handed back with the control) */
  writing: () => string
  onControl: (control: LiveView['control']) => void
  /** the participant's writing is now a span: the form clears its field */
  onHandedBack: () => void
}) {
  const [view, setView] = useState(initial)
  const [status, setStatus] = useState<StreamStatus>({ kind: 'idle' })
  const [busy, setBusy] = useState(false)
  const [actionError, setActionError] = useState<string | null>(null)
  const stream = useRef<AbortController | null>(null)
  // after a hand-back the button the participant pressed is gone: keep the keyboard on the take-over button
  const takeOverButton = useRef<HTMLButtonElement>(null)
  const [focusTakeOver, setFocusTakeOver] = useState(false)
  useEffect(() => {
    if (focusTakeOver && view.control === 'senior') {
      takeOverButton.current?.focus()
      setFocusTakeOver(false)
    }
  }, [focusTakeOver, view.control])
  const seniorWrites = view.control === 'senior' && !readOnly

  useEffect(() => onControl(view.control), [view.control, onControl])

  // the senior's stream, while it has control; reconnects with backoff after a break (the text is kept on the server)
  useEffect(() => {
    if (!seniorWrites) return
    const abort = new AbortController()
    stream.current = abort
    void (async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        setStatus({ kind: 'connecting' })
        let unavailable: string | null = null
        for await (const event of backend.liveStream({ token, assignmentId }, abort.signal)) {
          if (event.event === 'spans') {
            setView(event.data)
            setStatus({ kind: 'streaming' })
            attempt = 0
          } else if (event.event === 'token') {
            setView((v) => appendToken(v, event.data.seq, event.data.text))
          } else if (event.event === 'done') {
            setView(event.data)
            setStatus({ kind: 'idle' })
            return
          } else if (event.event === 'failed') {
            setStatus({ kind: 'failed', message: event.data.message })
            return
          } else if (event.event === 'unavailable') unavailable = event.data.message
        }
        if (abort.signal.aborted) return
        const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!
        setStatus({ kind: 'waiting', message: unavailable ?? 'The connection to the AI broke off.', seconds: wait / 1000 })
        // unlike withRetry, no last attempt: the senior's stream is tried again for as long as it has control
        await sleep(wait, abort.signal).catch(() => undefined) // aborted: the loop ends
      }
    })()
    return () => abort.abort()
  }, [seniorWrites, backend, token, assignmentId])

  async function act(action: () => Promise<LiveView>, after?: () => void) {
    setBusy(true)
    setActionError(null)
    try {
      const next = await action()
      setView(next)
      setStatus({ kind: 'idle' })
      after?.()
    } catch (e) {
      setActionError(failureMessage(asFlowError(e), 'Nothing you wrote is lost.'))
    } finally {
      setBusy(false)
    }
  }
  const takeOver = () => {
    stream.current?.abort() // stop showing tokens at once; the server closes the span where it is
    void act(() => backend.liveTakeOver({ token, assignmentId }))
  }
  const handBack = () =>
    void act(
      () => backend.liveHandBack({ token, assignmentId, text: writing() }),
      () => {
        onHandedBack()
        setFocusTakeOver(true)
      },
    )

  const text = view.spans.map((s) => s.text).join('')
  const statusText =
    view.control === 'human'
      ? view.seniorStopped === 'handover' && view.spans.at(-1)?.author === 'senior'
        ? 'The AI has handed over to you. Continue the reasoning below.'
        : view.seniorStopped === 'eos' && view.spans.at(-1)?.author === 'senior'
          ? 'The AI has finished. Check its reasoning, add to it if needed, and give the final answer.'
          : 'You have control.'
      : status.kind === 'waiting'
        ? `${status.message} Trying again in ${status.seconds} s — you can take over and write yourself.`
        : status.kind === 'failed'
          ? status.message
          : readOnly
            ? 'The AI has stopped.'
            : 'The AI is writing…'

  return (
    <div className="space-y-4">
      <ProblemSection problem={problem} />
      <section aria-labelledby="live-heading" className="space-y-2">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h2 id="live-heading" className="text-lg font-semibold">
            Shared reasoning
          </h2>
          <p className="flex gap-3 text-xs text-slate-600">
            <span>AI</span>
            <span className={AUTHOR_STYLE.human}>you</span>
          </p>
        </div>
        <div
          className={`min-h-24 ${REASONING_BOX}`}
          data-testid="live-text"
          data-control={view.control}
          aria-busy={seniorWrites}
        >
          {text ? (
            view.spans.map((s) => (
              // each span typeset on its own: math the AI writes (\boxed{…}, $…$) shows as in the static conditions
              <span key={s.seq} data-author={s.author} className={AUTHOR_STYLE[s.author]}>
                <MathText text={s.text} />
              </span>
            ))
          ) : (
            <span className="text-slate-600">{view.control === 'senior' ? '(The AI is about to start.)' : '(Nothing written yet.)'}</span>
          )}
          {seniorWrites ? <span aria-hidden className="ml-0.5 inline-block h-4 w-2 animate-pulse bg-indigo-500 align-middle" /> : null}
        </div>
        <p className="text-sm text-slate-700" aria-live="polite" data-testid="live-status" data-status={view.control === 'human' ? 'human' : status.kind}>
          {statusText}
        </p>
        {actionError ? (
          <p className="field-error" role="alert">
            {actionError}
          </p>
        ) : null}
        <div className="flex flex-wrap gap-3">
          {view.control === 'senior' ? (
            <button
              ref={takeOverButton}
              type="button"
              className={`btn-primary ${FOCUS_RING}`}
              onClick={takeOver}
              disabled={busy || readOnly}
              data-testid="take-over"
            >
              Take over
            </button>
          ) : (
            <button
              type="button"
              className={`btn-secondary ${FOCUS_RING}`}
              onClick={handBack}
              disabled={busy || readOnly || !view.canHandBack}
              title={view.canHandBack ? undefined : 'The AI has written all it may in this task.'}
              data-testid="hand-back"
            >
              Hand back to the AI
            </button>
          )}
        </div>
      </section>
    </div>
  )
}
