'use client'
// The study's data: CSV and JSONL streamed from /api/studies/<id>/export, the codebook, Parquet and the analysis
// bundle (zip) written by the worker (studies.requestExport), the Prolific bonus file (/api/studies/<id>/bonus, owner
// and admins), and every export made so far (polled while one is pending).
import { useMutation, useQuery } from '@tanstack/react-query'
import { useState } from 'react'

import { DataTable } from '@/components/data-table'
import { formatDate } from '@/components/format'
import { StatusBadge } from '@/components/status-badge'
import type { IdMode } from '@/server/api/routers/studies.schema'
import { formatMoney } from '@/components/format'
import type { BonusSummary } from '@/server/studies/bonus'
import type { StoredExportFormat } from '@/server/studies/export'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

type ExportRow = RouterOutputs['studies']['exports'][number]

/** Exports whose file the server keeps (the worker's, and bonus files): downloadable from the list. */
const STORED_FORMATS: readonly string[] = ['PARQUET', 'BUNDLE', 'BONUS_CSV']

/** The worker's files, each with its own id mode. */
const WORKER_FILES: { format: StoredExportFormat; label: string; button: string }[] = [
  { format: 'PARQUET', label: 'Parquet', button: 'Export Parquet' },
  { format: 'BUNDLE', label: 'Analysis bundle (zip)', button: 'Export analysis bundle' },
]

function IdModeSelect({ id, value, onChange, mayExportRawIds }: { id: string; value: IdMode; onChange: (value: IdMode) => void; mayExportRawIds: boolean }) {
  return (
    <select id={id} className="input" value={value} onChange={(e) => onChange(e.target.value as IdMode)}>
      <option value="hashed">Hashed ids (salted SHA-256)</option>
      {/* raw ids leave with the study's owner and admins only (collaborators export hashed ids) */}
      {mayExportRawIds ? <option value="raw">Raw ids (contain the recruiting platform’s participant ids)</option> : null}
    </select>
  )
}

export function StudyExports({ id, mayExportRawIds }: { id: string; mayExportRawIds: boolean }) {
  const trpc = useTRPC()
  const [csvIds, setCsvIds] = useState<IdMode>('hashed')
  const [jsonlIds, setJsonlIds] = useState<IdMode>('hashed')
  const [workerIds, setWorkerIds] = useState<Record<StoredExportFormat, IdMode>>({ PARQUET: 'hashed', BUNDLE: 'hashed' })
  const exports = useQuery(
    trpc.studies.exports.queryOptions({ id }, { refetchInterval: (q) => (q.state.data?.some((e) => e.status === 'PENDING') ? 2000 : false) }),
  )
  const request = useMutation(trpc.studies.requestExport.mutationOptions({ onSuccess: () => void exports.refetch() }))
  // the formats the web app streams itself (Parquet is a worker job, below)
  const STREAMED = [
    { format: 'csv', label: 'CSV', ids: csvIds, setIds: setCsvIds },
    { format: 'jsonl', label: 'JSONL', ids: jsonlIds, setIds: setJsonlIds },
  ] as const
  // a streamed download records itself as an export: list it once the download has started
  const afterDownload = () => setTimeout(() => void exports.refetch(), 1500)

  return (
    <section className="space-y-3" aria-labelledby="exports-heading">
      <h2 id="exports-heading" className="text-lg font-semibold">
        Exports
      </h2>
      <div className="card space-y-4">
        <p className="text-sm text-slate-600">
          One row per response, excluded participants included (an <code>excluded</code> column marks them, and{' '}
          <code>manual_exclusion</code> your own marks). Hashed ids are the default: the participant id becomes a salted hash and the link’s
          other parameters (e.g. <code>SESSION_ID</code>) stay; raw ids are the recruiting platform’s own participant ids
          {mayExportRawIds ? '' : ' (the study’s owner and admins export those)'}. Every download is recorded.
        </p>
        <div className="grid gap-4 md:grid-cols-2 lg:grid-cols-4">
          {STREAMED.map(({ format, label, ids, setIds }) => (
            <div key={format} className="space-y-2">
              <label htmlFor={`${format}-ids`} className="label">
                {label}: participant ids
              </label>
              <IdModeSelect id={`${format}-ids`} value={ids} onChange={setIds} mayExportRawIds={mayExportRawIds} />
              <a className="btn-secondary" href={`/api/studies/${id}/export?format=${format}&ids=${ids}`} download onClick={afterDownload} data-testid={`download-${format}`}>
                Download {label}
              </a>
            </div>
          ))}
          {WORKER_FILES.map(({ format, label, button }) => (
            <div key={format} className="space-y-2">
              <label htmlFor={`${format.toLowerCase()}-ids`} className="label">
                {label}: participant ids
              </label>
              <IdModeSelect
                id={`${format.toLowerCase()}-ids`}
                value={workerIds[format]}
                onChange={(ids) => setWorkerIds((current) => ({ ...current, [format]: ids }))}
                mayExportRawIds={mayExportRawIds}
              />
              <button
                type="button"
                className="btn-secondary"
                disabled={request.isPending}
                data-testid={`request-${format.toLowerCase()}`}
                onClick={() => request.mutate({ id, idMode: workerIds[format], format })}
              >
                {request.isPending && request.variables?.format === format ? 'Requesting…' : button}
              </button>
            </div>
          ))}
        </div>
        <p className="text-sm">
          <a className="text-indigo-700 hover:underline" href={`/api/studies/${id}/codebook`} data-testid="codebook-link">
            Codebook
          </a>{' '}
          <span className="text-slate-600">— what every column means, the assignment rule and the exclusion rules.</span>
        </p>
        <p className="text-xs text-slate-600">
          The worker writes Parquet files and analysis bundles (responses CSV, codebook, preregistration, analysis.py and analysis.R); they are
          listed below and can be downloaded when ready.
        </p>
        {request.isError ? (
          <p role="alert" className="text-sm text-red-700">
            {request.error.message}
          </p>
        ) : null}
      </div>
      {mayExportRawIds ? <BonusFile id={id} onDownload={afterDownload} /> : null}
      <div className="card p-0">
        {exports.isError ? (
          <p role="alert" className="p-5 text-sm text-red-700">
            {exports.error.message}
          </p>
        ) : (
          <DataTable<ExportRow>
            testId="export"
            caption="Exports of this study, newest first"
            data={exports.data ?? []}
            getRowId={(e) => e.id}
            empty={exports.isPending ? 'Loading exports…' : 'No exports yet.'}
            columns={[
              { header: 'Format', cell: (c) => c.row.original.format },
              { header: 'Ids', cell: (c) => c.row.original.idMode },
              {
                header: 'Status',
                cell: (c) => (
                  <span className="flex flex-wrap items-center gap-2">
                    <StatusBadge status={c.row.original.status} />
                    {c.row.original.error ? <span className="text-xs whitespace-normal text-red-700">{c.row.original.error}</span> : null}
                  </span>
                ),
              },
              { header: 'Rows', cell: (c) => <span className="tabular-nums">{c.row.original.rowCount ?? '—'}</span> },
              { header: 'By', cell: (c) => c.row.original.createdByEmail ?? '—' },
              { header: 'When', cell: (c) => formatDate(c.row.original.createdAt) },
              {
                id: 'download',
                // a visible header: an sr-only one far right in the scrolling table widens the page on phones
                header: 'File',
                cell: (c) =>
                  STORED_FORMATS.includes(c.row.original.format) ? (
                    c.row.original.status === 'READY' && (mayExportRawIds || c.row.original.idMode !== 'raw') ? (
                      <a className="text-indigo-700 hover:underline" href={`/api/studies/${id}/exports/${c.row.original.id}`} download>
                        Download
                      </a>
                    ) : (
                      <span className="text-slate-600">—</span>
                    )
                  ) : (
                    <span className="text-xs text-slate-600">streamed</span>
                  ),
              },
            ]}
          />
        )}
      </div>
    </section>
  )
}

