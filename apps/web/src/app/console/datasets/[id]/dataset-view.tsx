'use client'
// One dataset: its counts and a server-paged preview of its problems.
import { keepPreviousData, useQuery } from '@tanstack/react-query'

import { Breadcrumbs } from '@/components/breadcrumbs'
import { LoadError } from '@/components/load-error'
import { useState } from 'react'

import { DataTable, type ColumnDef } from '@/components/data-table'
import { formatBytes, formatDate, plural } from '@/components/format'
import { Pagination } from '@/components/pagination'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { AnswerText, ProblemText } from '../problem-text'

type ProblemRow = RouterOutputs['datasets']['problems']['items'][number]

const PAGE_SIZE = 20

const COLUMNS: ColumnDef<ProblemRow>[] = [
  { header: 'ID', accessorKey: 'externalId', cell: ({ row }) => <code className="text-xs">{row.original.externalId}</code> },
  { header: 'Problem', accessorKey: 'problem', cell: ({ row }) => <ProblemText text={row.original.problem} /> },
  { header: 'Answer', accessorKey: 'answer', cell: ({ row }) => <AnswerText answer={row.original.answer} /> },
  { header: 'Difficulty', accessorKey: 'difficulty', cell: ({ row }) => row.original.difficulty ?? '—' },
]

export function DatasetView({ id }: { id: string }) {
  const trpc = useTRPC()
  const [page, setPage] = useState(1)
  const dataset = useQuery(trpc.datasets.get.queryOptions({ id }, { retry: 1 }))
  const problems = useQuery(
    trpc.datasets.problems.queryOptions({ datasetId: id, page, pageSize: PAGE_SIZE }, { placeholderData: keepPreviousData, enabled: dataset.isSuccess }),
  )

  if (dataset.isPending) return <p className="text-sm text-slate-600">Loading dataset…</p>
  if (dataset.isError) {
    return <LoadError title="Dataset not available" noun="dataset" error={dataset.error} backHref="/console/datasets" backLabel="Back to datasets" />
  }

  const d = dataset.data
  const difficulties = d.counts.byDifficulty
    .map((g) => `${g.difficulty === null ? 'unrated' : plural(g.difficulty, 'step')}: ${g.count}`)
    .join(' · ')

  return (
    <div className="space-y-6">
      <div>
        <Breadcrumbs trail={[{ href: '/console/datasets', label: 'Datasets' }]} current={d.name} />
        <h1 className="mt-1 text-2xl font-semibold break-words" data-testid="dataset-name">
          {d.name}
        </h1>
        <p className="mt-1 text-sm text-slate-600">
          {d.source === 'upload' && d.upload
            ? `Uploaded from ${d.upload.filename} (${d.upload.format}, ${formatBytes(d.upload.sizeBytes)})`
            : `Source: ${d.source}`}{' '}
          · created {formatDate(d.createdAt)} by {d.createdByEmail ?? 'tandem seed'}
        </p>
      </div>

      <section className="card" aria-labelledby="counts-heading">
        <h2 id="counts-heading" className="mb-3 text-lg font-semibold">
          Counts
        </h2>
        <dl className="grid gap-3 text-sm sm:grid-cols-4">
          <div>
            <dt className="text-slate-600">Problems</dt>
            <dd className="text-lg font-semibold tabular-nums" data-testid="dataset-problem-count">
              {d.counts.problems.toLocaleString('en-US')}
            </dd>
          </div>
          <div>
            <dt className="text-slate-600">With a reference solution</dt>
            <dd className="text-lg font-semibold tabular-nums">{d.counts.withSolution.toLocaleString('en-US')}</dd>
          </div>
          <div>
            <dt className="text-slate-600">Training runs</dt>
            <dd className="text-lg font-semibold tabular-nums">{d.counts.runs}</dd>
          </div>
          <div>
            <dt className="text-slate-600">Studies</dt>
            <dd className="text-lg font-semibold tabular-nums">{d.counts.studies}</dd>
          </div>
          {difficulties ? (
            <div className="sm:col-span-4">
              <dt className="text-slate-600">By difficulty (reasoning steps)</dt>
              <dd>{difficulties}</dd>
            </div>
          ) : null}
        </dl>
      </section>

      <section className="card space-y-4 p-0 pb-4" aria-labelledby="problems-heading">
        <h2 id="problems-heading" className="px-5 pt-5 text-lg font-semibold">
          Problems
        </h2>
        {problems.isError ? (
          <p role="alert" className="px-5 text-sm text-red-700">
            {problems.error.message}
          </p>
        ) : problems.data ? (
          <>
            <DataTable columns={COLUMNS} data={problems.data.items} testId="problems-table" caption={`Problems of ${d.name}`} empty="This dataset has no problems." getRowId={(p) => p.id} />
            <div className="px-5">
              <Pagination info={problems.data} noun="problem" onPage={setPage} />
            </div>
          </>
        ) : (
          <p className="px-5 text-sm text-slate-600">Loading problems…</p>
        )}
      </section>
    </div>
  )
}
