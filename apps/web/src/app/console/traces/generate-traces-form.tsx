'use client'
// "Generate traces": react-hook-form validated by the generate procedure's zod schema; the GENERATE_TRACES job is
// then polled (traces.job) until its traces are written, and the list refreshes.
import { zodResolver } from '@hookform/resolvers/zod'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import Link from 'next/link'
import { useEffect, useState } from 'react'
import { get, useForm } from 'react-hook-form'
import type { z } from 'zod'

import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { StatusBadge } from '@/components/status-badge'
import { GENERATE_DEFAULTS, generateTracesSchema, MAX_GENERATE_PROBLEMS } from '@/server/api/routers/traces.schema'
import { useTRPC } from '@/trpc/react'
import { plural } from '@/components/format'
import { DatasetOptions } from '@/components/dataset-options'

type FormInput = z.input<typeof generateTracesSchema>
type FormOutput = z.output<typeof generateTracesSchema>

const asNumber = (v: unknown) => (v === '' || v == null ? undefined : Number(v))
const POLL_MS = 1500

export function GenerateTracesForm({ datasets }: { datasets: { id: string; name: string; rowCount: number }[] }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const [formError, setFormError] = useState<string | null>(null)
  const [jobId, setJobId] = useState<string | null>(null)
  const checkpoints = useQuery(trpc.evaluations.checkpoints.queryOptions({ page: 1, pageSize: 100 }))
  const form = useForm<FormInput, unknown, FormOutput>({
    resolver: zodResolver(generateTracesSchema),
    mode: 'onTouched',
    defaultValues: {
      checkpointId: '',
      datasetId: (datasets.find((d) => d.name === 'digit-chains-eval') ?? datasets.find((d) => d.name === 'arithmetic-eval') ?? datasets[0])?.id ?? '',
      ...GENERATE_DEFAULTS,
    },
  })
  const { register, handleSubmit, setError, formState } = form
  const message = (name: string): string | undefined => (get(formState.errors, name) as { message?: string } | undefined)?.message

  const generate = useMutation(
    trpc.traces.generate.mutationOptions({
      onSuccess: ({ jobId }) => {
        setFormError(null)
        setJobId(jobId)
      },
      onError: (error) => setFormError(showServerErrors(error, setError)),
    }),
  )
  const job = useQuery(
    trpc.traces.job.queryOptions(
      { jobId: jobId ?? '' },
      {
        enabled: jobId !== null,
        refetchInterval: (q) => {
          const status = q.state.data?.status
          return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED' ? false : POLL_MS
        },
      },
    ),
  )
  const done = job.data?.status === 'SUCCEEDED'
  // the new traces belong in the list above
  useEffect(() => {
    if (done) void queryClient.invalidateQueries({ queryKey: trpc.traces.list.queryKey() })
  }, [done, jobId, queryClient, trpc])
  // preselect the newest checkpoint once the list has loaded
  const firstCheckpoint = checkpoints.data?.items[0]?.id
  useEffect(() => {
    if (firstCheckpoint && !form.getValues('checkpointId')) form.setValue('checkpointId', firstCheckpoint)
  }, [firstCheckpoint, form])
  return (
    <section className="card space-y-4" aria-labelledby="generate-heading">
      <div>
        <h2 id="generate-heading" className="font-semibold">
          Generate traces
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          One trace per problem (the first problems of the dataset), scored by the verifier. p_junior 0 = the senior alone;
          above 0 = the junior writes each word with that chance.
        </p>
      </div>
      <form
        noValidate
        className="space-y-4"
        onSubmit={handleSubmit(
          (values) => {
            setFormError(null)
            generate.mutate(values)
          },
          () => setFormError('Fix the fields marked below.'),
        )}
      >
        <FormError message={formError} />
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          <Field id="generate-checkpointId" label="Checkpoint" error={message('checkpointId')}>
            <select
              {...fieldAria('generate-checkpointId', message('checkpointId'))}
              className="input"
              {...register('checkpointId')}
            >
              <option value="">Choose a checkpoint</option>
              {(checkpoints.data?.items ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.label}
                </option>
              ))}
            </select>
          </Field>
          <Field id="generate-datasetId" label="Dataset" error={message('datasetId')}>
            <select {...fieldAria('generate-datasetId', message('datasetId'))} className="input" {...register('datasetId')}>
              <DatasetOptions datasets={datasets} />
            </select>
          </Field>
          <Field id="generate-count" label="Problems" error={message('count')} hint={`The first N problems, 1–${MAX_GENERATE_PROBLEMS}.`}>
            <input {...fieldAria('generate-count', message('count'), true)} className="input" type="number" min={1} max={MAX_GENERATE_PROBLEMS} step={1} {...register('count', { setValueAs: asNumber })} />
          </Field>
          <Field id="generate-seed" label="Seed" error={message('seed')}>
            <input {...fieldAria('generate-seed', message('seed'))} className="input" type="number" min={0} step={1} {...register('seed', { setValueAs: asNumber })} />
          </Field>
          <Field id="generate-temperature" label="Temperature" error={message('temperature')} hint="0 = greedy.">
            <input {...fieldAria('generate-temperature', message('temperature'), true)} className="input" type="number" min={0} step="any" {...register('temperature', { setValueAs: asNumber })} />
          </Field>
          <Field id="generate-maxNewTokens" label="Max new tokens" error={message('maxNewTokens')}>
            <input {...fieldAria('generate-maxNewTokens', message('maxNewTokens'))} className="input" type="number" min={1} step={1} {...register('maxNewTokens', { setValueAs: asNumber })} />
          </Field>
          <Field id="generate-pJunior" label="p_junior" error={message('pJunior')} hint="0–1; 0 = the senior alone.">
            <input {...fieldAria('generate-pJunior', message('pJunior'), true)} className="input" type="number" min={0} max={1} step="any" {...register('pJunior', { setValueAs: asNumber })} />
          </Field>
        </div>
        <div className="flex justify-end">
          <button type="submit" className="btn-primary" disabled={generate.isPending}>
            {generate.isPending ? 'Queuing…' : 'Generate traces'}
          </button>
        </div>
      </form>

      {jobId ? (
        <div className="space-y-2 rounded-md border border-slate-200 p-3 text-sm" data-testid="generate-job" aria-live="polite">
          <p className="flex flex-wrap items-center gap-2">
            Job <span className="font-mono text-xs">{jobId}</span>
            {job.data ? <StatusBadge status={job.data.status} testId="generate-job-status" /> : null}
            {job.data?.progressMessage ? <span className="text-slate-600">{job.data.progressMessage}</span> : null}
          </p>
          {job.data?.error ? <pre className="overflow-x-auto rounded bg-red-50 p-2 text-xs whitespace-pre-wrap text-red-800">{job.data.error}</pre> : null}
          {done ? (
            <div>
              <p>
                {plural(job.data!.traceIds.length, 'trace')} written:
              </p>
              <ul className="mt-1 flex flex-wrap gap-x-3 gap-y-1" data-testid="generated-traces">
                {job.data!.traceIds.map((id, i) => (
                  <li key={id}>
                    <Link href={`/console/traces/${id}`} className="text-indigo-700 hover:underline">
                      Trace {i + 1}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
        </div>
      ) : null}
    </section>
  )
}
