'use client'
// Generate a demo dataset of multi-step arithmetic word problems (the generator the tiny base model was
// pre-trained on), then follow the worker's job to the new dataset.
import { zodResolver } from '@hookform/resolvers/zod'
import { useMutation, useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useState } from 'react'
import { useForm } from 'react-hook-form'

import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { StatusBadge } from '@/components/status-badge'
import { generateDatasetSchema, type GenerateDatasetInput } from '@/server/api/routers/datasets.schema'
import { useTRPC } from '@/trpc/react'

const POLL_MS = 1500

function rememberJob(id: string | null) {
  window.history.replaceState(null, '', id ? `/console/datasets/generate?job=${encodeURIComponent(id)}` : '/console/datasets/generate')
}

export function GenerateView({ initialJobId }: { initialJobId: string | null }) {
  const [jobId, setJobId] = useState<string | null>(initialJobId)
  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <div>
        <p className="text-sm text-slate-600">
          <Link href="/console/datasets" className="hover:underline">
            Datasets
          </Link>{' '}
          / generate
        </p>
        <h1 className="mt-1 text-2xl font-semibold">Generate a demo dataset</h1>
        <p className="mt-1 text-sm text-slate-600">
          Arithmetic word problems with 1 to 6 reasoning steps (“Mia has 12 apples. Then she buys 3 boxes with 4 apples in
          each…”), each with its answer and a step-by-step solution. The same seed gives the same problems.
        </p>
      </div>
      {jobId ? (
        <GenerationProgress
          id={jobId}
          onAnother={() => {
            setJobId(null)
            rememberJob(null)
          }}
        />
      ) : (
        <GenerateForm
          onQueued={(id) => {
            setJobId(id)
            rememberJob(id)
          }}
        />
      )}
    </div>
  )
}

function GenerateForm({ onQueued }: { onQueued: (jobId: string) => void }) {
  const trpc = useTRPC()
  const [formError, setFormError] = useState<string | null>(null)
  const form = useForm<GenerateDatasetInput>({
    resolver: zodResolver(generateDatasetSchema),
    defaultValues: { name: '', n: 200, seed: 0, minSteps: 1, maxSteps: 3 },
  })
  const { register, handleSubmit, setError, formState } = form
  const errors = formState.errors
  const generate = useMutation(
    trpc.datasets.generate.mutationOptions({
      onSuccess: ({ jobId }) => onQueued(jobId),
      onError: (error) => setFormError(showServerErrors(error, setError)),
    }),
  )
  const number = (id: string, name: 'n' | 'seed' | 'minSteps' | 'maxSteps', label: string, props: React.InputHTMLAttributes<HTMLInputElement>, hint?: string) => (
    <Field id={id} label={label} error={errors[name]?.message} hint={hint}>
      <input type="number" className="input" {...props} {...fieldAria(id, errors[name]?.message, Boolean(hint))} {...register(name, { valueAsNumber: true })} />
    </Field>
  )

  return (
    <form
      className="card space-y-4"
      noValidate
      aria-label="Generate a demo dataset"
      onSubmit={handleSubmit(
        (values) => {
          setFormError(null)
          generate.mutate(values)
        },
        () => setFormError('Fix the fields marked below.'),
      )}
    >
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field id="generate-name" label="Dataset name" error={errors.name?.message} className="sm:col-span-2">
          <input className="input" autoComplete="off" placeholder="e.g. arithmetic-demo" {...fieldAria('generate-name', errors.name?.message)} {...register('name')} />
        </Field>
        {number('generate-n', 'n', 'Number of problems', { min: 1, max: 10_000, step: 1 }, '1 to 10,000')}
        {number('generate-seed', 'seed', 'Seed', { min: 0, step: 1 })}
        {number('generate-min-steps', 'minSteps', 'Fewest steps', { min: 1, max: 6, step: 1 }, '1 to 6 operations per problem')}
        {number('generate-max-steps', 'maxSteps', 'Most steps', { min: 1, max: 6, step: 1 }, 'Difficulty cycles evenly from fewest to most')}
      </div>
      <div className="flex justify-end">
        <button type="submit" className="btn-primary" disabled={generate.isPending}>
          {generate.isPending ? 'Queueing…' : 'Generate'}
        </button>
      </div>
    </form>
  )
}

function GenerationProgress({ id, onAnother }: { id: string; onAnother: () => void }) {
  const trpc = useTRPC()
  const query = useQuery(
    trpc.datasets.job.queryOptions(
      { id },
      {
        staleTime: 0,
        retry: 1,
        refetchInterval: (q) => (q.state.data && ['QUEUED', 'RUNNING'].includes(q.state.data.status) ? POLL_MS : false),
      },
    ),
  )
  const another = (
    <button type="button" className="btn-secondary" onClick={onAnother}>
      Generate another
    </button>
  )
  if (query.isPending) return <p className="text-sm text-slate-600">Loading the job…</p>
  if (query.isError) {
    return (
      <div className="card space-y-3">
        <p role="alert" className="text-sm text-red-700">
          {query.error.data?.code === 'NOT_FOUND' ? 'There is no such generation job (or it is someone else’s).' : query.error.message}
        </p>
        {another}
      </div>
    )
  }
  const job = query.data
  const name = (job.payload as { name?: string } | null)?.name ?? 'the dataset'
  const running = job.status === 'QUEUED' || job.status === 'RUNNING'
  return (
    <section className="card space-y-3" aria-labelledby="generation-heading" data-testid="generation-result">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="generation-heading" className="text-lg font-semibold break-all">
          {name}
        </h2>
        <StatusBadge status={job.status} testId="generation-status" />
      </div>
      {running ? (
        <p className="text-sm text-slate-600" aria-live="polite">
          A worker is generating the problems{job.progressMessage ? `: ${job.progressMessage}` : '…'}
        </p>
      ) : job.dataset ? (
        <p className="text-sm text-emerald-800" role="status">
          Generated {job.dataset.rowCount.toLocaleString('en-US')} problems.{' '}
          <Link href={`/console/datasets/${job.dataset.id}`} className="font-medium text-indigo-700 underline">
            Open {job.dataset.name}
          </Link>
        </p>
      ) : (
        <p role="alert" className="text-sm text-red-700" data-testid="generation-failure">
          No dataset was created: {job.failure ?? 'the job finished without one'}
        </p>
      )}
      {running ? null : <div>{another}</div>}
    </section>
  )
}
