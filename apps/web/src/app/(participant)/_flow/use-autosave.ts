'use client'
// Autosave of a task's draft: debounced after each change, at once on blur, and with a keepalive request when
// the page is hidden or closed. One save is in flight at a time; the newest text always wins; a dropped
// connection is retried (withRetry, then every RETRY_LATER_MS) for as long as the task is open.
import { useEffect, useMemo, useRef, useState } from 'react'

import { asFlowError, type DraftValues } from './backend'
import { withRetry } from './retry'

export type SaveStatus = 'idle' | 'saving' | 'saved' | 'retrying' | 'failed'

export const AUTOSAVE_DELAY_MS = 800
const RETRY_LATER_MS = 10_000

interface SaverOptions {
  save: (draft: DraftValues, signal: AbortSignal) => Promise<void>
  saveOnExit: (draft: DraftValues) => void
  onSaved: (draft: DraftValues) => void
  onStatus: (status: SaveStatus, message?: string) => void
  delayMs?: number
}

export class DraftSaver {
  private pending: DraftValues | null = null
  private inFlight: DraftValues | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private stopped = false
  private readonly abort = new AbortController()

  constructor(private readonly options: SaverOptions) {}

  /** The participant changed something: save it after a pause in typing. */
  change(draft: DraftValues) {
    if (this.stopped) return
    this.pending = draft
    this.options.onStatus('saving')
    this.schedule(this.options.delayMs ?? AUTOSAVE_DELAY_MS)
  }

  /** Save now (a field lost focus). */
  flush() {
    if (!this.stopped && this.pending) this.schedule(0)
  }

  /** The page is going away: send what the server may not have yet, without waiting. */
  exit() {
    if (this.stopped) return
    const draft = this.pending ?? this.inFlight
    if (draft) this.options.saveOnExit(draft)
  }

  /** The answer was submitted (or the task left): no more drafts. */
  stop() {
    this.stopped = true
    clearTimeout(this.timer)
    this.abort.abort()
  }

  private schedule(ms: number) {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.run(), ms)
  }

  private async run() {
    if (this.stopped || this.inFlight || !this.pending) return
    const draft = this.pending
    this.pending = null
    this.inFlight = draft
    try {
      await withRetry(() => this.options.save(draft, this.abort.signal), {
        signal: this.abort.signal,
        onRetry: () => this.options.onStatus('retrying'),
      })
      this.options.onSaved(draft)
      if (!this.pending) this.options.onStatus('saved')
    } catch (e) {
      if (this.stopped) return
      const error = asFlowError(e)
      // keep the text for the next attempt unless newer text is already waiting
      this.pending ??= draft
      if (error.retryable) {
        this.options.onStatus('retrying')
        this.schedule(RETRY_LATER_MS)
      } else {
        this.pending = null
        this.options.onStatus('failed', error.message)
      }
      return
    } finally {
      this.inFlight = null
    }
    if (this.pending) this.schedule(0)
  }
}

/**
 * A DraftSaver for the component's lifetime (created in an effect, so a remount gets a fresh one), flushed on
 * pagehide and when the tab is hidden, plus its status for display.
 */
export function useAutosave(options: Omit<SaverOptions, 'onStatus'>) {
  const [state, setState] = useState<{ status: SaveStatus; message?: string }>({ status: 'idle' })
  const latest = useRef(options)
  useEffect(() => {
    latest.current = options
  })
  const saverRef = useRef<DraftSaver | null>(null)
  useEffect(() => {
    const saver = new DraftSaver({
      save: (d, signal) => latest.current.save(d, signal),
      saveOnExit: (d) => latest.current.saveOnExit(d),
      onSaved: (d) => latest.current.onSaved(d),
      onStatus: (status, message) => setState({ status, message }),
      delayMs: latest.current.delayMs,
    })
    saverRef.current = saver
    const onHide = () => saver.exit()
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') saver.exit()
    }
    window.addEventListener('pagehide', onHide)
    document.addEventListener('visibilitychange', onVisibility)
    return () => {
      window.removeEventListener('pagehide', onHide)
      document.removeEventListener('visibilitychange', onVisibility)
      // leaving the task without submitting (e.g. the study closed): send what is unsaved, then stop
      saver.exit()
      saver.stop()
      if (saverRef.current === saver) saverRef.current = null
    }
  }, [])
  const controls = useMemo(
    () => ({
      change: (draft: DraftValues) => saverRef.current?.change(draft),
      flush: () => saverRef.current?.flush(),
      stop: () => saverRef.current?.stop(),
    }),
    [],
  )
  return { ...controls, ...state }
}
