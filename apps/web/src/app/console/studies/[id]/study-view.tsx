'use client'
// One study: its status and the controls its owner has (edit, launch, pause, resume, close), the senior-trace
// generation while it runs (polled every 2 s until the study opens), the participant link, the design and its
// assignment rule, the preregistration (its hash and downloads once frozen), then the dashboard, the participants and
// the exports once people take part. The design and its preregistration are shown to every researcher; participant
// data and collaborators only to the owner, collaborators and admins.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useSyncExternalStore } from 'react'

import { CopyField } from '@/components/copy-field'
import { ProgressBar } from '@/components/progress-bar'
import { formatDate } from '@/components/format'
import { LoadError } from '@/components/load-error'
import { StatusBadge } from '@/components/status-badge'
import type { AttentionCheck, HandoffRule } from '@/server/api/routers/studies.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

import { runCheckpointLabel } from '../design-defaults'
import { StudyCollaborators } from './study-collaborators'
import { StudyControls } from './study-controls'
import { StudyDashboard } from './study-dashboard'
import { StudyExports } from './study-exports'
import { PreregistrationCard } from './preregistration-card'
import { StudyParticipants } from './study-participants'

export type Study = RouterOutputs['studies']['get']

const GENERATING_REFRESH_MS = 2000
const OPEN_REFRESH_MS = 5000

export function refreshInterval(status: Study['status'] | undefined): number | false {
  return status === 'GENERATING' ? GENERATING_REFRESH_MS : status === 'OPEN' ? OPEN_REFRESH_MS : false
}

/** The handoff rule in words. */
export function handoffRuleText(rule: HandoffRule): string {
  return rule.kind === 'step'
    ? `After step ${rule.k} of the senior’s solo trace (the participant sees ${rule.k === 0 ? 'none of its steps' : rule.k === 1 ? 'its first step' : `its first ${rule.k} steps`})`
    : `At fraction ${rule.f} of the senior’s solo trace (the participant sees that share of its steps)`
}

/** The link as the recruiting platform gets it: its placeholders for the accepted URL parameters appended. */
export function participantLink(origin: string, path: string, params: string[]): string {
  const query = params.map((p) => `${p}={{%${p}%}}`).join('&')
  return `${origin}${path}${query ? `?${query}` : ''}`
}

const noSubscribe = () => () => {}

export function StudyView({ id }: { id: string }) {
  const trpc = useTRPC()
  const query = useQuery(
    trpc.studies.get.queryOptions({ id }, { refetchInterval: (q) => refreshInterval(q.state.data?.status), staleTime: 0, retry: 1 }),
  )

  if (query.isPending) return <p className="text-sm text-slate-600">Loading study…</p>
  if (query.isError) {
    return <LoadError title="Study" noun="study" error={query.error} backHref="/console/studies" backLabel="Back to studies" />
  }
  const s = query.data
  const launched = s.status !== 'DRAFT' && s.status !== 'GENERATING'

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <p className="text-sm text-slate-600">
            <Link href="/console/studies" className="hover:underline">
              Studies
            </Link>{' '}
            / <span className="break-all">{s.id}</span>
          </p>
          <h1 className="mt-1 text-2xl font-semibold break-words" data-testid="study-name">
            {s.name}
          </h1>
          <p className="mt-1 text-sm text-slate-600">
            by {s.owner.email} · created {formatDate(s.createdAt)}
            {s.launchedAt ? ` · launched ${formatDate(s.launchedAt)}` : ''}
            {s.openedAt ? ` · opened ${formatDate(s.openedAt)}` : ''}
            {s.closedAt ? ` · closed ${formatDate(s.closedAt)}` : ''}
          </p>
        </div>
        <StatusBadge status={s.status} testId="study-status" />
      </div>

      <StudyControls study={s} />

      {s.status === 'GENERATING' ? <GenerationProgress study={s} /> : null}
      {s.status === 'DRAFT' && s.generationError ? (
        <section className="card space-y-2 border-red-200" aria-labelledby="generation-failed-heading">
          <h2 id="generation-failed-heading" className="font-semibold text-red-800">
            Generating the senior traces failed
          </h2>
          <p className="text-sm text-slate-700">The study is a draft again: change what the error names, or launch it again.</p>
          <pre className="overflow-x-auto rounded bg-red-50 p-3 text-xs whitespace-pre-wrap text-red-800" data-testid="generation-error">
            {s.generationError}
          </pre>
        </section>
      ) : null}

      {s.status === 'OPEN' || s.status === 'PAUSED' ? <ParticipantLinkCard study={s} /> : null}

      <DesignSummary study={s} />

      <PreregistrationCard studyId={s.id} status={s.preregistration.status} sha256={s.preregistration.sha256} />

      {s.mayReadParticipantData ? <StudyCollaborators id={s.id} mayManage={s.mayControl} /> : null}

      {!s.mayReadParticipantData ? (
        <section className="card text-sm text-slate-600" aria-labelledby="participant-data-heading" data-testid="participant-data-restricted">
          <h2 id="participant-data-heading" className="mb-1 font-semibold text-slate-900">
            Participant data
          </h2>
          The dashboard, participants and exports are open to the study’s owner ({s.owner.email}), its collaborators and admins. Ask the owner
          to add you as a collaborator.
        </section>
      ) : s._count.participants > 0 ? (
        <StudyDashboard id={s.id} live={s.status === 'OPEN'} />
      ) : launched ? (
        <section className="card text-sm text-slate-600" aria-labelledby="dashboard-heading">
          <h2 id="dashboard-heading" className="mb-1 font-semibold text-slate-900">
            Dashboard
          </h2>
          No participants yet. The dashboard appears with the first one{s.status === 'OPEN' ? '; this page updates by itself' : ''}.
        </section>
      ) : null}

      {launched && s.mayReadParticipantData ? (
        <>
          <StudyParticipants id={s.id} live={s.status === 'OPEN'} />
          <StudyExports id={s.id} mayExportRawIds={s.mayExportRawIds} />
        </>
      ) : null}
    </div>
  )
}

