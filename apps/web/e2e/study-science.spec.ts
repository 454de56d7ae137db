// The study science end to end, against the real worker: a study designed in the browser with two attention checks,
// a bonus per verified correct answer (capped) and distinct completion codes per outcome; launched, its preregistration
// frozen when it opens (the download's SHA-256 is the one shown); the junior evaluated on the study's own items. Six
// participants take it through the participant API — one fails both attention checks and is screened out with its
// own code — and the dashboard shows people beside the junior, the mixed-model row, outcomes and bonuses; the bonus
// CSV downloads in Prolific's format and the analysis bundle is written by the worker. The study page is in tabs:
// the draft opens on its design, launching is under Settings, then Dashboard, Participants and Exports.
import { createHash } from 'node:crypto'

import { expect, test, type APIRequestContext } from '@playwright/test'

import { expectAccessible, insertFixtureRun, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })
test.describe.configure({ mode: 'serial' })

const stem = `e2e-sci-${Date.now().toString(36)}`
const runs = { TRL: `${stem}-trl`, GRPO: `${stem}-grpo` }

test.beforeAll(async () => {
  await insertFixtureRun(runs.TRL, 'TRL')
  await insertFixtureRun(runs.GRPO, 'GRPO')
})

interface Completion {
  outcome: string
  code: string | null
}
interface SessionView {
  stage: string
  task: { assignmentId: string } | null
  attention: { checkId: string; options: string[] } | null
  completion: Completion | null
}

async function trpc<T>(request: APIRequestContext, path: string, input: unknown): Promise<T> {
  const response = await request.post(`/api/trpc/${path}`, { data: { json: input } })
  const body = (await response.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } }
  if (!response.ok() || !body.result) throw new Error(`${path}: ${response.status()} ${body.error?.json.message ?? JSON.stringify(body)}`)
  return body.result.data.json
}

/** The expected answer of a task's problem (the e2e answers some tasks rightly on purpose). */
async function expectedAnswer(assignmentId: string): Promise<string> {
  return withDb(async (db) => {
    const row = await db.query(
      `SELECT p.answer FROM assignments a JOIN study_items i ON i.id = a.item_id JOIN problems p ON p.id = i.problem_id WHERE a.id = $1`,
      [assignmentId],
    )
    return String(row.rows[0].answer)
  })
}

/**
 * One participant from consent to the end of the session: attention checks answered rightly or not, each task
 * answered rightly when `correct(position)` says so. Returns the completion the last page shows.
 */
async function takePart(
  request: APIRequestContext,
  studyId: string,
  pid: string,
  attention: 'right' | 'wrong',
  correct: (position: number) => boolean,
): Promise<Completion> {
  const { token } = await trpc<{ token: string }>(request, 'participant.join', {
    studyId,
    consent: true,
    params: { PROLIFIC_PID: pid, STUDY_ID: 'prolific-study', SESSION_ID: `session-${pid}` },
  })
  let position = 0
  for (let step = 0; step < 40; step++) {
    const session = await trpc<SessionView>(request, 'participant.session', { token })
    switch (session.stage) {
      case 'instructions':
        await trpc(request, 'participant.finishInstructions', { token })
        break
      case 'practice':
        await trpc(request, 'participant.submitPractice', { token, continuation: '12 + 12 = 24', answer: '24' })
        break
      case 'attention': {
        const options = session.attention!.options
        const answer = attention === 'right' ? 'Blue' : options.find((o) => o !== 'Blue')!
        await trpc(request, 'participant.answerAttention', { token, checkId: session.attention!.checkId, answer })
        break
      }
      case 'task': {
        const assignmentId = session.task!.assignmentId
        await trpc(request, 'participant.startTask', { token, assignmentId })
        const answer = correct(position) ? await expectedAnswer(assignmentId) : '-1'
        await trpc(request, 'participant.submit', {
          token, assignmentId, continuation: `Working it out step by step gives ${answer}.`, answer, easeRating: 4, confidence: 3,
        })
        position += 1
        break
      }
      case 'complete':
        return session.completion!
      default:
        throw new Error(`participant ${pid}: unexpected stage ${session.stage}`)
    }
  }
  throw new Error(`participant ${pid} did not finish`)
}

