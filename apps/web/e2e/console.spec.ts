// The researcher console end to end: sign in, launch a 2-step GRPO run on the fixture model, watch the
// real worker train it to SUCCEEDED, see its metrics and checkpoints, sign out.
import { expect, test, type Page } from '@playwright/test'
import pg from 'pg'

test.use({ baseURL: process.env.E2E_BASE_URL })

const email = () => process.env.E2E_EMAIL!
const password = () => process.env.E2E_PASSWORD!

async function signIn(page: Page, pass: string, as = email()) {
  await page.getByLabel('E-mail').fill(as)
  await page.getByLabel('Password').fill(pass)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

async function launchGrpo(page: Page, name: string, maxSteps: number) {
  await page.goto('/console/runs/new')
  await page.getByLabel('Run name').fill(name)
  await page.getByLabel('GRPO', { exact: true }).check()
  await page.locator('#baseModelId').selectOption(await optionValue(page, 'baseModelId', 'fixture'))
  await page.locator('#datasetId').selectOption(await optionValue(page, 'datasetId', 'arithmetic-train'))
  await page.getByLabel('num_generations').fill('4')
  await page.getByLabel('per_device_train_batch_size').fill('8')
  await page.getByLabel('max_steps').fill(String(maxSteps))
  await page.getByLabel('save_steps').fill('1')
  await page.getByRole('button', { name: 'Launch run' }).click()
  await expect(page).toHaveURL(/\/console\/runs\/(?!new)[^/]+$/)
  return page.url().split('/').pop()!
}

async function optionValue(page: Page, selectId: string, text: string): Promise<string> {
  const value = await page.locator(`#${selectId} option`, { hasText: text }).first().getAttribute('value')
  expect(value, `an option "${text}" in #${selectId}`).toBeTruthy()
  return value!
}

test('a researcher signs in, launches a GRPO run and watches it succeed', async ({ page }) => {
  // the console needs a session
  await page.goto('/console')
  await expect(page).toHaveURL(/\/login/)

  // a wrong password is refused with a message; so is a disabled account, even with its right password
  await signIn(page, 'not-the-password')
  await expect(page.getByTestId('form-error')).toHaveText('Wrong e-mail or password.')
  await expect(page).toHaveURL(/\/login/)
  await signIn(page, password(), process.env.E2E_DISABLED_EMAIL!)
  await expect(page.getByTestId('form-error')).toHaveText('This account is disabled. Ask an administrator to enable it.')
  await expect(page).toHaveURL(/\/login/)

  await signIn(page, password())
  await expect(page).toHaveURL(/\/console$/)
  await expect(page.getByRole('heading', { name: 'Training runs' })).toBeVisible()
  await expect(page.getByTestId('current-user')).toContainText(email())

  await page.getByRole('link', { name: 'New run' }).first().click()
  await expect(page).toHaveURL(/\/console\/runs\/new$/)

  const runName = `e2e-grpo-${Date.now()}`
  await page.getByLabel('Run name').fill(runName)
  await page.getByLabel('GRPO', { exact: true }).check()
  await expect(page.getByLabel('p_junior')).toBeDisabled()
  await expect(page.getByLabel('p_junior')).toHaveValue('0')
  await page.locator('#baseModelId').selectOption(await optionValue(page, 'baseModelId', 'fixture'))
  await page.locator('#datasetId').selectOption(await optionValue(page, 'datasetId', 'arithmetic-train'))
  await page.getByLabel('num_generations').fill('4')
  await page.getByLabel('per_device_train_batch_size').fill('8')

  // invalid input is caught with a message on the field, and nothing is launched
  await page.getByLabel('max_steps').fill('0')
  await page.getByRole('button', { name: 'Launch run' }).click()
  await expect(page.getByTestId('max_steps-error')).toHaveText('max_steps must be at least 1')
  await expect(page.getByTestId('form-error')).toHaveText('Fix the fields marked below.')
  await expect(page).toHaveURL(/\/console\/runs\/new$/)

  await page.getByLabel('max_steps').fill('2')
  await page.getByRole('button', { name: 'Launch run' }).click()
  await expect(page).toHaveURL(/\/console\/runs\/(?!new)[^/]+$/)
  const runId = page.url().split('/').pop()!
  await expect(page.getByTestId('run-name')).toHaveText(runName)

  // the page refreshes itself while the worker trains
  await expect(page.getByTestId('run-status')).toHaveText('Succeeded', { timeout: 300_000 })
  await expect(page.getByTestId('run-progress')).toHaveText('step 2/2')
  await expect(page.getByTestId('metric-row')).toHaveCount(2)
  // newest first
  await expect(page.getByTestId('metric-row').first().locator('td').first()).toHaveText('2')
  await expect(page.getByTestId('metric-row').last().locator('td').first()).toHaveText('1')
  // the reward curve has both steps, drawn by the chart library
  await expect(page.getByTestId('metric-chart').first()).toHaveAttribute('data-points', '2')
  await expect(page.getByTestId('metric-chart').first().locator('.recharts-line-curve')).toBeAttached()
  expect(await page.getByTestId('checkpoint-row').count()).toBeGreaterThanOrEqual(1)
  await expect(page.getByRole('button', { name: 'Cancel run' })).toHaveCount(0)

  // what the worker recorded, straight from the database
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL })
  await db.connect()
  try {
    const job = await db.query(`SELECT kind, status, payload FROM jobs WHERE training_run_id = $1`, [runId])
    expect(job.rows).toEqual([{ kind: 'TRAIN', status: 'SUCCEEDED', payload: { runId } }])
    const run = await db.query(`SELECT config FROM training_runs WHERE id = $1`, [runId])
    expect(run.rows[0].config).toMatchObject({ p_junior: 0, num_generations: 4, per_device_train_batch_size: 8, max_steps: 2 })
  } finally {
    await db.end()
  }

  // the list shows it too
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Runs' }).click()
  await expect(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Runs' })).toHaveAttribute('aria-current', 'page')
  const row = page.getByTestId('run-row').filter({ hasText: runName })
  await expect(row).toContainText('Succeeded')
  await expect(row).toContainText('2/2')
  await expect(row).toContainText('GRPO')

  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(/\/login/)
  await page.goto('/console')
  await expect(page).toHaveURL(/\/login/)
})

