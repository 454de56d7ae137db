// Everything the e2e test needs, from nothing, and its teardown:
//   1. a fresh database (on TEST_DATABASE_URL / DATABASE_URL / postgres@127.0.0.1:5432) with the committed
//      migrations applied (@tandem/db, the same code as `npm run db:migrate`);
//   2. a researcher account and a disabled one (`npm run seed:user`);
//   3. the fixture base model and the arithmetic datasets (`tandem seed --fixture`, workers/trainer);
//   4. a `tandem worker` serving that database's job queue, and the live model service (workers/live);
//   5. the web app: `next build` (skipped with E2E_SKIP_BUILD=1 when .next exists), then `next start` on a
//      free port.
// Teardown stops the worker and the server (their whole process groups) and drops the database.
// Logs of the worker and the server: test-results/e2e-logs/. E2E_KEEP=1 keeps the database and runs dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { applyMigrations, createTempDatabase, dropDatabase, redact } from '@tandem/db'

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const repoRoot = path.resolve(webDir, '../..')
const logDir = path.join(webDir, 'test-results', 'e2e-logs')

export const E2E_EMAIL = 'researcher@e2e.tandem.test'
export const E2E_DISABLED_EMAIL = 'disabled@e2e.tandem.test'
export const E2E_ADMIN_EMAIL = 'admin@e2e.tandem.test'

function log(message: string) {
  console.log(`[e2e setup] ${message}`)
}

function run(command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; what: string }) {
  const started = Date.now()
  const result = spawnSync(command, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n')
    throw new Error(`${opts.what} failed (${command} ${args.join(' ')}): ${result.error?.message ?? `exit ${result.status}`}\n${output}`)
  }
  log(`${opts.what}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return result.stdout
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** A long-running child in its own process group (so teardown can stop it and everything it started). */
function startDaemon(name: string, command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) {
  mkdirSync(logDir, { recursive: true })
  const logFile = path.join(logDir, `${name}.log`)
  const fd = openSync(logFile, 'w')
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  return { child, logFile }
}

function logTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

async function stop(child: ChildProcess | undefined, name: string) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    return
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }, 10_000)
  await exited
  clearTimeout(timer)
  log(`stopped ${name}`)
}

async function waitForHttp(url: string, child: ChildProcess, logFile: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server for ${url} exited (code ${child.exitCode}):\n${logTail(logFile)}`)
    try {
      const response = await fetch(url, { redirect: 'manual' })
      if (response.status < 500) return
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`the server did not answer ${url} within ${timeoutMs / 1000} s:\n${logTail(logFile)}`)
}

