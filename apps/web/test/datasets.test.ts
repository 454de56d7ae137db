// Datasets through the tRPC procedures, against a real migrated database: listing and previewing, importing
// a file (what is stored, what is refused), following the import and generation jobs. The worker's side of
// IMPORT_DATASET and GENERATE_DATASET is played here with SQL, as the Python runner writes it.
import { beforeAll, describe, expect, test } from 'vitest'

import { fieldErrorsOf } from '@/server/api/errors'
import { MAX_UPLOAD_BYTES, uploadFormSchema, uploadFormatOf } from '@/server/api/routers/datasets.schema'

import { callerFor, catalogCounts, makeCatalog, makeUser, rejectionOf, testDb, uniq, type TestUser } from './support/helpers'

const db = testDb()
let researcher: TestUser
let other: TestUser
let admin: TestUser
let catalog: Awaited<ReturnType<typeof makeCatalog>>

beforeAll(async () => {
  researcher = await makeUser(db, 'RESEARCHER')
  other = await makeUser(db, 'RESEARCHER')
  admin = await makeUser(db, 'ADMIN')
  catalog = await makeCatalog(db)
})

const JSONL = '{"problem": "What is 2 + 2?", "answer": "4"}\n{"problem": "Half of 1?", "answer": "\\\\frac{1}{2}"}\n'
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64')

function importInput(overrides: Record<string, unknown> = {}) {
  return { name: uniq('upload'), filename: 'problems.jsonl', content: b64(JSONL), ...overrides }
}

describe('importFile', () => {
  test('stores the file as a PENDING upload with a QUEUED IMPORT_DATASET job {uploadId} and an audit row', async () => {
    const api = await callerFor(db, researcher)
    const input = importInput({ filename: 'My Problems.JSONL' })
    const { id, jobId } = await api.datasets.importFile(input)

    const upload = await db.datasetUpload.findUniqueOrThrow({ where: { id } })
    expect(upload).toMatchObject({
      name: input.name, filename: 'My Problems.JSONL', format: 'jsonl', status: 'PENDING', datasetId: null, createdById: researcher.id,
      sizeBytes: Buffer.byteLength(JSONL), errors: [],
    })
    expect(Buffer.from(upload.content).toString('utf8')).toBe(JSONL)

    const jobs = await db.$queryRaw<Record<string, unknown>[]>`SELECT * FROM jobs WHERE id = ${jobId}`
    expect(jobs[0]).toMatchObject({ kind: 'IMPORT_DATASET', status: 'QUEUED', payload: { uploadId: id }, created_by_id: researcher.id })
    const audits = await db.auditLog.findMany({ where: { entity: 'dataset_uploads', entityId: id } })
    expect(audits).toHaveLength(1)
    expect(audits[0]).toMatchObject({ action: 'dataset.upload', actorId: researcher.id, details: { jobId, format: 'jsonl' } })
    // no dataset until the worker has checked every row
    expect(await db.dataset.count({ where: { name: input.name } })).toBe(0)
  })

  test.each([
    ['problems.csv', 'csv'],
    ['problems.parquet', 'parquet'],
  ])('%s is stored as format %s', async (filename, format) => {
    const api = await callerFor(db, researcher)
    const { id } = await api.datasets.importFile(importInput({ filename }))
    expect((await db.datasetUpload.findUniqueOrThrow({ where: { id } })).format).toBe(format)
  })

  test.each([
    ['an unknown extension', { filename: 'problems.txt' }, 'filename', /“problems\.txt” is not a dataset file: accepted types are \.jsonl, \.csv, \.parquet/],
    ['no extension', { filename: 'problems' }, 'filename', /accepted types are/],
    ['an empty file', { content: '' }, 'content', /The file is empty/],
    ['content that is not base64', { content: 'not base64!' }, 'content', /not valid base64/],
    ['an empty name', { name: '  ' }, 'name', /Give the dataset a name/],
    ['a name of 121 characters', { name: 'd'.repeat(121) }, 'name', /At most 120 characters/],
  ])('%s: BAD_REQUEST with a field error, nothing stored', async (_label, overrides, field, message) => {
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    const error = await rejectionOf(api.datasets.importFile(importInput(overrides)))
    expect(error.code).toBe('BAD_REQUEST')
    expect(fieldErrorsOf(error)?.[field]?.join(' ')).toMatch(message)
    expect(await catalogCounts(db)).toEqual(before)
  })

  test('a file over 20 MB is refused with its size and the limit, nothing stored', async () => {
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    const content = Buffer.alloc(MAX_UPLOAD_BYTES + 1, 'a').toString('base64')
    const error = await rejectionOf(api.datasets.importFile(importInput({ content })))
    expect(fieldErrorsOf(error)).toEqual({ content: ['The file is 20.1 MB; the limit is 20 MB'] })
    expect(await catalogCounts(db)).toEqual(before)
    // exactly the limit is accepted
    const atLimit = await api.datasets.importFile(importInput({ content: Buffer.alloc(MAX_UPLOAD_BYTES, 'a').toString('base64') }))
    expect((await db.datasetUpload.findUniqueOrThrow({ where: { id: atLimit.id } })).sizeBytes).toBe(MAX_UPLOAD_BYTES)
  })

  test('a name already taken by a dataset, or by an upload still being imported, is a field error', async () => {
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    const taken = await rejectionOf(api.datasets.importFile(importInput({ name: catalog.dataset.name })))
    expect(fieldErrorsOf(taken)).toEqual({ name: [`A dataset named “${catalog.dataset.name}” already exists`] })
    expect(await catalogCounts(db)).toEqual(before)

    const pending = importInput()
    await api.datasets.importFile(pending)
    const again = await rejectionOf(api.datasets.importFile(importInput({ name: pending.name })))
    expect(fieldErrorsOf(again)).toEqual({ name: [`A file named “${pending.name}” is being imported`] })
  })
})

