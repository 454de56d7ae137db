// Create or update a console user with a hashed password (demo, e2e, first admin).
//
//   npm run seed:user -w apps/web -- --email a@b.c --password '…' [--role RESEARCHER|ADMIN] [--name 'Ada']
//                                    [--disabled] [--database-url postgresql://…]   (default: $DATABASE_URL)
//
// Re-running with the same e-mail updates the password, role and name, and re-enables the account
// (or disables it with --disabled).
import { parseArgs } from 'node:util'

import { createDb } from '../src/server/db'
import { hashPassword } from '../src/server/auth/password'
import { SECRET_LIMITS } from '../src/server/limits'

const ROLES = ['ADMIN', 'RESEARCHER'] as const
type Role = (typeof ROLES)[number]

function fail(message: string): never {
  console.error(`seed-user: ${message}`)
  process.exit(2)
}

async function main() {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      role: { type: 'string', default: 'RESEARCHER' },
      name: { type: 'string' },
      disabled: { type: 'boolean', default: false },
      'database-url': { type: 'string' },
    },
    strict: true,
  })
  const email = values.email?.trim().toLowerCase()
  if (!email || !/^[^\s@]+@[^\s@]+$/.test(email)) fail('--email is required (an e-mail address)')
  const minLength = SECRET_LIMITS.minPasswordLength
  if (!values.password) fail(`--password is required (at least ${minLength} characters)`)
  if (values.password.length < minLength) fail(`--password must be at least ${minLength} characters (got ${values.password.length})`)
  const role = values.role?.toUpperCase() as Role
  if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')} (got ${values.role})`)
  const url = values['database-url'] ?? process.env.DATABASE_URL
  if (!url) fail('no database: pass --database-url or set DATABASE_URL')

  const db = createDb(url)
  try {
    const passwordHash = await hashPassword(values.password)
    const name = values.name ?? email.split('@')[0]!
    const disabledAt = values.disabled ? new Date() : null
    const user = await db.user.upsert({
      where: { email },
      create: { email, name, role, passwordHash, disabledAt },
      update: { role, passwordHash, disabledAt, ...(values.name ? { name } : {}) },
      select: { id: true, email: true, role: true, disabledAt: true },
    })
    await db.auditLog.create({
      data: { actorId: null, action: 'user.seed', entity: 'users', entityId: user.id, details: { role, disabled: values.disabled } },
    })
    console.log(JSON.stringify(user))
  } finally {
    await db.$disconnect()
  }
}

main().catch((error: unknown) => {
  console.error('seed-user failed:', error instanceof Error ? error.message : error)
  process.exit(1)
})
