// A handoff study from launch to data, in the browser: the researcher launches a study with a TRL and a GRPO
// senior (the worker generates and cuts their traces, then opens it); two participants take it at the same time in
// two browsers — one reloads mid-task and finds everything as typed — and finish; the worker verifies every
// answer; the researcher sees both sessions verified on the dashboard and in the CSV export.
import { expect, test, type Browser, type Page } from '@playwright/test'
import { parse } from 'csv-parse/sync'

import { insertFixtureRun, signIn, trpcCall, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const stem = `e2e-session-${Date.now().toString(36)}`
const CODE = 'E2E-SESSION-OK'

test.beforeAll(async () => {
  for (const algorithm of ['TRL', 'GRPO'] as const) await insertFixtureRun(`${stem}-${algorithm}`, algorithm)
})

/** The expected answer of the task the participant `pid` sees at `position` (to answer right or wrong). */
async function expectedAnswer(studyId: string, pid: string, position: number): Promise<string> {
  return withDb(async (db) => (await db.query(
    `SELECT pr.answer FROM assignments a JOIN participants p ON p.id = a.participant_id
     JOIN study_items i ON i.id = a.item_id JOIN problems pr ON pr.id = i.problem_id
     WHERE p.study_id = $1 AND p.external_id = $2 AND a.position = $3`,
    [studyId, pid, position],
  )).rows[0].answer)
}

/** One participant in their own browser, from the study link to the completion code. */
async function takeStudy(browser: Browser, studyId: string, pid: string, opts: { correct: boolean; reloadMidTask: boolean }) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`/study/${studyId}?PROLIFIC_PID=${pid}&STUDY_ID=e2e&SESSION_ID=${pid}-s`)
  await page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(page).toHaveURL(/\/take$/)
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Continue the reasoning').fill('2 + 2 = 4')
  await page.getByLabel('Final answer').fill('4')
  await page.getByRole('button', { name: 'Check my answer' }).click()
  await page.getByRole('button', { name: 'Start the study' }).click()
  for (const position of [0, 1]) {
    await expect(page.getByRole('heading', { level: 1, name: `Task ${position + 1} of 2` })).toBeVisible()
    // the senior's reasoning up to the handoff point is shown
    await expect(page.getByRole('region', { name: "The AI's reasoning so far" })).toBeVisible()
    const answer = opts.correct ? await expectedAnswer(studyId, pid, position) : '-987654'
    await page.getByLabel('Continue the reasoning').fill(`Finishing task ${position + 1}.`)
    await page.getByLabel('Final answer').fill(answer)
    await page.getByTestId('task-ease').getByRole('radio', { name: '4' }).check()
    await page.getByTestId('task-confidence').getByRole('radio', { name: '3' }).check()
    if (opts.reloadMidTask && position === 0) {
      await expect(page.getByTestId('save-status')).toHaveText('Saved')
      await page.reload()
      await expect(page.getByRole('heading', { level: 1, name: 'Task 1 of 2' })).toBeVisible()
      await expect(page.getByLabel('Continue the reasoning')).toHaveValue('Finishing task 1.')
      await expect(page.getByLabel('Final answer')).toHaveValue(answer)
      await expect(page.getByTestId('task-ease').getByRole('radio', { name: '4' })).toBeChecked()
    }
    await page.getByRole('button', { name: 'Submit' }).click()
    if (position === 0) {
      await page.getByRole('radio', { name: 'Blue' }).check()
      await page.getByRole('button', { name: 'Continue' }).click()
    }
  }
  await expect(page.getByTestId('completion-code')).toHaveText(CODE)
  await context.close()
}

