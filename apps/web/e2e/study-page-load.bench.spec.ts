// Benchmark (issue 16 item 10): the study page's time to the dashboard for a study with 500 responses, before and
// after the tabs. "Before" is the page as one long scroll — every section stacked, the design above the dashboard,
// all sections' queries at once — which the tabbed page still renders at ?tab=all; "after" is the default tab of a
// study that has opened (the dashboard alone). Both are loaded alternately in one browser so machine noise hits them
// alike, timed from navigation until the dashboard's accuracy chart is drawn with its bars and intervals (what a
// researcher opening the study waits for). Prints p50/p95 of each and the ratio before / after.
//
// The study is inserted with SQL (no worker needed): 2 conditions × 25 problems of arithmetic-eval, 4 tasks per
// participant by the Latin square, 125 completed participants = 500 responses, every one verified.
import { expect, test, type Page } from '@playwright/test'

import { email, insertFixtureRun, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const LOADS = 10
const CONDITIONS = ['GRPO', 'TRL'] as const
const PROBLEMS = 25
const TASKS = 4
const PARTICIPANTS = 125 // × TASKS = 500 responses

/** A closed study with PARTICIPANTS × TASKS verified responses; returns its id. */
async function makeStudy(): Promise<string> {
  const id = `bench-study-${Date.now().toString(36)}`
  await insertFixtureRun(`${id}-trl`, 'TRL')
  await insertFixtureRun(`${id}-grpo`, 'GRPO')
  await withDb(async (db) => {
    const owner = (await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email()])).rows[0]!.id
    const dataset = (await db.query<{ id: string }>("SELECT id FROM datasets WHERE name = 'arithmetic-eval'")).rows[0]!.id
    const problems = (await db.query<{ id: string; answer: string }>(
      'SELECT id, answer FROM problems WHERE dataset_id = $1 ORDER BY external_id LIMIT $2', [dataset, PROBLEMS],
    )).rows
    expect(problems).toHaveLength(PROBLEMS)
    await db.query(
      `INSERT INTO studies (id, name, status, owner_id, dataset_id, problem_count, handoff_rule, tasks_per_participant, time_limit_s,
         consent_text, instructions, practice, attention_checks, completion_code, url_params, hash_salt, launched_at, opened_at, closed_at)
       VALUES ($1, $2, 'CLOSED', $3, $4, $5, '{"kind":"step","k":1}', $6, 300, 'You agree to take part.', 'Continue the reasoning.',
         '{"problem":"What is 1 + 1?","reasoning":"1 + 1 = 2","answer":"2"}', '[]', 'BENCH1', ARRAY['PROLIFIC_PID','STUDY_ID','SESSION_ID'],
         'bench-salt', now(), now(), now())`,
      [id, `Page-load bench ${id}`, owner, dataset, PROBLEMS, TASKS],
    )
    for (const [c, name] of CONDITIONS.entries()) {
      await db.query('INSERT INTO study_conditions (id, study_id, name, checkpoint_id) VALUES ($1, $2, $3, $4)', [
        `${id}-c${c}`, id, name, `${id}-${name.toLowerCase()}-ck`,
      ])
      await db.query(
        `INSERT INTO study_items (id, study_id, condition_id, problem_id, prefix_text, handoff_step)
         SELECT $1 || '-c' || $2 || '-q' || q, $1, $1 || '-c' || $2, p, 'Step 1: start' || chr(10), 1
         FROM unnest($3::text[]) WITH ORDINALITY AS u(p, q)`,
        [id, c, problems.map((p) => p.id)],
      )
    }
    await db.query(
      `INSERT INTO participants (id, study_id, ordinal, design_row, external_id, token_hash, url_params, consented_at, instructions_done_at,
         practice_done_at, completed_at, outcome, outcome_at)
       SELECT $1 || '-p' || n, $1, n, n, 'bench-pid-' || n, $1 || '-token-' || n,
         jsonb_build_object('PROLIFIC_PID', 'bench-pid-' || n, 'STUDY_ID', 'bench', 'SESSION_ID', 's-' || n), now(), now(), now(), now(),
         'COMPLETED', now()
       FROM generate_series(0, $2 - 1) AS n`,
      [id, PARTICIPANTS],
    )
    // the cyclic Latin square (assignment.ts): cell s = n·T + j (mod C·P) is problem s mod P under condition (⌊s/P⌋ + q) mod C
    const rows = { id: [] as string[], participant: [] as string[], item: [] as string[], position: [] as number[], correct: [] as boolean[], ms: [] as number[] }
    for (let n = 0; n < PARTICIPANTS; n++) {
      for (let j = 0; j < TASKS; j++) {
        const s = (n * TASKS + j) % (CONDITIONS.length * PROBLEMS)
        const q = s % PROBLEMS
        const c = (Math.floor(s / PROBLEMS) + q) % CONDITIONS.length
        rows.id.push(`${id}-a${n}-${j}`)
        rows.participant.push(`${id}-p${n}`)
        rows.item.push(`${id}-c${c}-q${q + 1}`)
        rows.position.push(j)
        rows.correct.push((n * 7 + j * 3 + c) % 5 < (c === 0 ? 3 : 2))
        rows.ms.push(20_000 + ((n * 131 + j * 17) % 40_000))
      }
    }
    await db.query(
      `INSERT INTO assignments (id, participant_id, item_id, position, started_at)
       SELECT a, p, i, pos, now() - interval '1 hour' FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS u(a, p, i, pos)`,
      [rows.id, rows.participant, rows.item, rows.position],
    )
    await db.query(
      `INSERT INTO responses (id, assignment_id, continuation, answer, ease_rating, confidence, elapsed_ms)
       SELECT a || '-r', a, 'Adding step by step.', CASE WHEN ok THEN '1' ELSE '-1' END, 4, 3, ms
       FROM unnest($1::text[], $2::boolean[], $3::int[]) AS u(a, ok, ms)`,
      [rows.id, rows.correct, rows.ms],
    )
    await db.query(
      `INSERT INTO verifier_results (id, verifier, version, extracted_answer, verdict, details, response_id)
       SELECT a || '-v', 'math-verify', 'bench', CASE WHEN ok THEN '1' ELSE '-1' END,
         (CASE WHEN ok THEN 'CORRECT' ELSE 'INCORRECT' END)::"Verdict", 'bench', a || '-r'
       FROM unnest($1::text[], $2::boolean[]) AS u(a, ok)`,
      [rows.id, rows.correct],
    )
    const count = await db.query<{ n: string }>('SELECT count(*) AS n FROM study_response_rows WHERE study_id = $1', [id])
    expect(Number(count.rows[0]!.n)).toBe(PARTICIPANTS * TASKS)
  })
  return id
}

