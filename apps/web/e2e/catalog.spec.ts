// The catalog end to end, against the real worker: register a base model and watch it validate; upload a
// JSONL with bad rows (every error listed, nothing stored) and a good CSV (previewed); generate a demo dataset.
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

test('register the fixture model under a new name: pending, then valid with what the worker read', async ({ page }) => {
  const fixturePath = await withDb(async (db) => (await db.query(`SELECT path FROM base_models WHERE name = 'fixture'`)).rows[0].path as string)
  await signIn(page)
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Models' }).click()
  await expect(page).toHaveURL(/\/console\/models$/)
  await expect(page.getByRole('heading', { level: 1, name: 'Base models' })).toBeVisible()
  await expect(page.getByTestId('models-table-row').filter({ hasText: 'fixture' })).toContainText('Valid')
  await accessibleAtBothWidths(page, 'the models page')

  // field errors: a relative path (caught in the browser) and a taken name (answered by the server)
  await page.getByLabel('Name').fill('fixture')
  await page.getByLabel('Path').fill('models/fixture')
  await page.getByRole('button', { name: 'Register model' }).click()
  await expect(page.getByTestId('model-path-error')).toContainText('Must be an absolute path')
  await page.getByLabel('Path').fill(fixturePath)
  await page.getByRole('button', { name: 'Register model' }).click()
  await expect(page.getByTestId('model-name-error')).toHaveText('A model named “fixture” already exists')
  await expect(page.getByTestId('form-error')).toHaveText('Fix the fields marked below.')

  const name = `e2e-model-${Date.now()}`
  await page.getByLabel('Name').fill(name)
  await page.getByRole('button', { name: 'Register model' }).click()
  const result = page.getByTestId('registration-result')
  await expect(result).toContainText(`Registered ${name}`)
  // the worker answers without a reload
  await expect(page.getByTestId('registration-status')).toHaveText('Valid', { timeout: 120_000 })
  await expect(result).toContainText('Qwen3ForCausalLM')
  await expect(page.getByTestId('models-table-row').filter({ hasText: name })).toContainText('Valid')
  await accessibleAtBothWidths(page, 'the models page with a registration')

  await result.getByRole('link', { name }).click()
  await expect(page.getByTestId('model-name')).toHaveText(name)
  await expect(page.getByTestId('model-status')).toHaveText('Valid')
  const info = page.getByTestId('model-info')
  await expect(info).toContainText('Architecture')
  await expect(info).toContainText('Qwen3ForCausalLM')
  await expect(info.getByRole('row', { name: /Vocabulary size/ })).toBeVisible()
  await expect(page.getByText('Base checkpoint')).toBeVisible()
  await accessibleAtBothWidths(page, 'a model page')

  // re-validate: a second job, and the page follows it back to valid
  await page.getByRole('button', { name: 'Re-validate' }).click()
  const validationJobs = () =>
    withDb(async (db) => {
      const jobs = await db.query(
        `SELECT status FROM jobs WHERE kind = 'VALIDATE_MODEL' AND payload->>'baseModelId' = (SELECT id FROM base_models WHERE name = $1)`,
        [name],
      )
      return jobs.rows.map((r) => r.status as string)
    })
  await expect.poll(validationJobs, { timeout: 120_000 }).toEqual(['SUCCEEDED', 'SUCCEEDED'])
  await expect(page.getByTestId('model-status')).toHaveText('Valid')
  await expect(page.getByRole('button', { name: 'Re-validate' })).toBeEnabled()
})

