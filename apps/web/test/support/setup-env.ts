import { inject } from 'vitest'

process.env.DATABASE_URL = inject('databaseUrl')
process.env.AUTH_SECRET ??= 'test-secret-that-is-long-enough-0123456789'
