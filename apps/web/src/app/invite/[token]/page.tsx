import { TRPCError } from '@trpc/server'
import type { Metadata } from 'next'
import Link from 'next/link'

import { fieldErrorsOf } from '@/server/api/errors'
import { api } from '@/trpc/server'

import { AcceptInviteForm } from './accept-invite-form'

export const metadata: Metadata = { title: 'Accept invitation' }

/** The invitation a link stands for, or the sentence that says why it cannot be used. */
async function lookUp(token: string) {
  try {
    return { invitation: await api.users.invitation({ token }) }
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error
    return { problem: fieldErrorsOf(error)?.token?.[0] ?? error.message }
  }
}

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  const { invitation, problem } = await lookUp(token)
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-8">
      <div className="w-full max-w-md">
        <h1 className="mb-1 text-2xl font-semibold">Join Tandem Lab</h1>
        {invitation ? (
          <>
            <p className="mb-6 text-sm text-slate-600">
              You are invited as {invitation.role === 'ADMIN' ? 'an administrator' : 'a researcher'}. Choose a password to
              finish setting up your account.
            </p>
            <div className="card">
              <AcceptInviteForm token={token} email={invitation.email} name={invitation.name} />
            </div>
          </>
        ) : (
          <div className="card space-y-4">
            <p role="alert" className="text-sm text-red-700" data-testid="invite-problem">
              {problem}
            </p>
            <Link href="/login" className="btn-secondary">
              Go to sign in
            </Link>
          </div>
        )}
      </div>
    </main>
  )
}
