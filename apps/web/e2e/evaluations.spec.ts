// Evaluations end to end, against the real worker: launch an evaluation of the fixture base checkpoint on a few
// arithmetic-eval problems, watch its report appear (metrics with intervals, a handoff curve, histograms), open one
// of its example traces (author colouring, the surprisal heat map, the verdict), evaluate the same checkpoint with
// another seed (preselected from a ?checkpoint= link) and compare the two, claims panel included.
// Every page is checked with axe at desktop and phone widths.
import { expect, test, type Page } from '@playwright/test'

import { DESKTOP, expectAccessible, PHONE, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

async function accessibleAtBothWidths(page: Page, what: string) {
  await page.setViewportSize(DESKTOP)
  await expectAccessible(page, `${what} (desktop)`)
  await page.setViewportSize(PHONE)
  await expectAccessible(page, `${what} (phone)`)
  await page.setViewportSize(DESKTOP)
}

/** Small settings so one evaluation of the fixture model takes seconds on a CPU. */
async function fillSmallSettings(page: Page, seed: number) {
  await page.getByLabel('k (samples per problem)').fill('2')
  await page.getByLabel('n_problems (limit)').fill('4')
  await page.getByLabel('max_new_tokens (tokens)').fill('48')
  await page.getByLabel('seed').fill(String(seed))
  await page.getByLabel('handoff_points (steps)').fill('0, 1, 3')
  await page.getByLabel('handoff_fractions').fill('0.5')
  await page.getByLabel('n_boot (resamples)').fill('200')
  await page.getByLabel('n_examples (problems)').fill('1')
}

async function waitForReport(page: Page) {
  const status = page.getByTestId('evaluation-status')
  await expect(status).toHaveAttribute('data-status', /^(SUCCEEDED|FAILED|CANCELLED)$/, { timeout: 240_000 })
  if ((await status.getAttribute('data-status')) !== 'SUCCEEDED') {
    throw new Error(`the evaluation ended ${await status.textContent()}: ${await page.getByTestId('evaluation-error').textContent().catch(() => '')}`)
  }
  await expect(page.getByTestId('metric-row').filter({ hasText: 'solo_mean_at_k' })).toBeVisible()
}

const baseCheckpointId = () =>
  withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT c.id FROM checkpoints c JOIN base_models b ON b.id = c.base_model_id WHERE b.name = 'fixture' AND c.run_id IS NULL`,
    )
    return rows[0].id as string
  })

test('evaluate the fixture base checkpoint, read its report and an example trace, then compare two seeds', async ({ page }) => {
  await signIn(page)
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Evaluations' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Evaluations' })).toBeVisible()
  await accessibleAtBothWidths(page, 'the evaluations list')

  await page.getByRole('link', { name: 'New evaluation' }).click()
  await expect(page).toHaveURL(/\/console\/evaluations\/new$/)
  await expect(page.getByRole('heading', { level: 1, name: 'New evaluation' })).toBeVisible()
  await accessibleAtBothWidths(page, 'the launch form')

  // nothing chosen and a bad k: both refused in the browser, under their fields
  await page.getByLabel('k (samples per problem)').fill('0')
  await page.getByRole('button', { name: 'Launch evaluation' }).click()
  await expect(page.getByTestId('checkpointIds-error')).toHaveText('Choose at least one checkpoint')
  await expect(page.getByTestId('settings-k-error')).toHaveText('k must be at least 1')
  await expect(page.getByTestId('form-error')).toHaveText('Fix the fields marked below.')
  await page.getByLabel('handoff_points (steps)').fill('0, x')
  await page.getByLabel('handoff_points (steps)').blur()
  await expect(page.getByTestId('settings-handoff_points-error')).toContainText('"x" is not')
  await accessibleAtBothWidths(page, 'the launch form with errors')

  await page.getByLabel('Find checkpoints').fill('fixture')
  await page.getByRole('checkbox', { name: 'Evaluate fixture (base)', exact: true }).check()
  await expect(page.getByTestId('chosen-checkpoints')).toContainText('fixture (base)')
  await page.locator('#datasetId').selectOption({ label: 'arithmetic-eval (150 problems)' })
  await fillSmallSettings(page, 0)
  await page.getByRole('button', { name: 'Launch evaluation' }).click()
  await expect(page).toHaveURL(/\/console\/evaluations\/(?!new)[^/]+$/)
  const firstId = page.url().split('/').pop()!
  await expect(page.getByTestId('evaluation-title')).toHaveText('fixture (base)')

  // the page follows the job without a reload, then shows the report
  await waitForReport(page)
  await expect(page.getByTestId('metric-row').filter({ hasText: 'solo_mean_at_k' })).toContainText(/\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]/)
  for (const metric of ['tandem_accuracy', 'handoff_mean', 'drift_kl', 'legibility_logprob']) {
    await expect(page.getByTestId('metric-row').filter({ hasText: metric })).toBeVisible()
  }
  const curve = page.getByTestId('curve-handoff_senior_first_k')
  await expect(curve).toHaveAttribute('data-points', '3')
  await expect(curve.locator('.recharts-line')).toHaveCount(1)
  await expect(page.getByTestId('histogram-drift_kl')).toBeVisible()
  await expect(page.getByTestId('histogram-legibility_token_surprisal')).toBeVisible()
  await expect(page.getByTestId('example-trace-row').first()).toBeVisible()
  // the examples in the report's order: the solo ones first
  await expect(page.getByTestId('example-trace-row').first()).toContainText('solo')
  await accessibleAtBothWidths(page, 'an evaluation report')

  // an example trace: the solo one carries the junior's surprisal
  const soloExample = page.getByTestId('example-trace-row').filter({ hasText: 'solo' }).first()
  await soloExample.getByRole('link').click()
  await expect(page).toHaveURL(/\/console\/traces\/[^/]+$/)
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Trace of fixture (base)')
  await expect(page.getByTestId('trace-problem')).not.toBeEmpty()
  const text = page.getByTestId('trace-text')
  await expect(text).toHaveAttribute('data-mode', 'author')
  await expect(text.locator('[data-author="senior"]').first()).toBeVisible()
  await expect(page.getByTestId('author-legend')).toContainText('Senior')
  await expect(page.getByTestId('trace-verdict')).toHaveText(/^(correct|incorrect|unparseable)$/)
  await expect(page.getByTestId('trace-expected')).not.toBeEmpty()
  await expect(page.getByTestId('trace-settings')).toContainText('Seed')
  // settings without a value (a solo example's suite-less fields) are left out, and the junior is named, not a path
  await expect(page.getByTestId('trace-settings')).not.toContainText('null')
  await expect(page.getByTestId('trace-junior')).toHaveText('fixture')
  await expect(page.getByTestId('trace-schedule')).toHaveText('The senior wrote every word alone.')
  await accessibleAtBothWidths(page, 'a trace coloured by author')

  await page.getByLabel('junior’s surprisal (heat map)').check()
  await expect(text).toHaveAttribute('data-mode', 'surprisal')
  await expect(page.getByTestId('heat-legend')).toContainText('nats')
  await expect(text.locator('[data-nats]').first()).toBeVisible()
  await accessibleAtBothWidths(page, 'a trace as a surprisal heat map')

  // a second evaluation of the same checkpoint with another seed, preselected by a link as the run page makes it
  await page.goto(`/console/evaluations/new?checkpoint=${await baseCheckpointId()}`)
  await expect(page.getByTestId('chosen-checkpoints')).toContainText('fixture (base)')
  await page.locator('#datasetId').selectOption({ label: 'arithmetic-eval (150 problems)' })
  await fillSmallSettings(page, 2)
  await page.getByRole('button', { name: 'Launch evaluation' }).click()
  await expect(page).toHaveURL(/\/console\/evaluations\/(?!new)[^/]+$/)
  const secondId = page.url().split('/').pop()!
  expect(secondId).not.toBe(firstId)
  await waitForReport(page)

  // tick both in the list and compare
  await page.goto('/console/evaluations')
  const compare = page.getByRole('button', { name: 'Compare selected' })
  await expect(compare).toBeDisabled()
  await page.getByRole('checkbox', { name: `Compare fixture (base) (${firstId})` }).check()
  await page.getByRole('checkbox', { name: `Compare fixture (base) (${secondId})` }).check()
  await expect(page.getByTestId('compare-selection')).toHaveText('2 ticked')
  await compare.click()
  await expect(page).toHaveURL(new RegExp(`/console/compare\\?ids=${firstId},${secondId}$`))
  await expect(page.getByRole('heading', { level: 1, name: 'Compare evaluations' })).toBeVisible()
  await expect(page.getByTestId('compared-evaluation')).toHaveCount(2)
  const soloRow = page.getByTestId('compare-metric-row').filter({ hasText: 'solo_mean_at_k' })
  // two intervals and the paired difference (same problems, different seeds)
  await expect(soloRow.locator('td')).toHaveCount(5)
  await expect(soloRow).toContainText(/\[-?\d\.\d{3}, -?\d\.\d{3}\].*\[-?\d\.\d{3}, -?\d\.\d{3}\]/)
  await expect(page.getByTestId('compare-curve-handoff_senior_first_k').locator('.recharts-line')).toHaveCount(2)
  await expect(page.getByTestId('compare-histogram-drift_kl')).toBeVisible()

  const claims = page.getByTestId('claims-panel')
  await expect(claims.getByTestId('claims-roles-note')).toBeVisible() // two base-model evaluations: arms chosen by hand
  for (const claim of ['solo', 'handoff', 'drift', 'legibility']) {
    await expect(claims.getByTestId(`claim-${claim}-status`)).toHaveText(/^.?(Supported|Refuted|Inconclusive|Not measured)$/)
    await expect(claims.getByTestId(`claim-${claim}-reason`)).toContainText(/B − A|Not measured/)
  }
  // a handful of problems and one seed per arm: "≈" is the two one-sided tests on the paired difference (never two
  // intervals overlapping; vitest covers that case), and the panel warns that n is small. The fixture model solves
  // nothing under either seed, so the difference is exactly 0 and the verdict may well be "supported".
  await expect(claims.getByTestId('claim-solo-reason')).toContainText('one-sided')
  await expect(claims.getByTestId('claim-solo-warnings')).toContainText('fewer than 30')
  await expect(claims.getByTestId('claim-displacement')).toHaveAttribute('data-status', 'not-measured')
  // the margin is the researcher's: a bad one is refused with a reason
  await claims.getByLabel('Margin for ≈ (± points of accuracy)').fill('0')
  await expect(claims.getByText('The margin must be a number above 0 and at most 100.')).toBeVisible()
  await expect(claims.getByTestId('claims-table')).toHaveCount(0)
  await claims.getByLabel('Margin for ≈ (± points of accuracy)').fill('5')
  await expect(claims.getByTestId('claim-solo')).toContainText('±0.05')
  // swapping the arms keeps every claim computed
  await claims.locator('#claims-role-0').selectOption('B')
  await claims.locator('#claims-role-1').selectOption('A')
  await expect(claims.getByTestId('claim-solo-status')).toHaveText(/^.?(Refuted|Inconclusive|Supported)$/)
  await accessibleAtBothWidths(page, 'the compare page')

  // comparing an unfinished or unknown evaluation is refused with a reason
  await page.goto(`/console/compare?ids=${firstId},no-such-evaluation`)
  await expect(page.getByTestId('compare-error')).toContainText('No evaluation no-such-evaluation')
})
