// The participant flow end to end: the study link (consent, decline, a study that is not open, an unknown study),
// an invalid session link, the whole session keyboard-only (instructions with the study's length, practice and its
// result kept over a reload, a task with its math preview and a clock that stays in view on a phone, validation,
// autosave, restoring after a reload and while offline, an attention check, completion), the automatic submit when
// the time runs out (and the page saying so), and the researcher's preview, which records nothing. Studies are
// inserted with SQL in beforeAll (OPEN, with study items whose reasoning is set directly: no traces needed).
import { expect, test, type Locator, type Page } from '@playwright/test'

import { DESKTOP, email, expectAccessible, PHONE, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const STUDY = 'e2e-participant-study'
const TIMED = 'e2e-participant-timed'
const CLOSED = 'e2e-participant-closed'
const CODE = 'E2E-DONE-42'
const REDIRECT = `https://example.org/done?cc=${CODE}`
const PREFIX = 'Step 1: 3 + 4 = 7\n'

const CONSENT = 'You are invited to take part in a study about reasoning with an AI.\n\nWe record your answers and how long each task takes. Math such as $x^2$ may appear.'
const INSTRUCTIONS = "Each task shows a problem and the start of an AI's solution.\n\nContinue the reasoning and give a final answer, e.g. $\\frac{1}{2}$."
const PRACTICE = { problem: 'What is $2 + 2$?', reasoning: 'Step 1: 2 + 2 = 4\n', answer: '4' }
const CHECKS = [{ id: 'colour', afterTask: 1, prompt: 'To show you are reading, choose Blue.', options: ['Red', 'Blue', 'Green'], correct: 'Blue' }]

const uniquePid = (what: string) => `${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`

async function insertStudy(
  id: string,
  opts: { status: string; tasks: number; timeLimit: number; conditions: string[]; checks: unknown[] },
) {
  await withDb(async (db) => {
    const owner = (await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email()])).rows[0]!.id
    const dataset = (await db.query<{ id: string }>("SELECT id FROM datasets WHERE name = 'arithmetic-eval'")).rows[0]!.id
    const checkpoint = (await db.query<{ id: string }>('SELECT id FROM checkpoints WHERE run_id IS NULL ORDER BY created_at, id LIMIT 1')).rows[0]!.id
    const problems = (await db.query<{ id: string }>('SELECT id FROM problems WHERE dataset_id = $1 ORDER BY external_id LIMIT $2', [dataset, opts.tasks])).rows
    // ON CONFLICT: beforeAll runs again in a new worker after a failed test
    await db.query(
      `INSERT INTO studies (id, name, status, owner_id, dataset_id, problem_count, handoff_rule, tasks_per_participant, time_limit_s,
         consent_text, instructions, practice, attention_checks, completion_code, redirect_url, url_params, hash_salt, opened_at)
       VALUES ($1, $2, $3::"StudyStatus", $4, $5, $6, '{"kind":"step","k":1}', $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13,
         ARRAY['PROLIFIC_PID','STUDY_ID','SESSION_ID'], 'e2e-salt', now())
       ON CONFLICT (id) DO NOTHING`,
      [id, `Reasoning handoff (${id})`, opts.status, owner, dataset, opts.tasks, opts.timeLimit, CONSENT, INSTRUCTIONS, JSON.stringify(PRACTICE), JSON.stringify(opts.checks), CODE, REDIRECT],
    )
    for (const name of opts.conditions) {
      await db.query('INSERT INTO study_conditions (id, study_id, name, checkpoint_id) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [`${id}-${name}`, id, name, checkpoint])
      for (const [i, problem] of problems.entries()) {
        await db.query(
          'INSERT INTO study_items (id, study_id, condition_id, problem_id, trace_id, prefix_text, handoff_step) VALUES ($1, $2, $3, $4, NULL, $5, 1) ON CONFLICT (id) DO NOTHING',
          [`${id}-${name}-${i}`, id, `${id}-${name}`, problem.id, PREFIX],
        )
      }
    }
  })
}

