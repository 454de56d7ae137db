// Auth.js (next-auth v5) configuration: e-mail + password (Credentials provider), JWT sessions.
// Passwords are checked against scrypt hashes in `users`; disabled accounts cannot sign in, and the tRPC
// layer re-reads the user on every call, so disabling an account also ends its open sessions.
import type { DefaultSession, NextAuthConfig } from 'next-auth'
import { CredentialsSignin } from 'next-auth'
import Credentials from 'next-auth/providers/credentials'

import { env } from '../../env'
import { getDb } from '../db'
import { currentSessionVersion } from './access'
import { clientAddress } from '../http/rate-limit'
import { checkCredentials } from './credentials'

export type Role = 'ADMIN' | 'RESEARCHER'

declare module 'next-auth' {
  interface Session {
    /** sessionVersion: the account's session version when this session was issued (absent on older tokens) */
    user: { id: string; role: Role; sessionVersion?: number } & DefaultSession['user']
  }
}

/** Thrown by authorize() for a disabled account; the login form shows its code. */
export class AccountDisabled extends CredentialsSignin {
  override code = 'disabled'
}

/** The demo account on a production server (src/app/login/messages.ts words each code). */
export class DemoAccountRefused extends CredentialsSignin {
  override code = 'demo'
}

/** A password shorter than the minimum, on a production server. */
export class PasswordTooShort extends CredentialsSignin {
  override code = 'weak'
}

/** Too many attempts (address or account): the code carries the minutes to wait, e.g. `locked-15`. */
export class SignInLocked extends CredentialsSignin {
  constructor(retryAfterSeconds: number) {
    super()
    this.code = `locked-${Math.max(1, Math.ceil(retryAfterSeconds / 60))}`
  }
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
        // Auth.js passes the sign-in request (rebuilt from the form's or the server action's headers)
        async authorize(credentials, request) {
          const result = await checkCredentials(getDb(), credentials, {
            address: clientAddress(request.headers),
            production: process.env.NODE_ENV === 'production',
            demo: env().TANDEM_DEMO,
          })
          if (result.ok) return result.user
          if (result.reason === 'disabled') throw new AccountDisabled()
          if (result.reason === 'demo') throw new DemoAccountRefused()
          if (result.reason === 'weak') throw new PasswordTooShort()
          if (result.reason === 'locked') throw new SignInLocked(result.retryAfterSeconds)
          return null
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        if (user?.id) {
          token.sub = user.id
          token.role = (user as { role?: Role }).role
          // the version this session is issued with: raising the account's version revokes it (access.ts)
          token.sessionVersion = await currentSessionVersion(getDb(), user.id)
        }
        return token
      },
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub
        session.user.role = token.role as Role
        if (typeof token.sessionVersion === 'number') session.user.sessionVersion = token.sessionVersion
        return session
      },
    },
  }
}
