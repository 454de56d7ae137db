'use client'

import { useActionState } from 'react'

import { login, type LoginState } from './actions'
import { FormError } from '@/components/form-error'

export function LoginForm({ callbackUrl, notice }: { callbackUrl?: string; notice?: string }) {
  const [state, action, pending] = useActionState<LoginState, FormData>(login, {})
  const error = state.error ?? notice
  return (
    <form action={action} className="space-y-4" noValidate>
      <FormError message={error} />
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
