// Item 1 of the hardening issue, through tRPC: a study's participant data is read by its owner, its collaborators and
// admins; raw ids leave with the owner and admins only; the owner (or an admin) keeps the list of collaborators.
// Research artefacts are read lab-wide and changed by their owner or an admin. The per-procedure matrix is
// test/access.test.ts; route handlers: access-routes.test.ts; the policy: src/server/auth/access.ts.
import { beforeAll, describe, expect, test } from 'vitest'

import { callerFor, makeUser, outcome, rejectionOf, testDb, uniq, type TestUser } from '../support/helpers'
import { makeOpenStudy, type OpenStudy } from '../support/studies'

const db = testDb()

let study: OpenStudy
let collaborator: TestUser
let other: TestUser
let admin: TestUser
let participantId: string

beforeAll(async () => {
  study = await makeOpenStudy(db)
  collaborator = await makeUser(db, 'RESEARCHER')
  other = await makeUser(db, 'RESEARCHER')
  admin = await makeUser(db, 'ADMIN')
  await (await callerFor(db, study.owner)).studies.collaborators.add({ id: study.studyId, email: collaborator.email })
  const anonymous = await callerFor(db, null)
  const { token } = await anonymous.participant.join({ studyId: study.studyId, consent: true, params: { PROLIFIC_PID: 'pid-secret-123' } })
  await anonymous.participant.finishInstructions({ token })
  participantId = (await db.participant.findFirstOrThrow({ where: { studyId: study.studyId }, select: { id: true } })).id
})

const participantReads = (id: string, pid: string) =>
  ({
    dashboard: (api: Awaited<ReturnType<typeof callerFor>>) => api.studies.dashboard({ id, applyExclusions: true }),
    participants: (api: Awaited<ReturnType<typeof callerFor>>) => api.studies.participants({ id, page: 1, pageSize: 5 }),
    participantSession: (api: Awaited<ReturnType<typeof callerFor>>) => api.studies.participantSession({ id, participantId: pid }),
    exports: (api: Awaited<ReturnType<typeof callerFor>>) => api.studies.exports({ id }),
    collaborators: (api: Awaited<ReturnType<typeof callerFor>>) => api.studies.collaborators.list({ id }),
  }) as const

describe('item 1: participant data belongs to the study’s owner, its collaborators and admins', () => {
  test('each participant-data read, per role: owner, collaborator, admin read; another researcher is refused', async () => {
    const reads = participantReads(study.studyId, participantId)
    const roles = { owner: study.owner, collaborator, admin, other }
    for (const [role, user] of Object.entries(roles)) {
      const api = await callerFor(db, user)
      for (const [name, read] of Object.entries(reads)) {
        expect(await outcome(read(api)), `${role} ${name}`).toBe(role === 'other' ? 'FORBIDDEN' : 'OK')
      }
    }
    // what a refused caller is told
    const error = await rejectionOf((await callerFor(db, other)).studies.participantSession({ id: study.studyId, participantId }))
    expect(error.message).toMatch(/owner, its collaborators or an admin/)
  })

  test('the design stays lab-wide: another researcher lists, opens and previews the study, and is told what they may not read', async () => {
    const api = await callerFor(db, other)
    expect((await api.studies.list({ page: 1, pageSize: 100 })).items.map((s) => s.id)).toContain(study.studyId)
    expect(await api.studies.get({ id: study.studyId })).toMatchObject({ mayControl: false, mayReadParticipantData: false, mayExportRawIds: false })
    expect(await outcome(api.studies.preview({ id: study.studyId }))).toBe('OK')
    expect(await (await callerFor(db, collaborator)).studies.get({ id: study.studyId })).toMatchObject({
      mayControl: false, mayReadParticipantData: true, mayExportRawIds: false,
    })
    expect(await (await callerFor(db, study.owner)).studies.get({ id: study.studyId })).toMatchObject({
      mayControl: true, mayReadParticipantData: true, mayExportRawIds: true,
    })
  })

  test('raw-id exports: owner and admin only; a collaborator’s raw request writes nothing, a hashed one works', async () => {
    const counts = async () => ({
      exports: await db.studyExport.count({ where: { studyId: study.studyId } }),
      jobs: await db.job.count({ where: { studyId: study.studyId, kind: 'EXPORT_STUDY' } }),
      audits: await db.auditLog.count({ where: { entityId: study.studyId } }),
    })
    const before = await counts()
    const collab = await callerFor(db, collaborator)
    const refused = await rejectionOf(collab.studies.requestExport({ id: study.studyId, idMode: 'raw' }))
    expect(refused.code).toBe('FORBIDDEN')
    expect(refused.message).toMatch(/collaborators export hashed ids/)
    expect(await outcome((await callerFor(db, other)).studies.requestExport({ id: study.studyId, idMode: 'hashed' }))).toBe('FORBIDDEN')
    expect(await counts()).toEqual(before)
    expect(await outcome(collab.studies.requestExport({ id: study.studyId, idMode: 'hashed' }))).toBe('OK')
    expect(await outcome((await callerFor(db, study.owner)).studies.requestExport({ id: study.studyId, idMode: 'raw' }))).toBe('OK')
    expect(await outcome((await callerFor(db, admin)).studies.requestExport({ id: study.studyId, idMode: 'raw' }))).toBe('OK')
  })

  test('collaborators cannot manage the study; only the owner or an admin can', async () => {
    const collab = await callerFor(db, collaborator)
    expect(await outcome(collab.studies.pause({ id: study.studyId }))).toBe('FORBIDDEN')
    expect(await outcome(collab.studies.close({ id: study.studyId }))).toBe('FORBIDDEN')
    expect(await outcome(collab.studies.collaborators.add({ id: study.studyId, email: other.email }))).toBe('FORBIDDEN')
    expect(await outcome(collab.studies.collaborators.remove({ id: study.studyId, userId: collaborator.id }))).toBe('FORBIDDEN')
    expect((await db.study.findUniqueOrThrow({ where: { id: study.studyId } })).status).toBe('OPEN')
  })
})

