// The researcher's side of studies: design validation, launch (items + the worker's job), the status machine,
// owner-only control, preview, the designer's pay, outcome codes, session limit, refill and power plan (stored with
// its simulation; prefilled from the model-side evaluation), and the exports (streamed CSV/JSONL with the codebook's
// columns, Parquet jobs).
import { parse } from 'csv-parse/sync'
import { describe, expect, test } from 'vitest'

import { defaultDesign, randomOutcomeCodes } from '@/app/console/studies/design-defaults'
import { studyDesignSchema } from '@/server/api/routers/studies.schema'
import { EXPORT_COLUMNS, VIEW_ONLY_COLUMNS, codebookMarkdown } from '@/server/studies/codebook'
import { POWER_TEST_TEXT, powerPlanFor } from '@/server/studies/power'
import { exportBatches, exportStream } from '@/server/studies/export'

import { callerFor, makeCatalog, makeCheckpoints, makeFinishedEvaluation, makeUser, outcome, rejectionOf, testDb } from './support/helpers'
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

/** The tRPC error's field paths (the server's fieldErrors, or zod's issues). */
function fieldsOf(error: { cause?: unknown }): string[] {
  const cause = error.cause as { fieldErrors?: Record<string, string[]>; issues?: { path: (string | number)[]; message: string }[] } | undefined
  return cause?.fieldErrors ? Object.keys(cause.fieldErrors) : (cause?.issues ?? []).map((i) => i.path.join('.'))
}

function messagesOf(error: { cause?: unknown }): string[] {
  const cause = error.cause as { fieldErrors?: Record<string, string[]>; issues?: { message: string }[] } | undefined
  return cause?.fieldErrors ? Object.values(cause.fieldErrors).flat() : (cause?.issues ?? []).map((i) => i.message)
}

