import 'server-only'
// tRPC from React Server Components: the same procedures, called in-process with the request's session.
import { headers } from 'next/headers'
import { cache } from 'react'

import { createCaller } from '@/server/api/root'
import { createTRPCContext } from '@/server/api/trpc'
import { auth } from '@/server/auth'

const createContext = cache(async () =>
  createTRPCContext({ session: await auth(), headers: new Headers(await headers()) }),
)

export const api = createCaller(createContext)
