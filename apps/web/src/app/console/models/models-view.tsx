'use client'
// Base models: register one by name and path (the worker validates it), follow that registration until the
// worker has answered, and the server-paged list of all of them.
import { zodResolver } from '@hookform/resolvers/zod'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'
import { useForm } from 'react-hook-form'

import { DataTable, type ColumnDef } from '@/components/data-table'
import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { formatDate } from '@/components/format'
import { Pagination } from '@/components/pagination'
import { registerModelSchema, type RegisterModelInput } from '@/server/api/routers/models.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { formatCount, ModelStatusBadge, POLL_MS } from './model-status'

type ModelRow = RouterOutputs['models']['list']['items'][number]

const PAGE_SIZE = 20

const COLUMNS: ColumnDef<ModelRow>[] = [
  {
    header: 'Name',
    accessorKey: 'name',
    cell: ({ row }) => (
      <Link href={`/console/models/${row.original.id}`} className="font-medium text-indigo-700 hover:underline">
        {row.original.name}
      </Link>
    ),
  },
  { header: 'Path', accessorKey: 'path', cell: ({ row }) => <code className="text-xs break-all whitespace-normal">{row.original.path}</code> },
  { header: 'Status', accessorKey: 'status', cell: ({ row }) => <ModelStatusBadge status={row.original.status} /> },
  { header: 'Parameters', accessorKey: 'parameters', cell: ({ row }) => <span className="tabular-nums">{formatCount(row.original.parameters)}</span> },
  { header: 'Vocab', accessorKey: 'vocabSize', cell: ({ row }) => <span className="tabular-nums">{row.original.vocabSize ?? '—'}</span> },
  { header: 'Registered by', accessorKey: 'createdByEmail', cell: ({ row }) => row.original.createdByEmail ?? 'tandem seed' },
  { header: 'Registered', accessorKey: 'createdAt', cell: ({ row }) => formatDate(row.original.createdAt) },
]

export function ModelsView() {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const [page, setPage] = useState(1)
  const [registered, setRegistered] = useState<{ id: string; name: string } | null>(null)
  const list = useQuery(
    trpc.models.list.queryOptions(
      { page, pageSize: PAGE_SIZE },
      {
        placeholderData: keepPreviousData,
        // keep pending rows moving to valid/invalid without a reload
        refetchInterval: (query) => (query.state.data?.items.some((m) => m.status === 'pending') ? POLL_MS : false),
      },
    ),
  )

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Base models</h1>
        <p className="mt-1 text-sm text-slate-600">
          A base model is a Hugging Face model directory on the workers’ file system. A worker loads its config and tokenizer to
          validate it before it can be trained.
        </p>
      </div>

      <RegisterForm
        onRegistered={(model) => {
          setRegistered(model)
          setPage(1)
          void queryClient.invalidateQueries({ queryKey: trpc.models.list.queryKey() })
        }}
      />
      {registered ? <RegistrationResult key={registered.id} id={registered.id} name={registered.name} /> : null}

      <section className="card space-y-4 p-0 pb-4" aria-labelledby="models-heading">
        <h2 id="models-heading" className="px-5 pt-5 text-lg font-semibold">
          Registered models
        </h2>
        {list.isError ? (
          <p role="alert" className="px-5 text-sm text-red-700">
            {list.error.message}
          </p>
        ) : list.data ? (
          <>
            <DataTable columns={COLUMNS} data={list.data.items} testId="models-table" caption="Registered base models" empty="No models registered yet." getRowId={(m) => m.id} />
            <div className="px-5">
              <Pagination info={list.data} noun="model" onPage={setPage} />
            </div>
          </>
        ) : (
          <p className="px-5 text-sm text-slate-600">Loading models…</p>
        )}
      </section>
    </div>
  )
}

function RegisterForm({ onRegistered }: { onRegistered: (model: { id: string; name: string }) => void }) {
  const trpc = useTRPC()
  const [formError, setFormError] = useState<string | null>(null)
  const form = useForm<RegisterModelInput>({ resolver: zodResolver(registerModelSchema), defaultValues: { name: '', path: '' } })
  const { register, handleSubmit, setError, reset, formState } = form
  const errors = formState.errors
  const registerModel = useMutation(
    trpc.models.register.mutationOptions({
      onSuccess: ({ id }, input) => {
        reset()
        onRegistered({ id, name: input.name.trim() })
      },
      onError: (error) => setFormError(showServerErrors(error, setError)),
    }),
  )

  return (
    <form
      className="card space-y-4"
      noValidate
      aria-labelledby="register-heading"
      onSubmit={handleSubmit(
        (values) => {
          setFormError(null)
          registerModel.mutate(values)
        },
        () => setFormError('Fix the fields marked below.'),
      )}
    >
      <h2 id="register-heading" className="text-lg font-semibold">
        Register a model
      </h2>
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field id="model-name" label="Name" error={errors.name?.message}>
          <input className="input" autoComplete="off" placeholder="e.g. qwen3-tiny" {...fieldAria('model-name', errors.name?.message)} {...register('name')} />
        </Field>
        <Field id="model-path" label="Path" error={errors.path?.message} hint="Absolute path of the model directory (config.json, tokenizer, weights).">
          <input
            className="input font-mono"
            autoComplete="off"
            placeholder="/models/qwen3-tiny"
            {...fieldAria('model-path', errors.path?.message, true)}
            {...register('path')}
          />
        </Field>
      </div>
      <div className="flex justify-end">
        <button type="submit" className="btn-primary" disabled={registerModel.isPending}>
          {registerModel.isPending ? 'Registering…' : 'Register model'}
        </button>
      </div>
    </form>
  )
}

/** The model just registered: pending until a worker has validated it, then valid or invalid. */
function RegistrationResult({ id, name }: { id: string; name: string }) {
  const trpc = useTRPC()
  const model = useQuery(
    trpc.models.get.queryOptions({ id }, { refetchInterval: (query) => (query.state.data?.status === 'pending' ? POLL_MS : false), staleTime: 0 }),
  )
  const status = model.data?.status ?? 'pending'
  return (
    <section className="card space-y-2" aria-live="polite" aria-labelledby="registration-heading" data-testid="registration-result">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="registration-heading" className="text-base font-semibold">
          Registered <Link href={`/console/models/${id}`} className="text-indigo-700 hover:underline">{name}</Link>
        </h2>
        <ModelStatusBadge status={status} testId="registration-status" />
      </div>
      {status === 'pending' ? (
        <p className="text-sm text-slate-600">
          A worker is validating the model{model.data?.job ? ` (job ${model.data.job.status.toLowerCase()})` : ''}…
          {model.data?.job?.status === 'FAILED' ? <span className="text-red-700"> The job failed: {model.data.job.error}</span> : null}
        </p>
      ) : status === 'valid' ? (
        <p className="text-sm text-slate-700">
          Valid: {String(model.data?.info.architecture ?? 'unknown architecture')}, {formatCount(numberOr(model.data?.info.num_parameters))} parameters,
          vocabulary {String(model.data?.info.vocab_size ?? '—')}.
        </p>
      ) : (
        <p className="text-sm text-red-700" data-testid="registration-error">
          {model.data?.validationError}
        </p>
      )}
      {model.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {model.error.message}
        </p>
      ) : null}
    </section>
  )
}

function numberOr(value: unknown): number | null {
  return typeof value === 'number' ? value : null
}
