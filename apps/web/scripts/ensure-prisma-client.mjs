#!/usr/bin/env node
// Generates Prisma Client (root `npm run db:generate`, written to src/generated/prisma, not committed)
// when it is missing or older than prisma/schema.prisma or the installed Prisma; otherwise does nothing.
// Runs before build, dev, typecheck and test, so a fresh clone needs no extra step.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const repoRoot = path.resolve(webDir, '../..')
const outDir = path.join(webDir, 'src/generated/prisma')
const stampFile = path.join(outDir, '.schema-sha256')

const prismaVersion = createRequire(path.join(repoRoot, 'package.json'))('prisma/package.json').version
const stamp = createHash('sha256')
  .update(readFileSync(path.join(repoRoot, 'prisma/schema.prisma')))
  .update(`prisma@${prismaVersion}`)
  .digest('hex')

const current = existsSync(path.join(outDir, 'client.ts')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp
if (!current) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['run', '--silent', 'db:generate'], { cwd: repoRoot, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
  writeFileSync(stampFile, stamp)
}
