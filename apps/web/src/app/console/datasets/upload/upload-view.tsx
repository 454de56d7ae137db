'use client'
// Upload a JSONL, CSV or Parquet file as a dataset: the browser checks name, type and size with the
// procedure's own rules, sends the file base64-encoded, then follows the worker's import. A file with bad rows
// is shown with every row error and nothing is stored; a good one becomes a dataset.
import { zodResolver } from '@hookform/resolvers/zod'
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'
import { Controller, useForm } from 'react-hook-form'

import { DataTable, type ColumnDef } from '@/components/data-table'
import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { formatBytes, plural } from '@/components/format'
import { Pagination } from '@/components/pagination'
import { StatusBadge } from '@/components/status-badge'
import {
  MAX_UPLOAD_BYTES,
  UPLOAD_ACCEPT,
  uploadFormSchema,
  type UploadFormInput,
  type UploadRowError,
} from '@/server/api/routers/datasets.schema'
import { useTRPC } from '@/trpc/react'

const POLL_MS = 1500
const ERRORS_PAGE_SIZE = 50

/** The file's bytes as base64 (a data: URL without its header). */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => {
      const url = String(reader.result)
      resolve(url.slice(url.indexOf(',') + 1))
    }
    reader.onerror = () => reject(reader.error ?? new Error(`Could not read ${file.name}`))
    reader.readAsDataURL(file)
  })
}

/** The address of this page for an upload, so a reload keeps following it. */
function rememberUpload(id: string | null) {
  window.history.replaceState(null, '', id ? `/console/datasets/upload?id=${encodeURIComponent(id)}` : '/console/datasets/upload')
}

export function UploadView({ initialUploadId }: { initialUploadId: string | null }) {
  const [uploadId, setUploadId] = useState<string | null>(initialUploadId)
  return (
    <div className="mx-auto max-w-4xl space-y-6">
      <div>
        <p className="text-sm text-slate-600">
          <Link href="/console/datasets" className="hover:underline">
            Datasets
          </Link>{' '}
          / upload
        </p>
        <h1 className="mt-1 text-2xl font-semibold">Upload a dataset</h1>
        <p className="mt-1 text-sm text-slate-600">
          One problem per row with the fields <code>problem</code> and <code>answer</code>, optionally <code>id</code>,{' '}
          <code>solution</code> and <code>difficulty</code>. A worker checks every row with the training verifier: if any row
          is bad, nothing is stored and every bad row is listed.
        </p>
      </div>
      {uploadId ? (
        <UploadProgress
          id={uploadId}
          onAnother={() => {
            setUploadId(null)
            rememberUpload(null)
          }}
        />
      ) : (
        <UploadForm
          onUploaded={(id) => {
            setUploadId(id)
            rememberUpload(id)
          }}
        />
      )}
    </div>
  )
}

function UploadForm({ onUploaded }: { onUploaded: (id: string) => void }) {
  const trpc = useTRPC()
  const [formError, setFormError] = useState<string | null>(null)
  const [reading, setReading] = useState(false)
  const form = useForm<UploadFormInput>({
    resolver: zodResolver(uploadFormSchema),
    defaultValues: { name: '', file: undefined },
  })
  const { register, control, handleSubmit, setError, getValues, setValue, formState } = form
  const errors = formState.errors
  const importFile = useMutation(
    trpc.datasets.importFile.mutationOptions({
      onSuccess: ({ id }) => onUploaded(id),
      // the procedure names the file's parts; the form has one field for them
      onError: (error) => setFormError(showServerErrors(error, setError, { filename: 'file', content: 'file' })),
    }),
  )
  const busy = reading || importFile.isPending

  async function send(values: UploadFormInput) {
    setFormError(null)
    setReading(true)
    let content: string
    try {
      content = await readBase64(values.file)
    } catch (error) {
      setFormError(error instanceof Error ? error.message : String(error))
      return
    } finally {
      setReading(false)
    }
    importFile.mutate({ name: values.name, filename: values.file.name, content })
  }

  return (
    <form
      className="card space-y-4"
      noValidate
      aria-label="Upload a dataset file"
      onSubmit={handleSubmit(send, () => setFormError('Fix the fields marked below.'))}
    >
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field id="file" label="File" error={errors.file?.message} hint={`.jsonl, .csv or .parquet, at most ${formatBytes(MAX_UPLOAD_BYTES)}`}>
          <Controller
            name="file"
            control={control}
            render={({ field }) => (
              <input
                type="file"
                accept={UPLOAD_ACCEPT}
                className="input"
                name={field.name}
                ref={field.ref}
                onBlur={field.onBlur}
                onChange={(event) => {
                  const file = event.target.files?.[0]
                  field.onChange(file)
                  // name the dataset after the file unless a name was typed
                  if (file && !getValues('name')) setValue('name', file.name.replace(/\.[^.]+$/, ''), { shouldValidate: true })
                }}
                {...fieldAria('file', errors.file?.message, true)}
              />
            )}
          />
        </Field>
        <Field id="dataset-name" label="Dataset name" error={errors.name?.message}>
          <input className="input" autoComplete="off" {...fieldAria('dataset-name', errors.name?.message)} {...register('name')} />
        </Field>
      </div>
      <div className="flex justify-end">
        <button type="submit" className="btn-primary" disabled={busy}>
          {reading ? 'Reading file…' : importFile.isPending ? 'Uploading…' : 'Upload'}
        </button>
      </div>
    </form>
  )
}

