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
