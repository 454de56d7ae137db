// The procedure-access matrix: every procedure of the app router, called as each kind of caller.
// A procedure missing from ACCESS fails the first test, so new procedures cannot skip this check.
import { beforeAll, describe, expect, test } from 'vitest'

import { appRouter } from '@/server/api/root'

import { callerFor, makeCatalog, makeUser, outcome, testDb, validLaunch, type TestUser } from './support/helpers'

type Level = 'protected' | 'researcher' | 'admin'

const ACCESS: Record<string, Level> = {
  'me.get': 'protected',
  'catalog.baseModels': 'researcher',
  'catalog.datasets': 'researcher',
  'runs.list': 'researcher',
  'runs.get': 'researcher',
  'runs.launch': 'researcher',
  'runs.cancel': 'researcher',
  'users.list': 'admin',
  'users.setDisabled': 'admin',
}

const db = testDb()
let users: Record<'researcher' | 'admin' | 'disabledResearcher' | 'disabledAdmin' | 'target', TestUser>
let inputs: Record<string, () => unknown>

beforeAll(async () => {
  users = {
    researcher: await makeUser(db, 'RESEARCHER'),
    admin: await makeUser(db, 'ADMIN'),
    disabledResearcher: await makeUser(db, 'RESEARCHER', { disabled: true }),
    disabledAdmin: await makeUser(db, 'ADMIN', { disabled: true }),
    target: await makeUser(db, 'RESEARCHER'),
  }
  const catalog = await makeCatalog(db)
  const run = await db.trainingRun.create({
    data: {
      name: 'existing', algorithm: 'GRPO', config: {}, seed: 0, maxSteps: 2, status: 'SUCCEEDED',
      ownerId: users.researcher.id, baseModelId: catalog.baseModel.id, datasetId: catalog.dataset.id,
    },
  })
  // inputs that pass validation, so an allowed call succeeds (or fails for a reason other than access)
  inputs = {
    'runs.list': () => ({ page: 1, pageSize: 5 }),
    'runs.get': () => ({ id: run.id }),
    'runs.launch': () => validLaunch(catalog),
    'runs.cancel': () => ({ id: 'no-such-run' }),
    'users.setDisabled': () => ({ userId: users.target.id, disabled: false }),
  }
})

async function call(user: TestUser | null, path: string, input?: unknown): Promise<string> {
  const caller = await callerFor(db, user)
  const fn = path.split('.').reduce<any>((node, key) => node[key], caller) as (input?: unknown) => Promise<unknown>
  return outcome(fn(input))
}

const procedures = Object.keys(appRouter._def.procedures).sort()

test('every procedure has an access level in the matrix', () => {
  expect(procedures).toEqual(Object.keys(ACCESS).sort())
})

describe.each(procedures)('%s', (path) => {
  const level = ACCESS[path]!
  const input = () => inputs[path]?.()

  test('anonymous: UNAUTHORIZED (even with no input)', async () => {
    expect(await call(null, path, input())).toBe('UNAUTHORIZED')
    expect(await call(null, path, undefined)).toBe('UNAUTHORIZED')
  })

  test('disabled users: UNAUTHORIZED', async () => {
    expect(await call(users.disabledResearcher, path, input())).toBe('UNAUTHORIZED')
    expect(await call(users.disabledAdmin, path, input())).toBe('UNAUTHORIZED')
  })

  test('a session for a deleted user: UNAUTHORIZED', async () => {
    const ghost = { id: 'no-such-user', email: 'ghost@test.local', role: 'ADMIN' as const }
    expect(await call(ghost, path, input())).toBe('UNAUTHORIZED')
  })

  test(`RESEARCHER: ${level === 'admin' ? 'FORBIDDEN' : 'allowed'}`, async () => {
    const result = await call(users.researcher, path, input())
    if (level === 'admin') expect(result).toBe('FORBIDDEN')
    else expect(result).toBe(path === 'runs.cancel' ? 'NOT_FOUND' : 'OK')
  })

  test('ADMIN: allowed', async () => {
    expect(await call(users.admin, path, input())).toBe(path === 'runs.cancel' ? 'NOT_FOUND' : 'OK')
  })
})

test('the role is read from the database, not trusted from the session', async () => {
  // a researcher whose session claims ADMIN is still a researcher
  const forged = { ...users.researcher, role: 'ADMIN' as const }
  expect(await call(forged, 'users.list')).toBe('FORBIDDEN')
})

test('disabling an account locks out its open sessions at once', async () => {
  const user = await makeUser(db, 'RESEARCHER')
  expect(await call(user, 'runs.list', { page: 1 })).toBe('OK')
  expect(await call(users.admin, 'users.setDisabled', { userId: user.id, disabled: true })).toBe('OK')
  expect(await call(user, 'runs.list', { page: 1 })).toBe('UNAUTHORIZED')
  expect(await call(users.admin, 'users.setDisabled', { userId: user.id, disabled: false })).toBe('OK')
  expect(await call(user, 'runs.list', { page: 1 })).toBe('OK')
})

test('an admin cannot disable their own account', async () => {
  expect(await call(users.admin, 'users.setDisabled', { userId: users.admin.id, disabled: true })).toBe('BAD_REQUEST')
})
