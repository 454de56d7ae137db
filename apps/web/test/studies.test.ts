// The researcher's side of studies: design validation, launch (items + the worker's job), the status machine,
// owner-only control, preview, and the exports (streamed CSV/JSONL with the codebook's columns, Parquet jobs).
import { parse } from 'csv-parse/sync'
import { describe, expect, test } from 'vitest'

import { EXPORT_COLUMNS, HASHED_ID_COLUMN, codebookMarkdown } from '@/server/studies/codebook'
import { exportBatches, exportStream } from '@/server/studies/export'

import { callerFor, makeCatalog, makeCheckpoints, makeUser, outcome, rejectionOf, testDb } from './support/helpers'
import { anonymous, makeOpenStudy, makeStudyWithResponses, validStudyDesign } from './support/studies'

const db = testDb()

async function researcherWithCheckpoints() {
  const owner = await makeUser(db, 'RESEARCHER')
  const catalog = await makeCatalog(db)
  const checkpoints = await makeCheckpoints(db, catalog, owner)
  const conditions = [{ name: 'TRL', checkpointId: checkpoints.trl.id }, { name: 'GRPO', checkpointId: checkpoints.grpo.id }]
  return { owner, catalog, checkpoints, conditions, api: await callerFor(db, owner) }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text()
}

describe('designing a study', () => {
  test('bad designs are refused field by field and create nothing', async () => {
    const { api, catalog, conditions } = await researcherWithCheckpoints()
    const before = await db.study.count()
    const cases: [Record<string, unknown>, string][] = [
      [{ tasksPerParticipant: 3 }, 'tasksPerParticipant'],
      [{ attentionChecks: [{ id: 'a', afterTask: 1, prompt: 'Pick', options: ['x', 'y'], correct: 'z' }] }, 'attentionChecks.0.correct'],
      [{ attentionChecks: [{ id: 'a', afterTask: 5, prompt: 'Pick', options: ['x', 'y'], correct: 'x' }] }, 'attentionChecks.0.afterTask'],
      [{ conditions: [conditions[0], { ...conditions[0]!, name: 'other' }] }, 'conditions.1.checkpointId'],
      [{ conditions: [conditions[0], { ...conditions[1]!, name: 'TRL' }] }, 'conditions.1.name'],
      [{ handoffRule: { kind: 'fraction', f: 1.5 } }, 'handoffRule.f'],
      [{ completionCode: 'has space' }, 'completionCode'],
      [{ redirectUrl: 'javascript:alert(1)' }, 'redirectUrl'],
      [{ problemCount: 3, tasksPerParticipant: 1 }, 'problemCount'], // the dataset has 2
      [{ conditions: [{ name: 'X', checkpointId: 'no-such-checkpoint' }] }, 'conditions.0.checkpointId'],
    ]
    for (const [override, field] of cases) {
      const error = await rejectionOf(api.studies.create(validStudyDesign(conditions, catalog.dataset.id, override)))
      expect(error.code, field).toBe('BAD_REQUEST')
      const fieldErrors = (error.cause as { fieldErrors?: Record<string, string[]> })?.fieldErrors ?? Object.fromEntries(((error.cause as { issues?: { path: string[]; message: string }[] })?.issues ?? []).map((i) => [i.path.join('.'), [i.message]]))
      expect(Object.keys(fieldErrors), field).toContain(field)
    }
    expect(await db.study.count()).toBe(before)
  })

  test('a draft can be edited; launching makes one item per condition × problem and queues the trace job', async () => {
    const { api, catalog, conditions, owner } = await researcherWithCheckpoints()
    const { id } = await api.studies.create(validStudyDesign(conditions, catalog.dataset.id))
    await api.studies.update({ id, design: validStudyDesign(conditions, catalog.dataset.id, { name: 'renamed', tasksPerParticipant: 1 }) })
    const study = await api.studies.get({ id })
    expect(study).toMatchObject({ name: 'renamed', status: 'DRAFT', canEdit: true, link: `/study/${id}` })
    expect(study.assignmentRuleText).toMatch(/Latin square/)
    expect(study).not.toHaveProperty('hashSalt')

    const { jobId } = await api.studies.launch({ id })
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } })
    expect(job).toMatchObject({ kind: 'GENERATE_STUDY_TRACES', payload: { studyId: id }, studyId: id, createdById: owner.id })
    expect(await db.studyItem.count({ where: { studyId: id } })).toBe(4)
    expect((await api.studies.get({ id })).status).toBe('GENERATING')
    expect(await outcome(api.studies.launch({ id }))).toBe('PRECONDITION_FAILED')
    expect(await outcome(api.studies.update({ id, design: validStudyDesign(conditions, catalog.dataset.id) }))).toBe('PRECONDITION_FAILED')
    const actions = await db.auditLog.findMany({ where: { entityId: id }, orderBy: { id: 'asc' }, select: { action: true } })
    expect(actions.map((a) => a.action)).toEqual(['study.create', 'study.update', 'study.launch'])
  })

  test('open → paused → open → closed; other moves are refused; only the owner or an admin controls it', async () => {
    const study = await makeOpenStudy(db)
    const owner = await callerFor(db, study.owner)
    const other = await callerFor(db, await makeUser(db, 'RESEARCHER'))
    const admin = await callerFor(db, await makeUser(db, 'ADMIN'))
    expect(await outcome(other.studies.pause({ id: study.studyId }))).toBe('FORBIDDEN')
    expect(await outcome(owner.studies.resume({ id: study.studyId }))).toBe('PRECONDITION_FAILED')
    expect(await owner.studies.pause({ id: study.studyId })).toEqual({ status: 'PAUSED' })
    expect(await admin.studies.resume({ id: study.studyId })).toEqual({ status: 'OPEN' })
    expect(await owner.studies.close({ id: study.studyId })).toEqual({ status: 'CLOSED' })
    expect(await outcome(owner.studies.close({ id: study.studyId }))).toBe('PRECONDITION_FAILED')
    expect((await db.study.findUniqueOrThrow({ where: { id: study.studyId } })).closedAt).not.toBeNull()
    // anyone with the console can read it
    expect(await outcome(other.studies.get({ id: study.studyId }))).toBe('OK')
  })

  test('preview shows the first participant’s tasks and records nothing', async () => {
    const study = await makeOpenStudy(db)
    const api = await callerFor(db, study.owner)
    const before = await db.participant.count()
    const preview = await api.studies.preview({ id: study.studyId })
    expect(preview.tasks).toHaveLength(2)
    expect(preview.tasks[0]).toMatchObject({ prefixText: 'Step 1: start\n' })
    expect(preview.practice).toMatchObject({ answer: '2' })
    expect(await db.participant.count()).toBe(before)
  })
})

