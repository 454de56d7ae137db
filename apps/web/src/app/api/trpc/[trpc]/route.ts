// The tRPC endpoint. Before tRPC parses anything: the batch size is checked, participant calls must be POSTs (their
// token then never sits in a URL, so never in an access log), and the body is read with a byte cap — 64 kB, or the
// upload cap for the dataset upload (UPLOAD_PROCEDURE) sent alone from a signed-in session (the caps: src/server/limits.ts).
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc'
import type { NextRequest } from 'next/server'

import { appRouter } from '@/server/api/root'
import { ReportedParticipantError } from '@/server/api/routers/participant'
import { createTRPCContext } from '@/server/api/trpc'
import { auth } from '@/server/auth'
import { BodyTooLarge, readBodyWithin, withBody } from '@/server/http/body-limit'
import { RateLimited } from '@/server/http/rate-limit'
import { BODY_LIMITS, TRPC_MAX_BATCH, UPLOAD_PROCEDURE } from '@/server/limits'

const ENDPOINT = '/api/trpc'

/** The procedure paths of a call: one, or several comma-separated in a batch. */
function procedurePaths(url: URL): string[] {
  return url.pathname.slice(ENDPOINT.length + 1).split(',')
}

const isParticipantPath = (path: string) => path.startsWith('participant.')

type RefusalCode = 'BAD_REQUEST' | 'METHOD_NOT_SUPPORTED' | 'PAYLOAD_TOO_LARGE'

/**
 * A refusal made before tRPC runs, in tRPC's own error shape (superjson-wrapped, one entry per call of a batch), so the
 * browser's client shows its message like any other error instead of failing to parse a plain-text body.
 */
function refuse(url: URL, paths: string[], code: RefusalCode, status: number, message: string, headers: Record<string, string> = {}): Response {
  const error = (path: string) => ({ error: { json: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status, path } } } })
  const body = url.searchParams.get('batch') === '1' ? paths.map(error) : error(paths[0] ?? '')
  return Response.json(body, { status, headers: { 'cache-control': 'no-store', ...headers } })
}

async function handler(req: NextRequest) {
  const url = new URL(req.url)
  const paths = procedurePaths(url)
  if (url.searchParams.get('batch') === '1' && paths.length > TRPC_MAX_BATCH) {
    return refuse(url, paths, 'BAD_REQUEST', 400, `A batch holds at most ${TRPC_MAX_BATCH} calls; this one has ${paths.length}.`)
  }
  if (paths.some(isParticipantPath) && req.method !== 'POST') {
    return refuse(url, paths, 'METHOD_NOT_SUPPORTED', 405, 'Participant calls are POST requests (the session token must not travel in a URL).', { allow: 'POST' })
  }
  // participants have no account: their calls skip reading the Auth.js session (the token is their credential)
  const session = paths.every(isParticipantPath) ? null : await auth()
  const maxBytes = session && paths.length === 1 && paths[0] === UPLOAD_PROCEDURE ? BODY_LIMITS.uploadBytes : BODY_LIMITS.defaultBytes
  let request: Request = req
  if (req.method === 'POST') {
    try {
      request = withBody(req, await readBodyWithin(req, maxBytes))
    } catch (error) {
      if (error instanceof BodyTooLarge) return refuse(url, paths, 'PAYLOAD_TOO_LARGE', 413, error.message)
      throw error
    }
  }
  return fetchRequestHandler({
    endpoint: ENDPOINT,
    req: request,
    router: appRouter,
    maxBatchSize: TRPC_MAX_BATCH,
    // queries may come as POSTs (the client sends every call so); mutations still cannot come as GETs
    allowMethodOverride: true,
    createContext: () => createTRPCContext({ session, headers: req.headers }),
    responseMeta({ errors }) {
      const limited = errors.map((e) => e.cause).find((c): c is RateLimited => c instanceof RateLimited)
      return limited ? { headers: new Headers({ 'retry-after': String(limited.retryAfterSeconds) }) } : {}
    },
    onError({ path, error }) {
      // a participant call's failure is logged where it happened, under the error id the participant was shown
      if (error.code === 'INTERNAL_SERVER_ERROR' && !(error.cause instanceof ReportedParticipantError)) {
        console.error(`tRPC ${path ?? '<no path>'} failed:`, error)
      }
    },
  })
}

export { handler as GET, handler as POST }
