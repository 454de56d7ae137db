// The console's words for people: statuses ("Cancelling"), counts ("1 step"), the nav's current section, a
// checkpoint's size note, and tab titles by name (for those who may read the thing) rather than by id.
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { beforeAll, describe, expect, test } from 'vitest'

import { currentSectionHref } from '@/app/console/console-sections'
import { nameOf } from '@/app/console/page-titles'
import { checkpointContents, CheckpointSize, CheckpointSizeNote } from '@/app/console/runs/[id]/checkpoint-size'
import { plural } from '@/components/format'
import { StatusBadge, statusText } from '@/components/status-badge'

import { makeCatalog, makeCheckpoints, makeFinishedEvaluation, makeTrace, makeUser, testDb, type TestUser } from './support/helpers'

describe('statusText', () => {
  test('says every stored status in words', () => {
    expect(
      ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCEL_REQUESTED', 'CANCELLED', 'INVITE EXPIRED', 'OPEN', 'valid'].map(statusText),
    ).toEqual(['Queued', 'Running', 'Succeeded', 'Failed', 'Cancelling', 'Cancelled', 'Invite expired', 'Open', 'Valid'])
  })

  test('an unknown status still reads as words, never as the raw constant', () => {
    expect(statusText('WAITING_FOR_GPU')).toBe('Waiting for gpu')
  })

  test('the badge shows the words and keeps the stored value on data-status', () => {
    const html = renderToStaticMarkup(createElement(StatusBadge, { status: 'CANCEL_REQUESTED', testId: 'job-status' }))
    expect(html).toContain('>Cancelling</span>')
    expect(html).toContain('data-status="CANCEL_REQUESTED"')
    expect(html).not.toContain('>CANCEL_REQUESTED<')
    // a lower-case status (models) gets its colour too, not the fallback's
    const valid = renderToStaticMarkup(createElement(StatusBadge, { status: 'valid' }))
    expect(valid).toContain('bg-emerald-50')
    expect(valid).toContain('>Valid</span>')
  })
})

describe('plural', () => {
  test('singular for exactly one, plural otherwise, irregular plurals given', () => {
    expect(plural(1, 'step')).toBe('1 step')
    expect(plural(2, 'step')).toBe('2 steps')
    expect(plural(0, 'step')).toBe('0 steps')
    expect(plural(1, 'study', 'studies')).toBe('1 study')
    expect(plural(3, 'study', 'studies')).toBe('3 studies')
  })

  test('groups large counts for reading', () => {
    expect(plural(12_500, 'token')).toBe('12,500 tokens')
  })
})

describe('currentSectionHref', () => {
  test('each page belongs to its section; the longest prefix wins', () => {
    expect(currentSectionHref('/console')).toBe('/console')
    expect(currentSectionHref('/console/runs/abc123')).toBe('/console')
    expect(currentSectionHref('/console/compare')).toBe('/console/evaluations')
    expect(currentSectionHref('/console/compare/runs')).toBe('/console')
    expect(currentSectionHref('/console/runs/new')).toBe('/console/runs/new')
    expect(currentSectionHref('/console/studies/s1/participants/p1')).toBe('/console/studies')
    expect(currentSectionHref('/console/traces/t1')).toBe('/console/traces')
    expect(currentSectionHref('/console/admin/users')).toBe('/console/admin/users')
    expect(currentSectionHref('/console/models/')).toBe('/console/models')
  })

  test('a look-alike prefix is not a section, and pages outside the console have none', () => {
    expect(currentSectionHref('/console/modelsx')).toBeNull()
    expect(currentSectionHref('/login')).toBeNull()
  })
})

describe('checkpoint size', () => {
  test('an intermediate checkpoint folder holds the optimizer state; the final one and exports the weights only', () => {
    expect(checkpointContents('/runs/r1/checkpoint-40')).toBe('weights-and-optimizer')
    expect(checkpointContents('/runs/r1/checkpoint-40/')).toBe('weights-and-optimizer')
    expect(checkpointContents('/runs/r1/final')).toBe('weights')
    expect(checkpointContents('/runs/onnx/c123')).toBe('weights')
    expect(checkpointContents('/runs/checkpoint-40/final')).toBe('weights')
  })

  test('the size says what it includes, and the note explains once why intermediate ones are larger', () => {
    const cell = renderToStaticMarkup(createElement(CheckpointSize, { sizeBytes: 3 * 1024 ** 3, path: '/runs/r1/checkpoint-2' }))
    expect(cell).toContain('3.0 GB')
    expect(cell).toContain('weights + optimizer state')
    expect(renderToStaticMarkup(createElement(CheckpointSize, { sizeBytes: 1024 ** 3, path: '/runs/r1/final' }))).toContain('weights only')
    expect(renderToStaticMarkup(createElement(CheckpointSizeNote, { paths: ['/runs/r1/checkpoint-2', '/runs/r1/final'] }))).toContain(
      'optimizer’s state',
    )
    expect(renderToStaticMarkup(createElement(CheckpointSizeNote, { paths: ['/runs/r1/final'] }))).toBe('')
  })
})

describe('titles by name', () => {
  const db = testDb()
  let researcher: TestUser
  let catalog: Awaited<ReturnType<typeof makeCatalog>>
  let ckpts: Awaited<ReturnType<typeof makeCheckpoints>>

  beforeAll(async () => {
    researcher = await makeUser(db, 'RESEARCHER')
    catalog = await makeCatalog(db)
    ckpts = await makeCheckpoints(db, catalog, researcher)
  })

  test('each detail page is titled by its name', async () => {
    const problem = await db.problem.findFirstOrThrow({ where: { datasetId: catalog.dataset.id, externalId: 'p2' } })
    const evaluation = await makeFinishedEvaluation(db, { checkpointId: ckpts.trl.id, datasetId: catalog.dataset.id, metrics: {} })
    const trace = await makeTrace(db, { checkpointId: ckpts.trl.id, problemId: problem.id })
    const label = `${ckpts.trlRun.name} · TRL · step 2`
    expect(await nameOf(db, researcher, 'run', ckpts.trlRun.id)).toBe(ckpts.trlRun.name)
    expect(await nameOf(db, researcher, 'model', catalog.baseModel.id)).toBe(catalog.baseModel.name)
    expect(await nameOf(db, researcher, 'dataset', catalog.dataset.id)).toBe(catalog.dataset.name)
    expect(await nameOf(db, researcher, 'evaluation', evaluation.id)).toBe(`Evaluation of ${label}`)
    expect(await nameOf(db, researcher, 'trace', trace.id)).toBe(`Trace of ${label}, problem p2`)
  })

  test('no name for a missing row or for someone who may not read it', async () => {
    expect(await nameOf(db, researcher, 'run', 'no-such-run')).toBeNull()
    expect(await nameOf(db, null, 'run', ckpts.trlRun.id)).toBeNull()
  })
})
