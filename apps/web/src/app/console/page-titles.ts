import 'server-only'
// Browser-tab titles of the console's detail pages by name ("gsm8k TRL · Tandem Lab"), not by id. The name is read
// with one small query per page, and only for a caller who may read the thing (the same rule as its page); anyone
// else, a missing row or a database hiccup gets the page's plain title: a title never fails a page.
import type { Metadata } from 'next'

import { checkpointSelect, describeCheckpoint } from '@/server/api/routers/evaluations'
import { canReadArtefact, type Actor } from '@/server/auth/access'
import { currentUser } from '@/server/auth/current-user'
import { getDb, type Db } from '@/server/db'

export type TitledKind = 'run' | 'evaluation' | 'model' | 'dataset' | 'experiment' | 'trace' | 'study'

/** The plain title of each kind of page, when its name cannot be shown. */
export const PLAIN_TITLE: Record<TitledKind, string> = {
  run: 'Run',
  evaluation: 'Evaluation',
  model: 'Model',
  dataset: 'Dataset',
  experiment: 'Experiment',
  trace: 'Trace',
  study: 'Study',
}

const MAX_TITLE = 80

function clip(text: string): string {
  return text.length > MAX_TITLE ? `${text.slice(0, MAX_TITLE - 1)}…` : text
}

/** The name `actor` sees for the page of `kind` `id`, or null (not theirs to read, or no such row). */
export async function nameOf(db: Db, actor: Actor | null, kind: TitledKind, id: string): Promise<string | null> {
  // every one of these is a research artefact (a study's name is part of its design, readable lab-wide)
  if (!actor || !canReadArtefact(actor)) return null
  switch (kind) {
    case 'run':
      return (await db.trainingRun.findUnique({ where: { id }, select: { name: true } }))?.name ?? null
    case 'model':
      return (await db.baseModel.findUnique({ where: { id }, select: { name: true } }))?.name ?? null
    case 'dataset':
      return (await db.dataset.findUnique({ where: { id }, select: { name: true } }))?.name ?? null
    case 'experiment':
      return (await db.experiment.findUnique({ where: { id }, select: { name: true } }))?.name ?? null
    case 'study':
      return (await db.study.findUnique({ where: { id }, select: { name: true } }))?.name ?? null
    case 'evaluation': {
      const row = await db.evaluationRun.findUnique({ where: { id }, select: { checkpoint: { select: checkpointSelect } } })
      return row ? `Evaluation of ${describeCheckpoint(row.checkpoint).label}` : null
    }
    case 'trace': {
      const row = await db.trace.findUnique({
        where: { id },
        select: { checkpoint: { select: checkpointSelect }, problem: { select: { externalId: true } } },
      })
      return row ? `Trace of ${describeCheckpoint(row.checkpoint).label}, problem ${row.problem.externalId}` : null
    }
  }
}

/** generateMetadata's answer for a detail page: its name when the signed-in caller may read it, else the plain title. */
export async function pageTitle(kind: TitledKind, id: string): Promise<Metadata> {
  try {
    const name = await nameOf(getDb(), await currentUser(), kind, id)
    return { title: name ? clip(name) : PLAIN_TITLE[kind] }
  } catch {
    return { title: PLAIN_TITLE[kind] }
  }
}
