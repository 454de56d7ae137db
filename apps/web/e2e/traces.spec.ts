// Traces end to end, against the real worker: generate traces of the fixture base checkpoint co-written with its
// junior from the traces page, follow the job to its traces, find them with the filters, and open one (author
// colouring, the surprisal heat map, the verdict). Every page is checked with axe at desktop and phone widths.
import { expect, test, type Page } from '@playwright/test'

import { DESKTOP, expectAccessible, PHONE, signIn } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

async function accessibleAtBothWidths(page: Page, what: string) {
  await page.setViewportSize(DESKTOP)
  await expectAccessible(page, `${what} (desktop)`)
  await page.setViewportSize(PHONE)
  await expectAccessible(page, `${what} (phone)`)
  await page.setViewportSize(DESKTOP)
}

test('generate traces from the traces page and read one', async ({ page }) => {
  await signIn(page)
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Traces' }).click()
  await expect(page).toHaveURL(/\/console\/traces$/)
  await expect(page.getByRole('heading', { level: 1, name: 'Traces' })).toBeVisible()
  await accessibleAtBothWidths(page, 'the traces page')

  const form = page.getByRole('region', { name: 'Generate traces' })
  await form.getByLabel('Checkpoint').selectOption({ label: 'fixture (base)' })
  await form.getByLabel('Dataset').selectOption({ label: 'arithmetic-eval (150 problems)' })
  // out of range: refused under the field, nothing queued
  await form.getByLabel('Problems').fill('0')
  await form.getByRole('button', { name: 'Generate traces' }).click()
  await expect(page.getByTestId('generate-count-error')).toHaveText('count must be at least 1')
  await expect(page.getByTestId('generate-job')).toHaveCount(0)

  await form.getByLabel('Problems').fill('2')
  await form.getByLabel('Seed').fill('5')
  await form.getByLabel('Max new tokens').fill('48')
  await form.getByLabel('p_junior').fill('0.5')
  await form.getByRole('button', { name: 'Generate traces' }).click()
  await expect(page.getByTestId('generate-job-status')).toHaveText('Succeeded', { timeout: 180_000 })
  const links = page.getByTestId('generated-traces').getByRole('link')
  await expect(links).toHaveCount(2)
  await accessibleAtBothWidths(page, 'the traces page after a generation')

  // one generated trace: co-written (seed 5, p_junior 0.5), with the junior's surprisal
  await links.first().click()
  await expect(page).toHaveURL(/\/console\/traces\/[^/]+$/)
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Trace of fixture (base)')
  // titled and placed by name, not id; the nav marks the section the page is in
  await expect(page).toHaveTitle(/^Trace of fixture \(base\), problem .+ · Tandem Lab$/)
  await expect(page.getByRole('navigation', { name: 'Breadcrumb' })).toContainText('fixture (base), problem')
  await expect(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Traces' })).toHaveAttribute('aria-current', 'true')
  const settings = page.getByTestId('trace-settings')
  await expect(settings.getByRole('definition').filter({ hasText: /^coin_flip$/ })).toBeVisible()
  // the schedule in words, the junior by its registered name (the base model), no empty settings
  await expect(page.getByTestId('trace-schedule')).toContainText('the junior with probability 0.5 (50%)')
  await expect(page.getByTestId('trace-junior')).toHaveText('fixture')
  await expect(settings).not.toContainText('null')
  await expect(settings.getByRole('definition').filter({ hasText: /^48 tokens$/ })).toBeVisible()
  await expect(settings.getByRole('definition').filter({ hasText: /^0\.5$/ })).toBeVisible()
  await expect(settings.getByRole('definition').filter({ hasText: /^5$/ }).first()).toBeVisible()
  const text = page.getByTestId('trace-text')
  await expect(text.locator('[data-author]').first()).toBeVisible()
  // p_junior 0.5: the junior wrote some words (the same every run: seed 5)
  await expect(text.locator('[data-author="junior"]').first()).toBeVisible()
  await expect(page.getByTestId('trace-verdict')).toHaveText(/^(correct|incorrect|unparseable)$/)
  await expect(page.getByTestId('trace-extracted')).toBeVisible()
  await accessibleAtBothWidths(page, 'a generated trace')
  await page.getByLabel('junior’s surprisal (heat map)').check()
  await expect(text).toHaveAttribute('data-mode', 'surprisal')
  await expect(text.locator('[data-nats]').first()).toBeVisible()
  await accessibleAtBothWidths(page, 'a generated trace as a heat map')

  // the list has them; the filters (kept in the URL) narrow it
  await page.goto('/console/traces')
  await page.locator('#filter-checkpoint').selectOption({ label: 'fixture (base)' })
  await expect(page).toHaveURL(/checkpointId=/)
  const coWritten = page.getByTestId('trace-row').filter({ hasText: 'coin_flip' })
  await expect(coWritten.first()).toBeVisible()
  const problem = (await coWritten.first().getByRole('link').textContent())!.trim().slice(0, 25)
  await page.getByLabel('Problem text').fill(problem)
  await page.getByRole('button', { name: 'Search' }).click()
  await expect(page).toHaveURL(/search=/)
  await expect(page.getByTestId('trace-row').first()).toContainText(problem)
  await page.getByLabel('Problem text').fill('no problem reads like this zzz')
  await page.getByRole('button', { name: 'Search' }).click()
  await expect(page.getByText('No traces match.', { exact: false })).toBeVisible()
})