test('two participants at once, one reloading mid-task; the researcher sees both verified on the dashboard and in the CSV', async ({ page, browser }) => {
  test.setTimeout(300_000)
  await signIn(page)
  const { id: studyId } = await trpcCall<{ id: string }>(page, 'studies.create', {
    name: `${stem} study`,
    conditions: [{ name: 'TRL senior', checkpointId: `${stem}-TRL-ck` }, { name: 'GRPO senior', checkpointId: `${stem}-GRPO-ck` }],
    datasetId: await withDb(async (db) => (await db.query(`SELECT id FROM datasets WHERE name = 'arithmetic-eval'`)).rows[0].id),
    problemCount: 2, seed: 0, handoffRule: { kind: 'fraction', f: 0.5 }, temperature: 1, maxNewTokens: 24,
    tasksPerParticipant: 2, timeLimitSeconds: 600, consentText: 'You agree to take part.', instructions: 'Finish the reasoning.',
    practice: { problem: 'What is 2 + 2?', reasoning: 'Step 1: add.', answer: '4' },
    attentionChecks: [{ id: 'colour', afterTask: 1, prompt: 'Choose Blue.', options: ['Red', 'Blue'], correct: 'Blue' }],
    minSecondsPerTask: 0, completionCode: CODE, redirectUrl: null, urlParams: ['PROLIFIC_PID', 'STUDY_ID', 'SESSION_ID'],
  })
  await trpcCall(page, 'studies.launch', { id: studyId })
  // the worker generates both seniors' traces, cuts them and opens the study
  await expect.poll(async () => withDb(async (db) => (await db.query('SELECT status FROM studies WHERE id = $1', [studyId])).rows[0].status), { timeout: 120_000, intervals: [1000] }).toBe('OPEN')
  const items = await withDb(async (db) => (await db.query('SELECT trace_id, prefix_text FROM study_items WHERE study_id = $1', [studyId])).rows)
  expect(items).toHaveLength(4)
  for (const item of items) expect(item.trace_id).toBeTruthy()

  await Promise.all([
    takeStudy(browser, studyId, `${stem}-alice`, { correct: true, reloadMidTask: true }),
    takeStudy(browser, studyId, `${stem}-bob`, { correct: false, reloadMidTask: false }),
  ])

  // one response per task (the reload stored nothing twice), each verified by the worker
  await expect.poll(async () => withDb(async (db) => (await db.query(
    `SELECT count(*) FILTER (WHERE v.id IS NOT NULL) AS verified, count(*) AS responses
     FROM responses r JOIN assignments a ON a.id = r.assignment_id JOIN participants p ON p.id = a.participant_id
     LEFT JOIN verifier_results v ON v.response_id = r.id WHERE p.study_id = $1`, [studyId])).rows[0]), { timeout: 60_000 })
    .toEqual({ verified: '4', responses: '4' })

  await page.goto(`/console/studies/${studyId}`)
  await expect(page.getByTestId('count-completed').locator('dd')).toHaveText('2')
  await expect(page.getByTestId('count-verified').locator('dd')).toHaveText('4')
  await expect(page.getByTestId('count-awaitingVerification').locator('dd')).toHaveText('0')
  // accuracy by condition: one row each, with an interval
  await expect(page.getByTestId('study-dashboard')).toContainText('TRL senior')
  await expect(page.getByTestId('study-dashboard')).toContainText('GRPO senior')

  const response = await page.request.get(`/api/studies/${studyId}/export?format=csv&ids=raw`)
  expect(response.ok()).toBe(true)
  const rows = parse(await response.text(), { columns: true }) as Record<string, string>[]
  expect(rows).toHaveLength(4)
  const byPerson = (pid: string) => rows.filter((r) => r.participant_external_id === pid)
  expect(byPerson(`${stem}-alice`).map((r) => r.verdict)).toEqual(['CORRECT', 'CORRECT'])
  expect(byPerson(`${stem}-bob`).map((r) => r.verdict)).toEqual(['INCORRECT', 'INCORRECT'])
  for (const r of rows) {
    expect(r.verifier_result_id).not.toBe('')
    expect(r.trace_id).not.toBe('')
    expect(r.run_id).toMatch(new RegExp(`^${stem}-(TRL|GRPO)$`))
    expect(r.algorithm).toBe(r.run_id!.endsWith('TRL') ? 'TRL' : 'GRPO')
    expect(Number(r.elapsed_ms)).toBeGreaterThan(0)
  }
  // each participant saw both conditions (Latin square)
  for (const pid of [`${stem}-alice`, `${stem}-bob`]) expect(new Set(byPerson(pid).map((r) => r.algorithm))).toEqual(new Set(['TRL', 'GRPO']))
})
