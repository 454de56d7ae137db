// An experiment as one zip a reviewer can analyse without the platform: the design, each run's config and per-step
// metrics (CSV), every evaluation's reports with their per-problem results, the claims report, and a README saying
// how each figure was computed. Built in memory (JSZip): an experiment of 6 runs × 2,000 steps holds ~1 MB of metrics,
// and the per-problem results of its evaluations a few MB; the route refuses nothing by size, the README states it.
import { stringify } from 'csv-stringify/sync'
import JSZip from 'jszip'

import { designOf } from '../api/routers/experiments'
import type { Db } from '../db'

/** The per-step metric columns of metrics.csv, as run_metrics names them. */
export const METRIC_COLUMNS = [
  'step', 'reward', 'accuracy', 'kl', 'clip_fraction', 'entropy', 'senior_token_share', 'zero_signal_groups', 'groups',
  'tokens_per_second', 'loss', 'grad_norm', 'completion_length', 'elapsed_s',
] as const

/** A run's folder in the archive: runs/<arm>-s<seed> (arm names are restricted to file-safe characters on create). */
export const runFolder = (arm: string | null, seed: number) => `runs/${(arm ?? 'run').replace(/[^A-Za-z0-9_.-]/g, '_')}-s${seed}`

export async function experimentArchive(db: Db, id: string): Promise<{ name: string; bytes: Uint8Array } | null> {
  const experiment = await db.experiment.findUnique({
    where: { id },
    include: {
      baseModel: { select: { id: true, name: true } },
      juniorModel: { select: { id: true, name: true } },
      dataset: { select: { id: true, name: true } },
      evalDataset: { select: { id: true, name: true } },
      runs: { orderBy: [{ armName: 'asc' }, { seed: 'asc' }], select: { id: true, name: true, armName: true, seed: true, algorithm: true, status: true, config: true, currentStep: true, maxSteps: true } },
      evaluations: {
        orderBy: { createdAt: 'asc' },
        select: {
          id: true, status: true, suites: true, settings: true, createdAt: true,
          checkpoint: { select: { id: true, step: true, runId: true, baseModelId: true, sha256: true, run: { select: { armName: true, seed: true } } } },
          reports: { orderBy: { suite: 'asc' }, select: { suite: true, metrics: true, report: true, createdAt: true } },
        },
      },
    },
  })
  if (!experiment) return null
  const zip = new JSZip()
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

  zip.file('experiment.json', json({
    id: experiment.id,
    status: experiment.status,
    createdAt: experiment.createdAt,
    finishedAt: experiment.finishedAt,
    priority: experiment.priority,
    clonedFromId: experiment.clonedFromId,
    design: designOf(experiment),
    names: {
      baseModel: experiment.baseModel.name,
      juniorModel: experiment.juniorModel?.name ?? '(self-paired: a frozen copy of the base)',
      dataset: experiment.dataset.name,
      evalDataset: experiment.evalDataset.name,
    },
    runs: experiment.runs.map((r) => ({ id: r.id, name: r.name, arm: r.armName, seed: r.seed, algorithm: r.algorithm, status: r.status, steps: `${r.currentStep}/${r.maxSteps}`, folder: runFolder(r.armName, r.seed) })),
  }))

  for (const run of experiment.runs) {
    const folder = runFolder(run.armName, run.seed)
    zip.file(`${folder}/config.json`, json(run.config))
    const rows = await db.runMetric.findMany({ where: { runId: run.id }, orderBy: { step: 'asc' } })
    const records = rows.map((m) => [
      m.step, m.reward, m.accuracy, m.kl, m.clipFraction, m.entropy, m.seniorTokenShare, m.zeroSignalGroups, m.groups,
      m.tokensPerSecond, m.loss, m.gradNorm, m.completionLength, m.elapsedSeconds,
    ])
    // numbers only, but the same formula guard as every CSV export of the app
    zip.file(`${folder}/metrics.csv`, stringify([[...METRIC_COLUMNS], ...records], { escape_formulas: true }))
  }

  for (const e of experiment.evaluations) {
    zip.file(`evaluations/${e.id}.json`, json({
      id: e.id,
      status: e.status,
      of: e.checkpoint.runId ? { arm: e.checkpoint.run?.armName ?? null, seed: e.checkpoint.run?.seed ?? null, runId: e.checkpoint.runId, step: e.checkpoint.step } : { base: experiment.baseModel.name },
      checkpoint: { id: e.checkpoint.id, sha256: e.checkpoint.sha256 },
      suites: e.suites,
      settings: e.settings,
      // each report carries metrics with intervals, curves, histograms and per_problem (the paired statistics' input)
      reports: e.reports,
    }))
  }

  zip.file('report.json', json(experiment.report ?? null))
  zip.file('README.md', readme(experiment.name, experiment.report != null))
  const bytes = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 6 } })
  const safeName = experiment.name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'experiment'
  return { name: `${safeName}-${experiment.id}.zip`, bytes }
}