// React/Next errors in the browser (hydration, keys, …) fail a test; failed requests are part of some tests
let consoleErrors: string[] = []
test.beforeEach(({ page }) => {
  consoleErrors = []
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
})
test.afterEach(() => {
  expect(consoleErrors, 'errors in the browser console').toEqual([])
})

test.beforeAll(async () => {
  await insertStudy(STUDY, { status: 'OPEN', tasks: 2, timeLimit: 600, conditions: ['A', 'B'], checks: CHECKS })
  await insertStudy(TIMED, { status: 'OPEN', tasks: 1, timeLimit: 8, conditions: ['A'], checks: [] })
  await insertStudy(CLOSED, { status: 'CLOSED', tasks: 1, timeLimit: 600, conditions: ['A'], checks: [] })
})

async function counts(studyId: string) {
  return withDb(async (db) => {
    const row = (
      await db.query<{ participants: string; assignments: string; responses: string }>(
        `SELECT (SELECT count(*) FROM participants WHERE study_id = $1) AS participants,
                (SELECT count(*) FROM assignments a JOIN participants p ON p.id = a.participant_id WHERE p.study_id = $1) AS assignments,
                (SELECT count(*) FROM responses r JOIN assignments a ON a.id = r.assignment_id JOIN participants p ON p.id = a.participant_id WHERE p.study_id = $1) AS responses`,
        [studyId],
      )
    ).rows[0]!
    return { participants: Number(row.participants), assignments: Number(row.assignments), responses: Number(row.responses) }
  })
}

async function participant(studyId: string, pid: string) {
  return withDb(async (db) => {
    const rows = await db.query<{ id: string; declined_at: Date | null; completed_at: Date | null; attention: { checkId: string; correct: boolean }[]; url_params: Record<string, string> }>(
      'SELECT id, declined_at, completed_at, attention, url_params FROM participants WHERE study_id = $1 AND external_id = $2',
      [studyId, pid],
    )
    return rows.rows[0] ?? null
  })
}

async function draftOf(studyId: string, pid: string, position: number): Promise<{ continuation?: string; answer?: string } | null> {
  return withDb(async (db) => {
    const rows = await db.query<{ draft: { continuation?: string; answer?: string } | null }>(
      `SELECT a.draft FROM assignments a JOIN participants p ON p.id = a.participant_id
       WHERE p.study_id = $1 AND p.external_id = $2 AND a.position = $3`,
      [studyId, pid, position],
    )
    return rows.rows[0]?.draft ?? null
  })
}

/** Presses Tab until `target` has focus: it is reachable by keyboard, in order. */
async function tabTo(page: Page, target: Locator, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    if (await target.evaluate((el) => el === document.activeElement)) return
  }
  throw new Error(`Tab never reached ${target}`)
}

async function expectNoHorizontalScroll(page: Page, what: string) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  expect(overflow, `horizontal overflow on ${what}`).toBeLessThanOrEqual(0)
}

async function accessibleAtBothWidths(page: Page, what: string) {
  await page.setViewportSize(DESKTOP)
  await expectAccessible(page, `${what} (desktop)`)
  await page.setViewportSize(PHONE)
  await expectAccessible(page, `${what} (phone)`)
  await expectNoHorizontalScroll(page, `${what} (phone)`)
  await page.setViewportSize(DESKTOP)
}

const studyLink = (studyId: string, pid: string) => `/study/${studyId}?PROLIFIC_PID=${pid}&STUDY_ID=prolific-study&SESSION_ID=s-1&utm_source=ignored`

