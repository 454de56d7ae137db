'use client'
// One trace: the problem (typeset), the text coloured by who wrote each word — or, toggled, by the junior's
// surprisal as a heat map — the verifier's verdict against the expected answer, and how it was generated.
// Model text is only ever rendered as React text nodes (or through MathText's KaTeX), never as HTML.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'

import { useState } from 'react'

import { Breadcrumbs } from '@/components/breadcrumbs'
import { formatDate } from '@/components/format'
import { LoadError } from '@/components/load-error'
import { MathText } from '@/components/math-text'
import { parseSchedule, scheduleLabel, scheduleSentence, shownSettings } from '@/server/api/routers/traces.schedule'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { AuthorText } from '../author-text'
import { AUTHOR_STYLE, HEAT_MAX_NATS, heatColor, heatGradient, surprisalPieces, type Author } from '../trace-segments'
import { VerdictBadge } from '../verdict-badge'

type Trace = RouterOutputs['traces']['get']
type Mode = 'author' | 'surprisal'

export function TraceView({ id }: { id: string }) {
  const trpc = useTRPC()
  const query = useQuery(trpc.traces.get.queryOptions({ id }, { retry: 1 }))
  const [mode, setMode] = useState<Mode>('author')

  if (query.isPending) return <p className="text-sm text-slate-600">Loading trace…</p>
  if (query.isError) {
    return <LoadError title="Trace" noun="trace" error={query.error} backHref="/console/traces" backLabel="Back to traces" />
  }
  const t = query.data
  const schedule = parseSchedule(t.schedule, t.settings.p_junior)
  const hasSurprisal = (t.wordSurprisal?.length ?? 0) > 0
  const shownMode: Mode = hasSurprisal ? mode : 'author'

  return (
    <div className="space-y-6">
      <div>
        <Breadcrumbs trail={[{ href: '/console/traces', label: 'Traces' }]} current={`${t.checkpoint.label}, problem ${t.problem.externalId}`} />
        <h1 className="mt-1 text-2xl font-semibold break-words">Trace of {t.checkpoint.label}</h1>
        <p className="mt-1 text-sm text-slate-600">
          {t.problem.dataset.name} · problem {t.problem.externalId} · {scheduleLabel(schedule)} · seed {t.seed} · {formatDate(t.createdAt)}
        </p>
      </div>

      <section className="card space-y-2" aria-labelledby="problem-heading">
        <h2 id="problem-heading" className="font-semibold">
          Problem
        </h2>
        <MathText text={t.problem.problem} className="block text-sm leading-relaxed" testId="trace-problem" />
      </section>

      <div className="grid gap-6 lg:grid-cols-3">
        <section className="card space-y-4 lg:col-span-2" aria-labelledby="text-heading">
          <div className="flex flex-wrap items-start justify-between gap-3">
            <h2 id="text-heading" className="font-semibold">
              Reasoning
            </h2>
            <fieldset className="flex flex-wrap items-center gap-3 text-sm">
              <legend className="sr-only">Colour the words by</legend>
              <span aria-hidden="true" className="text-slate-600">
                Colour by
              </span>
              <label className="flex items-center gap-1">
                <input type="radio" name="colour-mode" value="author" checked={shownMode === 'author'} onChange={() => setMode('author')} />
                author
              </label>
              <label className={`flex items-center gap-1 ${hasSurprisal ? '' : 'text-slate-500'}`}>
                <input
                  type="radio"
                  name="colour-mode"
                  value="surprisal"
                  checked={shownMode === 'surprisal'}
                  disabled={!hasSurprisal}
                  onChange={() => setMode('surprisal')}
                  aria-describedby={hasSurprisal ? undefined : 'no-surprisal'}
                />
                junior’s surprisal (heat map)
              </label>
            </fieldset>
          </div>
          {!hasSurprisal ? (
            <p id="no-surprisal" className="text-xs text-slate-600">
              This trace has no per-word surprisal (traces from the legibility suite carry it).
            </p>
          ) : null}
          {shownMode === 'author' ? <AuthorLegend trace={t} /> : <HeatLegend />}
          <div className="text-sm leading-7 break-words whitespace-pre-wrap" data-testid="trace-text" data-mode={shownMode}>
            {shownMode === 'author' ? <ByAuthor trace={t} /> : <BySurprisal trace={t} />}
          </div>
        </section>

        <div className="space-y-6">
          <section className="card space-y-3 text-sm" aria-labelledby="verdict-heading">
            <h2 id="verdict-heading" className="font-semibold">
              Verdict
            </h2>
            {t.verifierResult ? (
              <dl className="space-y-2">
                <div className="flex items-center justify-between gap-2">
                  <dt className="text-slate-600">Verdict</dt>
                  <dd>
                    <VerdictBadge verdict={t.verifierResult.verdict} testId="trace-verdict" />
                  </dd>
                </div>
                <div className="flex justify-between gap-2">
                  <dt className="text-slate-600">Extracted answer</dt>
                  <dd className="text-right break-all" data-testid="trace-extracted">
                    {t.verifierResult.extractedAnswer ?? '(none)'}
                  </dd>
                </div>
                <div className="flex justify-between gap-2">
                  <dt className="text-slate-600">Expected answer</dt>
                  <dd className="text-right break-all" data-testid="trace-expected">
                    {t.problem.answer}
                  </dd>
                </div>
                <div className="flex justify-between gap-2">
                  <dt className="text-slate-600">Verifier</dt>
                  <dd className="text-right">
                    {t.verifierResult.verifier} {t.verifierResult.version}
                  </dd>
                </div>
                {t.verifierResult.details ? (
                  <div>
                    <dt className="text-slate-600">Details</dt>
                    <dd className="mt-1 text-xs break-words whitespace-pre-wrap text-slate-700">{t.verifierResult.details}</dd>
                  </div>
                ) : null}
              </dl>
            ) : (
              <p className="text-slate-600">Not verified yet. Expected answer: {t.problem.answer}</p>
            )}
          </section>

          {t.liveSession ? <LiveSessionCard session={t.liveSession} /> : null}

          <section className="card space-y-3 text-sm" aria-labelledby="settings-heading">
            <h2 id="settings-heading" className="font-semibold">
              Generation
            </h2>
            <p className="text-slate-700" data-testid="trace-schedule">
              {scheduleSentence(schedule)}
            </p>
            <dl className="space-y-1" data-testid="trace-settings">
              <div className="flex justify-between gap-2">
                <dt className="text-slate-600">Checkpoint</dt>
                <dd className="text-right">
                  {t.checkpoint.runId ? (
                    <Link href={`/console/runs/${t.checkpoint.runId}`} className="text-indigo-700 hover:underline">
                      {t.checkpoint.label}
                    </Link>
                  ) : (
                    t.checkpoint.label
                  )}
                </dd>
              </div>
              <div className="flex justify-between gap-2">
                <dt className="text-slate-600">Junior</dt>
                <dd className="text-right break-words" data-testid="trace-junior">
                  {t.junior === null ? (
                    'none'
                  ) : t.junior.href ? (
                    <Link href={t.junior.href} className="text-indigo-700 hover:underline">
                      {t.junior.label}
                    </Link>
                  ) : (
                    t.junior.label
                  )}
                </dd>
              </div>
              <div className="flex justify-between gap-2">
                <dt className="text-slate-600">Schedule</dt>
                <dd className="text-right">
                  <code className="text-xs break-all">{t.schedule}</code>
                </dd>
              </div>
              <div className="flex justify-between gap-2">
                <dt className="text-slate-600">Seed</dt>
                <dd className="tabular-nums">{t.seed}</dd>
              </div>
              {shownSettings(t.settings).map((setting) => (
                <div key={setting.key} className="flex justify-between gap-2">
                  <dt className="text-slate-600">{setting.label}</dt>
                  <dd className="text-right break-all">{setting.value}</dd>
                </div>
              ))}
              {t.evaluationRunId ? (
                <div className="flex justify-between gap-2">
                  <dt className="text-slate-600">Evaluation</dt>
                  <dd>
                    <Link href={`/console/evaluations/${t.evaluationRunId}`} className="text-indigo-700 hover:underline">
                      open report
                    </Link>
                  </dd>
                </div>
              ) : null}
            </dl>
          </section>
        </div>
      </div>
    </div>
  )
}

