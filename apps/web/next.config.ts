import path from 'node:path'
import { fileURLToPath } from 'node:url'

import type { NextConfig } from 'next'

// The monorepo root (one package-lock.json for all workspaces): Turbopack resolves hoisted packages
// from there and file tracing includes them.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // node-postgres and Prisma's runtime are plain Node packages: load them at run time, do not bundle them.
  serverExternalPackages: ['pg', '@prisma/adapter-pg', '@prisma/client'],
}

export default nextConfig
