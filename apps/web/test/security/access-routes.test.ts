// Items 1, 2 and 10 of the hardening issue, for route handlers: every handler under src/app/api, called as every kind
// of caller, with real Auth.js session cookies (minted by the app's own jwt callback, decoded by Auth.js as in
// production; only next/headers is stood in for, as the App Router would fill it). A route file or an HTTP method
// missing from ROUTES fails the first test, so a new handler cannot skip this check. The policy:
// src/server/auth/access.ts; the table: docs/security.md (## Access).
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { encode } from 'next-auth/jwt'
import { NextRequest } from 'next/server'
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest'

const current = vi.hoisted(() => ({ headers: new Headers() }))
// auth() reads the request's cookies through next/headers, as a route handler does under the App Router
vi.mock('next/headers', async (importOriginal) => ({ ...(await importOriginal<object>()), headers: async () => current.headers }))

import * as authRoute from '@/app/api/auth/[...nextauth]/route'
import * as experimentArchiveRoute from '@/app/api/experiments/[id]/archive/route'
import * as liveRoute from '@/app/api/participant/live/route'
import * as codebookRoute from '@/app/api/studies/[id]/codebook/route'
import * as bonusRoute from '@/app/api/studies/[id]/bonus/route'
import * as exportRoute from '@/app/api/studies/[id]/export/route'
import * as parquetRoute from '@/app/api/studies/[id]/exports/[exportId]/route'
import * as preregistrationRoute from '@/app/api/studies/[id]/preregistration/route'
import * as trpcRoute from '@/app/api/trpc/[trpc]/route'
import { authConfig } from '@/server/auth/config'

import { callerFor, makeCatalog, makeUser, testDb, type TestUser } from '../support/helpers'
import { makeFinishedExperiment } from '../support/experiments'
import { makeOpenStudy } from '../support/studies'

const db = testDb()
const ORIGIN = 'http://localhost:3000'
// the session cookie's name on http (Auth.js prefixes __Secure- on https)
const SESSION_COOKIE = 'authjs.session-token'

const KINDS = [
  'anonymous', 'disabled', 'deleted', 'stale', 'participant-cookie', 'participant-bearer', 'participant-param',
  'researcher', 'collaborator', 'owner', 'admin',
] as const
type Kind = (typeof KINDS)[number]
const SIGNED_OUT: readonly Kind[] = ['anonymous', 'disabled', 'deleted', 'stale', 'participant-cookie', 'participant-bearer', 'participant-param']

/** A session cookie as Auth.js issues it at sign-in: the app's jwt callback fills the token, Auth.js encrypts it. */
async function signIn(user: { id: string; role: string }): Promise<string> {
  const jwt = authConfig().callbacks!.jwt! as (params: { token: Record<string, unknown>; user: unknown }) => Promise<Record<string, unknown>>
  const token = await jwt({ token: {}, user })
  return encode({ token, secret: process.env.AUTH_SECRET!, salt: SESSION_COOKIE })
}

let cookies: Partial<Record<Kind, string>>
let participantToken: string
let users: Record<'researcher' | 'collaborator' | 'owner' | 'admin', TestUser>
let studyId: string
let hashedExportId: string
let rawExportId: string
let experimentId: string

