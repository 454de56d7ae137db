'use client'
// One participant's session (studies.participantSession): when each stage was reached, what the link carried, the
// practice and attention answers, the exclusion status and the researcher's own mark (excluded or tester, with a
// note: manual-exclusion-form.tsx), and task by task what the senior wrote, what the participant wrote, their
// ratings and time, and the verifier's verdict, with links to the trace and the run.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'

import { Breadcrumbs } from '@/components/breadcrumbs'
import { formatDate, formatNumber, plural } from '@/components/format'
import { LoadError } from '@/components/load-error'
import { MathText } from '@/components/math-text'
import type { AttentionCheck, PracticeTask } from '@/server/api/routers/studies.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { VerdictBadge } from '../../../../traces/verdict-badge'
import { ManualExclusionForm } from './manual-exclusion-form'

type Session = RouterOutputs['studies']['participantSession']
type Task = Session['tasks'][number]

interface AttentionAnswer {
  checkId: string
  answer: string
  correct: boolean
  at?: string
}

export function ParticipantView({ studyId, participantId }: { studyId: string; participantId: string }) {
  const trpc = useTRPC()
  const session = useQuery(trpc.studies.participantSession.queryOptions({ id: studyId, participantId }, { retry: 1, staleTime: 0 }))
  const study = useQuery(trpc.studies.get.queryOptions({ id: studyId }, { retry: 1 }))

  if (session.isPending) return <p className="text-sm text-slate-600">Loading the session…</p>
  if (session.isError) {
    return (
      <LoadError
        title="Participant session"
        noun="participant in this study"
        error={session.error}
        backHref={`/console/studies/${studyId}?tab=participants`}
        backLabel="Back to the study"
      />
    )
  }
  const { participant: p, tasks } = session.data
  const checks = study.data && Array.isArray(study.data.attentionChecks) ? (study.data.attentionChecks as unknown as AttentionCheck[]) : []
  const practiceTask = study.data ? (study.data.practice as unknown as PracticeTask) : null
  const practice = (p.practice ?? null) as { continuation?: string; answer?: string } | null
  const attention = (Array.isArray(p.attention) ? p.attention : []) as unknown as AttentionAnswer[]
  const params = p.urlParams && typeof p.urlParams === 'object' && !Array.isArray(p.urlParams) ? Object.entries(p.urlParams as Record<string, unknown>) : []
  const stages: [string, Date | string | null][] = [
    ['Started', p.createdAt],
    ['Consented', p.consentedAt],
    ['Declined', p.declinedAt],
    ['Read the instructions', p.instructionsDoneAt],
    ['Did the practice task', p.practiceDoneAt],
    ['Completed', p.completedAt],
  ]

  return (
    <div className="space-y-6">
      <div>
        <Breadcrumbs
          trail={[
            { href: '/console/studies', label: 'Studies' },
            { href: `/console/studies/${studyId}?tab=participants`, label: study.data?.name ?? 'Study' },
          ]}
          current={`Participant ${p.ordinal ?? '(declined)'}`}
        />
        <h1 className="mt-1 text-2xl font-semibold break-words" data-testid="participant-title">
          Participant {p.ordinal ?? '(declined)'}
          {p.externalId ? <span className="ml-2 font-mono text-base font-normal text-slate-600">{p.externalId}</span> : null}
        </h1>
        <p className="mt-1 text-sm" data-testid="participant-exclusion">
          {p.excluded ? (
            <span className="text-red-800">Excluded from the analyses: {p.exclusionReason}</span>
          ) : (
            <span className="text-slate-700">Not excluded.</span>
          )}{' '}
          <span className="text-slate-600">Median time per task: {formatNumber(p.medianTaskSeconds, 1)} s.</span>
        </p>
      </div>

      <ManualExclusionForm
        studyId={studyId}
        participantId={participantId}
        current={{ manualExclusion: p.manualExclusion, manualNote: p.manualNote, manualSetAt: p.manualSetAt, manualSetByEmail: p.manualSetByEmail }}
      />

      <div className="grid gap-4 lg:grid-cols-2">
        <section className="card space-y-2" aria-labelledby="stages-heading">
          <h2 id="stages-heading" className="font-semibold">
            Stages
          </h2>
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
            {stages.map(([label, at]) => (
              <div key={label} className="contents">
                <dt className="text-slate-700">{label}</dt>
                <dd className={at ? 'text-slate-900' : 'text-slate-600'}>{at ? formatDate(at) : '—'}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section className="card space-y-2" aria-labelledby="link-heading">
          <h2 id="link-heading" className="font-semibold">
            Link and browser
          </h2>
          {params.length ? (
            <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
              {params.map(([key, value]) => (
                <div key={key} className="contents">
                  <dt className="font-mono text-slate-700">{key}</dt>
                  <dd className="font-mono break-all">{String(value)}</dd>
                </div>
              ))}
            </dl>
          ) : (
            <p className="text-sm text-slate-600">No URL parameters.</p>
          )}
          <p className="text-sm break-words">
            <span className="text-slate-700">User agent:</span> <span className="text-slate-900">{p.userAgent ?? '—'}</span>
          </p>
        </section>
      </div>

      <section className="card space-y-2" aria-labelledby="practice-heading">
        <h2 id="practice-heading" className="font-semibold">
          Practice task
        </h2>
        {practice ? (
          <dl className="space-y-2 text-sm">
            <div>
              <dt className="font-medium text-slate-700">Their continuation</dt>
              <dd className="whitespace-pre-wrap">{practice.continuation || '—'}</dd>
            </div>
            <div>
              <dt className="font-medium text-slate-700">Their answer</dt>
              <dd>
                {practice.answer ?? '—'}
                {practiceTask ? <span className="text-slate-600"> (expected {practiceTask.answer})</span> : null}
              </dd>
            </div>
          </dl>
        ) : (
          <p className="text-sm text-slate-600">Not done.</p>
        )}
      </section>

      <section className="card space-y-2" aria-labelledby="attention-heading">
        <h2 id="attention-heading" className="font-semibold">
          Attention checks
        </h2>
        {checks.length === 0 && attention.length === 0 ? (
          <p className="text-sm text-slate-600">The study has none.</p>
        ) : (
          <ul className="space-y-1 text-sm" data-testid="attention-answers">
            {(checks.length ? checks : attention.map((a) => ({ id: a.checkId, prompt: a.checkId, afterTask: null as number | null, correct: null as string | null }))).map((c) => {
              const answer = attention.find((a) => a.checkId === c.id)
              return (
                <li key={c.id}>
                  {c.afterTask != null ? <span className="text-slate-600">After task {c.afterTask}: </span> : null}“{c.prompt}” —{' '}
                  {answer ? (
                    <>
                      answered “{answer.answer}”{' '}
                      <span className={answer.correct ? 'font-medium text-emerald-800' : 'font-medium text-red-800'}>
                        {answer.correct ? '(correct)' : `(wrong${c.correct ? `; correct: “${c.correct}”` : ''})`}
                      </span>
                    </>
                  ) : (
                    <span className="text-slate-600">not answered</span>
                  )}
                </li>
              )
            })}
          </ul>
        )}
      </section>

      <section className="space-y-3" aria-labelledby="tasks-heading">
        <h2 id="tasks-heading" className="text-lg font-semibold">
          Tasks ({tasks.filter((t) => t.response).length} of {tasks.length} answered)
        </h2>
        {tasks.length === 0 ? <p className="text-sm text-slate-600">No tasks assigned (the participant did not consent).</p> : null}
        {tasks.map((t) => (
          <TaskCard key={t.assignmentId} task={t} />
        ))}
      </section>
    </div>
  )
}

function TaskCard({ task: t }: { task: Task }) {
  const r = t.response
  return (
    <article className="card space-y-3" aria-labelledby={`task-${t.position}-heading`} data-testid="participant-task">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h3 id={`task-${t.position}-heading`} className="font-semibold">
          Task {t.position + 1}: {t.conditionName}
          {t.algorithm ? <span className="font-normal text-slate-600"> ({t.algorithm})</span> : null}
        </h3>
        <p className="flex flex-wrap gap-3 text-sm">
          {t.traceId ? (
            <Link href={`/console/traces/${t.traceId}`} className="text-indigo-700 hover:underline">
              Senior’s trace
            </Link>
          ) : null}
          {t.runId ? (
            <Link href={`/console/runs/${t.runId}`} className="text-indigo-700 hover:underline">
              Run
            </Link>
          ) : null}
        </p>
      </div>
      <dl className="space-y-3 text-sm">
        <div>
          <dt className="font-medium text-slate-700">Problem</dt>
          <dd>
            <MathText text={t.problem} />
          </dd>
        </div>
        <div>
          <dt className="font-medium text-slate-700">
            The senior’s reasoning shown{t.handoffStep != null ? ` (${plural(t.handoffStep, 'step')})` : ''}
          </dt>
          <dd className="rounded bg-slate-50 p-2">{t.prefixText ? <MathText text={t.prefixText} /> : <span className="text-slate-600">(none)</span>}</dd>
        </div>
        {r ? (
          <div>
            <dt className="font-medium text-slate-700">Their continuation</dt>
            <dd className="rounded bg-indigo-50 p-2 whitespace-pre-wrap">{r.continuation || <span className="text-slate-600">(empty)</span>}</dd>
          </div>
        ) : (
          <div>
            <dt className="font-medium text-slate-700">Response</dt>
            <dd className="text-slate-600">{t.startedAt ? `Started ${formatDate(t.startedAt)}, not submitted.` : 'Not started.'}</dd>
          </div>
        )}
      </dl>
      {r ? (
        <dl className="grid gap-3 text-sm sm:grid-cols-3">
          <div>
            <dt className="font-medium text-slate-700">Their answer</dt>
            <dd className="font-mono">{r.answer || '—'}</dd>
          </div>
          <div>
            <dt className="font-medium text-slate-700">Expected</dt>
            <dd className="font-mono">{t.expectedAnswer}</dd>
          </div>
          <div>
            <dt className="font-medium text-slate-700">Verifier</dt>
            <dd data-testid="task-verdict">
              {t.verifier ? (
                <span className="flex flex-wrap items-center gap-2">
                  <VerdictBadge verdict={t.verifier.verdict} />
                  <span className="text-slate-600">
                    extracted {t.verifier.extractedAnswer != null ? <span className="font-mono">{t.verifier.extractedAnswer}</span> : '—'}
                  </span>
                </span>
              ) : (
                <span className="text-slate-600">awaiting verification</span>
              )}
            </dd>
          </div>
          <div>
            <dt className="font-medium text-slate-700">Ease of following (1–5)</dt>
            <dd>{r.easeRating ?? '—'}</dd>
          </div>
          <div>
            <dt className="font-medium text-slate-700">Confidence (1–5)</dt>
            <dd>{r.confidence ?? '—'}</dd>
          </div>
          <div>
            <dt className="font-medium text-slate-700">Time</dt>
            <dd>
              {formatNumber(r.elapsedMs / 1000, 1)} s{r.timedOut ? <span className="font-medium text-amber-800"> · timed out</span> : null}
              <span className="block text-xs text-slate-600">submitted {formatDate(r.submittedAt)}</span>
            </dd>
          </div>
        </dl>
      ) : null}
    </article>
  )
}
