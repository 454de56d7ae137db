'use client'

// The rollouts the worker kept at each logged step (a few whole groups: prompt, every completion coloured by who
// wrote it, reward, verdict, advantage): a step slider over them and filters. The colours and the legend are the
// trace viewer's (traces/trace-segments.ts), so a word looks the same wherever it is shown.
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useEffect, useId, useRef, useState } from 'react'

import { formatNumber, plural } from '@/components/format'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { AuthorText } from '../../traces/author-text'
import { AUTHOR_STYLE, type Author } from '../../traces/trace-segments'
import { VerdictBadge } from '../../traces/verdict-badge'

type Rollouts = RouterOutputs['runs']['rollouts']
type Sample = Rollouts['items'][number]
type Filter = 'all' | 'correct' | 'incorrect' | 'zeroSignal'

const FILTERS: { value: Filter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'correct', label: 'Correct' },
  { value: 'incorrect', label: 'Incorrect or unparseable' },
  { value: 'zeroSignal', label: 'Zero-signal groups' },
]

const PAGE_SIZE = 32
// while the run trains, new steps arrive about this often at the earliest
const LIVE_REFRESH_MS = 5000

export function RunRollouts({ runId, live }: { runId: string; live: boolean }) {
  const trpc = useTRPC()
  // undefined: follow the newest step (the page opens there and keeps up while the run trains)
  const [chosenStep, setChosenStep] = useState<number | undefined>(undefined)
  const [filter, setFilter] = useState<Filter>('all')
  const [page, setPage] = useState(1)
  const query = useQuery(
    trpc.runs.rollouts.queryOptions(
      { id: runId, step: chosenStep, filter, page, pageSize: PAGE_SIZE },
      { placeholderData: keepPreviousData, refetchInterval: live ? LIVE_REFRESH_MS : false },
    ),
  )
  // the run's last step is stored just before it finishes, maybe after the last poll: fetch once more when it stops
  const wasLive = useRef(live)
  const { refetch } = query
  useEffect(() => {
    if (wasLive.current && !live) void refetch()
    wasLive.current = live
  }, [live, refetch])
  const sliderId = useId()
  const data = query.data
  const steps = data?.steps ?? []
  const index = data?.step == null ? -1 : steps.indexOf(data.step)

  const goTo = (i: number) => {
    const step = steps[Math.min(Math.max(i, 0), steps.length - 1)]
    if (step === undefined) return
    // the newest step again: follow new steps as they arrive
    setChosenStep(i >= steps.length - 1 ? undefined : step)
    setPage(1)
  }

  return (
    <section className="card space-y-3" aria-labelledby="rollouts-heading" data-testid="rollouts">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="rollouts-heading" className="font-semibold">
          Rollouts
        </h2>
        <p className="text-xs text-slate-600">
          A few whole groups kept at every logged step{steps.length > 0 ? ` · ${plural(steps.length, 'step')} kept` : ''}
        </p>
      </div>
      {query.error ? (
        <p role="alert" className="text-sm text-red-700">
          The rollouts could not be loaded: {query.error.message}
        </p>
      ) : null}
      {data && steps.length === 0 ? <p className="text-sm text-slate-600">No rollouts kept yet: they appear with the first logged step.</p> : null}
      {data && steps.length > 0 && data.step !== null ? (
        <>
          <div className="flex flex-wrap items-center gap-2">
            <button type="button" className="btn-secondary" onClick={() => goTo(index - 1)} disabled={index <= 0} data-testid="rollout-previous">
              Previous step
            </button>
            <label htmlFor={sliderId} className="text-sm font-medium" data-testid="rollout-step-label">
              Step {data.step}
              <span className="sr-only"> ({index + 1} of {steps.length} kept steps)</span>
            </label>
            <input
              id={sliderId}
              type="range"
              min={0}
              max={Math.max(steps.length - 1, 0)}
              step={1}
              value={Math.max(index, 0)}
              onChange={(e) => goTo(Number(e.target.value))}
              aria-valuetext={`Step ${data.step}`}
              className="min-w-0 flex-1 basis-40 accent-indigo-600"
              data-testid="rollout-step-slider"
            />
            <button type="button" className="btn-secondary" onClick={() => goTo(index + 1)} disabled={index >= steps.length - 1} data-testid="rollout-next">
              Next step
            </button>
          </div>
          <div className="flex flex-wrap items-center justify-between gap-3">
            <fieldset className="flex flex-wrap gap-x-4 gap-y-1 text-sm" data-testid="rollout-filter">
              <legend className="sr-only">Show</legend>
              {FILTERS.map((f) => (
                <label key={f.value} className="flex items-center gap-1.5">
                  <input
                    type="radio"
                    name={`${sliderId}-filter`}
                    value={f.value}
                    checked={filter === f.value}
                    onChange={() => {
                      setFilter(f.value)
                      setPage(1)
                    }}
                  />
                  {f.label} <span className="tabular-nums text-slate-600">({data.counts[f.value]})</span>
                </label>
              ))}
            </fieldset>
            <AuthorLegend />
          </div>
          <Samples samples={data.items} filter={filter} />
          {data.pageCount > 1 ? (
            <div className="flex items-center gap-2 text-sm">
              <button type="button" className="btn-secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Previous samples
              </button>
              <span>
                Page {data.page} of {data.pageCount}
              </span>
              <button type="button" className="btn-secondary" disabled={page >= data.pageCount} onClick={() => setPage(page + 1)}>
                More samples
              </button>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  )
}

function AuthorLegend() {
  return (
    <ul className="flex flex-wrap gap-3 text-xs" aria-label="Authors" data-testid="rollout-author-legend">
      {(['senior', 'junior'] as Author[]).map((a) => (
        <li key={a} className="flex items-center gap-1.5">
          <span aria-hidden="true" className={`inline-block h-3.5 w-6 rounded-sm ring-1 ${AUTHOR_STYLE[a].swatch}`} />
          <span className={`rounded px-1 ${AUTHOR_STYLE[a].className}`}>{AUTHOR_STYLE[a].label}</span>
        </li>
      ))}
    </ul>
  )
}

/** The samples grouped as the trainer grouped them: one prompt, then its completions. */
function Samples({ samples, filter }: { samples: Sample[]; filter: Filter }) {
  if (samples.length === 0) {
    return <p className="text-sm text-slate-600">No sample of this step matches “{FILTERS.find((f) => f.value === filter)?.label}”.</p>
  }
  const groups = new Map<number, Sample[]>()
  for (const s of samples) groups.set(s.groupIndex, [...(groups.get(s.groupIndex) ?? []), s])
  return (
    <div className="space-y-4">
      {[...groups].map(([groupIndex, members]) => (
        <article key={groupIndex} className="space-y-2 rounded-md border border-slate-200 p-3" data-testid="rollout-group">
          <h3 className="flex flex-wrap items-center gap-2 text-sm font-semibold">
            Group {groupIndex + 1}
            {members[0]!.zeroSignal ? (
              <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-800 ring-1 ring-slate-300" data-testid="zero-signal-badge">
                zero signal: all rewards equal, no gradient
              </span>
            ) : null}
          </h3>
          <p className="whitespace-pre-wrap break-words text-sm text-slate-800">
            <span className="font-medium">Prompt: </span>
            {members[0]!.prompt}
          </p>
          <ol className="space-y-2">
            {members.map((s) => (
              <li key={s.id} className="space-y-1 border-t border-slate-100 pt-2" data-testid="rollout-sample" data-verdict={s.verdict ?? ''}>
                <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-slate-700">
                  <span className="font-medium">Completion {s.sampleIndex + 1}</span>
                  <VerdictBadge verdict={s.verdict} testId="rollout-verdict" />
                  <span>reward {formatNumber(s.reward)}</span>
                  <span>advantage {s.advantage == null ? '—' : formatNumber(s.advantage, 3)}</span>
                </div>
                <p className="whitespace-pre-wrap break-words font-mono text-sm leading-relaxed" data-testid="rollout-completion">
                  <Completion sample={s} />
                </p>
              </li>
            ))}
          </ol>
        </article>
      ))}
    </div>
  )
}

function Completion({ sample }: { sample: Sample }) {
  if (!sample.completion) return <span className="text-slate-600">(empty completion)</span>
  return <AuthorText text={sample.completion} spans={sample.spans} />
}