beforeAll(async () => {
  const study = await makeOpenStudy(db)
  studyId = study.studyId
  users = {
    researcher: await makeUser(db, 'RESEARCHER'),
    collaborator: await makeUser(db, 'RESEARCHER'),
    owner: study.owner,
    admin: await makeUser(db, 'ADMIN'),
  }
  await db.studyCollaborator.create({ data: { studyId, userId: users.collaborator.id, addedById: users.owner.id } })
  participantToken = (await (await callerFor(db, null)).participant.join({ studyId, consent: true, params: {} })).token
  const parquet = (idMode: 'raw' | 'hashed') =>
    db.studyExport.create({ data: { studyId, format: 'PARQUET', idMode, status: 'READY', rowCount: 0, content: new Uint8Array([80, 65, 82, 49]), createdById: users.owner.id } })
  hashedExportId = (await parquet('hashed')).id
  rawExportId = (await parquet('raw')).id
  // a frozen preregistration (the worker freezes it when the study opens): read lab-wide, like the design
  await db.study.update({ where: { id: studyId }, data: { preregistrationJson: '{"version":1}', preregistrationMarkdown: '# Preregistration\n', preregistrationSha256: 'f'.repeat(64) } })
  // an experiment of the study's owner: its archive is read lab-wide, like its page
  const experimentCatalog = await makeCatalog(db)
  experimentId = (await makeFinishedExperiment(db, experimentCatalog, users.owner)).id

  // signed in, then the account was disabled (without a new session version: the disabled check alone refuses it)
  const disabled = await makeUser(db, 'ADMIN')
  const disabledCookie = await signIn(disabled)
  await db.user.update({ where: { id: disabled.id }, data: { disabledAt: new Date() } })
  // signed in, then the account was deleted
  const deleted = await makeUser(db, 'ADMIN')
  const deletedCookie = await signIn(deleted)
  await db.user.delete({ where: { id: deleted.id } })
  // signed in, then "sign out everywhere" from another session
  const stale = await makeUser(db, 'ADMIN')
  const staleCookie = await signIn(stale)
  await (await callerFor(db, stale)).me.signOutEverywhere()

  cookies = {
    disabled: disabledCookie,
    deleted: deletedCookie,
    stale: staleCookie,
    researcher: await signIn(users.researcher),
    collaborator: await signIn(users.collaborator),
    owner: await signIn(users.owner),
    admin: await signIn(users.admin),
  }
})

afterEach(() => {
  vi.restoreAllMocks()
})

/** A request as `kind` sends it: a session cookie, or a participant's token where a credential might be looked for. */
function request(kind: Kind, url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): NextRequest {
  const headers = new Headers({ host: 'localhost:3000', 'x-forwarded-proto': 'http', ...init.headers })
  const target = new URL(url, ORIGIN)
  if (kind === 'participant-cookie') headers.set('cookie', `${SESSION_COOKIE}=${participantToken}; token=${participantToken}`)
  else if (kind === 'participant-bearer') headers.set('authorization', `Bearer ${participantToken}`)
  else if (kind === 'participant-param') target.searchParams.set('token', participantToken)
  else if (cookies[kind]) headers.set('cookie', `${SESSION_COOKIE}=${cookies[kind]}`)
  return new NextRequest(target, { method: init.method ?? 'GET', headers, body: init.body })
}

type Handler = (request: NextRequest, context: { params: Promise<Record<string, string>> }) => Promise<Response>

/**
 * Calls a route handler as Next.js would, with the request's headers where next/headers reads them; the response comes
 * back read to its end (an export records itself when its stream ends).
 */
async function send(handler: unknown, req: NextRequest, params: Record<string, string> = {}): Promise<Response> {
  current.headers = req.headers
  const response = await (handler as Handler)(req, { params: Promise.resolve(params) })
  return new Response(await response.arrayBuffer(), { status: response.status, headers: response.headers })
}

const trpcInput = (input: unknown) => encodeURIComponent(JSON.stringify({ json: input }))

/** Status per kind: signed-out kinds 401; the rest as given. */
function signedIn(researcher: number, collaborator: number, owner: number, admin: number): Record<Kind, number> {
  return { ...Object.fromEntries(SIGNED_OUT.map((k) => [k, 401])), researcher, collaborator, owner, admin } as Record<Kind, number>
}
const everyone = (status: number) => Object.fromEntries(KINDS.map((k) => [k, status])) as Record<Kind, number>

interface RouteCase {
  name: string
  call: (kind: Kind) => Promise<Response>
  expected: Record<Kind, number>
}

