import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { defineConfig } from 'vitest/config'

const here = path.dirname(fileURLToPath(import.meta.url))

export default defineConfig({
  resolve: {
    alias: {
      '@': path.join(here, 'src'),
      // 'server-only' throws outside React Server Components; tests call server code directly
      'server-only': path.join(here, 'test/support/empty.ts'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // next-auth imports 'next/server' without the extension Node's ESM loader needs: let Vite resolve it, so the
    // route-handler tests (test/security/access-routes.test.ts) run the real Auth.js session decoding
    server: { deps: { inline: ['next-auth'] } },
    // one throwaway database for the run (created, migrated and dropped by the global setup)
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup-env.ts'],
    // shared CPU and one Postgres: files one after another
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
