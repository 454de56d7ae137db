// What a run can be launched on: registered base models and datasets (seeded or registered by workers).
import { createTRPCRouter, researcherProcedure } from '../trpc'

export const catalogRouter = createTRPCRouter({
  baseModels: researcherProcedure.query(({ ctx }) =>
    ctx.db.baseModel.findMany({
      orderBy: { name: 'asc' },
      select: { id: true, name: true, path: true, validatedAt: true, createdAt: true },
    }),
  ),
  datasets: researcherProcedure.query(({ ctx }) =>
    ctx.db.dataset.findMany({
      orderBy: { name: 'asc' },
      select: { id: true, name: true, source: true, rowCount: true, createdAt: true },
    }),
  ),
})