test('a running run is cancelled from its page, then resumed from its last checkpoint', async ({ page }) => {
  await page.goto('/') // -> /console -> /login
  await expect(page).toHaveURL(/\/login/)
  await signIn(page, password())
  await expect(page).toHaveURL(/\/console$/)

  const runId = await launchGrpo(page, `e2e-cancel-${Date.now()}`, 1000)
  // let the worker claim it and finish a step, so the cancellation goes through the running job
  await expect(page.getByTestId('run-status')).toHaveText('Running', { timeout: 120_000 })
  await expect(page.getByTestId('metric-row').first()).toBeVisible({ timeout: 120_000 })

  page.once('dialog', (dialog) => dialog.accept())
  await page.getByRole('button', { name: 'Cancel run' }).click()
  await expect(page.getByTestId('run-status')).toHaveText('Cancelled', { timeout: 120_000 })
  await expect(page.getByRole('button', { name: 'Cancel run' })).toHaveCount(0)

  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL })
  await db.connect()
  try {
    const job = await db.query(`SELECT status FROM jobs WHERE training_run_id = $1`, [runId])
    expect(job.rows).toEqual([{ status: 'CANCELLED' }])
    const run = await db.query(`SELECT status, current_step FROM training_runs WHERE id = $1`, [runId])
    expect(run.rows[0].status).toBe('CANCELLED')
    const stoppedAt = run.rows[0].current_step as number
    expect(stoppedAt).toBeLessThan(1000)
    const audit = await db.query(`SELECT details FROM audit_log WHERE entity_id = $1 AND action = 'run.cancel'`, [runId])
    expect(audit.rows).toEqual([{ details: expect.objectContaining({ jobStatus: 'CANCEL_REQUESTED' }) }])

    // resume: a new job continues from the newest checkpoint, and the page follows it live again
    await page.getByRole('button', { name: 'Resume run' }).click()
    await expect(page.getByTestId('run-status')).toHaveText('Running', { timeout: 120_000 })
    await expect
      .poll(async () => (await db.query(`SELECT current_step FROM training_runs WHERE id = $1`, [runId])).rows[0].current_step, {
        timeout: 120_000,
      })
      .toBeGreaterThan(stoppedAt + 1)
    page.once('dialog', (dialog) => dialog.accept())
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await expect(page.getByTestId('run-status')).toHaveText('Cancelled', { timeout: 120_000 })
    const steps = await db.query(`SELECT step FROM run_metrics WHERE run_id = $1 ORDER BY step`, [runId])
    const logged = steps.rows.map((r) => r.step as number)
    // no lost and no repeated steps across the cancel and the resume
    expect(logged).toEqual(Array.from({ length: logged.length }, (_, i) => i + 1))
    const jobs = await db.query(`SELECT status FROM jobs WHERE training_run_id = $1 ORDER BY created_at`, [runId])
    expect(jobs.rows.map((r) => r.status)).toEqual(['CANCELLED', 'CANCELLED'])
  } finally {
    await db.end()
  }
})
