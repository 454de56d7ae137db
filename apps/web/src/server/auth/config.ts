// Auth.js (next-auth v5) configuration: e-mail + password (Credentials provider), JWT sessions.
// Passwords are checked against scrypt hashes in `users`; disabled accounts cannot sign in, and the tRPC
// layer re-reads the user on every call, so disabling an account also ends its open sessions.
import type { DefaultSession, NextAuthConfig } from 'next-auth'
import { CredentialsSignin } from 'next-auth'
import Credentials from 'next-auth/providers/credentials'

import { env } from '../../env'
import { getDb } from '../db'
import { checkCredentials } from './credentials'

export type Role = 'ADMIN' | 'RESEARCHER'

declare module 'next-auth' {
  interface Session {
    user: { id: string; role: Role } & DefaultSession['user']
  }
}

/** Thrown by authorize() for a disabled account; the login form shows its code. */
export class AccountDisabled extends CredentialsSignin {
  override code = 'disabled'
}

export function authConfig(): NextAuthConfig {
  return {
    secret: env().AUTH_SECRET,
    // the app runs behind whatever host name the operator gives it (next start, a proxy, a container)
    trustHost: true,
    session: { strategy: 'jwt', maxAge: 8 * 60 * 60 },
    pages: { signIn: '/login' },
    logger: {
      // a wrong password is an answer, not a server error: keep it out of the error log
      error(error) {
        if ((error as { type?: string }).type === 'CredentialsSignin') return
        console.error('[auth]', error)
      },
    },
    providers: [
      Credentials({
        credentials: {
          email: { label: 'E-mail', type: 'email' },
          password: { label: 'Password', type: 'password' },
        },
        async authorize(credentials) {
          const result = await checkCredentials(getDb(), credentials)
          if (result.ok) return result.user
          if (result.reason === 'disabled') throw new AccountDisabled()
          return null
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user?.id) {
          token.sub = user.id
          token.role = (user as { role?: Role }).role
        }
        return token
      },
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub
        session.user.role = token.role as Role
        return session
      },
    },
  }
}
