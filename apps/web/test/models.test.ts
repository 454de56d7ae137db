// Registering and validating base models through the tRPC procedures, against a real migrated database.
// The worker's side of VALIDATE_MODEL is played here with SQL, as the Python runner writes it.
import { beforeAll, describe, expect, test } from 'vitest'

import { fieldErrorsOf } from '@/server/api/errors'

import { callerFor, catalogCounts, makeUser, rejectionOf, testDb, uniq, type TestUser } from './support/helpers'

const db = testDb()
let researcher: TestUser

beforeAll(async () => {
  researcher = await makeUser(db, 'RESEARCHER')
})

async function register(name = uniq('model'), path = '/models/tiny') {
  const api = await callerFor(db, researcher)
  return { name, path, ...(await api.models.register({ name, path })) }
}

/** What the worker's VALIDATE_MODEL handler writes on success. */
async function workerValidates(baseModelId: string, info: Record<string, unknown>) {
  await db.$executeRaw`UPDATE base_models SET info = ${JSON.stringify(info)}::jsonb, validated_at = now(), validation_error = NULL WHERE id = ${baseModelId}`
}

describe('register', () => {
  test('creates a pending model, a QUEUED VALIDATE_MODEL job {baseModelId} and an audit row, together', async () => {
    const { id, jobId, name } = await register(uniq('model'), '  /srv/models/qwen-tiny  ')
    const model = await db.baseModel.findUniqueOrThrow({ where: { id } })
    expect(model).toMatchObject({ name, path: '/srv/models/qwen-tiny', validatedAt: null, validationError: null, createdById: researcher.id })

    const jobs = await db.$queryRaw<Record<string, unknown>[]>`SELECT * FROM jobs WHERE id = ${jobId}`
    expect(jobs).toHaveLength(1)
    expect(jobs[0]).toMatchObject({ kind: 'VALIDATE_MODEL', status: 'QUEUED', payload: { baseModelId: id }, created_by_id: researcher.id })

    const audits = await db.auditLog.findMany({ where: { entity: 'base_models', entityId: id } })
    expect(audits).toHaveLength(1)
    expect(audits[0]).toMatchObject({ actorId: researcher.id, action: 'model.register', details: { jobId, name, path: '/srv/models/qwen-tiny' } })

    const api = await callerFor(db, researcher)
    const detail = await api.models.get({ id })
    expect(detail).toMatchObject({ status: 'pending', job: { id: jobId, status: 'QUEUED' }, createdByEmail: researcher.email })
  })

  test.each([
    ['a relative path', { path: 'models/tiny' }, 'path', /absolute path/],
    ['a home-relative path', { path: '~/models/tiny' }, 'path', /absolute path/],
    ['an empty path', { path: '  ' }, 'path', /path/],
    ['an empty name', { name: '' }, 'name', /name/],
    ['a name of 121 characters', { name: 'm'.repeat(121) }, 'name', /At most 120/],
  ])('%s: BAD_REQUEST with a field error, nothing written', async (_label, overrides, field, message) => {
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    const error = await rejectionOf(api.models.register({ name: uniq('model'), path: '/models/tiny', ...overrides }))
    expect(error.code).toBe('BAD_REQUEST')
    expect(fieldErrorsOf(error)?.[field]?.join(' ')).toMatch(message)
    expect(await catalogCounts(db)).toEqual(before)
  })

  test('a taken name is a field error and writes nothing', async () => {
    const { name } = await register()
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    const error = await rejectionOf(api.models.register({ name, path: '/elsewhere' }))
    expect(fieldErrorsOf(error)).toEqual({ name: [`A model named “${name}” already exists`] })
    expect(await catalogCounts(db)).toEqual(before)
  })

  test('two registrations of one name at once: one model, one job, and a field error for the other', async () => {
    const name = uniq('race')
    const api = await callerFor(db, researcher)
    const results = await Promise.allSettled([api.models.register({ name, path: '/a' }), api.models.register({ name, path: '/b' })])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(fieldErrorsOf(rejected.reason)).toEqual({ name: [`A model named “${name}” already exists`] })
    const model = await db.baseModel.findUniqueOrThrow({ where: { name } })
    expect(await db.job.count({ where: { kind: 'VALIDATE_MODEL', payload: { path: ['baseModelId'], equals: model.id } } })).toBe(1)
  })
})