/** What the bonus file would hold now (GET …/bonus?summary=1: counts, no ids). */
function useBonusSummary(id: string) {
  return useQuery({
    queryKey: ['study-bonus-summary', id],
    queryFn: async (): Promise<BonusSummary> => {
      const response = await fetch(`/api/studies/${id}/bonus?summary=1`, { headers: { accept: 'application/json' } })
      if (!response.ok) throw new Error((await response.text()).trim() || `The server answered ${response.status}`)
      return (await response.json()) as BonusSummary
    },
    refetchInterval: (q) => ((q.state.data?.unverifiedAnswers ?? 0) > 0 ? 5000 : false),
  })
}

/** The Prolific bulk-bonus file: raw participant ids, so the study's owner and admins only. */
function BonusFile({ id, onDownload }: { id: string; onDownload: () => void }) {
  const summary = useBonusSummary(id)
  const data = summary.data
  return (
    <section className="card space-y-3" aria-labelledby="bonus-heading" data-testid="bonus-file">
      <h3 id="bonus-heading" className="font-semibold">
        Bonuses (Prolific bulk bonus)
      </h3>
      <p className="text-sm text-slate-600">
        One line <code>participant_id,amount</code> per participant with a bonus, the amount in the study’s currency — paste it into
        Prolific’s “Bulk bonus payment”. Only answers the verifier has judged correct count. The file holds raw participant ids; every
        download is recorded.
      </p>
      {summary.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {summary.error.message}
        </p>
      ) : data ? (
        <div className="space-y-1 text-sm">
          <p data-testid="bonus-summary">
            {data.participants} {data.participants === 1 ? 'participant' : 'participants'}, {formatMoney(data.totalCents, data.currency)} in all.
          </p>
          {data.unverifiedAnswers > 0 ? (
            <p role="status" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900" data-testid="bonus-unverified">
              {data.unverifiedAnswers} {data.unverifiedAnswers === 1 ? 'answer is' : 'answers are'} still being verified: a file downloaded now
              pays only for the answers judged so far.
            </p>
          ) : null}
          {data.withoutExternalId + data.unusableIds > 0 ? (
            <p className="text-amber-900">
              Left out: {data.withoutExternalId} with a bonus but no recruiting-platform id
              {data.unusableIds ? `, ${data.unusableIds} whose id is not a plain platform id` : ''}.
            </p>
          ) : null}
        </div>
      ) : (
        <p className="text-sm text-slate-600">Loading…</p>
      )}
      <a className="btn-secondary" href={`/api/studies/${id}/bonus`} download onClick={onDownload} data-testid="download-bonus">
        Download bonus CSV
      </a>
    </section>
  )
}
