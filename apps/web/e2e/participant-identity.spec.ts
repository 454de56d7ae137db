// Participant identity in the browser (docs/studies.md, Participant identity): the consent page, the browser's title
// and every session page show the study's public title (or the neutral default), never its internal name; a study
// that requires the participant id explains and stops on a link without it; the same PROLIFIC_PID in a second
// browser continues the session there (the first browser's token stops working and its page says how to carry on),
// drafts typed in both reconcile by the server's timestamps with nothing lost, and a finished session shows its
// completion code on the other device. A study that does not require the id admits an anonymous participant (counted
// apart on the dashboard) and refuses a second browser with the same id, with no consent buttons left. Axe at 1280
// and 375 px on each of these pages. Studies are inserted with SQL (OPEN, study items with their reasoning set).
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test'

import { DESKTOP, email, expectAccessible, PHONE, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const REQUIRED = 'e2e-identity-required'
const OPTIONAL = 'e2e-identity-optional'
/** internal names that say the hypothesis: participants must never see them */
const INTERNAL = 'TRL vs GRPO legibility'
const PUBLIC_TITLE = 'Finishing an AI’s arithmetic'
const DEFAULT_TITLE = 'Reasoning study'
const CODE = 'E2E-IDENTITY-7'
const PREFIX = 'Step 1: 3 + 4 = 7\n'
const CONSENT = 'You are invited to take part in a study about reasoning with an AI.\n\nWe record your answers and how long each task takes.'

const uniquePid = (what: string) => `${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
const studyLink = (studyId: string, pid: string | null) =>
  `/study/${studyId}?${pid === null ? '' : `PROLIFIC_PID=${pid}&`}STUDY_ID=prolific-study&SESSION_ID=s-1`

async function insertStudy(id: string, opts: { publicTitle: string | null; requireParticipantId: boolean }) {
  await withDb(async (db) => {
    const owner = (await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email()])).rows[0]!.id
    const dataset = (await db.query<{ id: string }>("SELECT id FROM datasets WHERE name = 'arithmetic-eval'")).rows[0]!.id
    const checkpoint = (await db.query<{ id: string }>('SELECT id FROM checkpoints WHERE run_id IS NULL ORDER BY created_at, id LIMIT 1')).rows[0]!.id
    const problem = (await db.query<{ id: string }>('SELECT id FROM problems WHERE dataset_id = $1 ORDER BY external_id LIMIT 1', [dataset])).rows[0]!.id
    // ON CONFLICT: beforeAll runs again in a new worker after a failed test
    await db.query(
      `INSERT INTO studies (id, name, public_title, require_participant_id, status, owner_id, dataset_id, problem_count, handoff_rule,
         tasks_per_participant, time_limit_s, consent_text, instructions, practice, attention_checks, completion_code, url_params, hash_salt, opened_at)
       VALUES ($1, $2, $3, $4, 'OPEN', $5, $6, 1, '{"kind":"step","k":1}', 1, 600, $7, 'Continue the reasoning and give a final answer.',
         '{"problem":"What is 2 + 2?","reasoning":"Step 1: 2 + 2 = 4\\n","answer":"4"}'::jsonb, '[]'::jsonb, $8,
         ARRAY['PROLIFIC_PID','STUDY_ID','SESSION_ID'], 'e2e-salt', now())
       ON CONFLICT (id) DO NOTHING`,
      [id, `${INTERNAL} (${id})`, opts.publicTitle, opts.requireParticipantId, owner, dataset, CONSENT, CODE],
    )
    await db.query('INSERT INTO study_conditions (id, study_id, name, checkpoint_id) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [`${id}-A`, id, 'A', checkpoint])
    await db.query(
      'INSERT INTO study_items (id, study_id, condition_id, problem_id, trace_id, prefix_text, handoff_step) VALUES ($1, $2, $3, $4, NULL, $5, 1) ON CONFLICT (id) DO NOTHING',
      [`${id}-A-0`, id, `${id}-A`, problem, PREFIX],
    )
  })
}

test.beforeAll(async () => {
  await insertStudy(REQUIRED, { publicTitle: PUBLIC_TITLE, requireParticipantId: true })
  await insertStudy(OPTIONAL, { publicTitle: null, requireParticipantId: false })
})

// React/Next errors in any of the test's browsers (hydration, keys, …) fail it; failed requests are part of these tests
let consoleErrors: string[] = []
function watchConsole(page: Page) {
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
}
test.beforeEach(({ page }) => {
  consoleErrors = []
  watchConsole(page)
})
test.afterEach(() => {
  expect(consoleErrors, 'errors in the browser console').toEqual([])
})

/** A browser of its own (its own localStorage and sessionStorage), as a second device is. */
async function newDevice(browser: Browser, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: process.env.E2E_BASE_URL, viewport })
  const page = await context.newPage()
  watchConsole(page)
  return { context, page }
}

async function accessibleAtBothWidths(page: Page, what: string) {
  const before = page.viewportSize() ?? DESKTOP
  await page.setViewportSize(DESKTOP)
  await expectAccessible(page, `${what} (desktop)`)
  await page.setViewportSize(PHONE)
  await expectAccessible(page, `${what} (phone)`)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  expect(overflow, `horizontal overflow on ${what} (phone)`).toBeLessThanOrEqual(0)
  await page.setViewportSize(before)
}

async function participants(studyId: string, pid: string | null) {
  return withDb(async (db) =>
    (
      await db.query<{ id: string; external_id: string | null; consented_at: Date | null }>(
        `SELECT id, external_id, consented_at FROM participants WHERE study_id = $1 AND external_id IS NOT DISTINCT FROM $2`,
        [studyId, pid],
      )
    ).rows,
  )
}

const participantCount = (studyId: string) =>
  withDb(async (db) => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM participants WHERE study_id = $1', [studyId])).rows[0]!.n))

async function draftOf(studyId: string, pid: string): Promise<string | undefined> {
  return withDb(async (db) => {
    const rows = await db.query<{ draft: { continuation?: string } | null }>(
      'SELECT a.draft FROM assignments a JOIN participants p ON p.id = a.participant_id WHERE p.study_id = $1 AND p.external_id = $2 AND a.position = 0',
      [studyId, pid],
    )
    return rows.rows[0]?.draft?.continuation
  })
}

/** Instructions and practice are covered by participant-flow.spec.ts: this goes straight to the task. */
async function skipToTask(page: Page, studyId: string, pid: string) {
  await expect(page).toHaveURL(/\/take$/)
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
  await withDb((db) => db.query('UPDATE participants SET instructions_done_at = now(), practice_done_at = now() WHERE study_id = $1 AND external_id = $2', [studyId, pid]))
  await page.reload()
  await expect(page.getByRole('heading', { level: 1, name: 'Task 1 of 1' })).toBeVisible()
}

async function expectNoInternalName(page: Page) {
  await expect(page.locator('body')).not.toContainText(INTERNAL)
  expect(await page.title()).not.toContain(INTERNAL)
}

test('the public title, never the internal name; a link without the required id explains and stops', async ({ page }) => {
  const pid = uniquePid('title')
  await page.goto(studyLink(REQUIRED, pid))
  await expect(page.getByRole('heading', { level: 1, name: PUBLIC_TITLE })).toBeVisible()
  await expect(page).toHaveTitle(PUBLIC_TITLE)
  await expect(page.getByTestId('consent-text')).toContainText('You are invited to take part')
  await expect(page.getByTestId('resume-note')).toContainText('continues where you left off')
  await expectNoInternalName(page)
  await accessibleAtBothWidths(page, 'the consent page')

  // no id in the link: the page says why and offers nothing to press; nothing is written
  const before = await participantCount(REQUIRED)
  await page.goto(studyLink(REQUIRED, null))
  await expect(page.getByRole('heading', { level: 1, name: 'This link is incomplete' })).toBeVisible()
  await expect(page.getByTestId('missing-participant-id')).toContainText('missing your participant ID (PROLIFIC_PID)')
  await expect(page.getByRole('button')).toHaveCount(0)
  await expectNoInternalName(page)
  await accessibleAtBothWidths(page, 'the incomplete link page')
  expect(await participantCount(REQUIRED)).toBe(before)

  // agreeing: every page of the session carries the public title, and so does the browser's title
  await page.goto(studyLink(REQUIRED, pid))
  await page.getByRole('button', { name: 'I agree — start' }).click()
  await skipToTask(page, REQUIRED, pid)
  await expect(page.getByTestId('study-title')).toHaveText(PUBLIC_TITLE)
  await expect(page).toHaveTitle(PUBLIC_TITLE)
  await expectNoInternalName(page)
})

test('a study that does not require the id: an anonymous participant is admitted and counted apart; the same id in a second browser is refused', async ({ page, browser }) => {
  // no id: admitted, with the neutral title
  const anonymous = await newDevice(browser)
  await anonymous.page.goto(studyLink(OPTIONAL, null))
  await expect(anonymous.page.getByRole('heading', { level: 1, name: DEFAULT_TITLE })).toBeVisible()
  await expect(anonymous.page).toHaveTitle(DEFAULT_TITLE)
  await expect(anonymous.page.getByTestId('resume-note')).toHaveCount(0)
  await expectNoInternalName(anonymous.page)
  await anonymous.page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(anonymous.page).toHaveURL(/\/take$/)
  await expect(anonymous.page.getByTestId('study-title')).toHaveText(DEFAULT_TITLE)
  await expect(anonymous.page).toHaveTitle(DEFAULT_TITLE)
  await expect.poll(async () => (await participants(OPTIONAL, null)).filter((p) => p.consented_at).length).toBeGreaterThanOrEqual(1)
  await anonymous.context.close()

  // the same id in a second browser: refused, said clearly, and no consent buttons left
  const pid = uniquePid('twice')
  const first = await newDevice(browser)
  await first.page.goto(studyLink(OPTIONAL, pid))
  await first.page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(first.page).toHaveURL(/\/take$/)
  await first.context.close()
  await page.goto(studyLink(OPTIONAL, pid))
  await page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(page.getByTestId('form-error')).toContainText('You have already started this study.')
  await expect(page.getByRole('heading', { level: 1, name: DEFAULT_TITLE })).toBeVisible()
  await expect(page.getByRole('button')).toHaveCount(0)
  await accessibleAtBothWidths(page, 'a second browser refused')
  expect(await participants(OPTIONAL, pid)).toHaveLength(1)

  // the researcher's dashboard counts the anonymous participants apart
  const anonymousCount = (await participants(OPTIONAL, null)).filter((p) => p.consented_at).length
  await signIn(page)
  await page.goto(`/console/studies/${OPTIONAL}`)
  await expect(page.getByTestId('count-anonymous').locator('dt')).toHaveText('Anonymous (no id)')
  await expect(page.getByTestId('count-anonymous').locator('dd')).toHaveText(String(anonymousCount))
})

test('the same PROLIFIC_PID on two devices: the session continues, drafts reconcile with nothing lost, the completion code shows on both', async ({ browser }) => {
  test.setTimeout(240_000)
  const pid = uniquePid('devices')
  const laptop = await newDevice(browser, DESKTOP)
  await laptop.page.goto(studyLink(REQUIRED, pid))
  await laptop.page.getByRole('button', { name: 'I agree — start' }).click()
  await skipToTask(laptop.page, REQUIRED, pid)
  const reasoning = laptop.page.getByLabel('Continue the reasoning')
  await reasoning.fill('Laptop: 7 + 1 = 8')
  await expect(laptop.page.getByTestId('save-status')).toHaveText('Saved')
  await expect.poll(() => draftOf(REQUIRED, pid)).toBe('Laptop: 7 + 1 = 8')

  // the laptop loses its connection while more is typed: that text is only in its browser
  await laptop.context.route('**/api/trpc/participant.saveDraft*', (route) => route.abort('internetdisconnected'))
  await reasoning.press('End')
  await laptop.page.keyboard.type(' (typed offline)')
  await expect(laptop.page.getByTestId('save-status')).toHaveText('Not saved — retrying')

  // the phone: the same link continues the same session, from the server's draft
  const phone = await newDevice(browser, PHONE)
  await phone.page.goto(studyLink(REQUIRED, pid))
  await expect(phone.page.getByRole('heading', { level: 1, name: PUBLIC_TITLE })).toBeVisible()
  await phone.page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(phone.page).toHaveURL(/\/take$/)
  await expect(phone.page.getByRole('heading', { level: 1, name: 'Task 1 of 1' })).toBeVisible()
  await expect(phone.page.getByLabel('Continue the reasoning')).toHaveValue('Laptop: 7 + 1 = 8')
  await phone.page.getByLabel('Continue the reasoning').fill('Laptop: 7 + 1 = 8. Phone: so the answer is 8.')
  await expect(phone.page.getByTestId('save-status')).toHaveText('Saved')
  await expect.poll(() => draftOf(REQUIRED, pid)).toBe('Laptop: 7 + 1 = 8. Phone: so the answer is 8.')
  expect(await participants(REQUIRED, pid)).toHaveLength(1)

  // back online, the laptop's token no longer works: its page says how to carry on there
  await laptop.context.unroute('**/api/trpc/participant.saveDraft*')
  await expect(laptop.page.getByRole('heading', { level: 1, name: 'This link does not work' })).toBeVisible({ timeout: 40_000 })
  const again = laptop.page.getByRole('link', { name: 'open the study link again' })
  await expect(again).toBeVisible()
  await accessibleAtBothWidths(laptop.page, 'a session that went on elsewhere')
  // the phone's newer save was not overwritten by the laptop
  expect(await draftOf(REQUIRED, pid)).toBe('Laptop: 7 + 1 = 8. Phone: so the answer is 8.')

  // the laptop carries on: the phone's newer text wins, and what was typed offline on the laptop is kept and shown
  await again.click()
  await expect(laptop.page.getByRole('heading', { level: 1, name: PUBLIC_TITLE })).toBeVisible()
  await laptop.page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(laptop.page.getByRole('heading', { level: 1, name: 'Task 1 of 1' })).toBeVisible()
  await expect(laptop.page.getByLabel('Continue the reasoning')).toHaveValue('Laptop: 7 + 1 = 8. Phone: so the answer is 8.')
  const replaced = laptop.page.getByTestId('replaced-draft')
  await expect(replaced).toContainText('Your other device or browser saved newer work on this task')
  await replaced.getByText('Text typed here earlier', { exact: true }).click()
  await expect(laptop.page.getByTestId('replaced-continuation')).toHaveText('Laptop: 7 + 1 = 8 (typed offline)')
  await accessibleAtBothWidths(laptop.page, 'a task with text kept from this device')

  // the laptop finishes: its completion code
  await laptop.page.getByLabel('Final answer').fill('8')
  await laptop.page.getByTestId('task-ease').getByRole('radio', { name: '4' }).check()
  await laptop.page.getByTestId('task-confidence').getByRole('radio', { name: '5' }).check()
  await laptop.page.getByRole('button', { name: 'Submit' }).click()
  await expect(laptop.page.getByRole('heading', { level: 1, name: 'Thank you — you have finished.' })).toBeVisible()
  await expect(laptop.page.getByTestId('completion-code')).toHaveText(CODE)
  await expectNoInternalName(laptop.page)

  // the phone (its token replaced in turn) opens the link again: the completion code is there too
  await phone.page.goto(studyLink(REQUIRED, pid))
  await phone.page.getByRole('button', { name: 'I agree — start' }).click()
  await expect(phone.page.getByRole('heading', { level: 1, name: 'Thank you — you have finished.' })).toBeVisible()
  await expect(phone.page.getByTestId('completion-code')).toHaveText(CODE)
  await expect(phone.page.getByTestId('study-title')).toHaveText(PUBLIC_TITLE)
  await accessibleAtBothWidths(phone.page, 'the completion page on the second device')

  // one participant, one response: the phone's text with the laptop's answer
  const rows = await withDb(async (db) =>
    (
      await db.query<{ continuation: string; answer: string }>(
        `SELECT r.continuation, r.answer FROM responses r JOIN assignments a ON a.id = r.assignment_id JOIN participants p ON p.id = a.participant_id
         WHERE p.study_id = $1 AND p.external_id = $2`,
        [REQUIRED, pid],
      )
    ).rows,
  )
  expect(rows).toEqual([{ continuation: 'Laptop: 7 + 1 = 8. Phone: so the answer is 8.', answer: '8' }])
  expect(await participants(REQUIRED, pid)).toHaveLength(1)
  await laptop.context.close()
  await phone.context.close()
})
