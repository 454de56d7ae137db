'use client'
// One base model: what the worker read when it validated it (or why it could not), and "re-validate".
// Polls while the validation is pending.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { Breadcrumbs } from '@/components/breadcrumbs'
import { LoadError } from '@/components/load-error'

import { DataTable, type ColumnDef } from '@/components/data-table'
import { formatDate } from '@/components/format'
import { useTRPC } from '@/trpc/react'

import { formatCount, ModelStatusBadge, POLL_MS } from '../model-status'

interface InfoRow {
  key: string
  label: string
  value: string
}

// what VALIDATE_MODEL records, in reading order; any other keys follow
const INFO_LABELS: Record<string, string> = {
  architecture: 'Architecture',
  model_type: 'Model type',
  num_parameters: 'Parameters',
  vocab_size: 'Vocabulary size',
  hidden_size: 'Hidden size',
  num_hidden_layers: 'Layers',
  max_position_embeddings: 'Context length (max positions)',
  tokenizer_class: 'Tokenizer',
  eos_token: 'End-of-sequence token',
}

const INFO_COLUMNS: ColumnDef<InfoRow>[] = [
  { header: 'Property', accessorKey: 'label', cell: ({ row }) => <span className="font-medium">{row.original.label}</span> },
  { header: 'Value', accessorKey: 'value', cell: ({ row }) => <code className="break-all whitespace-pre-wrap">{row.original.value}</code> },
]

function infoRows(info: Record<string, unknown>): InfoRow[] {
  const keys = [...Object.keys(INFO_LABELS).filter((k) => k in info), ...Object.keys(info).filter((k) => !(k in INFO_LABELS)).sort()]
  return keys.map((key) => {
    const value = info[key]
    const text =
      key === 'num_parameters' && typeof value === 'number'
        ? `${value.toLocaleString('en-US')} (${formatCount(value)})`
        : typeof value === 'string'
          ? value
          : JSON.stringify(value)
    return { key, label: INFO_LABELS[key] ?? key, value: text }
  })
}

export function ModelView({ id }: { id: string }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const query = useQuery(
    trpc.models.get.queryOptions({ id }, { refetchInterval: (q) => (q.state.data?.status === 'pending' ? POLL_MS : false), staleTime: 0, retry: 1 }),
  )
  const revalidate = useMutation(
    trpc.models.revalidate.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.models.get.queryKey({ id }) }),
    }),
  )

  if (query.isPending) return <p className="text-sm text-slate-600">Loading model…</p>
  if (query.isError) {
    return <LoadError title="Model not available" noun="model" error={query.error} backHref="/console/models" backLabel="Back to models" />
  }

  const model = query.data
  const jobActive = model.job != null && ['QUEUED', 'RUNNING', 'CANCEL_REQUESTED'].includes(model.job.status)

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <Breadcrumbs trail={[{ href: '/console/models', label: 'Models' }]} current={model.name} />
          <h1 className="mt-1 text-2xl font-semibold break-words" data-testid="model-name">
            {model.name}
          </h1>
          <p className="mt-1 text-sm break-all text-slate-600">
            <code>{model.path}</code>
          </p>
        </div>
        <div className="flex items-center gap-3">
          <ModelStatusBadge status={model.status} testId="model-status" />
          {/* who registered the model, or an admin (server/auth/access.ts) */}
          {model.mayRevalidate ? (
            <button
              type="button"
              className="btn-secondary"
              disabled={revalidate.isPending || jobActive}
              onClick={() => revalidate.mutate({ id })}
            >
              {revalidate.isPending ? 'Queueing…' : 'Re-validate'}
            </button>
          ) : null}
        </div>
      </div>
      {revalidate.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {revalidate.error.message}
        </p>
      ) : null}

      <section className="card" aria-labelledby="validation-heading">
        <h2 id="validation-heading" className="mb-3 text-lg font-semibold">
          Validation
        </h2>
        {model.status === 'pending' ? (
          <p className="text-sm text-slate-600" aria-live="polite">
            Waiting for a worker to load the config and tokenizer
            {model.job ? ` (job ${model.job.status.toLowerCase()}, attempt ${model.job.attempts})` : ''}…
            {model.job?.status === 'FAILED' ? (
              <span className="mt-2 block text-red-700" role="alert">
                The validation job failed: {model.job.error ?? 'no message'}. Re-validate to try again.
              </span>
            ) : null}
          </p>
        ) : model.status === 'invalid' ? (
          <div className="space-y-2">
            <p className="text-sm text-slate-700">The worker could not load this model:</p>
            <pre className="rounded-md border border-red-200 bg-red-50 p-3 text-sm whitespace-pre-wrap text-red-800" data-testid="model-validation-error">
              {model.validationError}
            </pre>
          </div>
        ) : (
          <>
            <p className="mb-3 text-sm text-slate-600">Validated {formatDate(model.validatedAt)}.</p>
            <DataTable columns={INFO_COLUMNS} data={infoRows(model.info)} testId="model-info" caption="What the worker read from the model" getRowId={(r) => r.key} />
          </>
        )}
      </section>

      <section className="card" aria-labelledby="about-heading">
        <h2 id="about-heading" className="mb-3 text-lg font-semibold">
          About
        </h2>
        <dl className="grid gap-3 text-sm sm:grid-cols-2">
          <div>
            <dt className="text-slate-600">Registered</dt>
            <dd>
              {formatDate(model.createdAt)} by {model.createdByEmail ?? 'tandem seed'}
            </dd>
          </div>
          <div>
            <dt className="text-slate-600">Training runs on this model</dt>
            <dd>{model.runCount}</dd>
          </div>
          <div className="sm:col-span-2">
            <dt className="text-slate-600">Base checkpoint</dt>
            <dd className="break-all">{model.baseCheckpoint ? <code>{model.baseCheckpoint.path}</code> : 'none yet (recorded on validation)'}</dd>
          </div>
        </dl>
      </section>
    </div>
  )
}
