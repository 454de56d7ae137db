// Launching a TRL/GRPO pair from the form and watching both train live; the runs pages under axe at desktop
// and phone widths. Prints the time from "Launch pair" to the first point on the run page's charts.
import { expect, test } from '@playwright/test'

import { DESKTOP, expectAccessible, optionValue, PHONE, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

test('launch pair: a TRL and a GRPO run from one form, linked, charts filling in live', async ({ page }) => {
  await signIn(page)
  await page.goto('/console/runs/new')
  await expectAccessible(page, 'the launch form')

  await page.getByLabel('A TRL/GRPO pair').check()
  await expect(page.getByRole('button', { name: 'Launch pair' })).toBeVisible()
  const name = `e2e-pair-${Date.now()}`
  await page.getByLabel('Pair name').fill(name)
  await page.locator('#baseModelId').selectOption(await optionValue(page, 'baseModelId', 'fixture'))
  await page.locator('#datasetId').selectOption(await optionValue(page, 'datasetId', 'arithmetic-train'))
  await page.getByLabel('num_generations').fill('4')
  await page.getByLabel('per_device_train_batch_size').fill('6')
  await page.getByLabel('max_steps').fill('2')
  await page.getByLabel('p_junior').fill('0.5')
  // inline validation: the cross-field rule is checked before anything is sent
  await page.getByRole('button', { name: 'Launch pair' }).click()
  await expect(page.getByTestId('per_device_train_batch_size-error')).toHaveText(
    'per_device_train_batch_size must be a multiple of num_generations (4)',
  )
  await page.getByLabel('per_device_train_batch_size').fill('8')

  const clicked = Date.now()
  await page.getByRole('button', { name: 'Launch pair' }).click()
  await expect(page).toHaveURL(/\/console\/runs\/(?!new)[^/]+$/)
  const trlId = page.url().split('/').pop()!
  await expect(page.getByTestId('run-name')).toHaveText(`${name} · TRL`)
  await expect(page.getByTestId('run-pair')).toContainText(`${name} · GRPO`)

  // the first chart point appears without a reload
  await expect(page.getByTestId('metric-chart').first()).not.toHaveAttribute('data-points', '0', { timeout: 300_000 })
  const firstPointSeconds = (Date.now() - clicked) / 1000
  const timeline = await withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT extract(epoch FROM started_at - created_at) AS queued_s FROM jobs WHERE training_run_id = $1`,
      [trlId],
    )
    return rows[0]
  })
  console.log(
    `[figure] launch pair -> first chart point on the fixture model: ${firstPointSeconds.toFixed(1)} s ` +
      `(job waited ${Number(timeline.queued_s).toFixed(2)} s for a worker; the rest is model load + one training step + polling)`,
  )

  await expect(page.getByTestId('run-status')).toHaveText('Succeeded', { timeout: 300_000 })
  await expect(page.getByTestId('metric-chart').first()).toHaveAttribute('data-points', '2')
  // the paper's settings (the form's defaults) have no KL term: the KL chart says so instead of waiting for data
  await expect(page.getByTestId('metric-chart').filter({ hasText: 'KL to reference' })).toContainText('Not computed: beta is 0')
  await expect(page.getByTestId('run-log')).toContainText('step', { timeout: 30_000 })
  await expect(page.getByTestId('checkpoint-row').first()).toBeVisible()
  await page.getByTestId('run-config').locator('summary').click()
  await expect(page.getByTestId('run-config')).toContainText('junior_token_weight')
  await expectAccessible(page, 'a finished run page')

  // the rollouts kept at every step (2 groups of 4): the newest step opens first; slider and buttons move between steps
  const rollouts = page.getByTestId('rollouts')
  const stepLabel = rollouts.getByTestId('rollout-step-label')
  await expect(stepLabel).toContainText('Step 2')
  await expect(rollouts.getByTestId('rollout-sample')).toHaveCount(8)
  await rollouts.getByTestId('rollout-step-slider').fill('0')
  await expect(stepLabel).toContainText('Step 1')
  await expect(rollouts.getByTestId('rollout-sample')).toHaveCount(8)
  await rollouts.getByRole('button', { name: 'Next step' }).click()
  await expect(stepLabel).toContainText('Step 2')
  await rollouts.getByRole('button', { name: 'Previous step' }).click()
  await expect(stepLabel).toContainText('Step 1')
  // p_junior 0.5: both authors wrote, in the trace viewer's colours
  await expect(rollouts.locator('[data-author="senior"]').first()).toHaveClass(/bg-indigo-100/)
  await expect(rollouts.locator('[data-author="junior"]').first()).toHaveClass(/bg-amber-100/)
  await expect(rollouts.getByTestId('rollout-author-legend')).toContainText('Junior')
  // the filters show exactly the samples of step 1 the database holds with that verdict
  const correctAtStep1 = await withDb(async (db) =>
    Number((await db.query(`SELECT count(*) AS n FROM rollout_samples WHERE run_id = $1 AND step = 1 AND verdict = 'CORRECT'`, [trlId])).rows[0].n),
  )
  await rollouts.getByRole('radio', { name: /^Correct/ }).check()
  await expect(rollouts.getByTestId('rollout-sample')).toHaveCount(correctAtStep1)
  await rollouts.getByRole('radio', { name: /^Incorrect or unparseable/ }).check()
  await expect(rollouts.getByTestId('rollout-sample')).toHaveCount(8 - correctAtStep1)
  for (const verdict of await rollouts.getByTestId('rollout-sample').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')))) {
    expect(verdict).not.toBe('CORRECT')
  }
  await rollouts.getByRole('radio', { name: /^All/ }).check()
  await expect(rollouts.getByTestId('rollout-sample')).toHaveCount(8)
  await expectAccessible(page, 'the run page with its rollouts at 1280 px')
  await page.setViewportSize(PHONE)
  await expectAccessible(page, 'the run page with its rollouts at 375 px')
  const rolloutsOverflow = await rollouts.evaluate((el) => el.scrollWidth - el.clientWidth)
  expect(rolloutsOverflow, 'the rollouts overflow at 375 px').toBeLessThanOrEqual(1)
  await page.setViewportSize(DESKTOP)

  // the partner: same seed and budget, p_junior 0
  await page.getByTestId('run-pair').getByRole('link', { name: /GRPO/ }).click()
  await expect(page.getByTestId('run-name')).toHaveText(`${name} · GRPO`)
  await expect(page.getByTestId('run-status')).toHaveText('Succeeded', { timeout: 300_000 })
  const configs = await withDb(async (db) =>
    (await db.query(`SELECT algorithm, config FROM training_runs WHERE name LIKE $1 ORDER BY algorithm::text`, [`${name} · %`])).rows,
  )
  expect(configs.map((r) => [r.algorithm, r.config.p_junior])).toEqual([
    ['GRPO', 0],
    ['TRL', 0.5],
  ])
  expect({ ...configs[0].config, p_junior: 0.5 }).toEqual(configs[1].config)
})

test('the runs pages work on a phone and pass axe', async ({ page }) => {
  await signIn(page)
  for (const viewport of [DESKTOP, PHONE]) {
    await page.setViewportSize(viewport)
    await page.goto('/console')
    await expect(page.getByRole('heading', { name: 'Training runs' })).toBeVisible()
    await expectAccessible(page, `the runs list at ${viewport.width} px`)
    await page.goto('/console/runs/new')
    await expect(page.getByRole('button', { name: 'Launch run' })).toBeVisible()
    // nothing wider than the screen
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow, `horizontal overflow at ${viewport.width} px`).toBeLessThanOrEqual(1)
  }
})