test('a path that is not a model becomes invalid, with the worker’s reason', async ({ page }) => {
  await signIn(page)
  await page.goto('/console/models')
  const name = `e2e-missing-${Date.now()}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Path').fill('/nonexistent/e2e-model')
  await page.getByRole('button', { name: 'Register model' }).click()
  await expect(page.getByTestId('registration-status')).toHaveText('Invalid', { timeout: 120_000 })
  // outside the worker's model roots: refused without a word about what lies there (docs/security.md, Model paths)
  await expect(page.getByTestId('registration-error')).toContainText('the path is outside the model roots')
  await page.getByTestId('registration-result').getByRole('link', { name }).click()
  await expect(page.getByTestId('model-validation-error')).toContainText('the path is outside the model roots')
  await accessibleAtBothWidths(page, 'an invalid model page')
})

test('a JSONL with two bad rows: both errors with their line numbers, and no dataset', async ({ page }) => {
  await signIn(page)
  await page.goto('/console/datasets')
  await expect(page.getByRole('heading', { level: 1, name: 'Datasets' })).toBeVisible()
  await accessibleAtBothWidths(page, 'the datasets page')
  await page.getByRole('link', { name: 'Upload a file' }).click()
  await expect(page).toHaveURL(/\/console\/datasets\/upload$/)
  await accessibleAtBothWidths(page, 'the upload form')

  const uploadsBefore = await withDb(async (db) => Number((await db.query('SELECT count(*) FROM dataset_uploads')).rows[0].count))
  // a file type the importer does not read is refused in the browser, before anything is sent
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'problems.txt', mimeType: 'text/plain', buffer: Buffer.from('2+2=4') })
  await page.getByLabel('Dataset name').fill(`e2e-txt-${Date.now()}`)
  await page.getByRole('button', { name: 'Upload' }).click()
  await expect(page.getByTestId('file-error')).toHaveText('“problems.txt” is not a dataset file: accepted types are .jsonl, .csv, .parquet')

  const name = `e2e-bad-${Date.now()}`
  const jsonl = [
    JSON.stringify({ id: 'a', problem: 'What is 2 + 2?', answer: '4' }),
    JSON.stringify({ id: 'b', problem: 'What is 3 + 3?' }),
    JSON.stringify({ id: 'c', problem: 'What is 1/2 + 1/2?', answer: '1' }),
    '{"id": "d", "problem": "What is 5 - 1?", "answer": ',
  ].join('\n')
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'bad.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) })
  await page.getByLabel('Dataset name').fill(name)
  await page.getByRole('button', { name: 'Upload' }).click()

  await expect(page).toHaveURL(/\/console\/datasets\/upload\?id=/)
  await expect(page.getByTestId('upload-status')).toHaveText('Failed', { timeout: 120_000 })
  await expect(page.getByTestId('upload-rejected')).toContainText('Nothing was stored: 2 problems found in bad.jsonl')
  const rows = page.getByTestId('upload-errors-row')
  await expect(rows).toHaveCount(2)
  await expect(rows.nth(0).locator('td').nth(0)).toHaveText('2')
  await expect(rows.nth(0)).toContainText('answer')
  await expect(rows.nth(1).locator('td').nth(0)).toHaveText('4')
  await expect(rows.nth(1)).toContainText(/JSON/i)
  await accessibleAtBothWidths(page, 'an upload with row errors')

  // the address keeps the upload: a reload shows the same result
  await page.reload()
  await expect(page.getByTestId('upload-errors-row')).toHaveCount(2)

  await withDb(async (db) => {
    expect((await db.query('SELECT count(*) FROM datasets WHERE name = $1', [name])).rows[0].count).toBe('0')
    // the .txt file never reached the server; the JSONL is stored as a FAILED upload
    expect(Number((await db.query('SELECT count(*) FROM dataset_uploads')).rows[0].count)).toBe(uploadsBefore + 1)
  })
  await page.goto('/console/datasets')
  await expect(page.getByTestId('datasets-table')).toBeVisible()
  await expect(page.getByTestId('datasets-table-row').filter({ hasText: name })).toHaveCount(0)
})

test('a good CSV becomes a dataset whose problems can be previewed', async ({ page }) => {
  await signIn(page)
  await page.goto('/console/datasets/upload')
  const name = `e2e-csv-${Date.now()}`
  const csv = [
    'id,problem,answer,difficulty',
    'q1,"Mia has 3 apples, then buys 4 more. How many apples?",7,1',
    'q2,What is half of 1?,\\frac{1}{2},1',
    'q3,"Tom has 10 pens, gives 3 away, then buys 2 boxes with 5 pens in each. How many pens?",17,3',
  ].join('\n')
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
  // the name defaults to the file's name
  await expect(page.getByLabel('Dataset name')).toHaveValue('good')
  await page.getByLabel('Dataset name').fill(name)
  await page.getByRole('button', { name: 'Upload' }).click()
  await expect(page.getByTestId('upload-status')).toHaveText('Imported', { timeout: 120_000 })
  await page.getByRole('link', { name: `Open ${name}` }).click()

  await expect(page.getByTestId('dataset-name')).toHaveText(name)
  await expect(page.getByTestId('dataset-problem-count')).toHaveText('3')
  await expect(page.getByText('Uploaded from good.csv')).toBeVisible()
  const rows = page.getByTestId('problems-table-row')
  await expect(rows).toHaveCount(3)
  await expect(rows.nth(0)).toContainText('q1')
  await expect(rows.nth(0)).toContainText('Mia has 3 apples, then buys 4 more. How many apples?')
  await expect(rows.nth(0).locator('td').nth(2)).toHaveText('7')
  // a TeX answer is typeset, not shown as backslashes
  await expect(rows.nth(1).locator('td').nth(2).locator('[data-math]')).toBeVisible()
  await expect(rows.nth(2).locator('td').nth(3)).toHaveText('3')
  await accessibleAtBothWidths(page, 'a dataset page')

  await page.goto('/console/datasets')
  await expect(page.getByTestId('datasets-table-row').filter({ hasText: name })).toContainText('upload')
})

test('a file larger than the 64 kB body cap uploads (the upload travels alone, with the upload cap)', async ({ page }) => {
  await signIn(page)
  await page.goto('/console/datasets/upload')
  const name = `e2e-large-${Date.now()}`
  const rows = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ id: `r${i}`, problem: `What is ${i} + ${i + 1}? Write the sum.`, answer: String(2 * i + 1) }))
  const jsonl = rows.join('\n')
  expect(Buffer.byteLength(jsonl)).toBeGreaterThan(64 * 1024)
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'large.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) })
  await page.getByLabel('Dataset name').fill(name)
  await page.getByRole('button', { name: 'Upload' }).click()
  await expect(page.getByTestId('upload-status')).toHaveText('Imported', { timeout: 120_000 })
  await page.getByRole('link', { name: `Open ${name}` }).click()
  await expect(page.getByTestId('dataset-problem-count')).toHaveText('1,500')
})

test('generate a demo dataset and open it', async ({ page }) => {
  await signIn(page)
  await page.goto('/console/datasets')
  await page.getByRole('link', { name: 'Generate demo dataset' }).click()
  await expect(page).toHaveURL(/\/console\/datasets\/generate$/)
  await accessibleAtBothWidths(page, 'the generate form')

  const name = `e2e-gen-${Date.now()}`
  await page.getByLabel('Dataset name').fill(name)
  await page.getByLabel('Number of problems').fill('30')
  await page.getByLabel('Seed').fill('7')
  await page.getByLabel('Fewest steps').fill('4')
  await page.getByLabel('Most steps').fill('2')
  await page.getByRole('button', { name: 'Generate' }).click()
  await expect(page.getByTestId('generate-max-steps-error')).toHaveText('Most steps must be at least the fewest steps')
  await page.getByLabel('Fewest steps').fill('2')
  await page.getByLabel('Most steps').fill('4')
  await page.getByRole('button', { name: 'Generate' }).click()

  await expect(page).toHaveURL(/\/console\/datasets\/generate\?job=/)
  await expect(page.getByTestId('generation-status')).toHaveText('Succeeded', { timeout: 120_000 })
  await expect(page.getByTestId('generation-result')).toContainText('Generated 30 problems.')
  await accessibleAtBothWidths(page, 'a finished generation')
  await page.getByRole('link', { name: `Open ${name}` }).click()
  await expect(page.getByTestId('dataset-name')).toHaveText(name)
  await expect(page.getByTestId('dataset-problem-count')).toHaveText('30')
  await expect(page.getByText('2 steps: 10 · 3 steps: 10 · 4 steps: 10')).toBeVisible()
  await expect(page.getByTestId('problems-table-row')).toHaveCount(20)
  await expect(page.getByTestId('pagination-status')).toHaveText('30 problems · page 1 of 2')
  await page.getByRole('button', { name: 'Next' }).click()
  await expect(page.getByTestId('problems-table-row')).toHaveCount(10)
  await expect(page.getByTestId('pagination-status')).toHaveText('30 problems · page 2 of 2')

  // the same name again: the form says so before anything is queued
  await page.goto('/console/datasets/generate')
  await page.getByLabel('Dataset name').fill(name)
  await page.getByRole('button', { name: 'Generate' }).click()
  await expect(page.getByTestId('generate-name-error')).toHaveText(`A dataset named “${name}” already exists`)
})
