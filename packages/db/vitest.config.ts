import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // each test makes its own databases; run files one after another (shared CPU, one Postgres)
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