/** Seconds from navigation until the dashboard's accuracy chart shows both conditions' bars with their intervals. */
async function secondsToDashboard(page: Page, url: string): Promise<number> {
  const started = Date.now()
  await page.goto(url)
  const chart = page.getByTestId('accuracy-chart')
  await expect(chart).toHaveAttribute('data-bars', String(CONDITIONS.length), { timeout: 60_000 })
  await expect(chart.locator('.recharts-errorBar')).toHaveCount(CONDITIONS.length)
  await expect(chart).toBeVisible()
  return (Date.now() - started) / 1000
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!
}

test('study page: time to the dashboard with 500 responses, one long page (?tab=all) vs the tabs', async ({ page }) => {
  test.setTimeout(600_000)
  await signIn(page)
  const id = await makeStudy()
  const before = `/console/studies/${id}?tab=all`
  const after = `/console/studies/${id}`
  // the baseline really is the old layout: the design above the dashboard, every section on the page
  await secondsToDashboard(page, before)
  expect((await page.getByTestId('design-summary').boundingBox())!.y).toBeLessThan((await page.getByTestId('study-dashboard').boundingBox())!.y)
  await expect(page.getByTestId('participant-row').first()).toBeVisible()
  // and the tabbed page opens on the dashboard alone
  await secondsToDashboard(page, after)
  await expect(page.getByRole('tab', { name: 'Dashboard', exact: true })).toHaveAttribute('aria-selected', 'true')
  await expect(page.getByTestId('design-summary')).toHaveCount(0)

  const times = { before: [] as number[], after: [] as number[] }
  for (let i = 0; i < LOADS; i++) {
    times.before.push(await secondsToDashboard(page, before))
    times.after.push(await secondsToDashboard(page, after))
  }
  const p50 = { before: quantile(times.before, 0.5), after: quantile(times.after, 0.5) }
  const p95 = { before: quantile(times.before, 0.95), after: quantile(times.after, 0.95) }
  console.log(
    `study page, time to the dashboard (${PARTICIPANTS * TASKS} responses) over ${LOADS} alternating loads: ` +
      `one page (?tab=all) p50 ${p50.before.toFixed(2)} s p95 ${p95.before.toFixed(2)} s; ` +
      `tabs (dashboard) p50 ${p50.after.toFixed(2)} s p95 ${p95.after.toFixed(2)} s; ratio before / after (p50) ${(p50.before / p50.after).toFixed(2)}×`,
  )
  // the dashboard tab asks for less than the whole page; it must at least not be slower (with room for noise)
  expect(p50.after).toBeLessThan(p50.before * 1.25)
})