describe('upload (following an import)', () => {
  test('a rejected file: every row error, paged, and no dataset', async () => {
    const api = await callerFor(db, researcher)
    const { id } = await api.datasets.importFile(importInput())
    const errors = [
      { line: 2, field: 'answer', reason: "missing field 'answer'" },
      { line: 5, field: 'problem', reason: "field 'problem' is empty" },
      { line: 9, field: null, reason: 'invalid JSON: Expecting value at column 1' },
    ]
    await db.$executeRaw`UPDATE dataset_uploads SET status = 'FAILED', errors = ${JSON.stringify(errors)}::jsonb WHERE id = ${id}`

    const first = await api.datasets.upload({ id, page: 1, pageSize: 2 })
    expect(first).toMatchObject({ status: 'FAILED', datasetId: null, job: { status: 'QUEUED' } })
    expect(first.errors).toEqual({ items: errors.slice(0, 2), total: 3, page: 1, pageSize: 2, pageCount: 2 })
    expect((await api.datasets.upload({ id, page: 2, pageSize: 2 })).errors.items).toEqual(errors.slice(2))
    // the file's bytes stay on the server
    expect(first).not.toHaveProperty('content')
  })

  test('an imported file points at its dataset', async () => {
    const api = await callerFor(db, researcher)
    const input = importInput()
    const { id } = await api.datasets.importFile(input)
    const dataset = await db.dataset.create({ data: { name: input.name, source: 'upload', rowCount: 2, createdById: researcher.id } })
    await db.datasetUpload.update({ where: { id }, data: { status: 'IMPORTED', datasetId: dataset.id } })
    expect(await api.datasets.upload({ id })).toMatchObject({ status: 'IMPORTED', datasetId: dataset.id, errors: { total: 0, items: [] } })
  })

  test('only its uploader and admins can follow an upload', async () => {
    const { id } = await (await callerFor(db, researcher)).datasets.importFile(importInput())
    expect((await rejectionOf((await callerFor(db, other)).datasets.upload({ id }))).code).toBe('NOT_FOUND')
    expect((await (await callerFor(db, admin)).datasets.upload({ id })).id).toBe(id)
    expect((await rejectionOf((await callerFor(db, researcher)).datasets.upload({ id: 'no-such-upload' }))).code).toBe('NOT_FOUND')
  })
})

