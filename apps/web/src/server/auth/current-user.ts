import 'server-only'
// The signed-in user for server components, once per request. Layouts and pages render concurrently in
// the App Router, so every console page calls this itself (a layout's redirect does not stop its page).
import { TRPCError } from '@trpc/server'
import { redirect } from 'next/navigation'
import { cache } from 'react'

import { api } from '@/trpc/server'

import { auth } from '.'

export const currentUser = cache(async () => {
  if (!(await auth())) return null
  return api.me.get().catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === 'UNAUTHORIZED') return null
    throw error
  })
})

/** The signed-in, enabled user, or a redirect to the login page. */
export async function requireUser() {
  const user = await currentUser()
  if (!user) redirect((await auth()) ? '/login?error=session' : '/login')
  return user
}