describe('validation result', () => {
  test('valid: the list shows parameters and vocabulary, the detail the full info', async () => {
    const { id, name } = await register()
    const info = {
      architecture: 'Qwen3ForCausalLM', model_type: 'qwen3', num_parameters: 1_812_480, vocab_size: 1024, hidden_size: 128,
      num_hidden_layers: 4, max_position_embeddings: 512, tokenizer_class: 'PreTrainedTokenizerFast', eos_token: '<|endoftext|>',
    }
    await workerValidates(id, info)
    const api = await callerFor(db, researcher)
    const list = await api.models.list({ page: 1, pageSize: 100 })
    expect(list.items.find((m) => m.id === id)).toMatchObject({ name, status: 'valid', parameters: 1_812_480, vocabSize: 1024 })
    const detail = await api.models.get({ id })
    expect(detail.status).toBe('valid')
    expect(detail.info).toEqual(info)
  })

  test('invalid: the worker’s message is the model’s validation error', async () => {
    const { id } = await register()
    await db.$executeRaw`UPDATE base_models SET validation_error = 'no config.json in /models/tiny' WHERE id = ${id}`
    const api = await callerFor(db, researcher)
    expect(await api.models.get({ id })).toMatchObject({ status: 'invalid', validationError: 'no config.json in /models/tiny' })
  })

  test('models seeded by `tandem seed` (build.json info) show their parameters and vocabulary too', async () => {
    const model = await db.baseModel.create({
      data: { name: uniq('seeded'), path: '/cache/base', validatedAt: new Date(), info: { parameters: 1800000, recipe: { vocab_size: 512 } } },
    })
    const api = await callerFor(db, researcher)
    const list = await api.models.list({ page: 1, pageSize: 100 })
    expect(list.items.find((m) => m.id === model.id)).toMatchObject({ status: 'valid', parameters: 1800000, vocabSize: 512, createdByEmail: null })
  })

  test('an unknown model is NOT_FOUND', async () => {
    const api = await callerFor(db, researcher)
    expect((await rejectionOf(api.models.get({ id: 'no-such-model' }))).code).toBe('NOT_FOUND')
  })
})

describe('revalidate', () => {
  test('sets the model back to pending and queues one new job; a second request while it is queued is refused', async () => {
    const { id, jobId: first } = await register()
    await db.$executeRaw`UPDATE jobs SET status = 'SUCCEEDED', finished_at = now() WHERE id = ${first}`
    await db.$executeRaw`UPDATE base_models SET validation_error = 'no config.json' WHERE id = ${id}`

    const api = await callerFor(db, researcher)
    const { jobId } = await api.models.revalidate({ id })
    expect(jobId).not.toBe(first)
    expect(await db.baseModel.findUniqueOrThrow({ where: { id } })).toMatchObject({ validatedAt: null, validationError: null })
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ kind: 'VALIDATE_MODEL', status: 'QUEUED', payload: { baseModelId: id } })
    expect((await api.models.get({ id })).job?.id).toBe(jobId)
    expect(await db.auditLog.count({ where: { entityId: id, action: 'model.revalidate' } })).toBe(1)

    const before = await catalogCounts(db)
    const error = await rejectionOf(api.models.revalidate({ id }))
    expect(error.code).toBe('CONFLICT')
    expect(error.message).toMatch(/already queued or running/)
    expect(await catalogCounts(db)).toEqual(before)
  })

  test('an unknown model is NOT_FOUND and queues nothing', async () => {
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    expect((await rejectionOf(api.models.revalidate({ id: 'no-such-model' }))).code).toBe('NOT_FOUND')
    expect(await catalogCounts(db)).toEqual(before)
  })
})

test('the list is paged on the server, newest first', async () => {
  const a = await register()
  const b = await register()
  const api = await callerFor(db, researcher)
  const total = await db.baseModel.count()
  const first = await api.models.list({ page: 1, pageSize: 1 })
  expect(first).toMatchObject({ total, page: 1, pageSize: 1, pageCount: total })
  expect(first.items.map((m) => m.id)).toEqual([b.id])
  expect((await api.models.list({ page: 2, pageSize: 1 })).items.map((m) => m.id)).toEqual([a.id])
})