function GenerationProgress({ study }: { study: Study }) {
  const job = study.generationJob
  const progress = job ? Math.round(Math.min(1, Math.max(0, job.progress)) * 100) : 0
  return (
    <section className="card space-y-2" aria-labelledby="generation-heading" data-testid="generation">
      <div className="flex flex-wrap justify-between gap-2 text-sm">
        <h2 id="generation-heading" className="font-medium">
          Generating the senior traces
        </h2>
        <span className="tabular-nums text-slate-600" data-testid="generation-progress">
          {progress}%{job?.progressMessage ? ` · ${job.progressMessage}` : ''}
        </span>
      </div>
      <ProgressBar value={progress} max={100} label="Senior trace generation" />
      <p className="text-xs text-slate-600">
        {study.itemsWithTraces} of {study._count.items} traces stored ·{' '}
        {job ? `job ${job.status.toLowerCase()} (attempt ${job.attempts})` : 'waiting for the worker'} · the study opens when every trace
        exists; this page updates by itself.
      </p>
      {job?.error ? (
        <pre className="overflow-x-auto rounded bg-red-50 p-3 text-xs whitespace-pre-wrap text-red-800" data-testid="generation-job-error">
          {job.error}
        </pre>
      ) : null}
    </section>
  )
}

function ParticipantLinkCard({ study }: { study: Study }) {
  // the origin is known in the browser only; the server render shows the path until then
  const origin = useSyncExternalStore(noSubscribe, () => window.location.origin, () => '')
  const url = participantLink(origin, study.link, study.urlParams)
  return (
    <section className="card space-y-3" aria-labelledby="link-heading">
      <div>
        <h2 id="link-heading" className="font-semibold">
          Participant link
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          Paste it into the recruiting platform (e.g. Prolific’s study URL): it fills in the {'{{%…%}}'} placeholders for each participant.
          {study.status === 'PAUSED' ? ' While the study is paused it takes no new participants.' : ''}
        </p>
      </div>
      <CopyField id="participant-link" label="Participant link" value={url} what="link" testId="participant-link" primary />
    </section>
  )
}

function checkpointLabel(c: Study['conditions'][number]['checkpoint']): string {
  return c.run ? runCheckpointLabel(c.run.name, c.run.algorithm, c.step) : `${c.baseModel?.name ?? 'unknown model'} (base)`
}

