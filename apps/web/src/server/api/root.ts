import { catalogRouter } from './routers/catalog'
import { meRouter } from './routers/me'
import { runsRouter } from './routers/runs'
import { usersRouter } from './routers/users'
import { createCallerFactory, createTRPCRouter } from './trpc'

export const appRouter = createTRPCRouter({
  me: meRouter,
  catalog: catalogRouter,
  runs: runsRouter,
  users: usersRouter,
})

export type AppRouter = typeof appRouter

/** Server-side calls without HTTP: `createCaller(ctx).runs.list({ page: 1 })`. */
export const createCaller = createCallerFactory(appRouter)
