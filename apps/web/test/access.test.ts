// The procedure-access matrix: every procedure of the app router, called as each kind of caller (anonymous, disabled,
// deleted, a revoked session, another researcher, a study collaborator, the owner of what it touches, an admin).
// A procedure missing from ACCESS fails the first test, so new procedures cannot skip this check. The policy itself:
// src/server/auth/access.ts; the table: docs/security.md (## Access).
import { beforeAll, describe, expect, test } from 'vitest'

import { appRouter, createCaller } from '@/server/api/root'
import { createTRPCContext } from '@/server/api/trpc'
import { hashInviteToken } from '@/server/auth/invitations'
import { hashToken } from '@/server/studies/participant-session'

import {
  callerFor, makeCatalog, makeCheckpoints, makeFinishedEvaluation, makeTrace, makeUser, outcome, staleSessionOf, testDb, uniq,
  validEvaluationLaunch, validLaunch, type TestUser,
} from './support/helpers'
import { makeFinishedExperiment, validExperiment } from './support/experiments'
import { makeOpenStudy, validStudyDesign } from './support/studies'

/**
 * public: anyone. protected: any signed-in account. researcher: role RESEARCHER or ADMIN (research artefacts are read
 * lab-wide). admin: role ADMIN. owner: the owner of the run, model, job or study it changes, or an admin.
 * study-reader: the study's owner, its collaborators or an admin (its participant data).
 */
type Level = 'public' | 'protected' | 'researcher' | 'admin' | 'owner' | 'study-reader'

const ACCESS: Record<string, Level> = {
  'me.get': 'protected',
  'me.signOutEverywhere': 'protected',
  'catalog.baseModels': 'researcher',
  'catalog.datasets': 'researcher',
  'runs.list': 'researcher',
  'runs.get': 'researcher',
  'runs.launch': 'researcher',
  'runs.cancel': 'owner',
  'runs.metrics': 'researcher',
  'runs.logs': 'researcher',
  'runs.rollouts': 'researcher',
  'runs.launchPair': 'researcher',
  'runs.resume': 'owner',
  'runs.compare': 'researcher',
  'users.list': 'admin',
  'users.setDisabled': 'admin',
  'users.revokeSessions': 'admin',
  'users.invite': 'admin',
  'users.invitation': 'public',
  'users.acceptInvite': 'public',
  'models.list': 'researcher',
  'models.get': 'researcher',
  'models.register': 'researcher',
  'models.revalidate': 'owner',
  'datasets.list': 'researcher',
  'datasets.get': 'researcher',
  'datasets.problems': 'researcher',
  'datasets.importFile': 'researcher',
  'datasets.upload': 'owner',
  'datasets.generate': 'researcher',
  'datasets.job': 'owner',
  'evaluations.checkpoints': 'researcher',
  'evaluations.launch': 'researcher',
  'evaluations.list': 'researcher',
  'evaluations.get': 'researcher',
  'evaluations.compare': 'researcher',
  'experiments.list': 'researcher',
  'experiments.get': 'researcher',
  'experiments.curves': 'researcher',
  'experiments.create': 'researcher',
  'experiments.cancel': 'owner',
  'experiments.resume': 'owner',
  'experiments.clone': 'researcher',
  'traces.list': 'researcher',
  'traces.get': 'researcher',
  'traces.generate': 'researcher',
  'traces.job': 'owner',
  'studies.list': 'researcher',
  'studies.get': 'researcher',
  'studies.create': 'researcher',
  'studies.update': 'owner',
  'studies.launch': 'owner',
  'studies.pause': 'owner',
  'studies.resume': 'owner',
  'studies.close': 'owner',
  'studies.dashboard': 'study-reader',
  'studies.analysis': 'study-reader',
  'studies.refitModel': 'study-reader',
  'studies.participants': 'study-reader',
  'studies.participantSession': 'study-reader',
  'studies.setExclusion': 'study-reader',
  'studies.preview': 'researcher',
  'studies.powerPrefill': 'researcher',
  'studies.requestExport': 'study-reader',
  'studies.exports': 'study-reader',
  'studies.collaborators.list': 'study-reader',
  'studies.collaborators.add': 'owner',
  'studies.collaborators.remove': 'owner',
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
  'participant.leave': 'public',
}

