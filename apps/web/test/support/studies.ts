// Study fixtures: a valid design, and an OPEN study whose senior traces are "generated" by SQL (the worker's job is
// tested in workers/trainer/tests/test_studies.py).
import { randomInt } from 'node:crypto'

import { createCaller } from '@/server/api/root'
import type { StudyDesignInput } from '@/server/api/routers/studies.schema'
import { createTRPCContext } from '@/server/api/trpc'
import type { Db } from '@/server/db'

import { callerFor, makeCatalog, makeCheckpoints, makeUser, uniq, type TestUser } from './helpers'

export function validStudyDesign(
  conditions: { name: string; checkpointId: string }[],
  datasetId: string,
  overrides: Partial<StudyDesignInput> = {},
): StudyDesignInput {
  return {
    name: uniq('study'),
    conditions,
    datasetId,
    problemCount: 2,
    seed: 0,
    handoffRule: { kind: 'step', k: 1 },
    tasksPerParticipant: 2,
    timeLimitSeconds: 120,
    consentText: 'You agree to take part.',
    instructions: 'Continue the reasoning and give a final answer.',
    practice: { problem: 'What is 1 + 1?', reasoning: '1 + 1 = 2', answer: '2' },
    attentionChecks: [{ id: 'a1', afterTask: 1, prompt: 'Choose "blue".', options: ['red', 'blue'], correct: 'blue' }],
    minSecondsPerTask: 0,
    completionCode: 'DONE123',
    redirectUrl: 'https://app.prolific.com/submissions/complete?cc=DONE123',
    urlParams: ['PROLIFIC_PID', 'STUDY_ID', 'SESSION_ID'],
    ...overrides,
  }
}

export interface OpenStudy {
  owner: TestUser
  studyId: string
  conditionIds: string[]
  checkpoints: Awaited<ReturnType<typeof makeCheckpoints>>
  datasetId: string
}

/**
 * A study through the researcher API (create + launch), then opened as the worker would: every item gets a
 * prefix, and the status becomes OPEN.
 */
export async function makeOpenStudy(db: Db, overrides: Partial<StudyDesignInput> = {}): Promise<OpenStudy> {
  const owner = await makeUser(db, 'RESEARCHER')
  const catalog = await makeCatalog(db)
  const checkpoints = await makeCheckpoints(db, catalog, owner)
  const caller = await callerFor(db, owner)
  const design = validStudyDesign(
    [{ name: 'GRPO senior', checkpointId: checkpoints.grpo.id }, { name: 'TRL senior', checkpointId: checkpoints.trl.id }],
    catalog.dataset.id,
    overrides,
  )
  const { id } = await caller.studies.create(design)
  await caller.studies.launch({ id })
  await db.$executeRaw`UPDATE study_items SET prefix_text = 'Step 1: start\n', handoff_step = 1 WHERE study_id = ${id}`
  await db.study.update({ where: { id }, data: { status: 'OPEN', openedAt: new Date() } })
  const conditions = await db.studyCondition.findMany({ where: { studyId: id }, orderBy: { name: 'asc' }, select: { id: true } })
  return { owner, studyId: id, conditionIds: conditions.map((c) => c.id), checkpoints, datasetId: catalog.dataset.id }
}

/**
 * A signed-out caller (participants have no account), from an address of its own: the participant router's
 * per-address rate limits count each test participant apart, as they would real participants.
 */
export async function anonymous(db: Db, address = `198.18.${randomInt(256)}.${randomInt(256)}`) {
  return createCaller(await createTRPCContext({ db, session: null, headers: new Headers({ 'x-forwarded-for': address }) }))
}

/**
 * An open study where each of `participants` (their PROLIFIC_PIDs) answered two tasks with `continuation` and
 * `answer`, through the participant API as the page would (instructions, practice, the attention check).
 */
export async function makeStudyWithResponses(
  db: Db,
  { participants = ['pid-a', 'pid-b', 'pid-c'], continuation = 'a, "quoted"\nline', answer = '5' }: { participants?: string[]; continuation?: string; answer?: string } = {},
): Promise<OpenStudy> {
  const study = await makeOpenStudy(db)
  const api = await anonymous(db)
  for (const pid of participants) {
    const { token } = await api.participant.join({ studyId: study.studyId, consent: true, params: { PROLIFIC_PID: pid, STUDY_ID: 'S' } })
    await api.participant.finishInstructions({ token })
    await api.participant.submitPractice({ token, continuation: '', answer: '2' })
    for (let i = 0; i < 2; i++) {
      const session = await api.participant.session({ token })
      if (session.stage === 'attention') await api.participant.answerAttention({ token, checkId: 'a1', answer: 'blue' })
      const task = (await api.participant.session({ token })).task!
      await api.participant.startTask({ token, assignmentId: task.assignmentId })
      await api.participant.submit({ token, assignmentId: task.assignmentId, continuation, answer, easeRating: 4, confidence: 3 })
    }
  }
  return study
}
