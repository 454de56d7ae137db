import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import type { NextRequest } from 'next/server'

import { appRouter } from '@/server/api/root'
import { createTRPCContext } from '@/server/api/trpc'
import { auth } from '@/server/auth'

/** A call (or batch of calls) made only of participant.* procedures. */
function isParticipantCall(req: NextRequest): boolean {
  const paths = req.nextUrl.pathname.slice('/api/trpc/'.length).split(',')
  return paths.every((p) => p.startsWith('participant.'))
}

function handler(req: NextRequest) {
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    // participants have no account: their calls skip reading the Auth.js session (the token is their credential)
    createContext: async () =>
      createTRPCContext({ session: isParticipantCall(req) ? null : await auth(), headers: req.headers }),
    onError({ path, error }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`tRPC ${path ?? '<no path>'} failed:`, error)
    },
  })
}

export { handler as GET, handler as POST }
