'use client'
// One study, in tabs (?tab=…, so a reload or a shared link keeps the tab): Dashboard (the default once the study has
// opened), Participants, Exports, Design (the design, its assignment rule with its balance number, the
// preregistration) and Settings (the owner's controls: edit, launch, pause, resume, close; the participant link; the
// collaborators). ?tab=all stacks every section in one page as before the tabs (for printing). Above the tabs: the
// study's name and status, and while it is generating, the senior-trace generation (polled every 2 s until it opens).
// The design and its preregistration are shown to every researcher; participant data and collaborators only to the
// owner, collaborators and admins: others see the Design and Settings tabs.
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { usePathname, useSearchParams } from 'next/navigation'
import { Suspense, useSyncExternalStore } from 'react'

import { Breadcrumbs } from '@/components/breadcrumbs'
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
import { panelId, StudyTabList, tabId } from './study-tab-list'
import { ALL_SECTIONS, balanceNote, selectedStudyTab, studyTabHref, visibleStudyTabs, type StudyTabId, type StudyTabSelection } from './study-tabs'

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

const isLaunched = (s: Study) => s.status !== 'DRAFT' && s.status !== 'GENERATING'

const LOADING = <p className="text-sm text-slate-600">Loading study…</p>

export function StudyView({ id }: { id: string }) {
  // the selected tab is read from the URL (useSearchParams needs a Suspense boundary above it)
  return (
    <Suspense fallback={LOADING}>
      <StudyPage id={id} />
    </Suspense>
  )
}

function StudyPage({ id }: { id: string }) {
  const trpc = useTRPC()
  const pathname = usePathname()
  const tabParam = useSearchParams().get('tab')
  const query = useQuery(
    trpc.studies.get.queryOptions({ id }, { refetchInterval: (q) => refreshInterval(q.state.data?.status), staleTime: 0, retry: 1 }),
  )

  if (query.isPending) return LOADING
  if (query.isError) {
    return <LoadError title="Study" noun="study" error={query.error} backHref="/console/studies" backLabel="Back to studies" />
  }
  const s = query.data
  const tabs = visibleStudyTabs(s)
  const selected = selectedStudyTab(tabParam, s)
  // a new address without a server round trip: Next.js follows replaceState in useSearchParams
  const select = (tab: StudyTabSelection) => window.history.replaceState(null, '', studyTabHref(pathname, tab))

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <Breadcrumbs trail={[{ href: '/console/studies', label: 'Studies' }]} current={s.name} />
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

      {s.status === 'DRAFT' && s.mayControl && selected !== 'settings' && selected !== ALL_SECTIONS ? (
        <p className="text-sm text-slate-700" data-testid="draft-next-step">
          A draft: check the design, then edit or launch it under{' '}
          <a href={studyTabHref(pathname, 'settings')} className="text-indigo-700 underline" onClick={(e) => { e.preventDefault(); select('settings') }}>
            Settings
          </a>
          .
        </p>
      ) : null}
      {s.status === 'GENERATING' ? <GenerationProgress study={s} /> : null}
      {s.status === 'DRAFT' && s.generationError ? <GenerationError error={s.generationError} /> : null}
      {/* why this caller has two tabs only (all sections: the dashboard's place says it) */}
      {!s.mayReadParticipantData && selected !== ALL_SECTIONS ? <ParticipantDataRestricted ownerEmail={s.owner.email} /> : null}

      <StudyTabList tabs={tabs} selected={selected} hrefOf={(tab) => studyTabHref(pathname, tab)} onSelect={select} />

      {selected === ALL_SECTIONS ? (
        <AllSections study={s} />
      ) : (
        <div role="tabpanel" id={panelId(selected)} aria-labelledby={tabId(selected)} tabIndex={0} className="space-y-6">
          <TabContent tab={selected} study={s} />
        </div>
      )}
    </div>
  )
}

function TabContent({ tab, study: s }: { tab: StudyTabId; study: Study }) {
  switch (tab) {
    case 'dashboard':
      return <DashboardSection study={s} />
    case 'participants':
      return isLaunched(s) ? <StudyParticipants id={s.id} live={s.status === 'OPEN'} /> : <BeforeLaunch what="Participants" id="participants-heading" />
    case 'exports':
      return isLaunched(s) ? <StudyExports id={s.id} mayExportRawIds={s.mayExportRawIds} /> : <BeforeLaunch what="Exports" id="exports-heading" />
    case 'design':
      return <DesignSection study={s} />
    case 'settings':
      return <SettingsSection study={s} />
  }
}

