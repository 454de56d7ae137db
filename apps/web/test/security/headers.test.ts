// Issue 13, item 12: every page gets a nonce-based CSP (no inline script without the request's nonce, no framing);
// every response gets nosniff, a referrer policy that keeps participant ids on the origin, and HSTS behind TLS.
import { NextRequest } from 'next/server'
import { afterEach, describe, expect, test, vi } from 'vitest'

import nextConfig, { SECURITY_HEADERS, TLS_ONLY_HEADERS } from '../../next.config'
import { config, proxy } from '@/proxy'
import { HEADER_LIMITS } from '@/server/limits'

function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]))
}

afterEach(() => vi.unstubAllEnvs())

describe('item 12: a per-request nonce CSP on every page', () => {
  test('scripts need the nonce (strict-dynamic, no unsafe-inline or eval); no framing, plugins, base or foreign form targets', () => {
    const response = proxy(new NextRequest('http://localhost/study/abc?PROLIFIC_PID=p1'))
    const policy = response.headers.get('content-security-policy')!
    const d = directives(policy)
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1]
    expect(nonce).toBeDefined()
    expect(Buffer.from(nonce!, 'base64')).toHaveLength(16)
    expect(d.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"])
    expect(d.get('frame-ancestors')).toEqual(["'none'"])
    expect(d.get('object-src')).toEqual(["'none'"])
    expect(d.get('base-uri')).toEqual(["'self'"])
    expect(d.get('form-action')).toEqual(["'self'"])
    expect(d.get('default-src')).toEqual(["'self'"])
    expect(d.has('upgrade-insecure-requests')).toBe(false)
    // Next.js reads the nonce from the request's CSP header to put it on its own scripts
    expect(response.headers.get('x-middleware-request-content-security-policy')).toBe(policy)
    expect(response.headers.get('x-middleware-request-x-nonce')).toBe(nonce)
  })

  test('each request gets a fresh nonce', () => {
    const nonces = new Set(
      Array.from({ length: 20 }, () => /'nonce-([^']+)'/.exec(proxy(new NextRequest('http://localhost/login')).headers.get('content-security-policy')!)![1]),
    )
    expect(nonces.size).toBe(20)
  })

  test("next dev gets 'unsafe-eval' (React's error overlay), production never; TLS requests upgrade insecure ones", () => {
    vi.stubEnv('NODE_ENV', 'development')
    expect(directives(proxy(new NextRequest('http://localhost/console')).headers.get('content-security-policy')!).get('script-src')).toContain("'unsafe-eval'")
    vi.stubEnv('NODE_ENV', 'production')
    const tls = proxy(new NextRequest('http://lab.example/console', { headers: { 'x-forwarded-proto': 'https' } }))
    const d = directives(tls.headers.get('content-security-policy')!)
    expect(d.get('script-src')).not.toContain("'unsafe-eval'")
    expect(d.has('upgrade-insecure-requests')).toBe(true)
  })

  test('the proxy runs on pages, not on API routes (whose bodies it would buffer) or build assets', () => {
    const source = new RegExp(`^${config.matcher[0]!.source}$`)
    for (const page of ['/', '/login', '/console/studies/x', '/study/abc']) expect(source.test(page), page).toBe(true)
    for (const other of ['/api/trpc/studies.list', '/api/auth/callback/credentials', '/_next/static/chunks/a.js', '/favicon.ico']) expect(source.test(other), other).toBe(false)
  })
})

describe('item 12: nosniff, framing, referrer and permissions on every response; HSTS only over TLS', () => {
  test('next.config.ts sends them for every path', async () => {
    const rules = await nextConfig.headers!()
    const all = rules.find((r) => r.source === '/:path*' && !r.has)!
    const headers = Object.fromEntries(all.headers.map((h) => [h.key, h.value]))
    expect(headers).toMatchObject({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'same-origin',
    })
    expect(headers['Permissions-Policy']).toContain('camera=()')
    expect(all.headers).toEqual(SECURITY_HEADERS)
    expect(Object.keys(headers)).not.toContain('Strict-Transport-Security')
  })

  test('Strict-Transport-Security only when the request came over TLS (X-Forwarded-Proto: https)', async () => {
    const rules = await nextConfig.headers!()
    const tls = rules.filter((r) => r.headers.some((h) => h.key === 'Strict-Transport-Security'))
    expect(tls).toEqual([{ source: '/:path*', has: [{ type: 'header', key: 'x-forwarded-proto', value: 'https' }], headers: TLS_ONLY_HEADERS }])
    expect(TLS_ONLY_HEADERS[0]!.value).toBe(`max-age=${HEADER_LIMITS.hstsMaxAgeSeconds}`)
  })

  test('server actions (sign-in, sign-out) take small bodies only', () => {
    expect(nextConfig.experimental?.serverActions?.bodySizeLimit).toBe(64 * 1024)
  })
})
