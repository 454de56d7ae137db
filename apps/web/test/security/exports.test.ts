// Issue 13, item 11: a CSV export cannot carry spreadsheet formulas; a download reads one consistent snapshot; an
// aborted download is marked FAILED; an unknown format or id mode is a 400 that records nothing.
import { parse } from 'csv-parse/sync'
import type { Session } from 'next-auth'
import { afterEach, describe, expect, test, vi } from 'vitest'

import { csvLines, exportStream } from '@/server/studies/export'
import { EXPORT_LIMITS } from '@/server/limits'

import { sessionFor, testDb, type TestUser } from '../support/helpers'
import { makeStudyWithResponses } from '../support/studies'

// the route asks Auth.js for the session: here it is the study's owner
const session = vi.hoisted(() => ({ current: null as Session | null }))
vi.mock('@/server/auth', () => ({ auth: vi.fn(async () => session.current), handlers: {}, signIn: vi.fn(), signOut: vi.fn() }))

const db = testDb()

async function signInAs(user: TestUser) {
  session.current = await sessionFor(db, user)
}

afterEach(() => {
  session.current = null
})

/** An open study where three participants each answered two tasks with `answer` (and a formula as continuation). */
function studyWithAnswers(answer: string) {
  return makeStudyWithResponses(db, { participants: ['=cmd|pid-a', 'pid-b', 'pid-c'], continuation: '@SUM(A1:A9)', answer })
}

async function exportRequest(studyId: string, query: string) {
  const { GET } = await import('@/app/api/studies/[id]/export/route')
  return GET(new Request(`http://localhost/api/studies/${studyId}/export?${query}`), { params: Promise.resolve({ id: studyId }) })
}

