import path from 'node:path'
import { fileURLToPath } from 'node:url'

import type { NextConfig } from 'next'

import { BODY_LIMITS, HEADER_LIMITS } from './src/server/limits'

// The monorepo root (one package-lock.json for all workspaces): Turbopack resolves hoisted packages
// from there and file tracing includes them.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Headers of every response (pages, API routes, static files); the per-request CSP is set by src/proxy.ts. */
export const SECURITY_HEADERS = [
  // a response is what its Content-Type says (an export or an upload echo is never sniffed into HTML)
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  // no other site may frame the console or a study (clickjacking); CSP frame-ancestors says the same to new browsers
  { key: 'X-Frame-Options', value: 'DENY' },
  // participant links carry recruiting-platform ids (PROLIFIC_PID…): no URL leaves the origin in a Referer. Not
  // no-referrer: that makes a browser send "Origin: null" on a plain form POST, which Next refuses for server actions.
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()' },
]

/** HSTS only for requests that came over TLS (the ingress sets X-Forwarded-Proto): over plain http it means nothing. */
export const TLS_ONLY_HEADERS = [{ key: 'Strict-Transport-Security', value: `max-age=${HEADER_LIMITS.hstsMaxAgeSeconds}` }]

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The benches build into their own folder (TANDEM_NEXT_DIST_DIR=.next-bench) so they never overwrite the build
  // e2e serves; that build reads bench/tsconfig.next-build.json, which only extends tsconfig.json, so Next does
  // not add the folder's type globs to tsconfig.json.
  ...(process.env.TANDEM_NEXT_DIST_DIR
    ? { distDir: process.env.TANDEM_NEXT_DIST_DIR, typescript: { tsconfigPath: 'bench/tsconfig.next-build.json' } }
    : {}),
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // node-postgres and Prisma's runtime are plain Node packages: load them at run time, do not bundle them.
  serverExternalPackages: ['pg', '@prisma/adapter-pg', '@prisma/client'],
  experimental: {
    // the only server actions are sign-in and sign-out: a few hundred bytes (Next's default allows 1 MB)
    serverActions: { bodySizeLimit: BODY_LIMITS.defaultBytes },
  },
  async headers() {
    return [
      { source: '/:path*', headers: SECURITY_HEADERS },
      { source: '/:path*', has: [{ type: 'header', key: 'x-forwarded-proto', value: 'https' }], headers: TLS_ONLY_HEADERS },
    ]
  },
}

export default nextConfig