const END_REASON: Record<string, string> = {
  eos: 'finished',
  length: 'token budget spent',
  handover: 'scheduled handover',
  take_over: 'participant took over',
  hand_back: 'handed back',
  submit: 'submitted',
}

/** A live study task's spans in order: who wrote, how much, when, and why the span ended. */
function LiveSessionCard({ session }: { session: NonNullable<Trace['liveSession']> }) {
  const start = session.spans[0] ? Date.parse(session.spans[0].startedAt) : 0
  const seconds = (iso: string | null) => (iso ? `${((Date.parse(iso) - start) / 1000).toFixed(1)} s` : '—')
  return (
    <section className="card space-y-3 text-sm" aria-labelledby="live-heading" data-testid="live-session">
      <h2 id="live-heading" className="font-semibold">
        Live session
      </h2>
      <p className="text-slate-600">
        Written live in a{' '}
        <Link href={`/console/studies/${session.studyId}`} className="text-indigo-700 hover:underline">
          study
        </Link>{' '}
        task: the senior streamed, the participant took over and handed back. Times from the first span&apos;s start.
      </p>
      <table className="w-full text-left text-xs">
        <thead className="text-slate-600">
          <tr>
            <th scope="col" className="py-1 pr-2 font-medium">Author</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Chars</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Tokens</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">From</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">To</th>
            <th scope="col" className="py-1 font-medium">Ended</th>
          </tr>
        </thead>
        <tbody>
          {session.spans.map((s) => (
            <tr key={s.seq} className="border-t border-slate-100" data-author={s.author}>
              <td className="py-1 pr-2">
                <span className={`rounded px-1 ${AUTHOR_STYLE[s.author].className}`}>{AUTHOR_STYLE[s.author].label}</span>
              </td>
              <td className="py-1 pr-2 text-right tabular-nums">{s.chars}</td>
              <td className="py-1 pr-2 text-right tabular-nums">{s.author === 'senior' ? s.tokens : '—'}</td>
              <td className="py-1 pr-2 text-right tabular-nums">{seconds(s.startedAt)}</td>
              <td className="py-1 pr-2 text-right tabular-nums">{seconds(s.endedAt)}</td>
              <td className="py-1">{s.endReason ? (END_REASON[s.endReason] ?? s.endReason) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function AuthorLegend({ trace }: { trace: Trace }) {
  const present = new Set(trace.authorSpans.map((s) => s.author))
  const authors = (['senior', 'junior', 'human'] as Author[]).filter((a) => present.has(a) || a !== 'human')
  return (
    <ul className="flex flex-wrap gap-3 text-xs" aria-label="Authors" data-testid="author-legend">
      {authors.map((a) => (
        <li key={a} className="flex items-center gap-1.5">
          <span aria-hidden="true" className={`inline-block h-3.5 w-6 rounded-sm ring-1 ${AUTHOR_STYLE[a].swatch}`} />
          <span className={`rounded px-1 ${AUTHOR_STYLE[a].className}`}>{AUTHOR_STYLE[a].label}</span>
        </li>
      ))}
      <li className="flex items-center gap-1.5 text-slate-600">plain = no author recorded</li>
    </ul>
  )
}

function ByAuthor({ trace }: { trace: Trace }) {
  return <AuthorText text={trace.text} spans={trace.authorSpans} />
}

function HeatLegend() {
  const ticks = [0, 2, 4, 6, HEAT_MAX_NATS]
  return (
    <div className="space-y-1 text-xs" data-testid="heat-legend">
      <p className="text-slate-700">The junior’s surprisal of each word (−log p, nats): darker = harder for the junior to predict.</p>
      <div className="flex flex-wrap items-center gap-4">
        <div className="w-56 max-w-full">
          <div aria-hidden="true" className="h-3 rounded-sm ring-1 ring-slate-300" style={{ background: heatGradient() }} />
          <div className="mt-0.5 flex justify-between tabular-nums text-slate-700">
            {ticks.map((t) => (
              <span key={t}>{t === HEAT_MAX_NATS ? `≥${t}` : t}</span>
            ))}
          </div>
          <span className="sr-only">Scale from 0 to {HEAT_MAX_NATS} or more nats.</span>
        </div>
        <span className="flex items-center gap-1.5 text-slate-700">
          <span aria-hidden="true" className="inline-block h-3 w-6 rounded-sm bg-white ring-1 ring-slate-300" /> no surprisal
        </span>
      </div>
    </div>
  )
}

function BySurprisal({ trace }: { trace: Trace }) {
  return (
    <>
      {surprisalPieces(trace.text, trace.wordSurprisal ?? []).map((piece, i) => {
        if (piece.value === null) return <span key={i}>{piece.text}</span>
        const { background, color } = heatColor(piece.value)
        return (
          <span key={i} className="rounded-sm" style={{ background, color }} title={`${piece.value.toFixed(2)} nats`} data-nats={piece.value.toFixed(3)}>
            {piece.text}
            <span className="sr-only"> ({piece.value.toFixed(1)} nats)</span>
          </span>
        )
      })}
    </>
  )
}