const ERROR_COLUMNS: ColumnDef<UploadRowError>[] = [
  { header: 'Line', accessorKey: 'line', cell: ({ row }) => (row.original.line === 0 ? 'whole file' : row.original.line) },
  { header: 'Field', accessorKey: 'field', cell: ({ row }) => (row.original.field ? <code>{row.original.field}</code> : '—') },
  { header: 'Reason', accessorKey: 'reason', cell: ({ row }) => <span className="block min-w-[16rem] whitespace-pre-wrap">{row.original.reason}</span> },
]

function UploadProgress({ id, onAnother }: { id: string; onAnother: () => void }) {
  const trpc = useTRPC()
  const [page, setPage] = useState(1)
  const query = useQuery(
    trpc.datasets.upload.queryOptions(
      { id, page, pageSize: ERRORS_PAGE_SIZE },
      {
        placeholderData: keepPreviousData,
        staleTime: 0,
        retry: 1,
        refetchInterval: (q) => (q.state.data?.status === 'PENDING' && q.state.data.job?.status !== 'FAILED' ? POLL_MS : false),
      },
    ),
  )
  const another = (
    <button type="button" className="btn-secondary" onClick={onAnother}>
      Upload another file
    </button>
  )

  if (query.isPending) return <p className="text-sm text-slate-600">Loading the upload…</p>
  if (query.isError) {
    return (
      <div className="card space-y-3">
        <p role="alert" className="text-sm text-red-700">
          {query.error.data?.code === 'NOT_FOUND' ? 'There is no such upload (or it is someone else’s).' : query.error.message}
        </p>
        {another}
      </div>
    )
  }

  const upload = query.data
  return (
    <section className="card space-y-4" aria-labelledby="upload-heading" data-testid="upload-result">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="upload-heading" className="text-lg font-semibold break-all">
          {upload.name}
        </h2>
        <StatusBadge status={upload.status} testId="upload-status" />
        <span className="text-sm text-slate-600">
          {upload.filename} · {upload.format} · {formatBytes(upload.sizeBytes)}
        </span>
      </div>

      {upload.status === 'PENDING' ? (
        upload.job?.status === 'FAILED' ? (
          <p role="alert" className="text-sm text-red-700">
            The import job failed before it could check the file: {upload.job.error ?? 'no message'}. Nothing was stored.
          </p>
        ) : (
          <p className="text-sm text-slate-600" aria-live="polite">
            A worker is checking every row{upload.job ? ` (job ${upload.job.status.toLowerCase()})` : ''}…
          </p>
        )
      ) : upload.status === 'IMPORTED' && upload.datasetId ? (
        <p className="text-sm text-emerald-800" role="status">
          Every row passed: the dataset is stored.{' '}
          <Link href={`/console/datasets/${upload.datasetId}`} className="font-medium text-indigo-700 underline">
            Open {upload.name}
          </Link>
        </p>
      ) : (
        <>
          <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="upload-rejected">
            Nothing was stored: {plural(upload.errors.total, 'problem')} found in {upload.filename}. Fix{' '}
            {upload.errors.total === 1 ? 'it' : 'them'} and upload the file again.
          </p>
          <DataTable columns={ERROR_COLUMNS} data={upload.errors.items} testId="upload-errors" caption="Rows that failed the check" getRowId={(e, i) => `${e.line}-${i}`} />
          <Pagination info={upload.errors} noun="error" onPage={setPage} />
        </>
      )}
      {upload.status !== 'PENDING' || upload.job?.status === 'FAILED' ? <div>{another}</div> : null}
    </section>
  )
}
