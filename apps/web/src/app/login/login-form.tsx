'use client'

import { useActionState } from 'react'

import { login, type LoginState } from './actions'

export function LoginForm({ callbackUrl, notice }: { callbackUrl?: string; notice?: string }) {
  const [state, action, pending] = useActionState<LoginState, FormData>(login, {})
  const error = state.error ?? notice
  return (
    <form action={action} className="space-y-4" noValidate>
      {error ? (
        <p role="alert" data-testid="form-error" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
          {error}
        </p>
      ) : null}
      <input type="hidden" name="callbackUrl" value={callbackUrl ?? '/console'} />
      <div>
        <label htmlFor="email" className="label">
          E-mail
        </label>
        <input id="email" name="email" type="email" autoComplete="username" required className="input" defaultValue={state.email} />
      </div>
      <div>
        <label htmlFor="password" className="label">
          Password
        </label>
        <input id="password" name="password" type="password" autoComplete="current-password" required className="input" />
      </div>
      <button type="submit" className="btn-primary w-full" disabled={pending}>
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  )
}