describe('exports', () => {
  const studyWithResponses = () => makeStudyWithResponses(db)

  test('the codebook lists exactly the columns of the view (less the hash, which replaces the id when hashed)', async () => {
    const columns = await db.$queryRaw<{ column_name: string }[]>`
      SELECT column_name FROM information_schema.columns WHERE table_name = 'study_response_rows' ORDER BY ordinal_position`
    expect(columns.map((c) => c.column_name).filter((c) => c !== HASHED_ID_COLUMN)).toEqual(EXPORT_COLUMNS.map((c) => c.name))
    expect(codebookMarkdown({ name: 'S', minSecondsPerTask: 10 })).toContain('| participant_external_id | text |')
  })

  test('CSV: one row per response with every linked id; ids hashed unless asked raw', async () => {
    const study = await studyWithResponses()
    let finished = -1
    const csv = await readAll(exportStream(db, study.studyId, 'csv', 'hashed', async (n) => { finished = n }))
    const rows = parse(csv, { columns: true }) as Record<string, string>[]
    expect(finished).toBe(6)
    expect(rows).toHaveLength(6)
    expect(Object.keys(rows[0]!)).toEqual(EXPORT_COLUMNS.map((c) => c.name))
    expect(rows.map((r) => r.participant_external_id)).not.toContain('pid-a')
    expect(rows[0]!.participant_external_id).toMatch(/^[0-9a-f]{64}$/)
    expect(rows[0]!.url_params).toBe('')
    expect(rows[0]!.continuation).toBe('a, "quoted"\nline')
    for (const r of rows) {
      expect(r.response_id).not.toBe('')
      expect(['TRL', 'GRPO']).toContain(r.algorithm)
      expect(r.run_id).not.toBe('')
      expect(r.checkpoint_id).not.toBe('')
      expect(r.assignment_rule).toBe('LATIN_SQUARE')
      expect(JSON.parse(r.handoff_rule!)).toEqual({ kind: 'step', k: 1 })
    }
    const raw = parse(await readAll(exportStream(db, study.studyId, 'csv', 'raw')), { columns: true }) as Record<string, string>[]
    expect(new Set(raw.map((r) => r.participant_external_id))).toEqual(new Set(['pid-a', 'pid-b', 'pid-c']))
    expect(JSON.parse(raw[0]!.url_params!)).toMatchObject({ STUDY_ID: 'S' })
  })

  test('JSONL: the same rows as objects; batches page through every row exactly once', async () => {
    const study = await studyWithResponses()
    const lines = (await readAll(exportStream(db, study.studyId, 'jsonl', 'raw'))).trim().split('\n').map((l) => JSON.parse(l))
    expect(lines).toHaveLength(6)
    expect(lines[0].handoff_rule).toEqual({ kind: 'step', k: 1 })
    const seen: string[] = []
    for await (const batch of exportBatches(db, study.studyId, 'raw', 4)) seen.push(...batch.map((r) => r.response_id as string))
    expect(seen).toHaveLength(6)
    expect(new Set(seen).size).toBe(6)
    expect(seen).toEqual(lines.map((l) => l.response_id))
  })

  test('a Parquet export is a worker job, recorded in study_exports and the audit log', async () => {
    const study = await makeOpenStudy(db)
    const api = await callerFor(db, study.owner)
    const { exportId, jobId } = await api.studies.requestExport({ id: study.studyId, idMode: 'raw' })
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ kind: 'EXPORT_STUDY', payload: { exportId } })
    expect(await db.studyExport.findUniqueOrThrow({ where: { id: exportId } })).toMatchObject({ format: 'PARQUET', idMode: 'raw', status: 'PENDING' })
    const entry = await db.auditLog.findFirstOrThrow({ where: { action: 'study.export', entityId: study.studyId } })
    expect(entry.details).toMatchObject({ exportId, format: 'PARQUET', idMode: 'raw' })
    expect((await api.studies.exports({ id: study.studyId }))[0]).toMatchObject({ id: exportId, status: 'PENDING' })
  })
})
