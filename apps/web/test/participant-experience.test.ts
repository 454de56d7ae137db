// The participant's experience on the server: the practice's result is kept with the session (a reload after the
// practice still shows it, until the first task starts), and a consent text with unfilled placeholders ([DURATION],
// …) cannot be launched.
import { describe, expect, test } from 'vitest'

import { DEFAULT_CONSENT } from '@/app/console/studies/design-defaults'

import { callerFor, makeCatalog, makeCheckpoints, makeUser, rejectionOf, testDb } from './support/helpers'
import { anonymous, makeOpenStudy, validStudyDesign } from './support/studies'

const db = testDb()

async function afterInstructions() {
  const study = await makeOpenStudy(db) // practice: "What is 1 + 1?", answer 2
  const api = await anonymous(db)
  const { token } = await api.participant.join({ studyId: study.studyId, consent: true, params: {} })
  await api.participant.finishInstructions({ token })
  return { api, token }
}

describe('the practice result', () => {
  test('a wrong answer: the session view says so with the expected answer, also after a reload, until the first task starts', async () => {
    const { api, token } = await afterInstructions()
    await api.participant.submitPractice({ token, continuation: 'so 1 + 1 = 3', answer: '3' })

    for (let reload = 0; reload < 2; reload++) {
      const view = await api.participant.session({ token })
      expect(view.stage).toBe('task')
      expect(view.task).toMatchObject({ position: 1, startedAt: null })
      expect(view.practice).toEqual({
        problem: 'What is 1 + 1?',
        reasoning: '1 + 1 = 2',
        result: { continuation: 'so 1 + 1 = 3', answer: '3', expected: '2', verdict: 'incorrect' },
      })
    }

    // "Start the study": the first task's clock starts, and the result is no longer part of the view
    const view = await api.participant.session({ token })
    await api.participant.startTask({ token, assignmentId: view.task!.assignmentId })
    expect((await api.participant.session({ token })).practice).toBeNull()
  })

  test('an equivalent number or fraction is correct, as the verifier would judge it', async () => {
    const { api, token } = await afterInstructions()
    await api.participant.submitPractice({ token, continuation: '', answer: '4/2' })
    expect((await api.participant.session({ token })).practice?.result).toMatchObject({ answer: '4/2', expected: '2', verdict: 'correct' })
  })
})

describe('consent placeholders', () => {
  async function draft(consentText: string) {
    const owner = await makeUser(db, 'RESEARCHER')
    const catalog = await makeCatalog(db)
    const checkpoints = await makeCheckpoints(db, catalog, owner)
    const api = await callerFor(db, owner)
    const conditions = [{ name: 'TRL', checkpointId: checkpoints.trl.id }, { name: 'GRPO', checkpointId: checkpoints.grpo.id }]
    const { id } = await api.studies.create(validStudyDesign(conditions, catalog.dataset.id, { consentText }))
    return { api, id }
  }

  test('launch refuses the default consent until its placeholders are filled, naming each one left', async () => {
    const { api, id } = await draft(DEFAULT_CONSENT)
    const error = await rejectionOf(api.studies.launch({ id }))
    expect(error.code).toBe('BAD_REQUEST')
    for (const placeholder of ['[DURATION]', '[PAYMENT]', '[CONTACT]', '[HOW TO WITHDRAW]']) expect(error.message).toContain(placeholder)
    expect((await db.study.findUniqueOrThrow({ where: { id } })).status).toBe('DRAFT')
    expect(await db.job.count({ where: { studyId: id } })).toBe(0)

    const filled = DEFAULT_CONSENT.replace('[RESEARCHER AND INSTITUTION]', 'the Tandem group, Example University')
      .replace('[DURATION]', '20 minutes')
      .replace('[PAYMENT]', '£3.00')
      .replace('[HOW TO WITHDRAW]', 'write to us within 30 days with your Prolific ID')
    await db.study.update({ where: { id }, data: { consentText: filled } })
    const left = await rejectionOf(api.studies.launch({ id }))
    expect(left.message).toContain('[CONTACT]')
    expect(left.message).not.toContain('[DURATION]')

    await db.study.update({ where: { id }, data: { consentText: filled.replace('[CONTACT]', 'tandem@example.org') } })
    await expect(api.studies.launch({ id })).resolves.toMatchObject({ jobId: expect.any(String) })
  })
})