const db = testDb()
let users: Record<'researcher' | 'owner' | 'collaborator' | 'admin' | 'disabledResearcher' | 'disabledAdmin' | 'stale' | 'target', TestUser>
let inputs: Record<string, () => unknown>

beforeAll(async () => {
  users = {
    // owns nothing here: "another researcher"
    researcher: await makeUser(db, 'RESEARCHER'),
    // owns the run, the model, the upload, the jobs and the studies below
    owner: await makeUser(db, 'RESEARCHER'),
    // a collaborator of the studies below
    collaborator: await makeUser(db, 'RESEARCHER'),
    admin: await makeUser(db, 'ADMIN'),
    // an admin whose session was revoked (sign out everywhere)
    stale: await staleSessionOf(db, await makeUser(db, 'ADMIN')),
    disabledResearcher: await makeUser(db, 'RESEARCHER', { disabled: true }),
    disabledAdmin: await makeUser(db, 'ADMIN', { disabled: true }),
    target: await makeUser(db, 'RESEARCHER'),
  }
  const catalog = await makeCatalog(db)
  const run = await db.trainingRun.create({
    data: {
      name: 'existing', algorithm: 'GRPO', config: {}, seed: 0, maxSteps: 2, status: 'SUCCEEDED',
      ownerId: users.owner.id, baseModelId: catalog.baseModel.id, datasetId: catalog.dataset.id,
    },
  })
  // a model of the owner's, with a validation queued: re-validating it is refused as a conflict, not done
  const model = await db.baseModel.create({ data: { name: uniq('owned-model'), path: '/models/tiny', createdById: users.owner.id } })
  await db.job.create({ data: { kind: 'VALIDATE_MODEL', payload: { baseModelId: model.id }, createdById: users.owner.id } })
  const upload = await db.datasetUpload.create({
    data: { name: uniq('upload'), filename: 'a.jsonl', format: 'jsonl', content: new Uint8Array([123, 125]), sizeBytes: 2, createdById: users.owner.id },
  })
  const datasetJob = await db.job.create({ data: { kind: 'GENERATE_DATASET', payload: {}, createdById: users.owner.id } })
  const inviteToken = 'I'.repeat(43)
  await db.user.create({
    data: { email: `${uniq('invited')}@test.local`, name: 'Invited', inviteTokenHash: hashInviteToken(inviteToken), inviteExpiresAt: new Date(Date.now() + 3_600_000) },
  })
  const checkpoints = await makeCheckpoints(db, catalog, users.owner)
  const finished = (checkpointId: string) =>
    makeFinishedEvaluation(db, { checkpointId, datasetId: catalog.dataset.id, metrics: { solo_mean_at_k: { value: 0.5, low: 0.2, high: 0.8, n: 2 } } })
  const evaluations = [await finished(checkpoints.trl.id), await finished(checkpoints.grpo.id)]
  const problem = await db.problem.findFirstOrThrow({ where: { datasetId: catalog.dataset.id } })
  const trace = await makeTrace(db, { checkpointId: checkpoints.trl.id, problemId: problem.id })
  const traceJob = await db.job.create({ data: { kind: 'GENERATE_TRACES', payload: {}, createdById: users.owner.id } })
  const studyConditions = [{ name: 'TRL', checkpointId: checkpoints.trl.id }, { name: 'GRPO', checkpointId: checkpoints.grpo.id }]
  const ownerApi = await callerFor(db, users.owner)
  const draft = await ownerApi.studies.create(validStudyDesign(studyConditions, catalog.dataset.id))
  // a closed study: every status change of it is refused as a precondition, so the matrix changes nothing
  const closed = await ownerApi.studies.create(validStudyDesign(studyConditions, catalog.dataset.id))
  await db.study.update({ where: { id: closed.id }, data: { status: 'CLOSED', closedAt: new Date() } })
  const open = await makeOpenStudy(db)
  await db.study.update({ where: { id: open.studyId }, data: { ownerId: users.owner.id } })
  await db.studyCollaborator.createMany({
    data: [draft.id, closed.id, open.studyId].map((studyId) => ({ studyId, userId: users.collaborator.id, addedById: users.owner.id })),
  })
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
  // leaves the study (its own participant, so the others' sessions keep running); leaving again changes nothing
  const leaving = await atTask()
  await participantApi.participant.submit({ token: atCheck.token, assignmentId: atCheck.assignmentId, continuation: '', answer: '1', easeRating: 1, confidence: 1 })
  // finished: cancel and resume are refused as conflicts, so the matrix changes nothing
  const experiment = await makeFinishedExperiment(db, catalog, users.owner)
  const workingParticipant = await db.participant.findUniqueOrThrow({ where: { tokenHash: hashToken(working.token) } })
  // inputs that pass validation, so an allowed call succeeds (or fails for a reason other than access)
  inputs = {
    'evaluations.checkpoints': () => ({ page: 1, pageSize: 5 }),
    'evaluations.launch': () => validEvaluationLaunch([checkpoints.base.id], catalog.dataset.id),
    'evaluations.list': () => ({ page: 1, pageSize: 5 }),
    'evaluations.get': () => ({ id: evaluations[0]!.id }),
    'evaluations.compare': () => ({ ids: evaluations.map((e) => e.id) }),
    'experiments.list': () => ({ page: 1, pageSize: 5 }),
    'experiments.get': () => ({ id: experiment.id }),
    'experiments.curves': () => ({ id: experiment.id }),
    'experiments.create': () => validExperiment(catalog, { seeds: [0] }),
    'experiments.cancel': () => ({ id: experiment.id }),
    'experiments.resume': () => ({ id: experiment.id }),
    'experiments.clone': () => ({ id: experiment.id }),
    'traces.list': () => ({ page: 1, pageSize: 5 }),
    'traces.get': () => ({ id: trace.id }),
    'traces.generate': () => ({ checkpointId: checkpoints.base.id, datasetId: catalog.dataset.id, count: 1, seed: 0, temperature: 1, maxNewTokens: 16, pJunior: 0 }),
    'traces.job': () => ({ jobId: traceJob.id }),
    'runs.list': () => ({ page: 1, pageSize: 5 }),
    'runs.get': () => ({ id: run.id }),
    'runs.launch': () => validLaunch(catalog),
    'runs.cancel': () => ({ id: run.id }),
    'runs.metrics': () => ({ id: run.id }),
    'runs.logs': () => ({ id: run.id }),
    'runs.rollouts': () => ({ id: run.id, filter: 'correct' }),
    'runs.launchPair': () => {
      const { algorithm: _algorithm, ...rest } = validLaunch(catalog)
      return rest
    },
    'runs.resume': () => ({ id: run.id }),
    'runs.compare': () => ({ ids: [run.id, checkpoints.trlRun.id] }),
    'users.setDisabled': () => ({ userId: users.target.id, disabled: false }),
    'users.revokeSessions': () => ({ userId: users.target.id }),
    'users.list': () => ({ page: 1, pageSize: 5 }),
    'users.invite': () => ({ email: `${uniq('invitee')}@test.local`, name: 'Invitee', role: 'RESEARCHER' }),
    'users.invitation': () => ({ token: inviteToken }),
    'users.acceptInvite': () => ({ token: 'U'.repeat(43), password: 'a long password', confirm: 'a long password' }),
    'models.list': () => ({ page: 1, pageSize: 5 }),
    'models.get': () => ({ id: catalog.baseModel.id }),
    'models.register': () => ({ name: uniq('model'), path: '/models/tiny' }),
    'models.revalidate': () => ({ id: model.id }),
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
    'studies.launch': () => ({ id: closed.id }),
    'studies.pause': () => ({ id: closed.id }),
    'studies.resume': () => ({ id: closed.id }),
    'studies.close': () => ({ id: closed.id }),
    'studies.dashboard': () => ({ id: open.studyId, applyExclusions: true }),
    'studies.analysis': () => ({ id: open.studyId }),
    // queues a fit (or finds the queued one): an allowed call succeeds every time
    'studies.refitModel': () => ({ id: open.studyId }),
    'studies.participants': () => ({ id: open.studyId, page: 1, pageSize: 5 }),
    'studies.participantSession': () => ({ id: open.studyId, participantId: workingParticipant.id }),
    // clearing a mark the participant does not have: the working participant stays included
    'studies.setExclusion': () => ({ id: open.studyId, participantId: workingParticipant.id, kind: null }),
    'studies.preview': () => ({ id: open.studyId }),
    'studies.powerPrefill': () => ({ checkpointIds: [checkpoints.trl.id, checkpoints.grpo.id], handoffRule: { kind: 'step', k: 1 } }),
    'studies.requestExport': () => ({ id: open.studyId, idMode: 'hashed' }),
    'studies.exports': () => ({ id: open.studyId }),
    'studies.collaborators.list': () => ({ id: open.studyId }),
    // no such account: an allowed caller gets the field error, a refused one never gets that far
    'studies.collaborators.add': () => ({ id: open.studyId, email: `${uniq('nobody')}@test.local` }),
    'studies.collaborators.remove': () => ({ id: open.studyId, userId: 'no-such-user' }),
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
    'participant.leave': () => ({ token: leaving.token }),
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
  // a finished run: nothing to cancel or resume
  'runs.cancel': 'CONFLICT',
  'runs.resume': 'CONFLICT',
  // a finished experiment: nothing to cancel or resume
  'experiments.cancel': 'CONFLICT',
  'experiments.resume': 'CONFLICT',
  // a closed study
  'studies.launch': 'PRECONDITION_FAILED',
  'studies.pause': 'PRECONDITION_FAILED',
  'studies.resume': 'PRECONDITION_FAILED',
  'studies.close': 'PRECONDITION_FAILED',
  'studies.collaborators.add': 'BAD_REQUEST',
  'studies.collaborators.remove': 'NOT_FOUND',
  // a validation is already queued
  'models.revalidate': 'CONFLICT',
  'users.acceptInvite': 'NOT_FOUND',
  // the working participant's task is not live (live tasks: live-session.test.ts)
  'participant.liveTakeOver': 'BAD_REQUEST',
  'participant.liveHandBack': 'BAD_REQUEST',
}
const allowed = (path: string) => ALLOWED_OUTCOME[path] ?? 'OK'

// what a refused signed-in researcher gets, when not FORBIDDEN: someone else's work in progress is not shown to exist
const DENIED_OUTCOME: Record<string, string> = {
  'datasets.upload': 'NOT_FOUND',
  'datasets.job': 'NOT_FOUND',
  'traces.job': 'NOT_FOUND',
}
const denied = (path: string) => DENIED_OUTCOME[path] ?? 'FORBIDDEN'

type SignedIn = 'researcher' | 'collaborator' | 'owner' | 'admin'

/** What a signed-in, current caller gets at `level`. */
function expected(level: Level, who: SignedIn, path: string): string {
  switch (level) {
    case 'public':
    case 'protected':
    case 'researcher':
      return allowed(path)
    case 'admin':
      return who === 'admin' ? allowed(path) : 'FORBIDDEN'
    case 'owner':
      return who === 'owner' || who === 'admin' ? allowed(path) : denied(path)
    case 'study-reader':
      return who === 'researcher' ? denied(path) : allowed(path)
  }
}

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

  test(level === 'public' ? 'a revoked session (stale session version): allowed' : 'a revoked session (stale session version): UNAUTHORIZED', async () => {
    expect(await call(users.stale, path, input())).toBe(level === 'public' ? allowed(path) : 'UNAUTHORIZED')
  })

  test.each<SignedIn>(['researcher', 'collaborator', 'owner', 'admin'])('%s', async (who) => {
    expect(await call(users[who], path, input())).toBe(expected(level, who, path))
  })
})

