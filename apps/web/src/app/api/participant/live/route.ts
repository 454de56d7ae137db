// POST /api/participant/live {token, assignmentId} — the senior's reasoning for a live task as server-sent events
// (spans, token…, done | unavailable | failed). The page opens it while the senior has control and opens it again
// after a break: the stream resumes from the stored shared text (src/server/studies/live-session.ts).
//
// Bounded before any work is done for it (numbers in src/server/limits.ts): the body is read with a byte cap before
// parsing (413), opens are counted per address and per task (429 with Retry-After), and a task has one open stream
// at a time, held as a lease in Postgres (409 with Retry-After while another stream holds it).
import { TRPCError } from '@trpc/server'
import { z } from 'zod'

import { getDb } from '@/server/db'
import { tokenSchema } from '@/server/api/routers/participant.schema'
import { BodyTooLarge, readBodyWithin } from '@/server/http/body-limit'
import { clientAddress, consume, RateLimited } from '@/server/http/rate-limit'
import { BODY_LIMITS } from '@/server/limits'
import { hashToken } from '@/server/studies/participant-session'
import { liveTask, LiveStreamBusy, releaseStreamLease, streamSenior, takeStreamLease, type StreamLease } from '@/server/studies/live-session'

export const dynamic = 'force-dynamic'

const bodySchema = z.object({ token: tokenSchema, assignmentId: z.string().min(1).max(100) })

/** Errors as JSON {error}: the participant page shows the message (src/app/(participant)/_flow/trpc-backend.ts). */
function json(status: number, error: string, headers: Record<string, string> = {}) {
  return Response.json({ error }, { status, headers: { 'cache-control': 'no-store', ...headers } })
}

async function readJson(request: Request): Promise<unknown> {
  const bytes = await readBodyWithin(request, BODY_LIMITS.defaultBytes)
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return null
  }
}

export async function POST(request: Request) {
  let raw: unknown
  try {
    raw = await readJson(request)
  } catch (error) {
    if (error instanceof BodyTooLarge) return json(413, error.message)
    throw error
  }
  const parsed = bodySchema.safeParse(raw)
  if (!parsed.success) return json(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '))
  const db = getDb()
  let task
  let lease: StreamLease
  try {
    // per address first, before the token is even looked up: guessing tokens counts too
    await consume('liveOpensPerIp', clientAddress(request.headers))
    task = await liveTask(db, hashToken(parsed.data.token), parsed.data.assignmentId)
    // per task only once the token is known to hold it, so nobody can use up another participant's opens
    await consume('liveOpensPerTask', task.assignmentId)
    lease = await takeStreamLease(db, task.assignmentId)
  } catch (error) {
    if (error instanceof RateLimited) return json(429, error.message, { 'retry-after': String(error.retryAfterSeconds) })
    if (error instanceof LiveStreamBusy) return json(409, error.message, { 'retry-after': String(error.retryAfterSeconds) })
    if (error instanceof TRPCError && error.code === 'NOT_FOUND') return json(404, error.message)
    throw error
  }
  const encoder = new TextEncoder()
  const events = streamSenior(db, task, request.signal, lease)
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await events.next()
        if (next.done) return controller.close()
        controller.enqueue(encoder.encode(`event: ${next.value.event}\ndata: ${JSON.stringify(next.value.data)}\n\n`))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        controller.enqueue(encoder.encode(`event: unavailable\ndata: ${JSON.stringify({ message })}\n\n`))
        controller.close()
      }
    },
    async cancel() {
      await events.return(undefined)
      // a stream cancelled before it started never ran its own release
      await releaseStreamLease(db, lease).catch(() => undefined)
    },
  })
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  })
}