test('the study link: consent page, decline, a study that is not open, an unknown study', async ({ page }) => {
  const pid = uniquePid('decline')
  await page.goto(studyLink(STUDY, pid))
  await expect(page.getByRole('heading', { level: 1, name: 'Reasoning study' })).toBeVisible()
  await expect(page.getByTestId('consent-text')).toContainText('You are invited to take part')
  await expect(page.getByTestId('consent-text').locator('p')).toHaveCount(2)
  await expect(page.getByTestId('consent-text').locator('.katex').first()).toBeVisible()
  await accessibleAtBothWidths(page, 'the consent page')

  await page.getByRole('button', { name: 'I do not agree' }).click()
  await expect(page.getByText('Thank you. You chose not to take part; nothing else was recorded. You can close this page.')).toBeVisible()
  await expect(page.getByRole('button')).toHaveCount(0)
  const row = await participant(STUDY, pid)
  expect(row?.declined_at).toBeTruthy()
  expect(row?.url_params).toEqual({ PROLIFIC_PID: pid, STUDY_ID: 'prolific-study', SESSION_ID: 's-1' })
  expect(await withDb(async (db) => (await db.query('SELECT 1 FROM assignments WHERE participant_id = $1', [row!.id])).rowCount)).toBe(0)

  await page.goto(studyLink(CLOSED, uniquePid('closed')))
  await expect(page.getByText('This study has closed and takes no new participants. Thank you for your interest.')).toBeVisible()
  await expect(page.getByRole('button', { name: 'I agree — start' })).toHaveCount(0)

  await page.goto('/study/no-such-study')
  await expect(page.getByText('There is no such study. Check the link you were given.')).toBeVisible()
})

test('an invalid session link says so', async ({ page }) => {
  await page.goto(`/take/${'x'.repeat(43)}`)
  await expect(page.getByRole('heading', { level: 1, name: 'This link does not work' })).toBeVisible()
  await expect(page.getByTestId('end-message').getByRole('alert')).toHaveText('This study link is not valid. Open the link you were given again.')
  await page.goto('/take/short')
  await expect(page.getByTestId('end-message').getByRole('alert')).toHaveText('This study link is not valid. Open the link you were given again.')
  // the session page in a tab that holds no session
  const fresh = await page.context().newPage()
  await fresh.goto('/take')
  await expect(fresh.getByTestId('end-message').getByRole('alert')).toHaveText('This study link is not valid. Open the link you were given again.')
  await fresh.close()
  // a stored token the server does not know: the study link forgets it and shows the consent page
  await page.evaluate((key) => localStorage.setItem(key, 'y'.repeat(43)), `tandem:study:${STUDY}`)
  await page.goto(studyLink(STUDY, uniquePid('stale')))
  await expect(page.getByRole('button', { name: 'I agree — start' })).toBeVisible()
  expect(await page.evaluate((key) => localStorage.getItem(key), `tandem:study:${STUDY}`)).toBeNull()
})

