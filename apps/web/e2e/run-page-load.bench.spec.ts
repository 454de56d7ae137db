// Benchmark: the run page's load time with 10,000 metric rows against the same page with 10 rows, loaded
// alternately in one browser so machine noise hits both alike. Prints p50/p95 of each and their ratio.
// "Loaded" = the charts are drawn with data and the step count is shown (what a researcher waits for).
import { expect, test, type Page } from '@playwright/test'

import { email, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const LOADS = 15

async function makeRun(steps: number): Promise<string> {
  return withDb(async (db) => {
    const id = `bench-${steps}-${Date.now()}`
    await db.query(
      `INSERT INTO training_runs (id, name, algorithm, config, seed, status, current_step, max_steps, owner_id, base_model_id, dataset_id)
       SELECT $1, $2, 'TRL', '{"p_junior": 0.5}', 0, 'SUCCEEDED', $3, $3, u.id, m.id, d.id
       FROM users u, base_models m, datasets d WHERE u.email = $4 AND m.name = 'fixture' AND d.name = 'arithmetic-train'`,
      [id, `bench ${steps} steps`, steps, email()],
    )
    await db.query(
      `INSERT INTO run_metrics (id, run_id, step, reward, accuracy, kl, clip_fraction, entropy, senior_token_share,
                                zero_signal_groups, groups, tokens_per_second, loss, grad_norm, completion_length, elapsed_s)
       SELECT $1 || '-' || s, $1, s, random(), random(), random() / 10, random() / 20, random(), 0.5 + random() / 10,
              (random() * 4)::int, 4, 900 + random() * 100, random(), random(), 60 + random() * 20, s * 1.5
       FROM generate_series(1, $2) AS s`,
      [id, steps],
    )
    return id
  })
}

async function loadSeconds(page: Page, id: string, steps: number): Promise<number> {
  const started = Date.now()
  await page.goto(`/console/runs/${id}`)
  await expect(page.getByTestId('metrics-summary')).toContainText(`${steps.toLocaleString("en-GB")} steps logged`)
  await expect(page.getByTestId('metric-chart').first().locator('.recharts-line-curve')).toBeAttached()
  return (Date.now() - started) / 1000
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!
}

test('run page load: 10k metric rows vs 10 rows', async ({ page }) => {
  test.setTimeout(600_000)
  await signIn(page)
  const big = await makeRun(10_000)
  const small = await makeRun(10)
  // warm-up (first compile of the route, caches)
  await loadSeconds(page, small, 10)
  await loadSeconds(page, big, 10_000)
  await expect(page.getByTestId('metrics-summary')).toContainText('drawn every 5th step')

  const times = { big: [] as number[], small: [] as number[] }
  for (let i = 0; i < LOADS; i++) {
    times.small.push(await loadSeconds(page, small, 10))
    times.big.push(await loadSeconds(page, big, 10_000))
  }
  const p = (xs: number[]) => `p50 ${quantile(xs, 0.5).toFixed(3)} s, p95 ${quantile(xs, 0.95).toFixed(3)} s`
  console.log(`[figure] run page, 10 metric rows:     ${p(times.small)}`)
  console.log(`[figure] run page, 10,000 metric rows: ${p(times.big)}`)
  console.log(`[figure] ratio 10k/10 rows: p50 ${(quantile(times.big, 0.5) / quantile(times.small, 0.5)).toFixed(2)}x, ` +
    `p95 ${(quantile(times.big, 0.95) / quantile(times.small, 0.95)).toFixed(2)}x (${LOADS} alternating loads each)`)
})
