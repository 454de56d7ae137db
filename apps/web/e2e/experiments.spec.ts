// An experiment from the console: a 2-arm × 2-seed design on the fixture model with 2 steps, launched from the form,
// watched to the end (the worker trains each run, evaluates each final checkpoint and the base, and writes the claims
// report), the claims table read, the archive downloaded and opened; the pages under axe at desktop and phone widths.
// Prints the time from launch to the claims table.
import { readFile } from 'node:fs/promises'

import { expect, test } from '@playwright/test'
import JSZip from 'jszip'

import { DESKTOP, expectAccessible, optionValue, PHONE, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

test('experiment: launch 2 arms × 2 seeds, watch it finish, read the claims, download the archive', async ({ page }) => {
  test.setTimeout(1_200_000)
  await signIn(page)
  await page.goto('/console/experiments/new')
  await expectAccessible(page, 'the new-experiment form')

  const name = `e2e-experiment-${Date.now()}`
  await page.getByLabel('Experiment name').fill(name)
  await page.locator('#baseModelId').selectOption(await optionValue(page, 'baseModelId', 'fixture'))
  await page.locator('#datasetId').selectOption(await optionValue(page, 'datasetId', 'arithmetic-train'))
  await page.locator('#evalDatasetId').selectOption(await optionValue(page, 'evalDatasetId', 'arithmetic-eval'))
  await page.getByTestId('preset-paper').click()
  await page.locator('#config-num_generations').fill('4')
  await page.locator('#config-per_device_train_batch_size').fill('8')
  await page.locator('#config-max_steps').fill('2')

  // inline validation before anything is sent: seeds must be distinct
  await page.getByLabel('Seeds (comma-separated)').fill('0, 0')
  await page.getByRole('button', { name: 'Launch experiment' }).click()
  await expect(page.getByTestId('seeds-error')).toHaveText('A seed is listed twice')
  await page.getByLabel('Seeds (comma-separated)').fill('0, 1')
  await expect(page.getByTestId('run-count')).toContainText('4 training runs')

  // a small evaluation, so the e2e stays short
  await page.locator('#evaluation-settings-k').fill('2')
  await page.locator('#evaluation-settings-n_problems').fill('8')
  await page.locator('#evaluation-settings-max_new_tokens').fill('32')

  const launched = Date.now()
  await page.getByRole('button', { name: 'Launch experiment' }).click()
  await expect(page).toHaveURL(/\/console\/experiments\/(?!new)[^/]+$/)
  const experimentId = page.url().split('/').pop()!
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name)
  await expect(page.getByTestId('experiment-runs').locator('tbody tr')).toHaveCount(4)

  // every job of the experiment shares its priority
  const priorities = await withDb(async (db) =>
    (await db.query('SELECT DISTINCT j.priority FROM jobs j WHERE j.experiment_id = $1', [experimentId])).rows.map((r) => r.priority),
  )
  expect(priorities).toHaveLength(1)

  // the worker trains, evaluates and reports; the page polls by itself
  await expect(page.getByTestId('claims-table')).toBeVisible({ timeout: 1_100_000 })
  const seconds = (Date.now() - launched) / 1000
  console.log(`[figure] experiment (2 arms × 2 seeds × 2 steps, fixture model): launch -> claims table ${seconds.toFixed(1)} s`)

  await expect(page.getByTestId('claim-solo')).toBeVisible()
  const verdicts = await page.getByTestId('claim-verdict').allTextContents()
  for (const verdict of verdicts) expect(['supported', 'refuted', 'inconclusive', 'not measured']).toContain(verdict.trim())
  await expect(page.getByTestId('held-out-table')).toContainText('base')
  await expect(page.getByTestId('curve-reward')).not.toHaveAttribute('data-points', '0')
  await expect(page.getByTestId('curve-reward-numbers')).toContainText('tandem')

  await page.setViewportSize(DESKTOP)
  await expectAccessible(page, 'a finished experiment at 1280 px')
  await page.setViewportSize(PHONE)
  await expectAccessible(page, 'a finished experiment at 375 px')
  await page.setViewportSize(DESKTOP)

  const downloading = page.waitForEvent('download')
  await page.getByTestId('download-archive').click()
  const download = await downloading
  const zip = await JSZip.loadAsync(await readFile((await download.path())!))
  const files = Object.keys(zip.files)
  expect(files).toEqual(expect.arrayContaining(['experiment.json', 'report.json', 'README.md', 'runs/grpo-s0/metrics.csv', 'runs/tandem-s1/config.json']))
  // the base and the 4 final checkpoints
  expect(files.filter((f) => /^evaluations\/.+\.json$/.test(f))).toHaveLength(5)
  expect(JSON.parse(await zip.file('report.json')!.async('string')).version).toBe(1)

  await page.goto('/console/experiments')
  await expect(page.getByTestId('experiments-table')).toContainText(name)
  await expectAccessible(page, 'the experiments list at 1280 px')
  await page.setViewportSize(PHONE)
  await expectAccessible(page, 'the experiments list at 375 px')
})
