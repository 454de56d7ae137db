// Accounts end to end: an admin invites a researcher; the invitee opens the link in another browser context,
// chooses a password and signs in; the admin disables the account and the invitee is locked out. Researchers
// cannot reach the admin page. Every page is checked with axe at desktop and phone widths.
import { expect, test, type Page } from '@playwright/test'

import { DESKTOP, expectAccessible, PHONE, signIn, withDb } from './support'

test.use({ baseURL: process.env.E2E_BASE_URL })

const adminEmail = () => process.env.E2E_ADMIN_EMAIL!

async function accessibleAtBothWidths(page: Page, what: string) {
  await page.setViewportSize(DESKTOP)
  await expectAccessible(page, `${what} (desktop)`)
  await page.setViewportSize(PHONE)
  await expectAccessible(page, `${what} (phone)`)
  await page.setViewportSize(DESKTOP)
}

async function signInForm(page: Page, email: string, password: string) {
  await page.goto('/login')
  await page.getByLabel('E-mail', { exact: true }).fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

test('invite → accept → sign in; disable → locked out', async ({ page, browser, context, baseURL }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL })
  await signIn(page, adminEmail())
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click()
  await expect(page).toHaveURL(/\/console\/admin\/users$/)
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible()
  await accessibleAtBothWidths(page, 'the users page')

  // an address that already has an active account is refused on its field
  await page.getByLabel('E-mail', { exact: true }).fill(process.env.E2E_EMAIL!)
  await page.getByLabel('Name', { exact: true }).fill('Someone')
  await page.getByRole('button', { name: 'Invite', exact: true }).click()
  await expect(page.getByTestId('invite-email-error')).toHaveText(`${process.env.E2E_EMAIL} already has an account`)

  const invitee = `invitee-${Date.now()}@e2e.tandem.test`
  await page.getByLabel('E-mail', { exact: true }).fill(invitee)
  await page.getByLabel('Name', { exact: true }).fill('Ivy Invitee')
  await page.getByLabel('Role', { exact: true }).selectOption('RESEARCHER')
  await page.getByRole('button', { name: 'Invite', exact: true }).click()
  const panel = page.getByTestId('invitation')
  await expect(panel).toContainText(`Invitation link for ${invitee}`)
  const link = await page.getByLabel('Invitation link', { exact: true }).inputValue()
  expect(link).toMatch(new RegExp(`^${baseURL}/invite/[A-Za-z0-9_-]{43}$`))
  await panel.getByRole('button', { name: 'Copy link' }).click()
  await expect(panel.getByRole('button', { name: 'Copied' })).toBeVisible()
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link)
  const row = page.getByTestId('users-table-row').filter({ hasText: invitee })
  await expect(row.getByTestId('user-status')).toHaveText('Invited')
  await accessibleAtBothWidths(page, 'the users page with an invitation link')
  // the link is shown once: it is not in the page after a reload, nor in the database
  await page.reload()
  await expect(page.getByTestId('invitation')).toHaveCount(0)
  const token = link.split('/').pop()!
  await withDb(async (db) => {
    const user = await db.query('SELECT password_hash, invite_token_hash FROM users WHERE email = $1', [invitee])
    expect(user.rows[0].password_hash).toBeNull()
    expect(user.rows[0].invite_token_hash).toMatch(/^[0-9a-f]{64}$/)
    const leaked = await db.query(`SELECT count(*) FROM audit_log WHERE details::text LIKE '%' || $1 || '%'`, [token])
    expect(leaked.rows[0].count).toBe('0')
  })

  // the invitee, in a browser of their own
  const inviteeContext = await browser.newContext({ baseURL })
  const inviteePage = await inviteeContext.newPage()
  try {
    await inviteePage.goto(link)
    await expect(inviteePage.getByRole('heading', { level: 1, name: 'Join Tandem Lab' })).toBeVisible()
    await expect(inviteePage.getByLabel('E-mail', { exact: true })).toHaveValue(invitee)
    await expect(inviteePage.getByLabel('Your name')).toHaveValue('Ivy Invitee')
    await accessibleAtBothWidths(inviteePage, 'the invitation page')

    const password = 'a-long-invitee-password'
    await inviteePage.getByLabel('Password', { exact: true }).fill('too short')
    await inviteePage.getByLabel('Repeat the password').fill('too short')
    await inviteePage.getByRole('button', { name: 'Set password' }).click()
    await expect(inviteePage.getByTestId('invite-password-error')).toHaveText('At least 12 characters')
    await inviteePage.getByLabel('Password', { exact: true }).fill(password)
    await inviteePage.getByLabel('Repeat the password').fill(`${password}!`)
    await inviteePage.getByRole('button', { name: 'Set password' }).click()
    await expect(inviteePage.getByTestId('invite-confirm-error')).toHaveText('The passwords do not match')
    await inviteePage.getByLabel('Repeat the password').fill(password)
    await inviteePage.getByRole('button', { name: 'Set password' }).click()
    await expect(inviteePage).toHaveURL(/\/login$/)

    await signInForm(inviteePage, invitee, password)
    await expect(inviteePage).toHaveURL(/\/console$/)
    await expect(inviteePage.getByTestId('current-user')).toContainText(invitee)
    // a researcher: no Users link, and the admin page refuses them on the server
    await expect(inviteePage.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' })).toHaveCount(0)
    await inviteePage.goto('/console/admin/users')
    await expect(inviteePage.getByRole('heading', { level: 1, name: 'Administrators only' })).toBeVisible()
    await expect(inviteePage.getByTestId('users-table')).toHaveCount(0)
    await accessibleAtBothWidths(inviteePage, 'the admin page refusing a researcher')

    // the link is used up
    await inviteePage.goto(link)
    await expect(inviteePage.getByTestId('invite-problem')).toHaveText(
      'This invitation link is not valid: it is unknown or has already been used. Ask an administrator for a new one.',
    )

    // the admin sees the account active, and disables it
    await page.reload()
    await expect(row.getByTestId('user-status')).toHaveText('Active')
    page.once('dialog', (dialog) => dialog.accept())
    await row.getByRole('button', { name: `Disable ${invitee}` }).click()
    await expect(row.getByTestId('user-status')).toHaveText('Disabled')
    await expect(row.getByRole('button', { name: `Enable ${invitee}` })).toBeVisible()

    // the invitee's open session ends at once, and signing in again is refused
    await inviteePage.goto('/console')
    await expect(inviteePage).toHaveURL(/\/login/)
    await signInForm(inviteePage, invitee, password)
    await expect(inviteePage.getByTestId('form-error')).toHaveText('This account is disabled. Ask an administrator to enable it.')
    await expect(inviteePage).toHaveURL(/\/login/)
  } finally {
    await inviteeContext.close()
  }

  await withDb(async (db) => {
    const actions = await db.query(
      `SELECT action FROM audit_log WHERE entity_id = (SELECT id FROM users WHERE email = $1) ORDER BY id`,
      [invitee],
    )
    expect(actions.rows.map((r) => r.action)).toEqual(['user.invite', 'user.accept_invite', 'user.disable'])
  })
})

