// Experiment designs and rows for tests: a create input that passes validation, and a finished experiment as the
// worker leaves it (runs, their final checkpoints, evaluations and the claims report).
import type { Db } from '@/server/db'

import { uniq, validEvaluationLaunch, type TestUser } from './helpers'

/** A create input for experiments.create that passes validation: GRPO and TANDEM arms, 2 seeds, 2 steps. */
export function validExperiment(catalog: { baseModel: { id: string }; dataset: { id: string } }, overrides: Record<string, unknown> = {}) {
  const { suites, settings } = validEvaluationLaunch([], catalog.dataset.id)
  return {
    name: uniq('experiment'),
    baseModelId: catalog.baseModel.id,
    datasetId: catalog.dataset.id,
    evalDatasetId: catalog.dataset.id,
    config: { max_steps: 2, num_generations: 4, per_device_train_batch_size: 8, learning_rate: 0.0002 },
    arms: [
      { name: 'grpo', algorithm: 'GRPO' as const, overrides: {} },
      { name: 'tandem', algorithm: 'TANDEM' as const, overrides: { p_junior: 0.5 } },
    ],
    seeds: [0, 1],
    evaluation: { suites, settings },
    ...overrides,
  }
}

/** A finished experiment (no job queued or running), stored directly: cancel and resume have nothing to do. */
export async function makeFinishedExperiment(db: Db, catalog: { baseModel: { id: string }; dataset: { id: string } }, owner: TestUser) {
  const design = validExperiment(catalog)
  return db.experiment.create({
    data: {
      name: design.name, ownerId: owner.id, baseModelId: catalog.baseModel.id, datasetId: catalog.dataset.id,
      evalDatasetId: catalog.dataset.id, config: design.config, arms: design.arms, seeds: design.seeds,
      evaluation: design.evaluation, status: 'SUCCEEDED', finishedAt: new Date(),
    },
  })
}