test('a whole session, keyboard only: practice, a task with math preview, autosave and restore, attention check, completion', async ({ page }) => {
  const pid = uniquePid('keyboard')
  await page.goto(studyLink(STUDY, pid))
  const agree = page.getByRole('button', { name: 'I agree — start' })
  await expect(agree).toBeVisible()
  await tabTo(page, agree)
  await page.keyboard.press('Enter')
  // the token is in no URL: the tab keeps it in sessionStorage, the study link finds it in localStorage
  await expect(page).toHaveURL(/\/take$/)
  const token = (await page.evaluate(() => sessionStorage.getItem('tandem:session')))!
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  expect(await page.evaluate((key) => localStorage.getItem(key), `tandem:study:${STUDY}`)).toBe(token)
  // the study link resumes this session
  await page.goto(studyLink(STUDY, pid))
  await expect(page).toHaveURL(/\/take$/)

  // instructions: paragraphs and math kept, and how many tasks and how long, from the settings (2 tasks of 10 min)
  await expect(page.getByRole('heading', { level: 1, name: 'Instructions' })).toBeVisible()
  await expect(page.getByTestId('study-length')).toHaveText(
    'After a short practice there are 2 tasks. Each has a time limit of 10 minutes, so the tasks take at most 20 minutes in all.',
  )
  await expect(page.getByTestId('instructions').locator('p')).toHaveCount(2)
  await expect(page.getByTestId('instructions').locator('.katex')).toHaveCount(1)
  await tabTo(page, page.getByRole('button', { name: 'Continue' }))
  await page.keyboard.press('Enter')

  // practice: the task UI without ratings or clock, no TeX hints; then whether the answer was right, kept over a reload
  await expect(page.getByRole('heading', { level: 1, name: 'Practice' })).toBeFocused()
  await expect(page.getByText('(TeX works)')).toHaveCount(0)
  await expect(page.getByText('e.g. 42, 1/2 or 0.5')).toBeVisible()
  await expect(page.getByRole('region', { name: "The AI's reasoning so far" })).toContainText('Step 1: 2 + 2 = 4')
  await expect(page.getByRole('radio')).toHaveCount(0)
  await expect(page.getByTestId('time-left')).toHaveCount(0)
  await tabTo(page, page.getByLabel('Continue the reasoning'))
  await page.keyboard.type('So the sum is 4.')
  await page.keyboard.press('Tab')
  await expect(page.getByLabel('Final answer')).toBeFocused()
  await page.keyboard.type('4')
  await page.keyboard.press('Tab')
  await expect(page.getByRole('button', { name: 'Check my answer' })).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page.getByRole('heading', { level: 1, name: 'Practice' })).toBeFocused()
  await expect(page.getByTestId('practice-verdict')).toHaveText('Correct — the answer was 4.')
  await expect(page.getByTestId('practice-given-answer')).toHaveText('4')
  await accessibleAtBothWidths(page, 'the practice result')
  await page.reload()
  await expect(page.getByTestId('practice-verdict')).toHaveText('Correct — the answer was 4.')
  await expect(page.getByTestId('time-left')).toHaveCount(0) // the first task's clock waits for "Start the study"
  await tabTo(page, page.getByRole('button', { name: 'Start the study' }))
  await page.keyboard.press('Enter')

  // task 1: focus on its heading, progress, the AI's reasoning, the clock
  await expect(page.getByRole('heading', { level: 1, name: 'Task 1 of 2' })).toBeFocused()
  await expect(page.getByRole('progressbar', { name: 'Tasks answered' })).toHaveAttribute('aria-valuenow', '0')
  await expect(page.getByRole('region', { name: "The AI's reasoning so far" })).toContainText('Step 1: 3 + 4 = 7')
  await expect(page.getByTestId('time-left')).toContainText(/\d+:\d\d/)
  await expect(page.getByTestId('practice-result')).toHaveCount(0)
  await accessibleAtBothWidths(page, 'a task')

  // on a phone the clock stays in view while the participant works further down the page
  await page.setViewportSize(PHONE)
  await page.getByTestId('task-confidence').getByRole('radio', { name: '5' }).scrollIntoViewIfNeeded()
  await expect(page.getByTestId('time-left')).toBeInViewport()
  await page.setViewportSize(DESKTOP)
  await page.getByRole('heading', { level: 1, name: 'Task 1 of 2' }).focus()

  // submitting empty: the first invalid field gets focus and its error, tied to it
  await tabTo(page, page.getByRole('button', { name: 'Submit' }))
  await page.keyboard.press('Enter')
  const answer = page.getByLabel('Final answer')
  await expect(answer).toBeFocused()
  await expect(answer).toHaveAccessibleDescription('Give a final answer')
  await expect(page.getByTestId('task-ease-error')).toHaveText('Rate how easy the reasoning was to follow')
  await accessibleAtBothWidths(page, 'a task with errors')

  // the answer's math preview: only for TeX (a plain 1/2 needs none); KaTeX for valid TeX, a note for invalid TeX,
  // never the participant's HTML
  const preview = page.getByTestId('answer-preview')
  await page.keyboard.type('1/2')
  await expect(preview).toBeEmpty()
  await answer.fill('')
  await page.keyboard.type('\\frac{1}{2}')
  await expect(preview.locator('.katex .mfrac')).toBeVisible()
  await page.keyboard.press('Backspace')
  await page.keyboard.press('Backspace')
  await page.keyboard.press('Backspace')
  await expect(preview).toContainText('(cannot be shown yet)')
  await answer.fill('\\text{<img src=x onerror="window.hacked=1">}')
  await expect(preview.locator('.katex')).toBeVisible()
  await expect(preview.locator('img')).toHaveCount(0)
  expect(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined()
  await answer.fill('')

  // continuation, answer and both ratings by keyboard
  await page.getByLabel('Continue the reasoning').focus()
  await page.keyboard.type('Step 2: 7 + 1 = 8')
  await page.keyboard.press('Tab')
  await page.keyboard.type('8')
  await page.keyboard.press('Tab')
  await expect(page.getByTestId('task-ease').getByRole('radio', { name: '1' })).toBeFocused()
  await page.keyboard.press('Space')
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowRight')
  await expect(page.getByTestId('task-ease').getByRole('radio', { name: '4' })).toBeChecked()
  await page.keyboard.press('Tab')
  await page.keyboard.press('Space')
  await expect(page.getByTestId('task-confidence').getByRole('radio', { name: '1' })).toBeChecked()
  await page.keyboard.press('ArrowRight')
  await expect(page.getByTestId('task-confidence').getByRole('radio', { name: '2' })).toBeChecked()

  // autosave reaches the server, and a reload restores everything
  await expect(page.getByTestId('save-status')).toHaveText('Saved')
  await expect.poll(() => draftOf(STUDY, pid, 0)).toMatchObject({ continuation: 'Step 2: 7 + 1 = 8', answer: '8' })
  await page.reload()
  await expect(page.getByLabel('Continue the reasoning')).toHaveValue('Step 2: 7 + 1 = 8')
  await expect(page.getByLabel('Final answer')).toHaveValue('8')
  await expect(page.getByTestId('task-ease').getByRole('radio', { name: '4' })).toBeChecked()
  await expect(page.getByTestId('task-confidence').getByRole('radio', { name: '2' })).toBeChecked()

  // leaving the page right after typing: the draft still reaches the server (keepalive on pagehide)
  await page.getByLabel('Continue the reasoning').press('End')
  await page.keyboard.type(' (checked)')
  await page.goto('about:blank')
  await expect.poll(() => draftOf(STUDY, pid, 0).then((d) => d?.continuation)).toBe('Step 2: 7 + 1 = 8 (checked)')
  await page.goto('/take')
  await expect(page.getByLabel('Continue the reasoning')).toHaveValue('Step 2: 7 + 1 = 8 (checked)')

  // offline: the status says so, a new tab restores the unsaved text from the browser's backup, and it is saved
  // once the connection is back (routes on the context: both tabs are offline)
  const context = page.context()
  await context.route('**/api/trpc/participant.saveDraft*', (route) => route.abort('internetdisconnected'))
  await page.getByLabel('Continue the reasoning').press('End')
  await page.keyboard.type(' Offline note.')
  await expect(page.getByTestId('save-status')).toHaveText('Not saved — retrying')
  // a new tab has no sessionStorage: the study link resumes it
  const second = await context.newPage()
  await second.goto(studyLink(STUDY, pid))
  await expect(second).toHaveURL(/\/take$/)
  await expect(second.getByLabel('Continue the reasoning')).toHaveValue('Step 2: 7 + 1 = 8 (checked) Offline note.')
  await expect(second.getByTestId('save-status')).toHaveText('Not saved — retrying')
  expect((await draftOf(STUDY, pid, 0))?.continuation).toBe('Step 2: 7 + 1 = 8 (checked)')
  await context.unroute('**/api/trpc/participant.saveDraft*')
  await expect(second.getByTestId('save-status')).toHaveText('Saved', { timeout: 40_000 })
  await expect(page.getByTestId('save-status')).toHaveText('Saved', { timeout: 40_000 })
  expect((await draftOf(STUDY, pid, 0))?.continuation).toBe('Step 2: 7 + 1 = 8 (checked) Offline note.')
  await second.close()

  // submit by keyboard: one response, then the attention check (after task 1) with focus on its heading
  await tabTo(page, page.getByRole('button', { name: 'Submit' }))
  await page.keyboard.press('Enter')
  await expect(page.getByRole('heading', { level: 1, name: 'A quick question' })).toBeFocused()
  expect((await counts(STUDY)).responses).toBeGreaterThanOrEqual(1)
  await tabTo(page, page.getByRole('radio', { name: 'Red' }))
  await page.keyboard.press('ArrowDown')
  await expect(page.getByRole('radio', { name: 'Blue' })).toBeChecked()
  await page.keyboard.press('Tab')
  await page.keyboard.press('Enter')

  // task 2
  await expect(page.getByRole('heading', { level: 1, name: 'Task 2 of 2' })).toBeFocused()
  await expect(page.getByRole('progressbar', { name: 'Tasks answered' })).toHaveAttribute('aria-valuenow', '1')
  await expect(page.getByLabel('Continue the reasoning')).toHaveValue('')
  await page.getByLabel('Continue the reasoning').fill('Done.')
  await page.getByLabel('Final answer').fill('7')
  await page.getByTestId('task-ease').getByRole('radio', { name: '5' }).check()
  await page.getByTestId('task-confidence').getByRole('radio', { name: '3' }).check()
  // the connection drops while submitting: a notice, the button stays disabled, the text stays; then it goes through
  await context.route('**/api/trpc/participant.submit*', (route) => route.abort('internetdisconnected'))
  await page.getByRole('button', { name: 'Submit' }).click()
  await expect(page.getByTestId('submit-retrying')).toContainText('still trying to send your answer')
  await expect(page.getByRole('button', { name: 'Sending…' })).toBeDisabled()
  await expect(page.getByLabel('Continue the reasoning')).toHaveValue('Done.')
  await context.unroute('**/api/trpc/participant.submit*')

  // complete: the code, the way back, and the study link no longer resumes
  await expect(page.getByRole('heading', { level: 1, name: 'Thank you — you have finished.' })).toBeFocused()
  await expect(page.getByTestId('completion-code')).toHaveText(CODE)
  await expect(page.getByRole('link', { name: 'Return to the recruiting site' })).toHaveAttribute('href', REDIRECT)
  await accessibleAtBothWidths(page, 'the completion page')
  await expect.poll(() => page.evaluate((key) => localStorage.getItem(key), `tandem:study:${STUDY}`)).toBeNull()
  const done = await participant(STUDY, pid)
  expect(done?.completed_at).toBeTruthy()
  expect(done?.attention).toEqual([expect.objectContaining({ checkId: 'colour', correct: true })])
  expect(
    await withDb(async (db) => (await db.query('SELECT r.id FROM responses r JOIN assignments a ON a.id = r.assignment_id WHERE a.participant_id = $1', [done!.id])).rowCount),
  ).toBe(2)

  // the same Prolific id again: the server refuses a second session, and the page says why
  await page.goto(studyLink(STUDY, pid))
  await page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(page.getByTestId('form-error')).toContainText('You have already started this study.')
})