/** Every section in one page, in the order of the page before the tabs: the design above the dashboard. */
function AllSections({ study: s }: { study: Study }) {
  return (
    <div className="space-y-6" data-testid="study-all-sections-view">
      <StudyControls study={s} />
      {s.status === 'OPEN' || s.status === 'PAUSED' ? <ParticipantLinkCard study={s} /> : null}
      <DesignSection study={s} />
      {s.mayReadParticipantData ? <StudyCollaborators id={s.id} mayManage={s.mayControl} /> : null}
      <DashboardSection study={s} />
      {isLaunched(s) && s.mayReadParticipantData ? (
        <>
          <StudyParticipants id={s.id} live={s.status === 'OPEN'} />
          <StudyExports id={s.id} mayExportRawIds={s.mayExportRawIds} />
        </>
      ) : null}
    </div>
  )
}

function DashboardSection({ study: s }: { study: Study }) {
  if (!s.mayReadParticipantData) return <ParticipantDataRestricted ownerEmail={s.owner.email} />
  if (s._count.participants > 0) return <StudyDashboard id={s.id} live={s.status === 'OPEN'} />
  return (
    <section className="card text-sm text-slate-600" aria-labelledby="dashboard-heading">
      <h2 id="dashboard-heading" className="mb-1 font-semibold text-slate-900">
        Dashboard
      </h2>
      {isLaunched(s)
        ? `No participants yet. The dashboard appears with the first one${s.status === 'OPEN' ? '; this page updates by itself' : ''}.`
        : 'The dashboard appears once the study is launched and people take part.'}
    </section>
  )
}

function BeforeLaunch({ what, id }: { what: string; id: string }) {
  return (
    <section className="card text-sm text-slate-600" aria-labelledby={id}>
      <h2 id={id} className="mb-1 font-semibold text-slate-900">
        {what}
      </h2>
      Nobody takes part before the study is launched and open.
    </section>
  )
}

function ParticipantDataRestricted({ ownerEmail }: { ownerEmail: string }) {
  return (
    <section className="card text-sm text-slate-600" aria-labelledby="participant-data-heading" data-testid="participant-data-restricted">
      <h2 id="participant-data-heading" className="mb-1 font-semibold text-slate-900">
        Participant data
      </h2>
      The dashboard, participants and exports are open to the study’s owner ({ownerEmail}), its collaborators and admins. Ask the owner to add
      you as a collaborator.
    </section>
  )
}

function DesignSection({ study: s }: { study: Study }) {
  return (
    <>
      <DesignSummary study={s} />
      <PreregistrationCard studyId={s.id} status={s.preregistration.status} sha256={s.preregistration.sha256} />
    </>
  )
}

function SettingsSection({ study: s }: { study: Study }) {
  return (
    <>
      <StudyControls study={s} />
      {s.status === 'OPEN' || s.status === 'PAUSED' ? <ParticipantLinkCard study={s} /> : null}
      {s.mayReadParticipantData ? <StudyCollaborators id={s.id} mayManage={s.mayControl} /> : null}
    </>
  )
}

function GenerationError({ error }: { error: string }) {
  return (
    <section className="card space-y-2 border-red-200" aria-labelledby="generation-failed-heading">
      <h2 id="generation-failed-heading" className="font-semibold text-red-800">
        Generating the senior traces failed
      </h2>
      <p className="text-sm text-slate-700">The study is a draft again: change what the error names, or launch it again.</p>
      <pre className="overflow-x-auto rounded bg-red-50 p-3 text-xs whitespace-pre-wrap text-red-800" data-testid="generation-error">
        {error}
      </pre>
    </section>
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
        {s.conditions.length > 0 ? (
          <p className="text-sm font-medium text-slate-900" data-testid="assignment-balance">
            {balanceNote(s.conditions.length, s.problemCount, s.tasksPerParticipant)}
          </p>
        ) : null}
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
