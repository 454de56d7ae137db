// Benchmark: the experiment page's load time with 6 runs × 2,000 logged steps (2 arms × 3 seeds) against the same
// design with 6 runs × 10 steps, loaded alternately in one browser so machine noise hits both alike. Prints p50/p95 of
// each and their ratio. "Loaded" = the reward curve is drawn with data (what a researcher waits for).
import { expect, test, type Page } from '@playwright/test'

import { email, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const LOADS = 10
const ARMS = [
  { name: 'grpo', algorithm: 'GRPO', overrides: { p_junior: 0 } },
  { name: 'trl', algorithm: 'TANDEM', overrides: { p_junior: 0.5 } },
]
const SEEDS = [0, 1, 2]

/** An experiment row with 6 finished runs of `steps` logged steps each (as the worker would have written them). */
async function makeExperiment(steps: number): Promise<string> {
  return withDb(async (db) => {
    const id = `bench-exp-${steps}-${Date.now()}`
    await db.query(
      `INSERT INTO experiments (id, name, owner_id, base_model_id, dataset_id, eval_dataset_id, config, arms, seeds, evaluation, status)
       SELECT $1, $2, u.id, m.id, d.id, e.id, '{"max_steps": ${steps}}', $3, $4, '{"suites": ["solo"], "settings": {}}', 'SUCCEEDED'
       FROM users u, base_models m, datasets d, datasets e
       WHERE u.email = $5 AND m.name = 'fixture' AND d.name = 'arithmetic-train' AND e.name = 'arithmetic-eval'`,
      [id, `bench experiment ${steps} steps`, JSON.stringify(ARMS), SEEDS, email()],
    )
    for (const arm of ARMS) {
      for (const seed of SEEDS) {
        const runId = `${id}-${arm.name}-${seed}`
        await db.query(
          `INSERT INTO training_runs (id, name, algorithm, config, seed, status, current_step, max_steps, owner_id, base_model_id, dataset_id,
                                      experiment_id, arm_name)
           SELECT $1, $2, $3, $4, $5, 'SUCCEEDED', $6, $6, x.owner_id, x.base_model_id, x.dataset_id, x.id, $7
           FROM experiments x WHERE x.id = $8`,
          [runId, `${runId}`, arm.algorithm === 'GRPO' ? 'GRPO' : 'TRL', JSON.stringify(arm.overrides), seed, steps, arm.name, id],
        )
        await db.query(
          `INSERT INTO run_metrics (id, run_id, step, reward, accuracy, kl, senior_token_share, completion_length, elapsed_s)
           SELECT $1 || '-' || s, $1, s, random(), random(), random() / 10, 0.5 + random() / 10, 60 + random() * 20, s * 1.5
           FROM generate_series(1, $2) AS s`,
          [runId, steps],
        )
      }
    }
    return id
  })
}

async function loadSeconds(page: Page, id: string): Promise<number> {
  const started = Date.now()
  await page.goto(`/console/experiments/${id}`)
  const curve = page.getByTestId('curve-reward')
  await expect(curve).not.toHaveAttribute('data-points', '0')
  await expect(curve.locator('.recharts-line-curve').first()).toBeAttached()
  return (Date.now() - started) / 1000
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!
}

test('experiment page load: 6 runs × 2,000 steps vs 6 runs × 10 steps', async ({ page }) => {
  test.setTimeout(600_000)
  await signIn(page)
  const big = await makeExperiment(2_000)
  const small = await makeExperiment(10)
  // warm-up (first compile of the route, caches)
  await loadSeconds(page, small)
  await loadSeconds(page, big)

  const times = { big: [] as number[], small: [] as number[] }
  for (let i = 0; i < LOADS; i++) {
    times.small.push(await loadSeconds(page, small))
    times.big.push(await loadSeconds(page, big))
  }
  const p50 = { big: quantile(times.big, 0.5), small: quantile(times.small, 0.5) }
  const p95 = { big: quantile(times.big, 0.95), small: quantile(times.small, 0.95) }
  console.log(
    `experiment page load over ${LOADS} alternating loads: 6 × 10 steps p50 ${p50.small.toFixed(2)} s p95 ${p95.small.toFixed(2)} s; ` +
      `6 × 2,000 steps p50 ${p50.big.toFixed(2)} s p95 ${p95.big.toFixed(2)} s; ratio (p50) ${(p50.big / p50.small).toFixed(2)}×`,
  )
  // a page that loads every step of every run would be many times slower; the curves are thinned on the server
  expect(p50.big / p50.small).toBeLessThan(3)
})