test('unknown and expired invitation links say so and change nothing', async ({ page }) => {
  await page.goto(`/invite/${'A'.repeat(43)}`)
  await expect(page.getByTestId('invite-problem')).toContainText('This invitation link is not valid')
  await accessibleAtBothWidths(page, 'an unknown invitation link')
  await page.goto('/invite/not-a-token')
  await expect(page.getByTestId('invite-problem')).toHaveText('This is not an invitation link')

  // an invitation whose week has passed
  await signIn(page, adminEmail())
  await page.goto('/console/admin/users')
  const invitee = `late-${Date.now()}@e2e.tandem.test`
  await page.getByLabel('E-mail', { exact: true }).fill(invitee)
  await page.getByLabel('Name', { exact: true }).fill('Late Invitee')
  await page.getByRole('button', { name: 'Invite', exact: true }).click()
  const link = await page.getByLabel('Invitation link', { exact: true }).inputValue()
  await withDb((db) => db.query(`UPDATE users SET invite_expires_at = now() - interval '1 minute' WHERE email = $1`, [invitee]))
  await page.reload()
  await expect(page.getByTestId('users-table-row').filter({ hasText: invitee }).getByTestId('user-status')).toHaveText('Invite expired')

  const other = await page.context().browser()!.newContext()
  try {
    const invitePage = await other.newPage()
    await invitePage.goto(link)
    await expect(invitePage.getByTestId('invite-problem')).toContainText('This invitation expired on')
    await expect(invitePage.getByLabel('Password', { exact: true })).toHaveCount(0)
  } finally {
    await other.close()
  }
  await withDb(async (db) => {
    const user = await db.query('SELECT password_hash FROM users WHERE email = $1', [invitee])
    expect(user.rows[0].password_hash).toBeNull()
  })

  // "New link" issues a fresh one
  await page.getByRole('button', { name: `New link for ${invitee}` }).click()
  await expect(page.getByTestId('invitation')).toContainText(`New invitation link for ${invitee}`)
  const fresh = await page.getByLabel('Invitation link', { exact: true }).inputValue()
  expect(fresh).not.toBe(link)
  await expect(page.getByTestId('users-table-row').filter({ hasText: invitee }).getByTestId('user-status')).toHaveText('Invited')
})
