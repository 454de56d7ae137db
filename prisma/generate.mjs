#!/usr/bin/env node
// `npm run db:generate`: runs `prisma generate` offline.
// Prisma's CLI insists on having its native schema-engine binary before any command, and downloads it
// when missing; these machines cannot. `prisma generate` never runs that binary, it only checks that the
// file exists, so we point PRISMA_SCHEMA_ENGINE_BINARY at a file that exists (unless the caller set it).
// Migrations use the WebAssembly engine instead: prisma/migrate.mjs.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js')

const env = { ...process.env }
env.PRISMA_SCHEMA_ENGINE_BINARY ||= fileURLToPath(import.meta.url)
env.PRISMA_HIDE_UPDATE_MESSAGE ||= '1'
env.CHECKPOINT_DISABLE ||= '1' // no telemetry call

const result = spawnSync(process.execPath, [prismaCli, 'generate', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
})
process.exit(result.status ?? 1)