describe('item 11: CSV cells cannot start a spreadsheet formula', () => {
  test('cells starting with = + - @ tab or CR get a leading quote; numbers keep their sign; JSONL keeps the data', async () => {
    expect(parse(csvLines([['=1+1', '+1', '-1', '@A1', '\tx', '\rx', 'plain', -3]]))).toEqual([["'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", 'plain', '-3']])
    const study = await studyWithAnswers('=HYPERLINK("http://evil.test","5")')
    const rows = parse(await new Response(exportStream(db, study.studyId, 'csv', 'raw')).text(), { columns: true }) as Record<string, string>[]
    expect(rows).toHaveLength(6)
    for (const row of rows) {
      expect(row.answer).toBe(`'=HYPERLINK("http://evil.test","5")`)
      expect(row.continuation).toBe("'@SUM(A1:A9)")
    }
    expect(rows.map((r) => r.participant_external_id)).toContain("'=cmd|pid-a")
    const lines = (await new Response(exportStream(db, study.studyId, 'jsonl', 'raw')).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(lines[0].answer).toBe('=HYPERLINK("http://evil.test","5")')
  })
})

describe('issue 16: hashed exports keep SESSION_ID (no personal data), never the identifying parameter', () => {
  test('url_params is the link less PROLIFIC_PID when hashed (CSV and JSONL), whole when raw; url_params_public is never a column', async () => {
    const study = await studyWithAnswers('5')
    // the recruiter's session and study ids beside the participant id, as Prolific sends them
    await db.$executeRaw`UPDATE participants SET url_params = url_params || jsonb_build_object('SESSION_ID', 'session-' || ordinal)
      WHERE study_id = ${study.studyId}`
    const hashedCsv = await new Response(exportStream(db, study.studyId, 'csv', 'hashed')).text()
    const hashedRows = parse(hashedCsv, { columns: true }) as Record<string, string>[]
    const hashedLines = (await new Response(exportStream(db, study.studyId, 'jsonl', 'hashed')).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(hashedRows).toHaveLength(6)
    expect(hashedLines).toHaveLength(6)
    for (const [row, line] of hashedRows.map((r, i) => [r, hashedLines[i]] as const)) {
      const ordinal = Number(row.participant_ordinal)
      expect(JSON.parse(row.url_params!)).toEqual({ STUDY_ID: 'S', SESSION_ID: `session-${ordinal}` })
      expect(line.url_params).toEqual({ STUDY_ID: 'S', SESSION_ID: `session-${ordinal}` })
      expect(Object.keys(row)).not.toContain('url_params_public')
      expect(Object.keys(line)).not.toContain('url_params_public')
    }
    for (const pid of ['=cmd|pid-a', 'pid-b', 'pid-c']) {
      expect(hashedCsv).not.toContain(pid)
      expect(JSON.stringify(hashedLines)).not.toContain(pid)
    }
    // raw: the parameters as given, the participant id among them (the check above can fail)
    const rawLines = (await new Response(exportStream(db, study.studyId, 'jsonl', 'raw')).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(rawLines.map((l) => l.url_params.PROLIFIC_PID)).toEqual(rawLines.map((l) => l.participant_external_id))
    expect(rawLines[0].url_params).toMatchObject({ STUDY_ID: 'S', SESSION_ID: 'session-0' })
    expect(Object.keys(rawLines[0])).not.toContain('url_params_public')
  })
})

describe('item 11: an export reads one consistent snapshot', () => {
  test('rows changed while a download runs do not appear in its later batches', async () => {
    const study = await studyWithAnswers('5')
    const reader = exportStream(db, study.studyId, 'jsonl', 'raw', undefined, { batchSize: 2 }).getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    expect(first.trim().split('\n')).toHaveLength(2)
    // committed by another connection after the download began
    await db.$executeRaw`UPDATE responses SET answer = 'changed' WHERE assignment_id IN (SELECT id FROM assignments WHERE participant_id IN (SELECT id FROM participants WHERE study_id = ${study.studyId}))`
    let rest = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    const later = rest.trim().split('\n').map((l) => JSON.parse(l))
    expect(later).toHaveLength(4)
    expect(later.map((r) => r.answer)).toEqual(['5', '5', '5', '5'])
  })
})

describe('item 11: the download route', () => {
  test('an unknown format or id mode is a 400 and records nothing', async () => {
    const study = await studyWithAnswers('5')
    await signInAs(study.owner)
    const before = await db.studyExport.count({ where: { studyId: study.studyId } })
    for (const query of ['format=toString', 'format=__proto__', 'format=xlsx', 'format=csv&ids=constructor', 'format=csv&ids=plain']) {
      const response = await exportRequest(study.studyId, query)
      expect(response.status, query).toBe(400)
      expect(await response.text(), query).toMatch(/^(format must be csv or jsonl|ids must be hashed or raw), got "/)
    }
    expect(await db.studyExport.count({ where: { studyId: study.studyId } })).toBe(before)
  })

  test('a finished download is READY with its row count; an aborted one is FAILED with "download aborted"', async () => {
    const study = await studyWithAnswers('5')
    await signInAs(study.owner)
    const done = await exportRequest(study.studyId, 'format=csv&ids=hashed')
    expect(done.status).toBe(200)
    expect(parse(await done.text(), { columns: true })).toHaveLength(6)
    const ready = await db.studyExport.findFirstOrThrow({ where: { studyId: study.studyId }, orderBy: { createdAt: 'desc' } })
    expect(ready).toMatchObject({ status: 'READY', rowCount: 6, format: 'CSV' })

    const aborted = await exportRequest(study.studyId, 'format=jsonl&ids=hashed')
    const reader = aborted.body!.getReader()
    await reader.read()
    await reader.cancel()
    const failed = await db.studyExport.findFirstOrThrow({ where: { studyId: study.studyId, format: 'JSONL' } })
    expect(failed).toMatchObject({ status: 'FAILED', error: 'download aborted', rowCount: null })
  })

  test(`at most ${EXPORT_LIMITS.concurrentPerInstance} downloads stream at once; finished ones free their place`, async () => {
    const study = await studyWithAnswers('5')
    await signInAs(study.owner)
    const open = []
    for (let i = 0; i < EXPORT_LIMITS.concurrentPerInstance; i++) open.push(await exportRequest(study.studyId, 'format=csv'))
    const refused = await exportRequest(study.studyId, 'format=csv')
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('60')
    for (const response of open) await response.text()
    expect((await exportRequest(study.studyId, 'format=csv')).status).toBe(200)
  })
})

describe('the analysis bundle (issue 15)', () => {
  test('requestExport with format BUNDLE records a BUNDLE export and queues EXPORT_STUDY with the codebook; raw ids only for owner and admins', async () => {
    const { callerFor, makeUser } = await import('../support/helpers')
    const { EXPORT_COLUMNS } = await import('@/server/studies/codebook')
    const study = await studyWithAnswers('5')
    const owner = await callerFor(db, study.owner)
    const { exportId, jobId } = await owner.studies.requestExport({ id: study.studyId, idMode: 'raw', format: 'BUNDLE' })
    expect(await db.studyExport.findUniqueOrThrow({ where: { id: exportId } })).toMatchObject({ format: 'BUNDLE', idMode: 'raw', status: 'PENDING' })
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } })
    expect(job.kind).toBe('EXPORT_STUDY')
    expect(job.payload).toEqual({ exportId, codebook: EXPORT_COLUMNS.map(({ name, type, description }) => ({ name, type, description })) })
    // Parquet stays as it was: no codebook in its payload
    const parquet = await owner.studies.requestExport({ id: study.studyId, idMode: 'hashed' })
    expect((await db.job.findUniqueOrThrow({ where: { id: parquet.jobId } })).payload).toEqual({ exportId: parquet.exportId })

    const collaborator = await makeUser(db, 'RESEARCHER')
    await db.studyCollaborator.create({ data: { studyId: study.studyId, userId: collaborator.id, addedById: study.owner.id } })
    const before = await db.studyExport.count({ where: { studyId: study.studyId } })
    const asCollaborator = await callerFor(db, collaborator)
    await expect(asCollaborator.studies.requestExport({ id: study.studyId, idMode: 'raw', format: 'BUNDLE' })).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(await db.studyExport.count({ where: { studyId: study.studyId } })).toBe(before)
    await asCollaborator.studies.requestExport({ id: study.studyId, idMode: 'hashed', format: 'BUNDLE' })
    await expect(asCollaborator.studies.requestExport({ id: study.studyId, idMode: 'hashed', format: 'CSV' as never })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })

  test('a finished bundle downloads as application/zip named study-<name>-bundle.zip', async () => {
    const study = await studyWithAnswers('5')
    await db.study.update({ where: { id: study.studyId }, data: { name: 'Handoff pilot #2' } })
    const zip = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)])
    const row = await db.studyExport.create({ data: { studyId: study.studyId, format: 'BUNDLE', idMode: 'hashed', status: 'READY', rowCount: 6, content: zip, createdById: study.owner.id } })
    await signInAs(study.owner)
    const { GET } = await import('@/app/api/studies/[id]/exports/[exportId]/route')
    const response = await GET(new Request('http://localhost/x'), { params: Promise.resolve({ id: study.studyId, exportId: row.id }) })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/zip')
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="study-Handoff_pilot_2-bundle.zip"')
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(zip)
    // a streamed export keeps no file to download
    const streamed = await db.studyExport.create({ data: { studyId: study.studyId, format: 'CSV', idMode: 'hashed', status: 'READY', rowCount: 6, createdById: study.owner.id } })
    expect((await GET(new Request('http://localhost/x'), { params: Promise.resolve({ id: study.studyId, exportId: streamed.id }) })).status).toBe(404)
  })
})
