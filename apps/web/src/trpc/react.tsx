'use client'
// The browser's tRPC client: TanStack Query + @trpc/tanstack-react-query (useTRPC().x.queryOptions()).
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query'
import { createTRPCClient, httpBatchLink, httpLink, loggerLink, splitLink } from '@trpc/client'
import { createTRPCContext } from '@trpc/tanstack-react-query'
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
import { useState } from 'react'
import superjson from 'superjson'

import type { AppRouter } from '@/server/api/root'
import { TRPC_MAX_BATCH, UPLOAD_PROCEDURE } from '@/server/limits'

import { makeQueryClient } from './query-client'

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>()

export type RouterInputs = inferRouterInputs<AppRouter>
export type RouterOutputs = inferRouterOutputs<AppRouter>

let browserQueryClient: QueryClient | undefined
function getQueryClient() {
  if (typeof window === 'undefined') return makeQueryClient() // server render: a new client per request
  browserQueryClient ??= makeQueryClient()
  return browserQueryClient
}

export function TRPCReactProvider({ children }: { children: React.ReactNode }) {
  const queryClient = getQueryClient()
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        loggerLink({ enabled: (op) => process.env.NODE_ENV === 'development' && op.direction === 'down' && op.result instanceof Error }),
        // a dataset upload travels alone: only the upload sent alone gets the upload body cap (limits.ts)
        splitLink({
          condition: (op) => op.path === UPLOAD_PROCEDURE,
          true: httpLink({ url: '/api/trpc', transformer: superjson, headers: () => ({ 'x-trpc-source': 'nextjs-react' }) }),
          false: httpBatchLink({
            url: '/api/trpc',
            transformer: superjson,
            // every call is a POST: inputs (a participant's session token among them) never sit in a URL or an access
            // log; the server refuses participant GETs
            methodOverride: 'POST',
            // the server refuses larger batches (limits.ts)
            maxItems: TRPC_MAX_BATCH,
            headers: () => ({ 'x-trpc-source': 'nextjs-react' }),
          }),
        }),
      ],
    }),
  )
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  )
}
