// The Content-Security-Policy of every page, with a fresh nonce per request (Next 16's proxy, formerly middleware).
// Next.js reads the nonce from the request's CSP header and puts it on its own scripts; 'strict-dynamic' lets those
// load the rest, and no other script runs: an injected <script> or inline handler has no nonce. The nonce needs
// dynamic rendering (the root layout forces it). The headers that do not change per request (nosniff, framing,
// referrer, HSTS over TLS) are set for every path, API routes and static files included, in next.config.ts.
import { NextResponse, type NextRequest } from 'next/server'

/** True when the client reached us over TLS (directly, or through the ingress that terminates it). */
export function overTls(request: NextRequest): boolean {
  const forwarded = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  return forwarded ? forwarded === 'https' : request.nextUrl.protocol === 'https:'
}

/** The page policy for `nonce`. */
export function contentSecurityPolicy(nonce: string, options: { development: boolean; tls: boolean }): string {
  const directives = [
    "default-src 'self'",
    // React's development build evaluates code to rebuild server error stacks; production needs no eval
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.development ? " 'unsafe-eval'" : ''}`,
    // style attributes: React's style props, KaTeX's layout and recharts' SVG set them inline; CSS cannot run script
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // tRPC, the live stream and (in development) the HMR socket all talk to this origin only
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    // over plain http (the demo on 127.0.0.1) an upgrade would break every asset
    ...(options.tls ? ['upgrade-insecure-requests'] : []),
  ]
  return directives.join('; ')
}

export function proxy(request: NextRequest): NextResponse {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')
  const policy = contentSecurityPolicy(nonce, { development: process.env.NODE_ENV === 'development', tls: overTls(request) })
  const requestHeaders = new Headers(request.headers)
  requestHeaders.set('content-security-policy', policy)
  requestHeaders.set('x-nonce', nonce)
  const response = NextResponse.next({ request: { headers: requestHeaders } })
  response.headers.set('content-security-policy', policy)
  return response
}

export const config = {
  matcher: [
    {
      // pages only: API routes answer JSON, files and streams (and must not have their bodies buffered here: uploads
      // are larger than the proxy's body limit); build assets carry no script of their own
      source: '/((?!api/|_next/static|_next/image|favicon.ico).*)',
      // prefetches fetch RSC data, not a document: no policy to set
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
}
