'use server'

import { AuthError, type CredentialsSignin } from 'next-auth'

import { signIn } from '@/server/auth'

import { signInRefusal } from './messages'

export interface LoginState {
  error?: string
  email?: string
}

/** Only same-site paths: never send a signed-in user to another origin. */
function safeRedirect(value: FormDataEntryValue | null): string {
  const path = typeof value === 'string' ? value : ''
  return path.startsWith('/') && !path.startsWith('//') ? path : '/console'
}

export async function login(_prev: LoginState, formData: FormData): Promise<LoginState> {
  const email = String(formData.get('email') ?? '').trim()
  const password = String(formData.get('password') ?? '')
  if (!email || !password) return { error: 'Enter your e-mail and password.', email }
  try {
    // on success this throws Next's redirect, which must propagate
    await signIn('credentials', { email, password, redirectTo: safeRedirect(formData.get('callbackUrl')) })
  } catch (error) {
    if (error instanceof AuthError) {
      if (error.type === 'CredentialsSignin') return { error: signInRefusal((error as CredentialsSignin).code), email }
      console.error('sign-in failed:', error)
      return { error: 'Sign-in failed. Try again in a moment.', email }
    }
    throw error
  }
  return {}
}
