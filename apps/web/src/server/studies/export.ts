// Streaming CSV and JSONL exports of a study: rows are read from the view study_response_rows in keyset-paged
// batches and written out batch by batch, so memory stays constant however many responses there are. All batches of
// one download read one REPEATABLE READ, read-only snapshot: a response submitted mid-download appears in no batch
// rather than shifting the pages, so the file is the study as it was at one instant.
//
// Spreadsheet formulas: a CSV cell that starts with = + - @ tab or CR gets a leading ' (csv-stringify's
// escape_formulas), so opening the file cannot run a participant's "=HYPERLINK(…)". Numbers keep their sign. JSONL
// (and the worker's typed Parquet) are data for programs and carry the values unchanged (docs/security.md).
import { stringify } from 'csv-stringify/sync'
import { z } from 'zod'

import { Prisma } from '../../generated/prisma/client'
import { audit } from '../audit'
import type { Db } from '../db'
import { enqueueJob } from '../jobs'
import { EXPORT_LIMITS } from '../limits'
import { EXPORT_COLUMNS, HASHED_ID_COLUMN, PUBLIC_URL_PARAMS_COLUMN } from './codebook'
import { requestExportSchema, type IdMode } from '../api/routers/studies.schema'

export const EXPORT_BATCH = 500

type Row = Record<string, unknown>

/** What the batches are read through: the app's client, or a transaction's. */
type Reader = Pick<Db, '$queryRaw'> | Prisma.TransactionClient

/** The rows of the export in order (participant, task), `batchSize` at a time. */
export async function* exportBatches(db: Reader, studyId: string, idMode: IdMode, batchSize = EXPORT_BATCH): AsyncGenerator<Row[]> {
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

/**
 * Where an exported column's value is read from in the view row. With ids=hashed the participant id is its salted
 * hash, and url_params is url_params_public (the URL parameters less the identifying one: SESSION_ID and STUDY_ID
 * are no personal data). The stand-ins are never exported under their own names (VIEW_ONLY_COLUMNS).
 */
export function exportSourceColumn(name: string, idMode: IdMode): string {
  if (idMode === 'raw') return name
  if (name === 'participant_external_id') return HASHED_ID_COLUMN
  if (name === 'url_params') return PUBLIC_URL_PARAMS_COLUMN
  return name
}

/** A view row as exported: the codebook's columns in order, the identifying values raw or hashed. */
export function exportRow(row: Row, idMode: IdMode): Row {
  const out: Row = {}
  for (const { name } of EXPORT_COLUMNS) out[name] = row[exportSourceColumn(name, idMode)]
  return out
}

function csvCell(value: unknown, type: string): string | number | bigint {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return value.toISOString()
  if (type === 'json') return JSON.stringify(value)
  // numbers stay numbers, so escape_formulas leaves a negative number's "-" alone
  if (typeof value === 'number' || typeof value === 'bigint') return value
  return String(value)
}

/** CSV lines (RFC 4180) with formula-looking cells defused. */
export function csvLines(records: unknown[][]): string {
  return stringify(records, { escape_formulas: true })
}

function jsonValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value
}

export type ExportFormatName = 'csv' | 'jsonl'

export const EXPORT_FORMATS: readonly ExportFormatName[] = ['csv', 'jsonl']

/** Streamed exports running in this process; each holds a pooled connection for its snapshot. */
let runningExports = 0

/**
 * A place among the EXPORT_LIMITS.concurrentPerInstance streamed exports, or null when all are taken. The returned
 * function gives it back (once; later calls do nothing).
 */
export function reserveExportSlot(): (() => void) | null {
  if (runningExports >= EXPORT_LIMITS.concurrentPerInstance) return null
  runningExports += 1
  let released = false
  return () => {
    if (released) return
    released = true
    runningExports -= 1
  }
}

interface Snapshot {
  tx: Prisma.TransactionClient
  /** Ends the transaction (read-only: nothing to commit); safe to call twice. */
  close(): Promise<void>
}

/**
 * Opens a REPEATABLE READ, read-only transaction that stays open until close(): Prisma's interactive transaction,
 * kept waiting while the stream is pulled. Its timeout (EXPORT_LIMITS.maxSeconds) cuts off a download that takes
 * longer; the queries after that fail and the stream errors.
 */
