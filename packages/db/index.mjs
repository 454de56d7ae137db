// @tandem/db: the migration tool as a module, for tests that need a fresh, migrated database
// (e.g. createTempDatabase + applyMigrations, then dropDatabase). The implementation and the CLI live
// in prisma/migrate.mjs, next to the migrations.
export * from '../../prisma/migrate.mjs'