/** Route file (relative to src/app/api, without /route.ts) → HTTP method → cases. */
const ROUTES: Record<string, { module: Record<string, unknown>; methods: Record<string, RouteCase[]> }> = {
  'auth/[...nextauth]': {
    module: authRoute,
    methods: {
      // Auth.js's own endpoints answer everyone alike; what a session may do is decided on each call, below
      GET: [{ name: 'the session', call: (k) => send(authRoute.GET, request(k, '/api/auth/session')), expected: everyone(200) }],
      POST: [
        {
          name: 'sign-out without its CSRF token',
          call: (k) => send(authRoute.POST, request(k, '/api/auth/signout', { method: 'POST', body: 'callbackUrl=/', headers: { 'content-type': 'application/x-www-form-urlencoded' } })),
          expected: everyone(302),
        },
      ],
    },
  },
  'experiments/[id]/archive': {
    module: experimentArchiveRoute,
    methods: {
      GET: [
        {
          name: 'the archive (lab-wide read)',
          call: (k) => send(experimentArchiveRoute.GET, request(k, `/api/experiments/${experimentId}/archive`), { id: experimentId }),
          expected: signedIn(200, 200, 200, 200),
        },
      ],
    },
  },
  'participant/live': {
    module: liveRoute,
    methods: {
      // the participant's token is its credential, in the body only: no session, cookie, header or parameter opens it
      POST: [
        {
          name: 'a stream without a token in the body',
          call: (k) => send(liveRoute.POST, request(k, '/api/participant/live', { method: 'POST', body: JSON.stringify({ assignmentId: 'x' }), headers: { 'content-type': 'application/json' } })),
          expected: everyone(400),
        },
      ],
    },
  },
  'trpc/[trpc]': {
    module: trpcRoute,
    methods: {
      GET: [
        { name: 'me.get', call: (k) => send(trpcRoute.GET, request(k, '/api/trpc/me.get')), expected: signedIn(200, 200, 200, 200) },
        {
          name: 'studies.dashboard (participant data)',
          call: (k) => send(trpcRoute.GET, request(k, `/api/trpc/studies.dashboard?input=${trpcInput({ id: studyId })}`)),
          expected: signedIn(403, 200, 200, 200),
        },
        { name: 'users.list (admins)', call: (k) => send(trpcRoute.GET, request(k, `/api/trpc/users.list?input=${trpcInput({ page: 1 })}`)), expected: signedIn(403, 403, 403, 200) },
      ],
      POST: [
        {
          name: 'studies.participants (participant data)',
          call: (k) =>
            send(trpcRoute.POST, request(k, '/api/trpc/studies.participants', { method: 'POST', body: JSON.stringify({ json: { id: studyId, page: 1 } }), headers: { 'content-type': 'application/json' } })),
          expected: signedIn(403, 200, 200, 200),
        },
        {
          name: 'studies.requestExport with raw ids',
          call: (k) =>
            send(trpcRoute.POST, request(k, '/api/trpc/studies.requestExport', { method: 'POST', body: JSON.stringify({ json: { id: studyId, idMode: 'raw' } }), headers: { 'content-type': 'application/json' } })),
          expected: signedIn(403, 403, 200, 200),
        },
      ],
    },
  },
  'studies/[id]/bonus': {
    module: bonusRoute,
    methods: {
      GET: [
        // raw participant ids: owner and admins; a refused call records nothing (study-bonus.test.ts)
        { name: 'the Prolific bonus file', call: (k) => send(bonusRoute.GET, request(k, `/api/studies/${studyId}/bonus`), { id: studyId }), expected: signedIn(403, 403, 200, 200) },
        { name: 'the bonus summary (no ids)', call: (k) => send(bonusRoute.GET, request(k, `/api/studies/${studyId}/bonus?summary=1`), { id: studyId }), expected: signedIn(403, 200, 200, 200) },
      ],
    },
  },
  'studies/[id]/codebook': {
    module: codebookRoute,
    methods: {
      GET: [{ name: 'the codebook', call: (k) => send(codebookRoute.GET, request(k, `/api/studies/${studyId}/codebook`), { id: studyId }), expected: signedIn(403, 200, 200, 200) }],
    },
  },
  'studies/[id]/preregistration': {
    module: preregistrationRoute,
    methods: {
      GET: [
        {
          name: 'the frozen preregistration (lab-wide read: the design, no participant data)',
          call: (k) => send(preregistrationRoute.GET, request(k, `/api/studies/${studyId}/preregistration?format=json`), { id: studyId }),
          expected: signedIn(200, 200, 200, 200),
        },
      ],
    },
  },
  'studies/[id]/export': {
    module: exportRoute,
    methods: {
      GET: [
        { name: 'CSV, hashed ids', call: (k) => send(exportRoute.GET, request(k, `/api/studies/${studyId}/export?format=csv&ids=hashed`), { id: studyId }), expected: signedIn(403, 200, 200, 200) },
        { name: 'JSONL, raw ids', call: (k) => send(exportRoute.GET, request(k, `/api/studies/${studyId}/export?format=jsonl&ids=raw`), { id: studyId }), expected: signedIn(403, 403, 200, 200) },
      ],
    },
  },
  'studies/[id]/exports/[exportId]': {
    module: parquetRoute,
    methods: {
      GET: [
        {
          name: 'Parquet, hashed ids',
          call: (k) => send(parquetRoute.GET, request(k, `/api/studies/${studyId}/exports/${hashedExportId}`), { id: studyId, exportId: hashedExportId }),
          expected: signedIn(403, 200, 200, 200),
        },
        {
          name: 'Parquet, raw ids',
          call: (k) => send(parquetRoute.GET, request(k, `/api/studies/${studyId}/exports/${rawExportId}`), { id: studyId, exportId: rawExportId }),
          expected: signedIn(403, 403, 200, 200),
        },
      ],
    },
  },
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const apiDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/app/api')

describe('item 2: one access policy for every route handler', () => {
  test('every route file under src/app/api and every method it exports is in the matrix', () => {
    const files = (readdirSync(apiDir, { recursive: true }) as string[])
      .map((f) => f.split(path.sep).join('/'))
      .filter((f) => /(^|\/)route\.(ts|tsx|js)$/.test(f))
      .map((f) => f.replace(/\/route\.(ts|tsx|js)$/, ''))
      .sort()
    expect(files).toEqual(Object.keys(ROUTES).sort())
    for (const [route, { module, methods }] of Object.entries(ROUTES)) {
      const exported = HTTP_METHODS.filter((m) => typeof module[m] === 'function')
      expect(exported, route).toEqual(Object.keys(methods).sort((a, b) => HTTP_METHODS.indexOf(a) - HTTP_METHODS.indexOf(b)))
    }
  })

  describe.each(Object.entries(ROUTES).flatMap(([route, { methods }]) => Object.entries(methods).flatMap(([method, cases]) => cases.map((c) => ({ label: `${method} ${route}: ${c.name}`, ...c })))))(
    '$label',
    ({ call, expected }) => {
      test.each(KINDS)('%s', async (kind) => {
        // Auth.js logs the refused CSRF check of the sign-out case as an error; it is the expected answer here
        vi.spyOn(console, 'error').mockImplementation(() => {})
        const response = await call(kind)
        expect(response.status).toBe(expected[kind])
      })
    },
  )

  test('a participant token sent as a session cookie is no session', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}) // Auth.js logs the undecodable cookie
    const response = await send(authRoute.GET, request('participant-cookie', '/api/auth/session'))
    expect(response.status).toBe(200)
    expect(await response.json()).toBeNull()
  })

  test('an unknown study or export is 404 for a researcher, after the sign-in check (401 signed out)', async () => {
    expect((await send(codebookRoute.GET, request('owner', '/api/studies/no-such-study/codebook'), { id: 'no-such-study' })).status).toBe(404)
    expect((await send(exportRoute.GET, request('admin', '/api/studies/no-such-study/export'), { id: 'no-such-study' })).status).toBe(404)
    expect((await send(exportRoute.GET, request('anonymous', '/api/studies/no-such-study/export'), { id: 'no-such-study' })).status).toBe(401)
    expect((await send(parquetRoute.GET, request('owner', `/api/studies/${studyId}/exports/nope`), { id: studyId, exportId: 'nope' })).status).toBe(404)
  })

  test('a refused export writes nothing; an allowed one is recorded under the caller', async () => {
    const counts = async () => ({ exports: await db.studyExport.count({ where: { studyId } }), audits: await db.auditLog.count({ where: { entityId: studyId } }) })
    const before = await counts()
    const refused = await send(exportRoute.GET, request('collaborator', `/api/studies/${studyId}/export?format=csv&ids=raw`), { id: studyId })
    expect(refused.status).toBe(403)
    expect(await counts()).toEqual(before)
    expect((await send(exportRoute.GET, request('researcher', `/api/studies/${studyId}/export?format=csv&ids=hashed`), { id: studyId })).status).toBe(403)
    expect(await counts()).toEqual(before)
    expect((await send(exportRoute.GET, request('collaborator', `/api/studies/${studyId}/export?format=csv&ids=hashed`), { id: studyId })).status).toBe(200)
    const row = await db.studyExport.findFirstOrThrow({ where: { studyId, createdById: users.collaborator.id }, select: { idMode: true } })
    expect(row.idMode).toBe('hashed')
  })

  test('the refusal says why', async () => {
    const text = async (response: Promise<Response>) => (await response).text()
    expect(await text(send(exportRoute.GET, request('collaborator', `/api/studies/${studyId}/export?ids=raw`), { id: studyId }))).toMatch(
      /owner or an admin can export raw participant ids/,
    )
    expect(await text(send(codebookRoute.GET, request('researcher', `/api/studies/${studyId}/codebook`), { id: studyId }))).toMatch(/owner, its collaborators or an admin/)
    expect(await text(send(codebookRoute.GET, request('stale', `/api/studies/${studyId}/codebook`), { id: studyId }))).toMatch(/signed out/)
    expect(await text(send(codebookRoute.GET, request('disabled', `/api/studies/${studyId}/codebook`), { id: studyId }))).toMatch(/disabled/)
  })
})

