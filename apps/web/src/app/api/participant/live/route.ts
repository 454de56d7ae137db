// POST /api/participant/live {token, assignmentId} — the senior's reasoning for a live task as server-sent events
// (spans, token…, done | unavailable | failed). The page opens it while the senior has control and opens it again
// after a break: the stream resumes from the stored shared text (src/server/studies/live-session.ts).
import { TRPCError } from '@trpc/server'
import { z } from 'zod'

import { getDb } from '@/server/db'
import { tokenSchema } from '@/server/api/routers/participant.schema'
import { hashToken } from '@/server/studies/participant-session'
import { liveTask, streamSenior } from '@/server/studies/live-session'

export const dynamic = 'force-dynamic'

const bodySchema = z.object({ token: tokenSchema, assignmentId: z.string().min(1).max(100) })

function json(status: number, error: string) {
  return Response.json({ error }, { status, headers: { 'cache-control': 'no-store' } })
}

export async function POST(request: Request) {
  const parsed = bodySchema.safeParse(await request.json().catch(() => null))
  if (!parsed.success) return json(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '))
  const db = getDb()
  let task
  try {
    task = await liveTask(db, hashToken(parsed.data.token), parsed.data.assignmentId)
  } catch (error) {
    if (error instanceof TRPCError && error.code === 'NOT_FOUND') return json(404, error.message)
    throw error
  }
  const encoder = new TextEncoder()
  const events = streamSenior(db, task, request.signal)
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
    },
  })
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  })
}
