'use client'
// The task's countdown, on the server's clock: the deadline comes from the server, and `offsetMs` (server time
// minus browser time) corrects a browser clock that is wrong. Screen readers hear the time left only at whole
// minutes and at 30 s, never every second.
import { useEffect, useRef, useState } from 'react'

/** Server time minus browser time, from a reply's `serverNow` and when the request left and the reply came. */
export function clockOffset(serverNow: string, sentAt: number, receivedAt: number): number {
  const server = Date.parse(serverNow)
  return Number.isFinite(server) ? server - (sentAt + receivedAt) / 2 : 0
}

function secondsLeft(deadlineMs: number, offsetMs: number): number {
  return Math.max(0, Math.ceil((deadlineMs - (Date.now() + offsetMs)) / 1000))
}

/** Whole seconds left (0 when the time is up), updated a few times a second. */
export function useCountdown(deadlineMs: number, offsetMs: number): number {
  const [left, setLeft] = useState(() => secondsLeft(deadlineMs, offsetMs))
  useEffect(() => {
    const tick = () => setLeft(secondsLeft(deadlineMs, offsetMs))
    tick()
    const timer = setInterval(tick, 250)
    return () => clearInterval(timer)
  }, [deadlineMs, offsetMs])
  return left
}

export function formatClock(seconds: number): string {
  const m = Math.floor(seconds / 60)
  const s = seconds % 60
  return `${m}:${String(s).padStart(2, '0')}`
}

/**
 * What to announce when the time left goes from `before` to `now` seconds: the whole minute just reached (the
 * nearest one if several were skipped, e.g. in a background tab), or the 30-second mark; otherwise nothing.
 */
export function timeAnnouncement(before: number, now: number): string | null {
  if (now >= before || now <= 0) return null
  if (before > 30 && now <= 30) return '30 seconds left'
  const minute = Math.ceil(now / 60)
  if (minute * 60 < before) return minute === 1 ? '1 minute left' : `${minute} minutes left`
  return null
}

/** The latest announcement for a screen reader's polite live region. */
export function useTimeAnnouncement(secondsLeftNow: number): string {
  const before = useRef(secondsLeftNow)
  const [text, setText] = useState('')
  useEffect(() => {
    const said = timeAnnouncement(before.current, secondsLeftNow)
    before.current = secondsLeftNow
    if (said) setText(said)
  }, [secondsLeftNow])
  return text
}
