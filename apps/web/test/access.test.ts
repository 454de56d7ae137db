// The procedure-access matrix: every procedure of the app router, called as each kind of caller.
// A procedure missing from ACCESS fails the first test, so new procedures cannot skip this check.
import { beforeAll, describe, expect, test } from 'vitest'

import { appRouter } from '@/server/api/root'
import { hashInviteToken } from '@/server/auth/invitations'
import { hashToken } from '@/server/studies/participant-session'

import {
  callerFor, makeCatalog, makeCheckpoints, makeFinishedEvaluation, makeTrace, makeUser, outcome, testDb, uniq, validEvaluationLaunch,
  validLaunch, type TestUser,
} from './support/helpers'
import { makeOpenStudy, validStudyDesign } from './support/studies'

type Level = 'public' | 'protected' | 'researcher' | 'admin'

const ACCESS: Record<string, Level> = {
  'me.get': 'protected',
  'catalog.baseModels': 'researcher',
  'catalog.datasets': 'researcher',
  'runs.list': 'researcher',
  'runs.get': 'researcher',
  'runs.launch': 'researcher',
  'runs.cancel': 'researcher',
  'runs.metrics': 'researcher',
  'runs.logs': 'researcher',
  'runs.launchPair': 'researcher',
  'runs.resume': 'researcher',
  'users.list': 'admin',
  'users.setDisabled': 'admin',
  'users.invite': 'admin',
  'users.invitation': 'public',
  'users.acceptInvite': 'public',
  'models.list': 'researcher',
  'models.get': 'researcher',
  'models.register': 'researcher',
  'models.revalidate': 'researcher',
  'datasets.list': 'researcher',
  'datasets.get': 'researcher',
  'datasets.problems': 'researcher',
  'datasets.importFile': 'researcher',
  'datasets.upload': 'researcher',
  'datasets.generate': 'researcher',
  'datasets.job': 'researcher',
  'evaluations.checkpoints': 'researcher',
  'evaluations.launch': 'researcher',
  'evaluations.list': 'researcher',
  'evaluations.get': 'researcher',
  'evaluations.compare': 'researcher',
  'traces.list': 'researcher',
  'traces.get': 'researcher',
  'traces.generate': 'researcher',
  'traces.job': 'researcher',
  'studies.list': 'researcher',
  'studies.get': 'researcher',
  'studies.create': 'researcher',
  'studies.update': 'researcher',
  'studies.launch': 'researcher',
  'studies.pause': 'researcher',
  'studies.resume': 'researcher',
  'studies.close': 'researcher',
  'studies.dashboard': 'researcher',
  'studies.participants': 'researcher',
  'studies.participantSession': 'researcher',
  'studies.preview': 'researcher',
  'studies.requestExport': 'researcher',
  'studies.exports': 'researcher',
  // participants have no account: the session token is the credential (its own tests: participant.test.ts)
  'runs.exportOnnx': 'researcher',
  'participant.studyInfo': 'public',
  'participant.join': 'public',
  'participant.session': 'public',
  'participant.finishInstructions': 'public',
  'participant.submitPractice': 'public',
  'participant.startTask': 'public',
  'participant.saveDraft': 'public',
  'participant.submit': 'public',
  'participant.answerAttention': 'public',
  'participant.liveTakeOver': 'public',
  'participant.liveHandBack': 'public',
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
  const upload = await db.datasetUpload.create({
    data: { name: uniq('upload'), filename: 'a.jsonl', format: 'jsonl', content: new Uint8Array([123, 125]), sizeBytes: 2, createdById: users.researcher.id },
  })
  const datasetJob = await db.job.create({ data: { kind: 'GENERATE_DATASET', payload: {}, createdById: users.researcher.id } })
  const inviteToken = 'I'.repeat(43)
  await db.user.create({
    data: { email: `${uniq('invited')}@test.local`, name: 'Invited', inviteTokenHash: hashInviteToken(inviteToken), inviteExpiresAt: new Date(Date.now() + 3_600_000) },
  })
  const checkpoints = await makeCheckpoints(db, catalog, users.researcher)
  const finished = (checkpointId: string) =>
    makeFinishedEvaluation(db, { checkpointId, datasetId: catalog.dataset.id, metrics: { solo_mean_at_k: { value: 0.5, low: 0.2, high: 0.8, n: 2 } } })
  const evaluations = [await finished(checkpoints.trl.id), await finished(checkpoints.grpo.id)]
  const problem = await db.problem.findFirstOrThrow({ where: { datasetId: catalog.dataset.id } })
  const trace = await makeTrace(db, { checkpointId: checkpoints.trl.id, problemId: problem.id })
  const traceJob = await db.job.create({ data: { kind: 'GENERATE_TRACES', payload: {}, createdById: users.researcher.id } })
  const studyConditions = [{ name: 'TRL', checkpointId: checkpoints.trl.id }, { name: 'GRPO', checkpointId: checkpoints.grpo.id }]
  const researcherApi = await callerFor(db, users.researcher)
  const draft = await researcherApi.studies.create(validStudyDesign(studyConditions, catalog.dataset.id))
  const open = await makeOpenStudy(db)
  const participantApi = await callerFor(db, null)
  const atTask = async () => {
    const { token } = await participantApi.participant.join({ studyId: open.studyId, consent: true, params: {} })
    await participantApi.participant.finishInstructions({ token })
    await participantApi.participant.submitPractice({ token, continuation: '', answer: '2' })
    const { assignmentId } = (await participantApi.participant.session({ token })).task!
    await participantApi.participant.startTask({ token, assignmentId })
    return { token, assignmentId }
  }
  const working = await atTask()
  const atCheck = await atTask()
  await participantApi.participant.submit({ token: atCheck.token, assignmentId: atCheck.assignmentId, continuation: '', answer: '1', easeRating: 1, confidence: 1 })
  const workingParticipant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(working.token) } })
  // inputs that pass validation, so an allowed call succeeds (or fails for a reason other than access)
  inputs = {
    'evaluations.checkpoints': () => ({ page: 1, pageSize: 5 }),
    'evaluations.launch': () => validEvaluationLaunch([checkpoints.base.id], catalog.dataset.id),
    'evaluations.list': () => ({ page: 1, pageSize: 5 }),
    'evaluations.get': () => ({ id: evaluations[0]!.id }),
    'evaluations.compare': () => ({ ids: evaluations.map((e) => e.id) }),
    'traces.list': () => ({ page: 1, pageSize: 5 }),
    'traces.get': () => ({ id: trace.id }),
    'traces.generate': () => ({ checkpointId: checkpoints.base.id, datasetId: catalog.dataset.id, count: 1, seed: 0, temperature: 1, maxNewTokens: 16, pJunior: 0 }),
    'traces.job': () => ({ jobId: traceJob.id }),
    'runs.list': () => ({ page: 1, pageSize: 5 }),
    'runs.get': () => ({ id: run.id }),
    'runs.launch': () => validLaunch(catalog),
    'runs.cancel': () => ({ id: 'no-such-run' }),
    'runs.metrics': () => ({ id: run.id }),
    'runs.logs': () => ({ id: run.id }),
    'runs.launchPair': () => {
      const { algorithm: _algorithm, ...rest } = validLaunch(catalog)
      return rest
    },
    'runs.resume': () => ({ id: 'no-such-run' }),
    'users.setDisabled': () => ({ userId: users.target.id, disabled: false }),
    'users.list': () => ({ page: 1, pageSize: 5 }),
    'users.invite': () => ({ email: `${uniq('invitee')}@test.local`, name: 'Invitee', role: 'RESEARCHER' }),
    'users.invitation': () => ({ token: inviteToken }),
    'users.acceptInvite': () => ({ token: 'U'.repeat(43), password: 'a long password', confirm: 'a long password' }),
    'models.list': () => ({ page: 1, pageSize: 5 }),
    'models.get': () => ({ id: catalog.baseModel.id }),
    'models.register': () => ({ name: uniq('model'), path: '/models/tiny' }),
    'models.revalidate': () => ({ id: 'no-such-model' }),
    'datasets.list': () => ({ page: 1, pageSize: 5 }),
    'datasets.get': () => ({ id: catalog.dataset.id }),
    'datasets.problems': () => ({ datasetId: catalog.dataset.id, page: 1, pageSize: 5 }),
    'datasets.importFile': () => ({ name: uniq('upload'), filename: 'a.jsonl', content: Buffer.from('{}').toString('base64') }),
    'datasets.upload': () => ({ id: upload.id }),
    'datasets.generate': () => ({ name: uniq('generated'), n: 5, seed: 0, minSteps: 1, maxSteps: 2 }),
    'datasets.job': () => ({ id: datasetJob.id }),
    'studies.list': () => ({ page: 1, pageSize: 5 }),
    'studies.get': () => ({ id: open.studyId }),
    'studies.create': () => validStudyDesign(studyConditions, catalog.dataset.id),
    'studies.update': () => ({ id: draft.id, design: validStudyDesign(studyConditions, catalog.dataset.id) }),
    'studies.launch': () => ({ id: 'no-such-study' }),
    'studies.pause': () => ({ id: 'no-such-study' }),
    'studies.resume': () => ({ id: 'no-such-study' }),
    'studies.close': () => ({ id: 'no-such-study' }),
    'studies.dashboard': () => ({ id: open.studyId, applyExclusions: true }),
    'studies.participants': () => ({ id: open.studyId, page: 1, pageSize: 5 }),
    'studies.participantSession': () => ({ id: open.studyId, participantId: workingParticipant.id }),
    'studies.preview': () => ({ id: open.studyId }),
    'studies.requestExport': () => ({ id: open.studyId, idMode: 'hashed' }),
    'studies.exports': () => ({ id: open.studyId }),
    'runs.exportOnnx': () => ({ checkpointId: checkpoints.trl.id }),
    'participant.studyInfo': () => ({ studyId: open.studyId }),
    'participant.join': () => ({ studyId: open.studyId, consent: true, params: {} }),
    'participant.session': () => ({ token: working.token }),
    'participant.finishInstructions': () => ({ token: working.token }),
    'participant.submitPractice': () => ({ token: working.token, continuation: '', answer: '2' }),
    'participant.startTask': () => ({ token: working.token, assignmentId: working.assignmentId }),
    'participant.saveDraft': () => ({ token: working.token, assignmentId: working.assignmentId, continuation: 'x', answer: '' }),
    'participant.submit': () => ({ token: working.token, assignmentId: working.assignmentId, continuation: '', answer: '1', easeRating: 1, confidence: 1 }),
    'participant.answerAttention': () => ({ token: atCheck.token, checkId: 'a1', answer: 'blue' }),
    'participant.liveTakeOver': () => ({ token: working.token, assignmentId: working.assignmentId }),
    'participant.liveHandBack': () => ({ token: working.token, assignmentId: working.assignmentId, text: 'x' }),
  }
})