async function openSnapshot(db: Db): Promise<Snapshot> {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let opened!: (tx: Prisma.TransactionClient) => void
  const ready = new Promise<Prisma.TransactionClient>((resolve) => (opened = resolve))
  const finished = db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SET TRANSACTION READ ONLY`
      opened(tx)
      await released
    },
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, timeout: EXPORT_LIMITS.maxSeconds * 1000 },
  )
  // an expired transaction rejects here when it is finally released: the stream has reported the failure already
  const settled = finished.catch(() => {})
  const tx = await Promise.race([ready, finished.then(() => Promise.reject(new Error('the export snapshot closed before it opened')))])
  return {
    tx,
    async close() {
      release()
      await settled
    },
  }
}

export interface ExportHooks {
  /** The download failed or was abandoned (message: what happened, e.g. "download aborted"). */
  onFail?: (message: string) => Promise<void>
  /** Runs once when the stream ends in any way (gives back the export slot). */
  onClose?: () => void
  /** Rows per read (tests use small batches to read a snapshot in several steps). */
  batchSize?: number
}

/**
 * A byte stream of the export; `onDone(rowCount)` runs after the last row is written. Nothing is read until the
 * first pull; the snapshot is opened then and closed when the stream ends, fails or is cancelled.
 */
export function exportStream(
  db: Db,
  studyId: string,
  format: ExportFormatName,
  idMode: IdMode,
  onDone?: (rowCount: number) => Promise<void>,
  hooks: ExportHooks = {},
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const startedAt = Date.now()
  let snapshot: Snapshot | undefined
  let batches: AsyncGenerator<Row[]> | undefined
  let rowCount = 0
  let headerSent = false
  let ended = false

  async function end(failure?: string) {
    if (ended) return
    ended = true
    await batches?.return(undefined).catch(() => {})
    await snapshot?.close()
    try {
      if (failure !== undefined) await hooks.onFail?.(failure)
    } finally {
      hooks.onClose?.()
    }
  }

  function failureMessage(error: unknown): string {
    const seconds = Math.round((Date.now() - startedAt) / 1000)
    if (seconds >= EXPORT_LIMITS.maxSeconds) return `export cut off after ${EXPORT_LIMITS.maxSeconds} s (the download took too long)`
    return `export failed after ${rowCount} rows: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1000)
  }

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (format === 'csv' && !headerSent) {
          headerSent = true
          controller.enqueue(encoder.encode(csvLines([EXPORT_COLUMNS.map((c) => c.name)])))
          return
        }
        if (!snapshot) {
          snapshot = await openSnapshot(db)
          batches = exportBatches(snapshot.tx, studyId, idMode, hooks.batchSize)
        }
        const next = await batches!.next()
        if (next.done) {
          await snapshot.close()
          await onDone?.(rowCount)
          await end()
          controller.close()
          return
        }
        rowCount += next.value.length
        const text =
          format === 'csv'
            ? csvLines(next.value.map((row) => EXPORT_COLUMNS.map((c) => csvCell(row[c.name], c.type))))
            : next.value.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)])))).join('\n') + '\n'
        controller.enqueue(encoder.encode(text))
      } catch (error) {
        await end(failureMessage(error))
        controller.error(error)
      }
    },
    // the client went away (closed the tab, cancelled the download): the file it has is incomplete
    async cancel() {
      await end('download aborted')
    },
  })
}

// ---------------------------------------------------------------- files the worker writes

/** Exports the worker writes into study_exports.content: Parquet, or the analysis bundle (zip). */
export const STORED_EXPORT_FORMATS = ['PARQUET', 'BUNDLE'] as const
export type StoredExportFormat = (typeof STORED_EXPORT_FORMATS)[number]

/** studies.requestExport's input: the study, the id mode and which file (Parquet when not said). */
export const storedExportSchema = requestExportSchema.extend({ format: z.enum(STORED_EXPORT_FORMATS).default('PARQUET') })

/**
 * Records an export for the worker (EXPORT_STUDY) and queues it, audited, in the caller's transaction. The bundle
 * carries the codebook (the worker writes it as codebook.json and codebook.md beside responses.csv).
 */
export async function requestStoredExport(
  tx: Prisma.TransactionClient,
  args: { studyId: string; idMode: IdMode; format: StoredExportFormat; userId: string },
): Promise<{ exportId: string; jobId: string }> {
  const row = await tx.studyExport.create({
    data: { studyId: args.studyId, format: args.format, idMode: args.idMode, createdById: args.userId },
    select: { id: true },
  })
  const payload = args.format === 'BUNDLE' ? { exportId: row.id, codebook: EXPORT_COLUMNS.map(({ name, type, description }) => ({ name, type, description })) } : { exportId: row.id }
  const jobId = await enqueueJob(tx, { kind: 'EXPORT_STUDY', payload, studyId: args.studyId, createdById: args.userId })
  await audit(tx, {
    actorId: args.userId, action: 'study.export', entity: 'studies', entityId: args.studyId,
    details: { exportId: row.id, format: args.format, idMode: args.idMode, jobId },
  })
  return { exportId: row.id, jobId }
}
