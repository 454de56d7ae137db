// Compare runs, and the runs list that leads there: a TRL/GRPO pair with three logged steps each (written straight
// to the database, so no training is needed) is found by search and filters, shows its final reward, accuracy,
// steps and duration, and is overlaid on the compare page — one chart per metric, both runs' curves on each,
// readable axes (0.0014 whole, minus signs kept, shares on 0–1, a "step" axis, straight lines between points).
// The evaluations list shows each evaluation's headline metric. Every page is checked with axe at 1280 and 375 px.
import { expect, test, type Locator, type Page } from '@playwright/test'

import { DESKTOP, email, expectAccessible, PHONE, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const tag = `e2e-cmp-${Date.now()}`
const trlId = `${tag}-trl`
const grpoId = `${tag}-grpo`
const trlName = `${tag} · TRL`
const grpoName = `${tag} · GRPO`

// step, reward, accuracy, kl, clip_fraction, senior_token_share, zero_signal_groups (of 4), tokens_per_second, loss
const TRL_STEPS = [
  [1, 0.25, 0.25, 0.001, 0, 0.6, 1, 1200, -1.2],
  [2, 0.5, 0.5, 0.0012, 0.001, 0.55, 0, 1300, -0.8],
  [3, 0.75, 0.75, 0.0014, 0.002, 0.5, 0, 1250, -0.4],
]
const GRPO_STEPS = [
  [1, 0.25, 0.25, 0.0011, 0, 1, 2, 1500, -1.0],
  [2, 0.25, 0.25, 0.0012, 0, 1, 1, 1450, -0.9],
  [3, 0.5, 0.5, 0.0013, 0.001, 1, 1, 1480, -0.6],
]

test.beforeAll(async () => {
  await withDb(async (db) => {
    const owner = (await db.query('SELECT id FROM users WHERE email = $1', [email()])).rows[0].id
    const base = (await db.query(`SELECT id FROM base_models WHERE name = 'fixture'`)).rows[0].id
    const dataset = (await db.query(`SELECT id FROM datasets WHERE name = 'arithmetic-train'`)).rows[0].id
    const runs: [string, string, 'TRL' | 'GRPO', number, number[][], string][] = [
      [trlId, trlName, 'TRL', 0.5, TRL_STEPS, '2026-01-01 10:01:30'],
      [grpoId, grpoName, 'GRPO', 0, GRPO_STEPS, '2026-01-01 11:02:00'],
    ]
    for (const [id, name, algorithm, pJunior, steps, finishedAt] of runs) {
      await db.query(
        `INSERT INTO training_runs (id, name, algorithm, config, seed, status, current_step, max_steps, owner_id, base_model_id,
                                    dataset_id, pair_id, started_at, finished_at)
         VALUES ($1, $2, $3::"Algorithm", $4::jsonb, 0, 'SUCCEEDED', 3, 3, $5, $6, $7, $8, '2026-01-01 10:00:00', $9)`,
        [id, name, algorithm, JSON.stringify({ p_junior: pJunior, beta: 0.04, max_steps: 3 }), owner, base, dataset, `pair-${tag}`, finishedAt],
      )
      for (const [step, reward, accuracy, kl, clip, share, zeroSignal, tps, loss] of steps) {
        await db.query(
          `INSERT INTO run_metrics (id, run_id, step, reward, accuracy, kl, clip_fraction, senior_token_share, zero_signal_groups,
                                    groups, tokens_per_second, loss)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 4, $10, $11)`,
          [`${id}-m${step}`, id, step, reward, accuracy, kl, clip, share, zeroSignal, tps, loss],
        )
      }
    }
    // a finished evaluation of the TRL run's last checkpoint, for the evaluations list's headline column
    await db.query(
      `INSERT INTO checkpoints (id, run_id, step, path, format, sha256, size_bytes)
       VALUES ($1, $2, 3, '/nonexistent/e2e-compare', 'hf-safetensors', $3, 1)`,
      [`${trlId}-ck`, trlId, 'a'.repeat(64)],
    )
    const soloMean = { solo_mean_at_k: { value: 0.5, low: 0.25, high: 0.75, n: 4 } }
    await db.query(
      `INSERT INTO evaluation_runs (id, checkpoint_id, suites, settings, status) VALUES ($1, $2, '{solo}', $3::jsonb, 'SUCCEEDED')`,
      [`${tag}-eval`, `${trlId}-ck`, JSON.stringify({ datasetId: dataset, k: 4, seed: 0 })],
    )
    await db.query(
      `INSERT INTO evaluation_reports (id, evaluation_run_id, suite, metrics, report) VALUES ($1, $2, 'solo', $3::jsonb, $4::jsonb)`,
      [`${tag}-report`, `${tag}-eval`, JSON.stringify(soloMean), JSON.stringify({ metrics: soloMean })],
    )
  })
})

async function accessibleAtBothWidths(page: Page, what: string) {
  await page.setViewportSize(DESKTOP)
  await expectAccessible(page, `${what} at 1280 px`)
  await page.setViewportSize(PHONE)
  await expectAccessible(page, `${what} at 375 px`)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  expect(overflow, `${what}: horizontal overflow at 375 px`).toBeLessThanOrEqual(1)
  await page.setViewportSize(DESKTOP)
}

/** The text of a chart's y-axis tick labels (recharts draws them in a layer apart from the axis), sorted. */
async function yTickLabels(chart: Locator): Promise<string[]> {
  return (await chart.locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents()).sort()
}

/** No tick label sticks out of the chart's left edge (cut labels were "0014" for 0.0014 and lost minus signs). */
async function expectLabelsInside(chart: Locator) {
  const surface = await chart.locator('.recharts-wrapper > svg.recharts-surface').boundingBox()
  expect(surface).not.toBeNull()
  for (const label of await chart.locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').all()) {
    const box = await label.boundingBox()
    expect(box, 'a y tick label is drawn').not.toBeNull()
    expect(box!.x, `"${await label.textContent()}" starts inside the chart`).toBeGreaterThanOrEqual(surface!.x - 0.5)
  }
}

test('the runs list finds, filters and summarises runs; the compare page overlays them readably', async ({ page }) => {
  await signIn(page)
  await page.goto('/console')
  await expect(page.getByRole('heading', { level: 1, name: 'Training runs' })).toBeVisible()

  // search: the pair only, by part of its name; the query lands in the URL
  await page.getByLabel('Search runs').fill(tag)
  await expect(page).toHaveURL(new RegExp(`[?&]q=${tag}`))
  const rows = page.getByTestId('run-row')
  await expect(rows).toHaveCount(2)
  const trlRow = rows.filter({ hasText: trlName })
  const grpoRow = rows.filter({ hasText: grpoName })
  // columns: select, name, algorithm, status, steps, final reward, final accuracy, duration
  await expect(trlRow.locator('td').nth(4)).toHaveText('3/3')
  await expect(trlRow.locator('td').nth(5)).toHaveText('0.750')
  await expect(trlRow.locator('td').nth(6)).toHaveText('0.750')
  await expect(trlRow.locator('td').nth(7)).toHaveText('1 min 30 s')
  await expect(grpoRow.locator('td').nth(5)).toHaveText('0.500')
  await expect(grpoRow.locator('td').nth(6)).toHaveText('0.500')
  await expect(grpoRow.locator('td').nth(7)).toHaveText('1 h 2 min')
  await expect(trlRow.locator('td').nth(5).locator('span')).toHaveAttribute('title', 'at step 3')

  // filters combine with the search
  await page.locator('#algorithm-filter').selectOption('TRL')
  await expect(page).toHaveURL(/[?&]algorithm=TRL/)
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText(trlName)
  await page.locator('#algorithm-filter').selectOption('')
  await expect(rows).toHaveCount(2)
  await page.locator('#status-filter').selectOption('FAILED')
  await expect(page.getByText('No runs match these filters.')).toBeVisible()
  await page.locator('#status-filter').selectOption('SUCCEEDED')
  await expect(rows).toHaveCount(2)
  await accessibleAtBothWidths(page, 'the runs list with filters')

  // a pair links to its own comparison
  await trlRow.getByRole('link', { name: `Compare pair: ${trlName} with its partner` }).click()
  await expect(page).toHaveURL(new RegExp(`/console/compare/runs\\?ids=${trlId},${grpoId}$`))
  await expect(page.getByRole('heading', { level: 1, name: 'Compare runs' })).toBeVisible()

  // or tick any runs (here: GRPO first) and compare them
  await page.goBack()
  await expect(rows).toHaveCount(2)
  const compare = page.getByRole('button', { name: 'Compare selected' })
  await expect(compare).toBeDisabled()
  await page.getByRole('checkbox', { name: `Compare ${grpoName}`, exact: true }).check()
  await expect(compare).toBeDisabled()
  await page.getByRole('checkbox', { name: `Compare ${trlName}`, exact: true }).check()
  await expect(page.getByTestId('compare-runs-selection')).toHaveText('2 ticked')
  await compare.click()
  await expect(page).toHaveURL(new RegExp(`/console/compare/runs\\?ids=${grpoId},${trlId}$`))
  await expect(page.getByRole('heading', { level: 1, name: 'Compare runs' })).toBeVisible()

  // the runs side by side, in the order ticked, and what differs between them: p_junior only
  const compared = page.getByTestId('compared-run-row')
  await expect(compared).toHaveCount(2)
  await expect(compared.first()).toContainText(grpoName)
  await expect(compared.last()).toContainText(trlName)
  await expect(compared.last()).toContainText('0.750')
  await expect(compared.last()).toContainText('1 min 30 s')
  const differences = page.getByTestId('run-difference-row')
  await expect(differences).toHaveCount(1)
  await expect(differences.locator('td')).toHaveText(['p_junior', '0', '0.5'])

  // one chart per metric, both runs on each, straight segments between the three points
  for (const id of ['reward', 'accuracy', 'kl', 'clip-fraction', 'senior-token-share', 'zero-signal-share', 'tokens-per-second', 'loss']) {
    const chart = page.getByTestId(`compare-chart-${id}`)
    await expect(chart, id).toHaveAttribute('data-series', '2')
    await expect(chart, id).toHaveAttribute('data-points', '6')
    const curves = chart.locator('path.recharts-line-curve')
    await expect(curves, id).toHaveCount(2)
    for (const d of await curves.evaluateAll((paths) => paths.map((p) => p.getAttribute('d') ?? ''))) {
      expect(d, `${id}: a straight polyline, not a smoothed curve`).toMatch(/^M[^C]*$/)
    }
    // recharts draws labels in a layer of their own: the chart's one label is its x axis's
    await expect(chart.locator('.recharts-label'), id).toHaveText('step')
    await expect.poll(async () => (await chart.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents()).sort(), id).toEqual(['1', '2', '3'])
    await expect(chart.getByTestId('chart-legend'), id).toContainText(grpoName)
    await expect(chart.getByTestId('chart-legend'), id).toContainText(trlName)
  }

  // readable axes: KL ticks whole (0.0014, not "0014"), the loss keeps its minus signs, shares on 0–1
  const kl = page.getByTestId('compare-chart-kl')
  await expect.poll(() => yTickLabels(kl)).toEqual(['0.0010', '0.0011', '0.0012', '0.0013', '0.0014'])
  await expectLabelsInside(kl)
  const loss = page.getByTestId('compare-chart-loss')
  await expect.poll(() => yTickLabels(loss)).toEqual(['-0.4', '-0.6', '-0.8', '-1.0', '-1.2'])
  await expectLabelsInside(loss)
  for (const id of ['reward', 'accuracy', 'senior-token-share', 'zero-signal-share']) {
    await expect.poll(() => yTickLabels(page.getByTestId(`compare-chart-${id}`)), id).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1.0'])
  }
  // the clip fraction is a share too, but small: 0 to a round bound above its data
  await expect.poll(() => yTickLabels(page.getByTestId('compare-chart-clip-fraction'))).toEqual(['0', '0.0005', '0.0010', '0.0015', '0.0020'])
  await expect(kl.locator('div[role="img"]')).toHaveAttribute(
    'aria-label',
    `KL to reference over training steps: ${grpoName} 0.0013 at step 3; ${trlName} 0.0014 at step 3`,
  )
  await accessibleAtBothWidths(page, 'the compare-runs page')

  // the run page draws its charts with the same axes
  await page.goto(`/console/runs/${trlId}`)
  const runKl = page.getByTestId('metric-chart').filter({ hasText: 'KL to reference' })
  await expect(runKl).toHaveAttribute('data-points', '3')
  await expect(runKl.locator('path.recharts-line-curve')).toHaveCount(1)
  await expect.poll(() => yTickLabels(runKl)).toEqual(['0.0010', '0.0011', '0.0012', '0.0013', '0.0014'])
  await expectLabelsInside(runKl)

  // unknown runs are refused with a reason; one run is not a comparison
  await page.goto(`/console/compare/runs?ids=${trlId},no-such-run`)
  await expect(page.getByTestId('compare-error')).toContainText('No training run no-such-run')
  await page.goto(`/console/compare/runs?ids=${trlId}`)
  await expect(page.getByTestId('compare-runs-choose')).toBeVisible()
})

test('the evaluations list shows each evaluation’s headline metric with its interval', async ({ page }) => {
  await signIn(page)
  await page.goto('/console/evaluations')
  const row = page.getByTestId('evaluation-row').filter({ hasText: `${trlName} · step 3` })
  await expect(row).toHaveCount(1)
  const headline = row.getByTestId('evaluation-headline')
  await expect(headline).toHaveAttribute('data-metric', 'solo_mean_at_k')
  await expect(headline).toContainText('Solo accuracy (mean@k)')
  await expect(headline).toContainText('0.500 [0.250, 0.750]')
  await accessibleAtBothWidths(page, 'the evaluations list with headline metrics')
})
