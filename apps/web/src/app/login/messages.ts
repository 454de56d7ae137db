// What the sign-in page says for each refusal: the codes of the CredentialsSignin errors that authorize() throws
// (src/server/auth/config.ts), met either by the form's server action or in the ?code= of Auth.js's redirect.
import { SECRET_LIMITS } from '@/server/limits'

export const WRONG_CREDENTIALS = 'Wrong e-mail or password.'

/** The message for a refused sign-in's code (undefined or unknown: wrong e-mail or password). */
export function signInRefusal(code: string | undefined): string {
  const minutes = /^locked-(\d{1,4})$/.exec(code ?? '')?.[1]
  if (minutes) return `Too many attempts; try again in ${minutes} minute${minutes === '1' ? '' : 's'}.`
  switch (code) {
    case 'disabled':
      return 'This account is disabled. Ask an administrator to enable it.'
    case 'demo':
      return 'The demo account cannot sign in to this server. Ask the operator for an account of your own.'
    case 'weak':
      return `This server accepts only passwords of at least ${SECRET_LIMITS.minPasswordLength} characters. Ask the operator to set a longer one.`
    default:
      return WRONG_CREDENTIALS
  }
}
