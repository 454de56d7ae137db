// Streaming CSV and JSONL exports of a study: rows are read from the view study_response_rows in keyset-paged
// batches and written out batch by batch, so memory stays constant however many responses there are.
import { stringify } from 'csv-stringify/sync'

import { Prisma } from '../../generated/prisma/client'
import type { Db } from '../db'
import { EXPORT_COLUMNS, HASHED_ID_COLUMN } from './codebook'
import type { IdMode } from '../api/routers/studies.schema'

export const EXPORT_BATCH = 500

type Row = Record<string, unknown>

/** The rows of the export in order (participant, task), `batchSize` at a time. */
export async function* exportBatches(db: Db, studyId: string, idMode: IdMode, batchSize = EXPORT_BATCH): AsyncGenerator<Row[]> {
  let after: { ordinal: number; position: number } | null = null
  for (;;) {
    const keyset: Prisma.Sql = after
      ? Prisma.sql`AND (participant_ordinal, task_position) > (${after.ordinal}, ${after.position})`
      : Prisma.empty
    const rows: Row[] = await db.$queryRaw<Row[]>`
      SELECT * FROM study_response_rows WHERE study_id = ${studyId} ${keyset}
      ORDER BY participant_ordinal, task_position LIMIT ${batchSize}`
    if (rows.length === 0) return
    yield rows.map((row) => exportRow(row, idMode))
    if (rows.length < batchSize) return
    const last = rows[rows.length - 1]!
    after = { ordinal: Number(last.participant_ordinal), position: Number(last.task_position) }
  }
}

/** A view row as exported: the codebook's columns in order, the participant id raw or hashed. */
export function exportRow(row: Row, idMode: IdMode): Row {
  const out: Row = {}
  for (const { name } of EXPORT_COLUMNS) {
    out[name] = name === 'participant_external_id' && idMode === 'hashed' ? row[HASHED_ID_COLUMN] : row[name]
  }
  // url_params repeats the raw ids, so a hashed export leaves it out
  if (idMode === 'hashed') out.url_params = null
  return out
}

function csvCell(value: unknown, type: string): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return value.toISOString()
  if (type === 'json') return JSON.stringify(value)
  return String(value)
}

function jsonValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value
}

export type ExportFormatName = 'csv' | 'jsonl'

/** A byte stream of the export; `onDone(rowCount)` runs after the last row is written. */
export function exportStream(
  db: Db,
  studyId: string,
  format: ExportFormatName,
  idMode: IdMode,
  onDone?: (rowCount: number) => Promise<void>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const batches = exportBatches(db, studyId, idMode)
  let rowCount = 0
  let headerSent = false
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (format === 'csv' && !headerSent) {
        headerSent = true
        controller.enqueue(encoder.encode(stringify([EXPORT_COLUMNS.map((c) => c.name)])))
        return
      }
      const next = await batches.next()
      if (next.done) {
        await onDone?.(rowCount)
        controller.close()
        return
      }
      rowCount += next.value.length
      const text =
        format === 'csv'
          ? stringify(next.value.map((row) => EXPORT_COLUMNS.map((c) => csvCell(row[c.name], c.type))))
          : next.value.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)])))).join('\n') + '\n'
      controller.enqueue(encoder.encode(text))
    },
    async cancel() {
      await batches.return(undefined)
    },
  })
}