export default async function globalSetup() {
  const server = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
  const tandem = process.env.TANDEM_BIN ?? path.join(repoRoot, 'workers/trainer/.venv/bin/tandem')
  if (!existsSync(tandem)) {
    throw new Error(
      `${tandem} not found: the e2e test needs the trainer's virtualenv (workers/trainer/.venv). ` +
        'Create it with the trainer setup (see workers/trainer/README.md), or point TANDEM_BIN at a `tandem` executable.',
    )
  }

  let databaseUrl: string | undefined
  let runsDir: string | undefined
  let worker: ChildProcess | undefined
  let live: ChildProcess | undefined
  let web: ChildProcess | undefined
  const teardown = async () => {
    await stop(web, 'web server')
    await stop(worker, 'worker')
    await stop(live, 'live model service')
    if (process.env.E2E_KEEP) {
      log(`kept database ${databaseUrl && redact(databaseUrl)} and runs dir ${runsDir}`)
      return
    }
    if (databaseUrl) await dropDatabase(databaseUrl)
    if (runsDir) rmSync(runsDir, { recursive: true, force: true })
  }

  try {
    databaseUrl = await createTempDatabase(server, 'tandem_e2e')
    await applyMigrations({ url: databaseUrl })
    log(`database ${redact(databaseUrl)} migrated`)
    const env = { ...process.env, DATABASE_URL: databaseUrl, NEXT_TELEMETRY_DISABLED: '1' }

    const password = randomBytes(12).toString('base64url')
    run('npm', ['run', 'seed:user', '--', '--email', E2E_EMAIL, '--password', password, '--role', 'RESEARCHER', '--name', 'E2E Researcher'], {
      cwd: webDir, env, what: 'seed researcher',
    })
    run('npm', ['run', 'seed:user', '--', '--email', E2E_DISABLED_EMAIL, '--password', password, '--role', 'RESEARCHER', '--disabled'], {
      cwd: webDir, env, what: 'seed disabled researcher',
    })
    run('npm', ['run', 'seed:user', '--', '--email', E2E_ADMIN_EMAIL, '--password', password, '--role', 'ADMIN', '--name', 'E2E Admin'], {
      cwd: webDir, env, what: 'seed admin',
    })
    run(tandem, ['seed', '--database-url', databaseUrl, '--fixture'], { cwd: repoRoot, env, what: 'tandem seed --fixture' })

    runsDir = mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-runs-'))
    const workerProc = startDaemon(
      'worker',
      tandem,
      ['worker', '--database-url', databaseUrl, '--runs-dir', runsDir, '--heartbeat', '0.5', '--poll', '0.5'],
      { cwd: repoRoot, env: { ...env, PYTHONUNBUFFERED: '1' } },
    )
    worker = workerProc.child
    log(`worker started (pid ${worker.pid}, log ${workerProc.logFile})`)

    const livePort = await freePort()
    // workers/live as deployed: a shared secret the web app sends, exports served only from the worker's runs folder
    // (set here, so the spec that restarts the service passes them on too)
    const liveSecret = randomBytes(32).toString('hex')
    Object.assign(process.env, { LIVE_SECRET: liveSecret, LIVE_ONNX_ROOT: path.join(runsDir, 'onnx') })
    const liveEnv = { ...process.env, LIVE_HOST: '127.0.0.1', LIVE_PORT: String(livePort) }
    const liveProc = startDaemon('live', 'npm', ['run', '-s', 'start', '-w', 'workers/live'], { cwd: repoRoot, env: liveEnv })
    live = liveProc.child
    const liveUrl = `http://127.0.0.1:${livePort}`
    await waitForHttp(`${liveUrl}/health`, live, liveProc.logFile, 60_000)
    log(`live model service at ${liveUrl} (pid ${live.pid}, log ${liveProc.logFile})`)

    if (process.env.E2E_SKIP_BUILD && existsSync(path.join(webDir, '.next', 'BUILD_ID'))) {
      log('E2E_SKIP_BUILD: using the existing .next build')
    } else {
      run('npm', ['run', 'build'], { cwd: webDir, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, what: 'next build' })
    }

    const port = await freePort()
    const nextBin = createRequire(path.join(webDir, 'package.json')).resolve('next/dist/bin/next')
    const webProc = startDaemon('web', process.execPath, [nextBin, 'start', '--port', String(port), '--hostname', '127.0.0.1'], {
      cwd: webDir,
      env: { ...env, AUTH_SECRET: randomBytes(32).toString('base64'), TANDEM_RUNS_DIR: runsDir, NODE_ENV: 'production', LIVE_URL: liveUrl, LIVE_SECRET: liveSecret },
    })
    web = webProc.child
    const baseURL = `http://127.0.0.1:${port}`
    await waitForHttp(`${baseURL}/login`, web, webProc.logFile, 120_000)
    log(`web server at ${baseURL} (pid ${web.pid}, log ${webProc.logFile})`)
    if (worker.exitCode !== null) throw new Error(`the worker exited (code ${worker.exitCode}):\n${logTail(workerProc.logFile)}`)

    // read by the tests (Playwright's workers inherit this process's environment)
    process.env.E2E_BASE_URL = baseURL
    process.env.E2E_EMAIL = E2E_EMAIL
    process.env.E2E_DISABLED_EMAIL = E2E_DISABLED_EMAIL
    process.env.E2E_ADMIN_EMAIL = E2E_ADMIN_EMAIL
    process.env.E2E_PASSWORD = password
    process.env.E2E_DATABASE_URL = databaseUrl
    // the live service, for the spec that restarts it mid-session
    process.env.E2E_LIVE_URL = liveUrl
    process.env.E2E_LIVE_PORT = String(livePort)
    process.env.E2E_LIVE_PGID = String(live.pid)
    process.env.E2E_REPO_ROOT = repoRoot
  } catch (error) {
    await teardown()
    throw error
  }
  return teardown
}