describe('item 1: the owner keeps the list of collaborators', () => {
  test('add by e-mail (any case), list, remove: each audited; a removed collaborator loses access at once', async () => {
    const own = await makeOpenStudy(db)
    const owner = await callerFor(db, own.owner)
    const helper = await makeUser(db, 'RESEARCHER')
    const helperApi = await callerFor(db, helper)
    expect(await outcome(helperApi.studies.dashboard({ id: own.studyId, applyExclusions: true }))).toBe('FORBIDDEN')

    const list = await owner.studies.collaborators.add({ id: own.studyId, email: `  ${helper.email.toUpperCase()} ` })
    expect(list).toEqual([expect.objectContaining({ userId: helper.id, email: helper.email, addedByEmail: own.owner.email, disabled: false })])
    expect(await owner.studies.collaborators.list({ id: own.studyId })).toEqual(list)
    expect(await outcome(helperApi.studies.dashboard({ id: own.studyId, applyExclusions: true }))).toBe('OK')

    expect(await owner.studies.collaborators.remove({ id: own.studyId, userId: helper.id })).toEqual([])
    expect(await outcome(helperApi.studies.dashboard({ id: own.studyId, applyExclusions: true }))).toBe('FORBIDDEN')
    expect(await outcome(owner.studies.collaborators.remove({ id: own.studyId, userId: helper.id }))).toBe('NOT_FOUND')

    const entries = await db.auditLog.findMany({ where: { entityId: own.studyId, action: { startsWith: 'study.collaborator' } }, orderBy: { id: 'asc' } })
    expect(entries.map((e) => [e.action, e.actorId, (e.details as { userId: string }).userId])).toEqual([
      ['study.collaborator.add', own.owner.id, helper.id],
      ['study.collaborator.remove', own.owner.id, helper.id],
    ])
  })

  test('bad additions are refused on the e-mail field and change nothing', async () => {
    const own = await makeOpenStudy(db)
    const owner = await callerFor(db, own.owner)
    const disabled = await makeUser(db, 'RESEARCHER', { disabled: true })
    const already = await makeUser(db, 'RESEARCHER')
    await owner.studies.collaborators.add({ id: own.studyId, email: already.email })
    const before = { collaborators: await db.studyCollaborator.count(), audits: await db.auditLog.count() }
    const cases: [string, RegExp][] = [
      [`${uniq('nobody')}@test.local`, /No account has the e-mail address/],
      [disabled.email, /is disabled/],
      [own.owner.email, /owns this study/],
      [already.email, /already a collaborator/],
      ['not an address', /valid e-mail/],
    ]
    for (const [email, message] of cases) {
      const error = await rejectionOf(owner.studies.collaborators.add({ id: own.studyId, email }))
      expect(error.code, email).toBe('BAD_REQUEST')
      const fieldErrors =
        (error.cause as { fieldErrors?: Record<string, string[]> })?.fieldErrors ??
        Object.fromEntries(((error.cause as { issues?: { path: string[]; message: string }[] })?.issues ?? []).map((i) => [i.path.join('.'), [i.message]]))
      expect(fieldErrors.email?.join(' '), email).toMatch(message)
    }
    expect({ collaborators: await db.studyCollaborator.count(), audits: await db.auditLog.count() }).toEqual(before)
  })

  test('an admin manages any study’s collaborators; another researcher cannot, and cannot see the list', async () => {
    const own = await makeOpenStudy(db)
    const helper = await makeUser(db, 'RESEARCHER')
    expect(await outcome((await callerFor(db, other)).studies.collaborators.add({ id: own.studyId, email: helper.email }))).toBe('FORBIDDEN')
    expect(await outcome((await callerFor(db, other)).studies.collaborators.list({ id: own.studyId }))).toBe('FORBIDDEN')
    expect(await outcome((await callerFor(db, admin)).studies.collaborators.add({ id: own.studyId, email: helper.email }))).toBe('OK')
    expect(await outcome((await callerFor(db, admin)).studies.collaborators.remove({ id: own.studyId, userId: helper.id }))).toBe('OK')
    expect(await outcome((await callerFor(db, admin)).studies.collaborators.list({ id: 'no-such-study' }))).toBe('NOT_FOUND')
  })
})