test('when the time runs out, whatever is typed is sent as timed out, and the page says so', async ({ page }) => {
  const pid = uniquePid('timed')
  await page.goto(studyLink(TIMED, pid))
  await page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Instructions' })).toBeVisible()
  // skip to the task (the instructions and practice are covered above)
  await withDb((db) => db.query('UPDATE participants SET instructions_done_at = now(), practice_done_at = now() WHERE study_id = $1 AND external_id = $2', [TIMED, pid]))
  await page.reload()
  await expect(page.getByRole('heading', { level: 1, name: 'Task 1 of 1' })).toBeVisible()
  await page.getByLabel('Continue the reasoning').fill('Partial work')
  // the participant is told, then goes on when ready
  await expect(page.getByTestId('time-up')).toHaveText('Time is up — your answer so far was saved.', { timeout: 30_000 })
  await expect(page.getByTestId('time-up-continue')).toBeFocused()
  await accessibleAtBothWidths(page, 'a task whose time is up')
  await page.getByTestId('time-up-continue').click()
  await expect(page.getByRole('heading', { level: 1, name: 'Thank you — you have finished.' })).toBeVisible()
  const response = await withDb(async (db) =>
    (
      await db.query<{ continuation: string; answer: string; timed_out: boolean; ease_rating: number | null }>(
        `SELECT r.continuation, r.answer, r.timed_out, r.ease_rating FROM responses r JOIN assignments a ON a.id = r.assignment_id
         JOIN participants p ON p.id = a.participant_id WHERE p.study_id = $1 AND p.external_id = $2`,
        [TIMED, pid],
      )
    ).rows[0],
  )
  expect(response).toEqual({ continuation: 'Partial work', answer: '', timed_out: true, ease_rating: null })
  // the page waits for the server's deadline: an honest page never counts as an early time-out claim
  const claims = await withDb(async (db) =>
    (await db.query<{ early_timeout_claims: number }>('SELECT early_timeout_claims FROM participants WHERE study_id = $1 AND external_id = $2', [TIMED, pid])).rows[0],
  )
  expect(claims?.early_timeout_claims).toBe(0)
})

