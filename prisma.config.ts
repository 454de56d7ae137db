// Prisma CLI configuration (Prisma 7): where the schema and migrations live, and which database
// `prisma migrate …` / `prisma studio` talk to. The app's runtime connection is not configured here:
// PrismaClient gets a driver adapter (@prisma/adapter-pg) in apps/web.
// On these machines migrations run through prisma/migrate.mjs (npm run db:migrate), which reads the
// same folders; see prisma/README.md.
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  datasource: {
    // Not env('DATABASE_URL'): that throws when the variable is unset, and `prisma generate` needs no
    // database. Commands that do need one fail with Prisma's own message when it is empty.
    url: process.env.DATABASE_URL ?? '',
  },
})
