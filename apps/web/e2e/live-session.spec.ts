// A live study task in Chromium with the real pieces: the researcher launches a study whose one condition is live
// (the worker exports its checkpoint to ONNX); a participant watches the senior stream from workers/live
// (onnxruntime-node), the live service is killed and restarted mid-stream and the senior resumes from the stored
// text, the participant takes over, writes, hands back, the senior continues, and the answer is submitted. The
// database holds every span with author and timing, the worker verifies the answer, and the trace viewer shows
// the participant's spans.
import { spawn } from 'node:child_process'

import { expect, test, type Browser, type Page } from '@playwright/test'

import { expectAccessible, insertFixtureRun, signIn, trpcCall, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const stem = `e2e-live-${Date.now().toString(36)}`
const CODE = 'E2E-LIVE-OK'
let restartedPgid: number | null = null

test.beforeAll(async () => {
  // one finished "run" whose checkpoint is the fixture base model's weights
  await insertFixtureRun(`${stem}-TRL`, 'TRL')
})

test.afterAll(() => {
  if (restartedPgid) {
    try {
      process.kill(-restartedPgid, 'SIGTERM')
    } catch {
      /* already gone */
    }
  }
})

const spansOf = (studyId: string) =>
  withDb(async (db) => (await db.query(
    `SELECT s.seq, s.author, s.text, s.tokens, s.end_reason, s.started_at, s.ended_at FROM live_spans s
     JOIN assignments a ON a.id = s.assignment_id JOIN participants p ON p.id = a.participant_id
     WHERE p.study_id = $1 ORDER BY s.seq`, [studyId])).rows as { seq: number; author: string; text: string; tokens: number; end_reason: string | null }[])

/** The senior's text shown on the page (all senior spans). */
const seniorShown = (page: Page) => page.getByTestId('live-text').locator('[data-author="senior"]').allTextContents().then((t) => t.join(''))

/** Kills the live service (its whole process group, as a crash would) and starts a new one on the same port. */
async function restartLiveService(page: Page) {
  process.kill(-Number(process.env.E2E_LIVE_PGID), 'SIGKILL')
  // the page notices and keeps trying; nothing shown is lost
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-status', 'waiting', { timeout: 15_000 })
  await expect(page.getByTestId('live-status')).toContainText('not reachable')
  const child = spawn('npm', ['run', '-s', 'start', '-w', 'workers/live'], {
    cwd: process.env.E2E_REPO_ROOT,
    env: { ...process.env, LIVE_HOST: '127.0.0.1', LIVE_PORT: process.env.E2E_LIVE_PORT },
    detached: true,
    stdio: 'ignore',
  })
  restartedPgid = child.pid ?? null
  await expect.poll(async () => (await fetch(`${process.env.E2E_LIVE_URL}/health`).catch(() => null))?.status ?? 0, { timeout: 60_000 }).toBe(200)
}

/** A one-condition live study on the fixture run's checkpoint (seed 3, one problem), created but not launched. */
async function createLiveStudy(page: Page, name: string, design: { handoffRule: unknown; maxNewTokens: number; liveTokensPerSecond: number }) {
  const { id } = await trpcCall<{ id: string }>(page, 'studies.create', {
    name: `${stem} ${name}`,
    conditions: [{ name: 'Live TRL senior', checkpointId: `${stem}-TRL-ck`, live: true }],
    datasetId: await withDb(async (db) => (await db.query(`SELECT id FROM datasets WHERE name = 'arithmetic-eval'`)).rows[0].id),
    problemCount: 1, seed: 3, temperature: 1, ...design,
    tasksPerParticipant: 1, timeLimitSeconds: 900, consentText: 'You agree to take part.', instructions: 'Work with the AI.',
    practice: { problem: 'What is 2 + 2?', reasoning: 'Step 1: add.', answer: '4' },
    attentionChecks: [], minSecondsPerTask: 0, completionCode: CODE, redirectUrl: null, urlParams: ['PROLIFIC_PID'],
  })
  return id
}

/** Launches the study and waits until the worker has exported the live checkpoint (if needed) and opened it. */
async function launchAndWaitOpen(page: Page, studyId: string) {
  await trpcCall(page, 'studies.launch', { id: studyId })
  await expect.poll(async () => withDb(async (db) => (await db.query('SELECT status FROM studies WHERE id = $1', [studyId])).rows[0].status), { timeout: 120_000, intervals: [1000] }).toBe('OPEN')
}

/** A participant in a browser of their own, through consent, instructions and practice to the (one) task. */
async function startTask(browser: Browser, studyId: string, pid: string) {
  const context = await browser.newContext()
  const participant = await context.newPage()
  await participant.goto(`/study/${studyId}?PROLIFIC_PID=${pid}`)
  await participant.getByRole('button', { name: 'I agree — start' }).click()
  await participant.getByRole('button', { name: 'Continue' }).click()
  await participant.getByLabel('Continue the reasoning').fill('2 + 2 = 4')
  await participant.getByLabel('Final answer').fill('4')
  await participant.getByRole('button', { name: 'Check my answer' }).click()
  await participant.getByRole('button', { name: 'Start the study' }).click()
  await expect(participant.getByRole('heading', { level: 1, name: 'Task 1 of 1' })).toBeVisible()
  return { context, participant }
}

test('a live task: the senior streams, survives a service restart, the participant takes over and hands back; spans, verdict and trace are stored', async ({ page, browser }) => {
  test.setTimeout(300_000)
  await signIn(page)
  // no scheduled handover within the budget: the participant takes over
  const studyId = await createLiveStudy(page, 'study', { handoffRule: { kind: 'step', k: 50 }, maxNewTokens: 64, liveTokensPerSecond: 4 })
  // the designer shows the condition as live (and keeps it so when the draft is edited)
  await page.goto(`/console/studies/${studyId}/edit`)
  await expect(page.getByTestId('condition-0-live')).toBeChecked()
  await expect(page.getByLabel('Live reading pace (tokens/s)')).toHaveValue('4')
  // the worker exports the live condition's checkpoint to ONNX (checked against PyTorch) and opens the study
  await launchAndWaitOpen(page, studyId)
  await page.goto(`/console/studies/${studyId}?tab=design`)
  await expect(page.getByTestId('design-conditions')).toContainText('live')
  await expect(page.getByTestId('design-summary')).toContainText('streamed at 4 tokens/s')
  // the run page lists the export beside its source checkpoint
  await page.goto(`/console/runs/${stem}-TRL`)
  await expect(page.getByTestId('onnx-state')).toHaveText('ONNX exported')

  const { context, participant } = await startTask(browser, studyId, `${stem}-p1`)

  // the senior streams at the study's reading pace; the participant's field is hidden while it writes
  await expect(participant.getByTestId('live-text')).toHaveAttribute('data-control', 'senior')
  await expect.poll(() => seniorShown(participant), { timeout: 30_000 }).not.toBe('')
  await expect(participant.getByLabel('Your writing')).toBeHidden()

  // the live service dies mid-stream and comes back: the senior resumes from what was stored
  await restartLiveService(participant)
  const beforeResume = await seniorShown(participant)
  await expect(participant.getByTestId('live-status')).toHaveAttribute('data-status', 'streaming', { timeout: 30_000 })
  await expect.poll(async () => (await seniorShown(participant)).length, { timeout: 30_000 }).toBeGreaterThan(beforeResume.length)
  expect((await seniorShown(participant)).startsWith(beforeResume)).toBe(true)

  // take over: the senior stops where the participant saw it
  await participant.getByRole('button', { name: 'Take over' }).click()
  await expect(participant.getByTestId('live-text')).toHaveAttribute('data-control', 'human')
  await expect(participant.getByLabel('Your writing')).toBeFocused()
  const seniorFirst = await seniorShown(participant)
  let spans = await spansOf(studyId)
  expect(spans).toHaveLength(1)
  expect(spans[0]).toMatchObject({ seq: 0, author: 'senior', end_reason: 'take_over', text: seniorFirst })

  await expectAccessible(participant, 'a live task with the participant in control')
  // write, then hand back: the writing joins the shared text as the participant's span and the senior continues
  await participant.getByLabel('Your writing').fill(' Let me add: 12 + 30 = 42.\n')
  if (process.env.E2E_SCREENSHOTS) await participant.screenshot({ path: test.info().outputPath('live-human.png'), fullPage: true })
  await participant.getByRole('button', { name: 'Hand back to the AI' }).click()
  await expect(participant.getByTestId('live-text').locator('[data-author="human"]')).toHaveText(' Let me add: 12 + 30 = 42.\n')
  await expect(participant.getByLabel('Your writing')).toBeHidden()
  await expect(participant.getByRole('button', { name: 'Take over' })).toBeFocused()
  if (process.env.E2E_SCREENSHOTS) await participant.screenshot({ path: test.info().outputPath('live-senior.png'), fullPage: true })
  // the senior writes until it finishes or its budget is spent; then the participant has control again
  await expect(participant.getByTestId('live-text')).toHaveAttribute('data-control', 'human', { timeout: 60_000 })
  spans = await spansOf(studyId)
  expect(spans.map((s) => [s.seq, s.author, s.end_reason === null])).toEqual([[0, 'senior', false], [1, 'human', false], [2, 'senior', false]])
  expect(['eos', 'length']).toContain(spans[2]!.end_reason)
  expect(spans[2]!.tokens).toBeGreaterThan(0)

  await participant.getByLabel('Final answer').fill('42')
  await participant.getByTestId('task-ease').getByRole('radio', { name: '4' }).check()
  await participant.getByTestId('task-confidence').getByRole('radio', { name: '3' }).check()
  await participant.getByRole('button', { name: 'Submit' }).click()
  await expect(participant.getByTestId('completion-code')).toHaveText(CODE)
  await context.close()

  // the response is the whole shared text, linked to its trace, and verified by the worker
  const response = await expect
    .poll(async () => withDb(async (db) => (await db.query(
      `SELECT r.continuation, r.trace_id, v.verdict FROM responses r JOIN assignments a ON a.id = r.assignment_id
       JOIN participants p ON p.id = a.participant_id LEFT JOIN verifier_results v ON v.response_id = r.id
       WHERE p.study_id = $1`, [studyId])).rows[0]?.verdict ?? null), { timeout: 60_000 })
    .not.toBeNull()
    .then(() => withDb(async (db) => (await db.query(
      `SELECT r.continuation, r.trace_id FROM responses r JOIN assignments a ON a.id = r.assignment_id
       JOIN participants p ON p.id = a.participant_id WHERE p.study_id = $1`, [studyId])).rows[0] as { continuation: string; trace_id: string }))
  spans = await spansOf(studyId)
  expect(response.continuation).toBe(spans.map((s) => s.text).join(''))

  // the study's dashboard counts the take-over and the hand-back
  await page.goto(`/console/studies/${studyId}`)
  await expect(page.getByTestId('live-stats')).toContainText('Live TRL senior')
  await expect(page.getByTestId('count-verified').locator('dd')).toHaveText('1')

  // the trace viewer shows the participant's span and the session's timeline
  await page.goto(`/console/traces/${response.trace_id}`)
  await expect(page.getByTestId('trace-text').locator('[data-author="human"]')).toContainText('12 + 30 = 42')
  await expect(page.getByTestId('author-legend')).toContainText('Human')
  await expect(page.getByTestId('live-session').locator('tbody tr')).toHaveCount(3)
  await expect(page.getByTestId('live-session')).toContainText('participant took over')
  await expect(page.getByTestId('live-session')).toContainText('handed back')
  if (process.env.E2E_SCREENSHOTS) await page.screenshot({ path: test.info().outputPath('live-trace.png'), fullPage: true })
})

test('the scheduled handover: the senior stops at the study\'s point and the participant writes on', async ({ page, browser }) => {
  test.setTimeout(180_000)
  await signIn(page)
  // fraction 0.05 of 40 tokens: the senior hands over after its 2nd token
  const studyId = await createLiveStudy(page, 'scheduled', { handoffRule: { kind: 'fraction', f: 0.05 }, maxNewTokens: 40, liveTokensPerSecond: 8 })
  await launchAndWaitOpen(page, studyId)
  const { context, participant } = await startTask(browser, studyId, `${stem}-p2`)

  // no button pressed: control comes to the participant at the scheduled point, ready to type
  await expect(participant.getByTestId('live-text')).toHaveAttribute('data-control', 'human', { timeout: 30_000 })
  await expect(participant.getByTestId('live-status')).toHaveText('The AI has handed over to you. Continue the reasoning below.')
  await expect(participant.getByLabel('Your writing')).toBeFocused()
  const spans = await spansOf(studyId)
  expect(spans).toHaveLength(1)
  expect(spans[0]).toMatchObject({ author: 'senior', tokens: 2, end_reason: 'handover' })
  await expect(participant.getByTestId('live-text').locator('[data-author="senior"]')).toHaveText(spans[0]!.text)

  await participant.keyboard.type(' So 39 - 4 + 6 = 41.')
  await participant.getByLabel('Final answer').fill('41')
  await participant.getByTestId('task-ease').getByRole('radio', { name: '5' }).check()
  await participant.getByTestId('task-confidence').getByRole('radio', { name: '5' }).check()
  await participant.getByRole('button', { name: 'Submit' }).click()
  await expect(participant.getByTestId('completion-code')).toHaveText(CODE)
  await context.close()
  expect((await spansOf(studyId)).map((s) => [s.author, s.end_reason])).toEqual([['senior', 'handover'], ['human', 'submit']])
})
