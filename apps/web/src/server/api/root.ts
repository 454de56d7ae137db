import { catalogRouter } from './routers/catalog'
import { datasetsRouter } from './routers/datasets'
import { evaluationsRouter } from './routers/evaluations'
import { experimentsRouter } from './routers/experiments'
import { meRouter } from './routers/me'
import { modelsRouter } from './routers/models'
import { participantRouter } from './routers/participant'
import { runsRouter } from './routers/runs'
import { studiesRouter } from './routers/studies'
import { tracesRouter } from './routers/traces'
import { usersRouter } from './routers/users'
import { createCallerFactory, createTRPCRouter } from './trpc'

export const appRouter = createTRPCRouter({
  me: meRouter,
  catalog: catalogRouter,
  runs: runsRouter,
  users: usersRouter,
  models: modelsRouter,
  datasets: datasetsRouter,
  evaluations: evaluationsRouter,
  experiments: experimentsRouter,
  traces: tracesRouter,
  studies: studiesRouter,
  participant: participantRouter,
})

export type AppRouter = typeof appRouter

/** Server-side calls without HTTP: `createCaller(ctx).runs.list({ page: 1 })`. */
export const createCaller = createCallerFactory(appRouter)
