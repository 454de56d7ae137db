'use server'
// Server actions of the console's account menu.
import { TRPCError } from '@trpc/server'

import { api } from '@/trpc/server'

import { signOut } from '.'

/** Ends every session of the signed-in account (me.signOutEverywhere), then this browser's, and goes to the login page. */
export async function signOutEverywhereAction() {
  await api.me.signOutEverywhere().catch((error: unknown) => {
    // already signed out (revoked elsewhere, disabled): clearing this browser's cookie is all that is left to do
    if (!(error instanceof TRPCError && error.code === 'UNAUTHORIZED')) throw error
  })
  await signOut({ redirectTo: '/login' })
}