describe('pay, outcomes, session limit, refill and power in the design', () => {
  const plan = { alpha: 0.05, power: 0.8, accuracies: { TRL: 0.7, GRPO: 0.5 }, participantSd: 0.5, problemSd: 0.5, sources: { TRL: 'entered by hand' } }
  const science = {
    currency: 'USD' as const, basePayCents: 250, bonusPerCorrectCents: 20, bonusCapCents: 40,
    screenedOutCode: 'SCREENED1', screenedOutRedirectUrl: 'https://app.prolific.com/submissions/complete?cc=SCREENED1',
    timedOutCode: 'TIMEOUT1', timedOutRedirectUrl: '', sessionTimeLimitSeconds: 900, refillDropouts: false, juniorSamples: 8, powerPlan: plan,
  }

  test('the new fields are stored as given; the power plan with the simulation the server re-ran', async () => {
    const { api, catalog, conditions } = await researcherWithCheckpoints()
    const { id } = await api.studies.create(validStudyDesign(conditions, catalog.dataset.id, science))
    const study = await api.studies.get({ id })
    expect(study).toMatchObject({
      currency: 'USD', basePayCents: 250, bonusPerCorrectCents: 20, bonusCapCents: 40, screenedOutCode: 'SCREENED1',
      screenedOutRedirectUrl: science.screenedOutRedirectUrl, timedOutCode: 'TIMEOUT1', timedOutRedirectUrl: null,
      sessionTimeLimitSeconds: 900, refillDropouts: false, juniorSamples: 8,
    })
    // the same seeded simulation as the designer's panel, from the stored inputs (validStudyDesign: 2 problems, 2 tasks)
    const expected = powerPlanFor(
      { conditions: [{ name: 'TRL', algorithm: 'TRL' }, { name: 'GRPO', algorithm: 'GRPO' }], problemCount: 2, tasksPerParticipant: 2, ...science },
      plan,
    )
    const { elapsedMs: _elapsed, ...stored } = expected
    expect(study.powerPlan).toEqual(JSON.parse(JSON.stringify(stored)))
    expect(study.powerPlan).toMatchObject({ compared: { a: 'TRL', b: 'GRPO', label: 'TRL − GRPO' }, test: POWER_TEST_TEXT, sources: { TRL: 'entered by hand' } })
    expect(expected.nNeeded).not.toBeNull()
    expect(expected.costCents).toBe(expected.nNeeded! * (250 + expected.expectedBonusCents))

    // an update without the new fields goes back to the defaults (and no plan)
    await api.studies.update({ id, design: validStudyDesign(conditions, catalog.dataset.id) })
    expect(await api.studies.get({ id })).toMatchObject({
      currency: 'GBP', basePayCents: 0, bonusPerCorrectCents: 0, bonusCapCents: null, screenedOutCode: null, timedOutCode: null,
      sessionTimeLimitSeconds: null, refillDropouts: true, juniorSamples: 4, powerPlan: null,
    })
  })

  test('bad pay, codes, limits and plans are refused field by field with clear messages', async () => {
    const { api, catalog, conditions } = await researcherWithCheckpoints()
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ bonusPerCorrectCents: 50, bonusCapCents: 20 }, 'bonusCapCents', /bonus cap \(£0\.20\) is below the bonus per correct answer \(£0\.50\)/],
      [{ bonusCapCents: 0, bonusPerCorrectCents: 1 }, 'bonusCapCents', /nobody could earn even one/],
      [{ basePayCents: -1 }, 'basePayCents', /cannot be negative/],
      [{ basePayCents: 2.5 }, 'basePayCents', /whole pence or cents/],
      [{ currency: 'XYZ' }, 'currency', /Choose a currency/],
      [{ screenedOutCode: 'DONE123' }, 'screenedOutCode', /Each outcome needs its own code: this is the completion code again/],
      [{ screenedOutCode: 'SAME', timedOutCode: 'same' }, 'timedOutCode', /this is the screened-out code again/],
      [{ timedOutCode: 'has space' }, 'timedOutCode', /Timed-out code: 1–64 letters/],
      [{ screenedOutRedirectUrl: 'javascript:alert(1)' }, 'screenedOutRedirectUrl', /http\(s\) URL/],
      // 2 tasks × 120 s = 4 min of task limits
      [{ sessionTimeLimitSeconds: 180 }, 'sessionTimeLimitSeconds', /at least the tasks' own limits \(2 × 120 s = 4 min\)/],
      [{ sessionTimeLimitSeconds: 30 }, 'sessionTimeLimitSeconds', /at least 1 minute/],
      [{ juniorSamples: 33 }, 'juniorSamples', /at most 32/],
      [{ juniorSamples: 0 }, 'juniorSamples', /at least 1/],
      [{ powerPlan: { ...plan, accuracies: { TRL: 0.7, GRPO: 1 } } }, 'powerPlan.accuracies.GRPO', /between 0 and 1/],
      [{ powerPlan: { ...plan, accuracies: { TRL: 0.7, Other: 0.5 } } }, 'powerPlan.accuracies', /no condition is named "Other".*|give an expected accuracy for "GRPO"/],
      [{ powerPlan: { ...plan, power: 0.999 } }, 'powerPlan.power', /between 0.5 and 0.99/],
      [{ powerPlan: { ...plan, alpha: 0 } }, 'powerPlan.alpha', /above 0/],
    ]
    const before = await db.study.count()
    for (const [override, field, text] of cases) {
      const error = await rejectionOf(api.studies.create(validStudyDesign(conditions, catalog.dataset.id, override)))
      expect(error.code, field).toBe('BAD_REQUEST')
      expect(fieldsOf(error), field).toContain(field)
      expect(messagesOf(error).join(' | '), field).toMatch(text)
    }
    expect(await db.study.count()).toBe(before)
  })

  test('a new design’s defaults pass the schema, with three different codes; the designer’s session limit is outcomes.ts’s', () => {
    const codes = randomOutcomeCodes()
    expect(new Set(Object.values(codes)).size).toBe(3)
    const design = defaultDesign([{ id: 'd', name: 'arithmetic-eval', rowCount: 50 }], codes)
    const parsed = studyDesignSchema.safeParse({ ...design, name: 'x', conditions: [{ name: 'TRL', checkpointId: 'a' }, { name: 'GRPO', checkpointId: 'b' }] })
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
    expect(parsed.data).toMatchObject({ refillDropouts: true, juniorSamples: 4, sessionTimeLimitSeconds: null, powerPlan: { accuracies: { TRL: 0.5, GRPO: 0.5 } } })
    // a clash of random codes is redrawn
    let calls = 0
    const clashing = (n: number) => new Uint8Array(n).fill(calls++ < 2 ? 0 : calls)
    const redrawn = randomOutcomeCodes(clashing)
    expect(new Set(Object.values(redrawn)).size).toBe(3)
  })

  test('powerPrefill: the newest finished evaluation’s handoff curve at the point nearest the rule, or says there is none', async () => {
    const { api, catalog, checkpoints } = await researcherWithCheckpoints()
    const curves = (values: number[]) => ({
      handoff_senior_first_k: { x_name: 'k', points: values.map((value, x) => ({ x, value, low: null, high: null, n: 10 })) },
      handoff_fraction: { x_name: 'f', points: [{ x: 0.5, value: 1, low: null, high: null, n: 10 }] },
    })
    const metrics = { solo_mean_at_k: { value: 0.5, low: 0.4, high: 0.6, n: 10 } }
    await makeFinishedEvaluation(db, { checkpointId: checkpoints.trl.id, datasetId: catalog.dataset.id, metrics, curves: curves([0.1, 0.2, 0.3]) })
    const newest = await makeFinishedEvaluation(db, { checkpointId: checkpoints.trl.id, datasetId: catalog.dataset.id, metrics, curves: curves([0.2, 0.4, 0.62]) })
    // a failed evaluation and one without the curve are passed over
    await makeFinishedEvaluation(db, { checkpointId: checkpoints.trl.id, datasetId: catalog.dataset.id, metrics, status: 'FAILED' })
    await makeFinishedEvaluation(db, { checkpointId: checkpoints.trl.id, datasetId: catalog.dataset.id, metrics })

    const ids = [checkpoints.trl.id, checkpoints.grpo.id]
    const atStep = await api.studies.powerPrefill({ checkpointIds: ids, handoffRule: { kind: 'step', k: 2 } })
    expect(atStep[0]).toEqual({ checkpointId: checkpoints.trl.id, evaluationId: newest.id, x: 2, accuracy: 0.62, source: `from evaluation ${newest.id}, handoff after step 2: 0.62` })
    expect(atStep[1]).toMatchObject({ checkpointId: checkpoints.grpo.id, evaluationId: null, accuracy: null })
    expect(atStep[1]!.source).toMatch(/no finished evaluation of this checkpoint has the handoff_senior_first_k curve/)

    const beyond = await api.studies.powerPrefill({ checkpointIds: [checkpoints.trl.id], handoffRule: { kind: 'step', k: 7 } })
    expect(beyond[0]!.source).toBe(`from evaluation ${newest.id}, handoff after step 2: 0.62 (the evaluated point nearest the study's handoff after step 7)`)
    // an accuracy of 1 is kept inside (0, 1) for the simulation, and says so
    const fraction = await api.studies.powerPrefill({ checkpointIds: [checkpoints.trl.id], handoffRule: { kind: 'fraction', f: 0.4 } })
    expect(fraction[0]).toMatchObject({ x: 0.5, accuracy: 0.99 })
    expect(fraction[0]!.source).toBe(`from evaluation ${newest.id}, handoff at f = 0.5: 1.00 (the evaluated point nearest the study's handoff at f = 0.4), taken as 0.99 for the simulation`)
  })
})