test('participant calls are POSTs: no session token in any request URL', async ({ page }) => {
  const urls: string[] = []
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) urls.push(`${request.method()} ${request.url()}`)
  })
  await page.goto(studyLink(STUDY, uniquePid('post')))
  await page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Instructions' })).toBeVisible()
  const token = (await page.evaluate(() => sessionStorage.getItem('tandem:session')))!
  expect(urls.length).toBeGreaterThan(0)
  for (const url of urls) {
    expect(url).toMatch(/^POST /)
    expect(url).not.toContain(token)
  }
})

test('the preview runs the whole flow in the browser and records nothing', async ({ page }) => {
  await signIn(page)
  const before = await counts(STUDY)
  const calls: string[] = []
  page.on('request', (request) => {
    const url = new URL(request.url())
    // only the preview page's calls: the console page that sign-in landed on may still be loading its runs list
    const from = request.headers().referer ?? ''
    if (url.pathname.startsWith('/api/trpc/') && from.includes('/preview')) calls.push(url.pathname.slice('/api/trpc/'.length))
  })
  await page.goto(`/console/studies/${STUDY}/preview`)
  await expect(page.getByTestId('preview-banner')).toContainText('Preview — nothing is recorded')
  await expect(page.getByRole('link', { name: 'Back to the study' })).toHaveAttribute('href', `/console/studies/${STUDY}`)

  await expect(page.getByRole('heading', { level: 1, name: 'Reasoning study' })).toBeVisible()
  await page.getByRole('button', { name: 'I agree — start' }).click()
  await page.getByRole('button', { name: 'Continue' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Practice' })).toBeVisible()
  await page.getByLabel('Final answer').fill('5')
  await page.getByRole('button', { name: 'Check my answer' }).click()
  await expect(page.getByTestId('practice-verdict')).toHaveText('Not correct — the answer was 4.')
  await page.getByRole('button', { name: 'Start the study' }).click()

  for (const n of [1, 2]) {
    await expect(page.getByRole('heading', { level: 1, name: `Task ${n} of 2` })).toBeVisible()
    await expect(page.getByRole('region', { name: "The AI's reasoning so far" })).toContainText('Step 1: 3 + 4 = 7')
    await page.getByLabel('Continue the reasoning').fill(`Preview continuation ${n}`)
    await page.getByLabel('Final answer').fill('\\frac{1}{2}')
    await expect(page.getByTestId('answer-preview').locator('.katex')).toBeVisible()
    await page.getByTestId('task-ease').getByRole('radio', { name: '3' }).check()
    await page.getByTestId('task-confidence').getByRole('radio', { name: '4' }).check()
    await expect(page.getByTestId('save-status')).toHaveText('Saved')
    await page.getByRole('button', { name: 'Submit' }).click()
    if (n === 1) {
      await expect(page.getByRole('heading', { level: 1, name: 'A quick question' })).toBeVisible()
      await page.getByRole('radio', { name: 'Blue' }).check()
      await page.getByRole('button', { name: 'Continue' }).click()
    }
  }
  await expect(page.getByRole('heading', { level: 1, name: 'Thank you — you have finished.' })).toBeVisible()
  await expect(page.getByTestId('completion-code')).toHaveText(CODE)

  expect(await counts(STUDY)).toEqual(before)
  expect(calls.filter((c) => !c.split(',').every((p) => p === 'studies.preview'))).toEqual([])
  expect(calls.length).toBeGreaterThan(0)
})