describe('item 10: the session cookie carries the session version it was issued with', () => {
  test('sign-in writes the account’s current version; sign out everywhere makes that cookie useless, a new sign-in works', async () => {
    const user = await makeUser(db, 'RESEARCHER')
    await db.user.update({ where: { id: user.id }, data: { sessionVersion: 4 } })
    const cookie = await signIn(user)
    current.headers = new Headers({ host: 'localhost:3000', 'x-forwarded-proto': 'http', cookie: `${SESSION_COOKIE}=${cookie}` })
    const session = await (await authRoute.GET(new NextRequest(`${ORIGIN}/api/auth/session`, { headers: current.headers }))).json()
    expect(session.user).toMatchObject({ id: user.id, sessionVersion: 4 })

    const asUser = (c: string) => request('anonymous', '/api/trpc/me.get', { headers: { cookie: `${SESSION_COOKIE}=${c}` } })
    expect((await send(trpcRoute.GET, asUser(cookie))).status).toBe(200)
    const signOut = await send(trpcRoute.POST, request('anonymous', '/api/trpc/me.signOutEverywhere', { method: 'POST', body: '{}', headers: { cookie: `${SESSION_COOKIE}=${cookie}`, 'content-type': 'application/json' } }))
    expect(signOut.status).toBe(200)
    expect((await send(trpcRoute.GET, asUser(cookie))).status).toBe(401)
    expect((await send(trpcRoute.GET, asUser(await signIn(user)))).status).toBe(200)
  })
})