function DesignSummary({ study: s }: { study: Study }) {
  const rule = s.handoffRule as unknown as HandoffRule
  const checks = Array.isArray(s.attentionChecks) ? (s.attentionChecks as unknown as AttentionCheck[]) : []
  const practice = s.practice as unknown as { problem: string; reasoning: string; answer: string }
  return (
    <>
      <section className="card space-y-4" aria-labelledby="design-heading" data-testid="design-summary">
        <h2 id="design-heading" className="font-semibold">
          Design
        </h2>
        <div>
          <h3 className="text-sm font-semibold">Conditions</h3>
          <ul className="mt-2 space-y-1 text-sm" data-testid="design-conditions">
            {s.conditions.map((c) => (
              <li key={c.id} className="flex flex-wrap gap-x-2">
                <span className="font-medium">{c.name}</span>
                {c.live ? (
                  <span className="rounded bg-emerald-100 px-1.5 text-xs font-medium text-emerald-900" title="The AI streams; the participant takes over and may hand back">
                    live
                  </span>
                ) : null}
                <span className="text-slate-600">—</span>
                {c.checkpoint.run ? (
                  <Link href={`/console/runs/${c.checkpoint.run.id}`} className="text-indigo-700 hover:underline">
                    {checkpointLabel(c.checkpoint)}
                  </Link>
                ) : c.checkpoint.baseModel ? (
                  <Link href={`/console/models/${c.checkpoint.baseModel.id}`} className="text-indigo-700 hover:underline">
                    {checkpointLabel(c.checkpoint)}
                  </Link>
                ) : (
                  <span>{checkpointLabel(c.checkpoint)}</span>
                )}
                {c._count.items ? <span className="text-slate-600">({c._count.items} items)</span> : null}
              </li>
            ))}
          </ul>
        </div>
        <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
          <Item term="Dataset">
            <Link href={`/console/datasets/${s.dataset.id}`} className="text-indigo-700 hover:underline">
              {s.dataset.name}
            </Link>
          </Item>
          <Item term="Problems">
            {s.problemCount} (seeded sample, seed {s.seed})
          </Item>
          <Item term="Handoff">{handoffRuleText(rule)}</Item>
          <Item term="Senior traces">
            temperature {s.temperature}, at most {s.maxNewTokens} new tokens
          </Item>
          {s.conditions.some((c) => c.live) ? (
            <Item term="Live conditions">
              {s.liveTokensPerSecond > 0 ? `streamed at ${s.liveTokensPerSecond} tokens/s` : 'streamed as generated'}; the scheduled handover is the handoff
              rule on the senior&apos;s first span
            </Item>
          ) : null}
          <Item term="Tasks per participant">{s.tasksPerParticipant}</Item>
          <Item term="Time limit per task">{s.timeLimitSeconds} s</Item>
          <Item term="Implausibly fast">median under {s.minSecondsPerTask} s per task</Item>
          <Item term="Completion code">
            <span className="font-mono" data-testid="completion-code">
              {s.completionCode}
            </span>
          </Item>
          <Item term="Redirect">{s.redirectUrl ? <span className="break-all">{s.redirectUrl}</span> : 'none (the code is shown)'}</Item>
          <Item term="URL parameters">
            {s.urlParams.length ? (
              <span className="font-mono">
                {s.urlParams.join(', ')} <span className="font-sans text-slate-600">(the first names the participant)</span>
              </span>
            ) : (
              'none'
            )}
          </Item>
        </dl>
        <div>
          <h3 className="text-sm font-semibold">Attention checks</h3>
          {checks.length === 0 ? (
            <p className="mt-1 text-sm text-slate-600">None.</p>
          ) : (
            <ul className="mt-2 space-y-1 text-sm">
              {checks.map((c) => (
                <li key={c.id}>
                  After task {c.afterTask}: “{c.prompt}” — options {c.options.map((o) => `“${o}”`).join(', ')}; correct “{c.correct}”
                </li>
              ))}
            </ul>
          )}
        </div>
        <details className="text-sm">
          <summary className="cursor-pointer font-semibold">Texts and practice task</summary>
          <dl className="mt-3 space-y-3">
            <Item term="Consent text">
              <span className="whitespace-pre-wrap">{s.consentText}</span>
            </Item>
            <Item term="Instructions">
              <span className="whitespace-pre-wrap">{s.instructions}</span>
            </Item>
            <Item term="Practice problem">
              <span className="whitespace-pre-wrap">{practice.problem}</span>
            </Item>
            <Item term="Practice reasoning">
              <span className="whitespace-pre-wrap">{practice.reasoning || '—'}</span>
            </Item>
            <Item term="Practice answer">{practice.answer}</Item>
          </dl>
        </details>
      </section>

      <section className="card space-y-2" aria-labelledby="assignment-heading">
        <h2 id="assignment-heading" className="font-semibold">
          Assignment
        </h2>
        <p className="text-sm text-slate-700" data-testid="assignment-rule">
          {s.assignmentRuleText}
        </p>
      </section>
    </>
  )
}

function Item({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="font-medium text-slate-700">{term}</dt>
      <dd className="mt-0.5 text-slate-900">{children}</dd>
    </div>
  )
}