test('the role is read from the database, not trusted from the session', async () => {
  // a researcher whose session claims ADMIN is still a researcher
  const forged = { ...users.researcher, role: 'ADMIN' as const }
  expect(await call(forged, 'users.list')).toBe('FORBIDDEN')
})

describe('item 10: sessions can be revoked', () => {
  test('disabling an account locks out its open sessions at once; enabling it again does not revive them', async () => {
    const user = await makeUser(db, 'RESEARCHER')
    const openSession = await callerFor(db, user)
    expect(await outcome(openSession.runs.list({ page: 1 }))).toBe('OK')
    expect(await call(users.admin, 'users.setDisabled', { userId: user.id, disabled: true })).toBe('OK')
    expect(await outcome(openSession.runs.list({ page: 1 }))).toBe('UNAUTHORIZED')
    expect(await call(users.admin, 'users.setDisabled', { userId: user.id, disabled: false })).toBe('OK')
    expect(await outcome(openSession.runs.list({ page: 1 }))).toBe('UNAUTHORIZED')
    // signing in again works
    expect(await outcome((await callerFor(db, user)).runs.list({ page: 1 }))).toBe('OK')
  })

  test('sign out everywhere ends every session of the account, this one included, and is audited', async () => {
    const user = await makeUser(db, 'RESEARCHER')
    const laptop = await callerFor(db, user)
    const phone = await callerFor(db, user)
    expect(await laptop.me.signOutEverywhere()).toEqual({ signedOut: true })
    expect(await outcome(laptop.me.get())).toBe('UNAUTHORIZED')
    expect(await outcome(phone.runs.list({ page: 1 }))).toBe('UNAUTHORIZED')
    expect(await outcome(phone.me.signOutEverywhere())).toBe('UNAUTHORIZED')
    expect(await outcome((await callerFor(db, user)).me.get())).toBe('OK')
    const entries = await db.auditLog.findMany({ where: { entityId: user.id }, select: { action: true, actorId: true } })
    expect(entries).toEqual([{ action: 'user.sign_out_everywhere', actorId: user.id }])
  })

  test('an admin signs an account out everywhere; another account is not touched', async () => {
    const user = await makeUser(db, 'RESEARCHER')
    const bystander = await makeUser(db, 'RESEARCHER')
    const [userSession, bystanderSession] = [await callerFor(db, user), await callerFor(db, bystander)]
    expect(await call(users.researcher, 'users.revokeSessions', { userId: user.id })).toBe('FORBIDDEN')
    expect(await outcome(userSession.me.get())).toBe('OK')
    expect(await call(users.admin, 'users.revokeSessions', { userId: user.id })).toBe('OK')
    expect(await outcome(userSession.me.get())).toBe('UNAUTHORIZED')
    expect(await outcome(bystanderSession.me.get())).toBe('OK')
    expect(await call(users.admin, 'users.revokeSessions', { userId: 'no-such-user' })).toBe('NOT_FOUND')
  })

  test('a session without a session version (issued before revocation existed) is refused', async () => {
    const user = await makeUser(db, 'RESEARCHER')
    const api = createCaller(await createTRPCContext({ db, session: { user: { id: user.id, role: 'RESEARCHER' }, expires: new Date(Date.now() + 60_000).toISOString() } }))
    expect(await outcome(api.me.get())).toBe('UNAUTHORIZED')
  })
})

test('an admin cannot disable their own account', async () => {
  expect(await call(users.admin, 'users.setDisabled', { userId: users.admin.id, disabled: true })).toBe('BAD_REQUEST')
})
