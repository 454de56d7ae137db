// Auth.js's routes (sign-in, sign-out, session, CSRF). A POST body is read with the default cap before Auth.js parses
// it: a sign-in form is a few hundred bytes, and nothing here needs more.
import { NextRequest } from 'next/server'

import { handlers } from '@/server/auth'
import { BodyTooLarge, payloadTooLarge, readBodyWithin, withBody } from '@/server/http/body-limit'
import { BODY_LIMITS } from '@/server/limits'

export const { GET } = handlers

export async function POST(request: NextRequest): Promise<Response> {
  let body: Uint8Array<ArrayBuffer>
  try {
    body = await readBodyWithin(request, BODY_LIMITS.defaultBytes)
  } catch (error) {
    if (error instanceof BodyTooLarge) return payloadTooLarge(error)
    throw error
  }
  return handlers.POST(new NextRequest(withBody(request, body)))
}