function readme(name: string, hasReport: boolean): string {
  return `# Experiment archive: ${name}

Everything the experiment page shows, as files, so the figures can be checked without the platform.

| file | what |
| --- | --- |
| \`experiment.json\` | the design: base and junior model, training and held-out datasets, the shared budget (\`design.config\`), the arms with their overrides, the seeds, the evaluation suites and settings; the runs and their folders |
| \`runs/<arm>-s<seed>/config.json\` | the full trainer config the run was launched with: the budget, the arm's overrides (\`p_junior\`, \`handoff_rule\`, \`junior_token_weight\`), its seed; a GRPO arm has \`p_junior\` 0 |
| \`runs/<arm>-s<seed>/metrics.csv\` | one row per logged training step: ${METRIC_COLUMNS.join(', ')} |
| \`evaluations/<id>.json\` | one evaluation of a final checkpoint (\`of.arm\`, \`of.seed\`) or of the base (\`of.base\`): settings, and per suite the metrics with 95% intervals, curves, histograms and \`per_problem\` — every problem's result by problem id |
| \`report.json\` | the claims report (${hasReport ? 'computed when every evaluation was in' : 'null: not computed yet when this archive was made'}) |

## How each figure was computed

- **Training curves** (the page's reward, accuracy, KL, senior share and response length): per arm and step, the mean
  over the arm's seeds of \`metrics.csv\`, with the min–max over seeds as the band. They describe training; no claim is
  read from them.
- **Held-out accuracy** (\`report.json\` → \`heldOut\`): solo mean@k of each arm on the held-out split — per problem,
  the mean over k samples; per arm, the mean over problems and seeds. Its 95% interval is a hierarchical bootstrap
  (seeds resampled within the arm, problems resampled). \`minusBase\` is the arm minus the base, **paired per problem**:
  problems are resampled jointly for both, so each problem's difficulty cancels.
- **Claims** (\`report.json\` → \`claims\`): each is the estimate B − A (the arm minus GRPO, or minus the base) of one
  metric over the same problem ids, mean over problems of the mean over seeds, with a 95% interval from the paired,
  multi-seed bootstrap above (2,000 replicates by default; seeds drawn with replacement within each arm, problem
  indices drawn once and applied to both arms). Verdicts are read from that one interval, never from two intervals
  overlapping: a difference claim is *supported* when the interval excludes 0 in the claimed direction and *refuted*
  when it excludes 0 the other way; "keeps its solo accuracy" is an **equivalence** test, supported when the 90%
  interval lies inside ±margin (\`report.margin\`) and refuted when the 95% interval lies wholly outside it; anything
  else is *inconclusive*; *not measured* when a suite the claim needs was not run. A claim carries a warning with
  fewer than 30 problems or fewer than 3 seeds in a trained arm (with one seed the interval covers evaluation noise
  only). Each claim's \`how\` field is the sentence the page prints.
- **Displacement**: positions where a GRPO checkpoint moved far from the base (KL above the evaluation's
  \`displacement_threshold\`), and the share of them where the tandem checkpoint sits closer to the base. Picking one
  run's extremes alone gives more than 50% "shift back" by regression to the mean, so the claim is measured against
  a **null**: the same statistic with a second GRPO seed in the tandem slot. The estimate is the tandem share's excess
  over the null, with the same paired, multi-seed interval; it is supported when that interval lies above 0.
- **Handoff curves** (\`handoffCurves\`): accuracy when the senior writes the first k reasoning steps (or fraction f)
  and the junior finishes, mean over seeds with 95% intervals, per arm and protocol; the per-problem numbers behind
  each point are in the evaluations' \`per_problem\`.

The statistics have one definition, in the trainer (\`workers/trainer/src/tandem/claims.py\` on \`tandem/stats.py\`);
\`docs/statistics.md\` in the repository states the estimator, the bootstrap and the verdict rules in full.

This archive is built in memory when it is requested; a large experiment's per-problem results make it a few MB.
`
}