describe('generate', () => {
  const valid = () => ({ name: uniq('demo'), n: 50, seed: 3, minSteps: 1, maxSteps: 4 })

  test('queues a GENERATE_DATASET job with the generator settings and the caller, and audits it', async () => {
    const api = await callerFor(db, researcher)
    const input = valid()
    const { jobId } = await api.datasets.generate(input)
    const jobs = await db.$queryRaw<Record<string, unknown>[]>`SELECT * FROM jobs WHERE id = ${jobId}`
    expect(jobs[0]).toMatchObject({ kind: 'GENERATE_DATASET', status: 'QUEUED', payload: { ...input, createdById: researcher.id }, created_by_id: researcher.id })
    expect(await db.auditLog.findFirst({ where: { entityId: jobId } })).toMatchObject({ action: 'dataset.generate', details: input })
    // the same name cannot be generated twice while the first is queued
    const again = await rejectionOf(api.datasets.generate({ ...valid(), name: input.name }))
    expect(fieldErrorsOf(again)).toEqual({ name: [`A dataset named “${input.name}” is being generated`] })
  })

  test.each([
    ['n 0', { n: 0 }, 'n', /at least 1/],
    ['n 10001', { n: 10_001 }, 'n', /at most 10000/],
    ['n fractional', { n: 2.5 }, 'n', /whole number/],
    ['minSteps 0', { minSteps: 0 }, 'minSteps', /at least 1/],
    ['maxSteps 7', { maxSteps: 7 }, 'maxSteps', /at most 6/],
    ['maxSteps below minSteps', { minSteps: 4, maxSteps: 2 }, 'maxSteps', /at least the fewest steps/],
    ['negative seed', { seed: -1 }, 'seed', /at least 0/],
    ['a taken name', { name: 'TAKEN' }, 'name', /already exists/],
  ])('%s: BAD_REQUEST with a field error, nothing queued', async (_label, overrides, field, message) => {
    const api = await callerFor(db, researcher)
    const before = await catalogCounts(db)
    const input = { ...valid(), ...overrides }
    if (input.name === 'TAKEN') input.name = catalog.dataset.name
    const error = await rejectionOf(api.datasets.generate(input))
    expect(error.code).toBe('BAD_REQUEST')
    expect(fieldErrorsOf(error)?.[field]?.join(' ')).toMatch(message)
    expect(await catalogCounts(db)).toEqual(before)
  })
})

describe('job (following a dataset job)', () => {
  test('queued, then the dataset it made; or why it made none', async () => {
    const api = await callerFor(db, researcher)
    const { jobId } = await api.datasets.generate({ name: uniq('demo'), n: 10, seed: 0, minSteps: 1, maxSteps: 2 })
    expect(await api.datasets.job({ id: jobId })).toMatchObject({ kind: 'GENERATE_DATASET', status: 'QUEUED', dataset: null, failure: null })

    const result = { ok: true, datasetId: catalog.dataset.id, rowCount: 2 }
    await db.$executeRaw`UPDATE jobs SET status = 'SUCCEEDED', result = ${JSON.stringify(result)}::jsonb, finished_at = now() WHERE id = ${jobId}`
    expect(await api.datasets.job({ id: jobId })).toMatchObject({
      status: 'SUCCEEDED', failure: null, dataset: { id: catalog.dataset.id, name: catalog.dataset.name, rowCount: 2 },
    })

    const taken = { ok: false, error: 'a dataset named "x" already exists' }
    await db.$executeRaw`UPDATE jobs SET result = ${JSON.stringify(taken)}::jsonb WHERE id = ${jobId}`
    expect(await api.datasets.job({ id: jobId })).toMatchObject({ dataset: null, failure: 'a dataset named "x" already exists' })

    await db.$executeRaw`UPDATE jobs SET status = 'FAILED', result = NULL, error = 'worker crashed' WHERE id = ${jobId}`
    expect(await api.datasets.job({ id: jobId })).toMatchObject({ status: 'FAILED', failure: 'worker crashed' })
  })

  test("another researcher's job, or a job of another kind, is NOT_FOUND; admins see all dataset jobs", async () => {
    const { jobId } = await (await callerFor(db, researcher)).datasets.generate({ name: uniq('demo'), n: 10, seed: 0, minSteps: 1, maxSteps: 2 })
    expect((await rejectionOf((await callerFor(db, other)).datasets.job({ id: jobId }))).code).toBe('NOT_FOUND')
    expect((await (await callerFor(db, admin)).datasets.job({ id: jobId })).id).toBe(jobId)

    const train = await db.job.create({ data: { kind: 'TRAIN', payload: {}, createdById: researcher.id } })
    expect((await rejectionOf((await callerFor(db, researcher)).datasets.job({ id: train.id }))).code).toBe('NOT_FOUND')
  })
})