async function call(user: TestUser | null, path: string, input?: unknown): Promise<string> {
  const caller = await callerFor(db, user)
  const fn = path.split('.').reduce<any>((node, key) => node[key], caller) as (input?: unknown) => Promise<unknown>
  return outcome(fn(input))
}

const procedures = Object.keys(appRouter._def.procedures).sort()

// what an allowed call with the input above returns, when it is not OK (an unknown id is the point of the input)
const ALLOWED_OUTCOME: Record<string, string> = {
  'runs.cancel': 'NOT_FOUND',
  'runs.resume': 'NOT_FOUND',
  'studies.launch': 'NOT_FOUND',
  'studies.pause': 'NOT_FOUND',
  'studies.resume': 'NOT_FOUND',
  'studies.close': 'NOT_FOUND',
  'models.revalidate': 'NOT_FOUND',
  'users.acceptInvite': 'NOT_FOUND',
  // the working participant's task is not live (live tasks: live-session.test.ts)
  'participant.liveTakeOver': 'BAD_REQUEST',
  'participant.liveHandBack': 'BAD_REQUEST',
}
const allowed = (path: string) => ALLOWED_OUTCOME[path] ?? 'OK'

test('every procedure has an access level in the matrix', () => {
  expect(procedures).toEqual(Object.keys(ACCESS).sort())
})