test('design with pay and two checks, launch, freeze the preregistration, take part, read people beside the junior, the mixed model, outcomes and bonuses', async ({
  page,
  request,
}) => {
  test.setTimeout(420_000)
  await signIn(page)
  await page.goto('/console/studies/new')
  const name = `Science study ${stem}`
  await page.getByLabel('Study name').fill(name)
  await page.getByLabel('Condition 1 checkpoint').selectOption(`${runs.TRL}-ck`)
  await page.getByLabel('Condition 2 checkpoint').selectOption(`${runs.GRPO}-ck`)
  await page.locator('#datasetId').selectOption({ label: 'arithmetic-eval (150 problems)' })
  await page.getByLabel('Number of problems').fill('4')
  await page.getByLabel('Tasks per participant').fill('3')
  await page.getByLabel('Step k', { exact: true }).fill('1')
  await page.getByLabel('Max new tokens').fill('24')
  await page.getByLabel('Junior samples per item').fill('2')
  await page.getByLabel('Minimum seconds per task').fill('0') // the API participants answer at once
  // a second attention check: the default one comes after task 1, this one after task 2
  await page.getByRole('button', { name: 'Add attention check' }).click()
  await page.locator('#attentionChecks-1-afterTask').fill('2')
  await page.locator('#attentionChecks-1-prompt').fill('To show you are reading, choose Blue.')
  await page.locator('#attentionChecks-1-options').fill('Red\nBlue\nGreen')
  await page.locator('#attentionChecks-1-correct').fill('Blue')
  // pay: 0.50 per verified correct answer, at most 1.00
  await page.getByLabel(/^Bonus per verified correct answer/).fill('0.50')
  await page.getByLabel(/^Bonus cap per participant/).fill('1.00')
  const completedCode = await page.getByLabel('Completion code').inputValue()
  const screenedOutCode = await page.getByLabel('Screened-out code').inputValue()
  expect(screenedOutCode).not.toBe(completedCode)
  // the power panel simulates from the design before launch
  await expect(page.getByText('Participants needed')).toBeVisible({ timeout: 20_000 })
  // the default consent has placeholders ([DURATION], …) that launch refuses until they are filled
  await page.getByLabel('Consent text').fill('You are invited to a 10-minute study, paid £2. Stop at any time; to withdraw your data write to e2e@example.org.')
  await page.getByRole('button', { name: 'Create study' }).click()
  await expect(page).toHaveURL(/\/console\/studies\/(?!new)[^/]+$/)
  const studyId = page.url().split('/').pop()!

  // a draft opens on its design (the preregistration is part of it); launching is under Settings
  await expect(page.getByTestId('preregistration-pending')).toBeVisible()
  await page.getByRole('tab', { name: 'Settings', exact: true }).click()
  await page.getByRole('button', { name: 'Launch', exact: true }).click()
  await expect(page.getByTestId('study-status')).toHaveAttribute('data-status', 'OPEN', { timeout: 120_000 })

  // the preregistration froze when the study opened: the download's SHA-256 is the one shown
  await page.getByRole('tab', { name: 'Design', exact: true }).click()
  const sha = page.getByTestId('preregistration-sha256')
  await expect(sha).toHaveValue(/^[0-9a-f]{64}$/, { timeout: 20_000 })
  const shown = await sha.inputValue()
  const snapshot = await page.request.get(`/api/studies/${studyId}/preregistration?format=json`)
  expect(snapshot.status()).toBe(200)
  const bytes = await snapshot.body()
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(shown)
  const frozen = JSON.parse(bytes.toString('utf8')) as { items: { traceId: string | null }[]; pay: { bonusPerCorrectCents: number } }
  expect(frozen.items).toHaveLength(8)
  expect(frozen.items.every((i) => typeof i.traceId === 'string')).toBe(true)
  expect(frozen.pay.bonusPerCorrectCents).toBe(50)
  expect((await page.request.get(`/api/studies/${studyId}/preregistration?format=md`)).status()).toBe(200)

  // six participants: one fails both checks (screened out after the second, before its third task); the others vary
  const screened = await takePart(request, studyId, `${stem}-p2`, 'wrong', () => true)
  expect(screened).toMatchObject({ outcome: 'SCREENED_OUT', code: screenedOutCode })
  const first = await takePart(request, studyId, `${stem}-p1`, 'right', () => true)
  expect(first).toMatchObject({ outcome: 'COMPLETED', code: completedCode })
  for (let n = 3; n <= 6; n++) {
    const done = await takePart(request, studyId, `${stem}-p${n}`, 'right', (position) => (n + position) % 2 === 0)
    expect(done.outcome).toBe('COMPLETED')
  }

  // every answer verified (2 of the screened-out participant's + 5 × 3)
  await page.getByRole('tab', { name: 'Dashboard', exact: true }).click()
  await expect(page.getByTestId('count-verified').locator('dd')).toHaveText('17', { timeout: 90_000 })
  await expect(page.getByTestId('count-excluded').locator('dd')).toHaveText('1')

  // people beside the junior: the junior's evaluation on the same items, one chart, the item scatter
  await expect(page.getByTestId('junior-status')).toHaveAttribute('data-state', 'done', { timeout: 120_000 })
  await expect(page.getByTestId('handoff-step-chart')).toBeVisible()
  await expect(page.getByTestId('agreement-scatter')).toBeVisible()
  await expect(page.getByTestId('agreement-correlation')).toContainText(/item/)

  // the mixed model, fitted by the worker after the answers were verified; refit on demand
  const model = page.getByTestId('mixed-model')
  await expect(model.getByTestId('mixed-model-fitted')).toContainText('Fitted on', { timeout: 90_000 })
  await expect(model.getByTestId('mixed-model-conditions')).toContainText('TRL')
  await expect(model.getByTestId('mixed-model-effects')).toContainText('odds ratio')
  await model.getByTestId('mixed-model-refit').click()
  await expect(model.getByTestId('mixed-model-job')).toBeVisible()
  await expectAccessible(page, 'a study with people beside the junior and the mixed model')

  // outcomes and bonuses in the participants table: 3 correct × 0.50 capped at 1.00; none for the screened out
  await page.getByRole('tab', { name: 'Participants', exact: true }).click()
  await page.getByLabel('Outcome', { exact: true }).selectOption('SCREENED_OUT')
  await expect(page.getByTestId('participant-row')).toHaveCount(1)
  await expect(page.getByTestId('participant-row')).toContainText(`${stem}-p2`)
  await expect(page.getByTestId('participant-row').getByTestId('participant-outcome')).toHaveText('screened out')
  await page.getByLabel('Outcome', { exact: true }).selectOption('')
  await expect(page.getByTestId('participant-row')).toHaveCount(6)
  await expect(page.getByTestId('participant-row').filter({ hasText: `${stem}-p1` })).toContainText('£1.00')

  // the bonus CSV: Prolific's bulk format, verified answers only
  const bonus = await page.request.get(`/api/studies/${studyId}/bonus`)
  expect(bonus.status()).toBe(200)
  const lines = (await bonus.text()).trim().split('\n')
  expect(lines).toContain(`${stem}-p1,1.00`)
  expect(lines.some((l) => l.startsWith(`${stem}-p2,`))).toBe(false)
  for (const line of lines) expect(line).toMatch(/^[^,]+,\d+\.\d{2}$/)

  // the analysis bundle (zip: CSV, codebook, preregistration, analysis.py, analysis.R), written by the worker
  await page.getByRole('tab', { name: 'Exports', exact: true }).click()
  await page.getByTestId('request-bundle').click()
  const bundleRow = page.getByTestId('export-row').filter({ hasText: 'BUNDLE' }).first()
  await expect(bundleRow.locator('[data-status="READY"]')).toBeVisible({ timeout: 90_000 })
})
