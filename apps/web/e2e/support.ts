// Shared steps of the e2e specs: signing in, picking options, the axe check, the database.
import AxeBuilder from '@axe-core/playwright'
import { expect, type Page } from '@playwright/test'
import pg from 'pg'

export const email = () => process.env.E2E_EMAIL!
export const password = () => process.env.E2E_PASSWORD!

export async function signIn(page: Page, as = email(), pass = password()) {
  await page.goto('/login')
  await page.getByLabel('E-mail').fill(as)
  await page.getByLabel('Password').fill(pass)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/console/)
}

/** The value of the first option of `#selectId` whose text contains `text`. */
export async function optionValue(page: Page, selectId: string, text: string): Promise<string> {
  const value = await page.locator(`#${selectId} option`, { hasText: text }).first().getAttribute('value')
  expect(value, `an option "${text}" in #${selectId}`).toBeTruthy()
  return value!
}

/** axe-core on the page as it is now: no serious or critical violations (the rest are reported, not failed). */
export async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  const summary = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`)
  expect(summary, `axe on ${what}`).toEqual([])
}

export const PHONE = { width: 375, height: 812 }
export const DESKTOP = { width: 1280, height: 800 }

/** A pg client on the e2e database, closed after `fn`. */
export async function withDb<T>(fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL })
  await db.connect()
  try {
    return await fn(db)
  } finally {
    await db.end()
  }
}

/**
 * A finished training run `id` whose one checkpoint (`<id>-ck`, step 1) is the fixture base model's weights: the
 * e2e database has only that model, and studies need run checkpoints as conditions.
 */
export async function insertFixtureRun(id: string, algorithm: 'TRL' | 'GRPO') {
  await withDb(async (db) => {
    const base = (await db.query(
      `SELECT c.path, c.sha256, c.size_bytes, c.base_model_id FROM checkpoints c JOIN base_models b ON b.id = c.base_model_id
       WHERE b.name = 'fixture' AND c.run_id IS NULL`,
    )).rows[0]
    const owner = (await db.query('SELECT id FROM users WHERE email = $1', [email()])).rows[0].id
    const dataset = (await db.query(`SELECT id FROM datasets WHERE name = 'arithmetic-eval'`)).rows[0].id
    await db.query(
      `INSERT INTO training_runs (id, name, algorithm, config, seed, status, current_step, max_steps, owner_id, base_model_id, dataset_id)
       VALUES ($1, $1, $2::"Algorithm", '{"p_junior": 0.5}'::jsonb, 0, 'SUCCEEDED', 1, 1, $3, $4, $5)`,
      [id, algorithm, owner, base.base_model_id, dataset],
    )
    await db.query(
      `INSERT INTO checkpoints (id, run_id, step, path, format, sha256, size_bytes) VALUES ($1, $2, 1, $3, 'hf-safetensors', $4, $5)`,
      [`${id}-ck`, id, base.path, base.sha256, base.size_bytes],
    )
  })
}

/** A tRPC call as the signed-in page's user (superjson body shape, unbatched). */
export async function trpcCall<T>(page: Page, path: string, input: unknown): Promise<T> {
  const response = await page.request.post(`/api/trpc/${path}`, { data: { json: input } })
  const body = await response.json()
  if (!response.ok()) throw new Error(`${path}: ${response.status()} ${JSON.stringify(body)}`)
  return body.result.data.json as T
}
