import NextAuth from 'next-auth'

import { authConfig } from './config'

// Lazy configuration: the environment is read on the first request, not when `next build` loads this file.
export const { handlers, auth, signIn, signOut } = NextAuth(() => authConfig())