describe.each(procedures)('%s', (path) => {
  const level = ACCESS[path]!
  const input = () => inputs[path]?.()

  test(level === 'public' ? 'anonymous: allowed' : 'anonymous: UNAUTHORIZED (even with no input)', async () => {
    if (level === 'public') return expect(await call(null, path, input())).toBe(allowed(path))
    expect(await call(null, path, input())).toBe('UNAUTHORIZED')
    expect(await call(null, path, undefined)).toBe('UNAUTHORIZED')
  })

  test(level === 'public' ? 'disabled users: allowed' : 'disabled users: UNAUTHORIZED', async () => {
    if (level === 'public') return expect(await call(users.disabledResearcher, path, input())).toBe(allowed(path))
    expect(await call(users.disabledResearcher, path, input())).toBe('UNAUTHORIZED')
    expect(await call(users.disabledAdmin, path, input())).toBe('UNAUTHORIZED')
  })

  test(level === 'public' ? 'a session for a deleted user: allowed' : 'a session for a deleted user: UNAUTHORIZED', async () => {
    const ghost = { id: 'no-such-user', email: 'ghost@test.local', role: 'ADMIN' as const }
    if (level === 'public') return expect(await call(ghost, path, input())).toBe(allowed(path))
    expect(await call(ghost, path, input())).toBe('UNAUTHORIZED')
  })

  test(`RESEARCHER: ${level === 'admin' ? 'FORBIDDEN' : 'allowed'}`, async () => {
    const result = await call(users.researcher, path, input())
    if (level === 'admin') expect(result).toBe('FORBIDDEN')
    else expect(result).toBe(allowed(path))
  })

  test('ADMIN: allowed', async () => {
    expect(await call(users.admin, path, input())).toBe(allowed(path))
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