describe('item 1: research artefacts are read lab-wide and changed by their owner or an admin', () => {
  test('re-validating a model: its registrant or an admin; another researcher’s attempt queues nothing and resets nothing', async () => {
    const owner = await makeUser(db, 'RESEARCHER')
    const { id } = await (await callerFor(db, owner)).models.register({ name: uniq('model'), path: '/models/tiny' })
    await db.job.updateMany({ where: { kind: 'VALIDATE_MODEL', payload: { path: ['baseModelId'], equals: id } }, data: { status: 'SUCCEEDED' } })
    const validatedAt = new Date('2026-01-01T00:00:00Z')
    await db.baseModel.update({ where: { id }, data: { validatedAt } })
    const jobs = () => db.job.count({ where: { kind: 'VALIDATE_MODEL', payload: { path: ['baseModelId'], equals: id } } })
    const before = await jobs()
    const otherApi = await callerFor(db, other)
    expect(await outcome(otherApi.models.revalidate({ id }))).toBe('FORBIDDEN')
    expect(await jobs()).toBe(before)
    expect((await db.baseModel.findUniqueOrThrow({ where: { id } })).validatedAt).toEqual(validatedAt)
    expect(await otherApi.models.get({ id })).toMatchObject({ id, mayRevalidate: false })
    expect(await (await callerFor(db, owner)).models.get({ id })).toMatchObject({ mayRevalidate: true })
    expect(await outcome((await callerFor(db, owner)).models.revalidate({ id }))).toBe('OK')
    expect(await outcome((await callerFor(db, admin)).models.revalidate({ id }))).toBe('CONFLICT') // one is queued now
  })

  test('a model nobody registered (seeded) is re-validated by admins only', async () => {
    const model = await db.baseModel.create({ data: { name: uniq('seeded'), path: '/models/tiny' } })
    expect(await outcome((await callerFor(db, other)).models.revalidate({ id: model.id }))).toBe('FORBIDDEN')
    expect(await outcome((await callerFor(db, admin)).models.revalidate({ id: model.id }))).toBe('OK')
  })

  test('a trace-generation job is followed by who started it or an admin, as a dataset job is', async () => {
    const owner = await makeUser(db, 'RESEARCHER')
    const job = await db.job.create({ data: { kind: 'GENERATE_TRACES', payload: {}, createdById: owner.id } })
    expect(await outcome((await callerFor(db, other)).traces.job({ jobId: job.id }))).toBe('NOT_FOUND')
    expect(await outcome((await callerFor(db, owner)).traces.job({ jobId: job.id }))).toBe('OK')
    expect(await outcome((await callerFor(db, admin)).traces.job({ jobId: job.id }))).toBe('OK')
    const datasetJob = await db.job.create({ data: { kind: 'GENERATE_DATASET', payload: {}, createdById: owner.id } })
    expect(await outcome((await callerFor(db, other)).datasets.job({ id: datasetJob.id }))).toBe('NOT_FOUND')
  })
})
