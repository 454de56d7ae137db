import type { Metadata } from 'next'
import { redirect } from 'next/navigation'

import { currentUser } from '@/server/auth/current-user'

import { LoginForm } from './login-form'
import { signInRefusal } from './messages'

export const metadata: Metadata = { title: 'Sign in' }

const NOTICES: Record<string, string> = {
  session: 'Your session has ended. Sign in again.',
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string; error?: string; code?: string }>
}) {
  const params = await searchParams
  // a valid session goes straight on; one whose account was disabled or removed stays here
  if (await currentUser()) redirect(params.callbackUrl?.startsWith('/') && !params.callbackUrl.startsWith('//') ? params.callbackUrl : '/console')
  const notice =
    params.error === 'CredentialsSignin'
      ? signInRefusal(params.code)
      : params.error
        ? (Object.hasOwn(NOTICES, params.error) ? NOTICES[params.error] : 'Sign-in failed.')
        : undefined
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <h1 className="mb-1 text-2xl font-semibold">Tandem Lab</h1>
        <p className="mb-6 text-sm text-slate-500">Sign in to the research console.</p>
        <div className="card">
          <LoginForm callbackUrl={params.callbackUrl} notice={notice} />
        </div>
      </div>
    </main>
  )
}