describe('list, get, problems', () => {
  test('the list is paged on the server and names the creator', async () => {
    const api = await callerFor(db, researcher)
    const total = await db.dataset.count()
    const page = await api.datasets.list({ page: 1, pageSize: 2 })
    expect(page).toMatchObject({ total, page: 1, pageSize: 2, pageCount: Math.ceil(total / 2) })
    expect(page.items).toHaveLength(Math.min(2, total))
    const all = await api.datasets.list({ page: 1, pageSize: 100 })
    expect(all.items.find((d) => d.id === catalog.dataset.id)).toMatchObject({ name: catalog.dataset.name, source: 'generated', rowCount: 2 })
  })

  test('a dataset with its counts; its problems paged in file order', async () => {
    const dataset = await db.dataset.create({
      data: {
        name: uniq('ordered'), source: 'upload', rowCount: 12, createdById: researcher.id,
        problems: {
          create: Array.from({ length: 12 }, (_, i) => ({
            externalId: `row-${i + 1}`, problem: `What is ${i} + 1?`, answer: String(i + 1), difficulty: i < 4 ? 1 : 2,
            solution: i === 0 ? `${i} + 1 = 1` : null,
          })),
        },
      },
    })
    const api = await callerFor(db, researcher)
    expect(await api.datasets.get({ id: dataset.id })).toMatchObject({
      name: dataset.name, createdByEmail: researcher.email,
      counts: { problems: 12, withSolution: 1, runs: 0, studies: 0, byDifficulty: [{ difficulty: 1, count: 4 }, { difficulty: 2, count: 8 }] },
    })
    const first = await api.datasets.problems({ datasetId: dataset.id, page: 1, pageSize: 10 })
    expect(first).toMatchObject({ total: 12, pageCount: 2 })
    expect(first.items.map((p) => p.externalId)).toEqual(Array.from({ length: 10 }, (_, i) => `row-${i + 1}`))
    const second = await api.datasets.problems({ datasetId: dataset.id, page: 2, pageSize: 10 })
    expect(second.items.map((p) => p.externalId)).toEqual(['row-11', 'row-12'])
    expect(second.items[0]).toMatchObject({ problem: 'What is 10 + 1?', answer: '11', difficulty: 2, solution: null })
    expect((await rejectionOf(api.datasets.get({ id: 'no-such-dataset' }))).code).toBe('NOT_FOUND')
  })
})

describe('the upload form’s checks (same rules as the procedure)', () => {
  const file = (name: string, size: number) => ({ name, size }) as File

  test('file type and size', () => {
    expect(uploadFormatOf('a.JSONL')).toBe('jsonl')
    expect(uploadFormatOf('a.csv')).toBe('csv')
    expect(uploadFormatOf('a.parquet')).toBe('parquet')
    expect(uploadFormatOf('a.json')).toBeNull()
    expect(uploadFormSchema.safeParse({ name: 'ok', file: file('a.csv', 10) }).success).toBe(true)
    const errorsOf = (value: unknown) => {
      const parsed = uploadFormSchema.safeParse(value)
      return parsed.success ? {} : fieldErrorsOf(parsed.error)
    }
    expect(errorsOf({ name: 'ok', file: file('a.xlsx', 10) })).toEqual({ file: ['“a.xlsx” is not a dataset file: accepted types are .jsonl, .csv, .parquet'] })
    expect(errorsOf({ name: 'ok', file: file('a.csv', 0) })).toEqual({ file: ['The file is empty'] })
    expect(errorsOf({ name: 'ok', file: file('a.csv', 30 * 1024 * 1024) })).toEqual({ file: ['The file is 30.0 MB; the limit is 20 MB'] })
    expect(errorsOf({ name: '', file: undefined })).toEqual({ name: ['Give the dataset a name'], file: ['Choose a file'] })
  })
})