describe('exports', () => {
  const studyWithResponses = () => makeStudyWithResponses(db)

  test('the codebook lists exactly the columns of the view (less the stand-ins that replace the id and url_params when hashed)', async () => {
    const columns = await db.$queryRaw<{ column_name: string }[]>`
      SELECT column_name FROM information_schema.columns WHERE table_name = 'study_response_rows' ORDER BY ordinal_position`
    const names = columns.map((c) => c.column_name)
    expect(VIEW_ONLY_COLUMNS).toEqual(['participant_external_id_hash', 'url_params_public'])
    expect(VIEW_ONLY_COLUMNS.every((c) => names.includes(c))).toBe(true)
    expect(names.filter((c) => !VIEW_ONLY_COLUMNS.includes(c))).toEqual(EXPORT_COLUMNS.map((c) => c.name))
    const markdown = codebookMarkdown({ name: 'S', minSecondsPerTask: 10 })
    expect(markdown).toContain('| participant_external_id | text |')
    expect(markdown).toContain('| manual_exclusion | text |')
    expect(markdown).toContain('| manual_note | text |')
    expect(markdown).not.toContain('url_params_public')
    // the researcher's own exclusion is named where the exclusion columns are described
    expect(EXPORT_COLUMNS.find((c) => c.name === 'exclusion_reason')!.description).toContain('excluded by the researcher')
    expect(EXPORT_COLUMNS.find((c) => c.name === 'url_params')!.description).toContain('SESSION_ID')
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
    // hashed: the link's parameters less the identifying one
    expect(JSON.parse(rows[0]!.url_params!)).toEqual({ STUDY_ID: 'S' })
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
