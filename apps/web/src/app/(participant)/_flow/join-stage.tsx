'use client'
// The study link's first page: the study's public title, the consent text, "I agree — start" / "I do not agree".
// Agreeing starts a session (the caller keeps the token and moves on); declining is recorded and ends here. On a
// study that requires the participant's id, a link without it explains and stops (nothing is sent), and agreeing
// with an id that already has a session continues it (on any device). A study that cannot be joined, or a join the
// server refuses for good (e.g. the id already started elsewhere), says why with no buttons left to press.
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'

import { FormError } from '@/components/form-error'
import { missingParticipantIdMessage } from '@/server/api/routers/participant.schema'

import { asFlowError, DECLINED_MESSAGE, FlowError, newSessionToken, type ParticipantBackend, type StudyInfo } from './backend'
import { failureMessage, withRetry } from './retry'
import { EndMessage, FOCUS_RING, Loading, Prose, StageHeading } from './ui'

/** The URL parameters the study keeps (e.g. PROLIFIC_PID), from the link's query string. */
export function acceptedParams(query: Record<string, string>, accepted: string[]): Record<string, string> {
  return Object.fromEntries(accepted.filter((name) => query[name] !== undefined).map((name) => [name, query[name]!]))
}

/** The participant's id in the link (the study's first URL parameter), or null when it is missing or blank. */
export function participantIdOf(query: Record<string, string>, study: Pick<StudyInfo, 'urlParams'>): string | null {
  const param = study.urlParams[0]
  return (param && query[param]?.trim()) || null
}

/**
 * Whether the server's refusal of a join ends the page (no buttons): the link or the study cannot start a session
 * here. A refused "I do not agree" from a participant who agreed earlier (a study that requires the id) is not final:
 * they may still continue. Passing trouble (network, too many attempts) leaves the buttons to try again.
 */
export function isFinalRefusal(error: FlowError, consent: boolean, study: Pick<StudyInfo, 'requireParticipantId'>): boolean {
  if (error.retryable || error.code === 'TOO_MANY_REQUESTS') return false
  if (error.code === 'CONFLICT') return consent || !study.requireParticipantId
  return ['PRECONDITION_FAILED', 'BAD_REQUEST', 'NOT_FOUND'].includes(error.code)
}

export function JoinStage({
  backend,
  studyId,
  query,
  onJoined,
}: {
  backend: ParticipantBackend
  studyId: string
  /** the study link's query parameters */
  query: Record<string, string>
  onJoined: (token: string) => void
}) {
  const info = useQuery({
    queryKey: ['participant-flow', backend.kind, 'studyInfo', studyId],
    queryFn: () => backend.studyInfo(studyId),
    retry: (count, error) => error instanceof FlowError && error.retryable && count < 4,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  })
  const [pending, setPending] = useState<'agree' | 'decline' | null>(null)
  const [declined, setDeclined] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [refused, setRefused] = useState<string | null>(null)

  if (info.isPending) return <Loading />
  if (info.isError) {
    const err = asFlowError(info.error)
    return (
      <EndMessage title="This study cannot be opened">
        <p role="alert">{err.retryable ? 'We could not reach the server. Check your connection and reload this page.' : err.message}</p>
      </EndMessage>
    )
  }
  const study = info.data
  if (declined) {
    return (
      <EndMessage title="You chose not to take part">
        <p>{DECLINED_MESSAGE}</p>
      </EndMessage>
    )
  }
  const participantId = participantIdOf(query, study)
  if (study.open && study.requireParticipantId && !participantId) {
    return (
      <EndMessage title="This link is incomplete">
        <p role="alert" data-testid="missing-participant-id">
          {missingParticipantIdMessage(study.urlParams[0]!)}
        </p>
        <p>Nothing was recorded. If this keeps happening, contact the researcher through that site.</p>
      </EndMessage>
    )
  }
  if (refused) {
    return (
      <EndMessage title={study.title}>
        <FormError message={refused} />
      </EndMessage>
    )
  }

  async function join(consent: boolean) {
    setError(null)
    setPending(consent ? 'agree' : 'decline')
    try {
      // the token is made here, once, so retrying after a lost reply finds the same session instead of a second one
      const token = newSessionToken()
      const result = await withRetry(() => backend.join({ studyId, consent, params: acceptedParams(query, study.urlParams), token }))
      if (result.declined) setDeclined(true)
      else onJoined(result.token)
    } catch (e) {
      const err = asFlowError(e)
      if (isFinalRefusal(err, consent, study)) setRefused(err.message)
      else setError(failureMessage(err, ''))
      setPending(null)
    }
  }

  // a returning participant of a study that requires the id may be inside while it takes nobody new (paused, full,
  // closed): they can still continue, or see their completion code
  if (!study.open) {
    return (
      <EndMessage title={study.title}>
        <p>{study.notOpenMessage ?? 'This study takes no participants right now.'}</p>
        {study.requireParticipantId && participantId ? (
          <div className="space-y-3">
            <p>If you have already started this study, you can continue where you left off.</p>
            <FormError message={error} />
            <button type="button" className={`btn-secondary ${FOCUS_RING}`} disabled={pending !== null} onClick={() => void join(true)}>
              {pending === 'agree' ? 'Opening…' : 'Continue my session'}
            </button>
          </div>
        ) : null}
      </EndMessage>
    )
  }

  return (
    <div className="space-y-6">
      <div className="space-y-1">
        <p className="text-sm font-medium text-indigo-700">Research study</p>
        <StageHeading>{study.title}</StageHeading>
      </div>
      <section aria-labelledby="consent-heading" className="space-y-3">
        <h2 id="consent-heading" className="text-lg font-semibold">
          Information and consent
        </h2>
        <div className="card">
          <Prose text={study.consentText} testId="consent-text" />
        </div>
      </section>
      <FormError message={error} />
      <div className="flex flex-col gap-3 sm:flex-row">
        <button type="button" className={`btn-primary ${FOCUS_RING}`} disabled={pending !== null} onClick={() => void join(true)}>
          {pending === 'agree' ? 'Starting…' : 'I agree — start'}
        </button>
        <button type="button" className={`btn-secondary ${FOCUS_RING}`} disabled={pending !== null} onClick={() => void join(false)}>
          I do not agree
        </button>
      </div>
      {study.requireParticipantId ? (
        <p className="text-sm text-slate-600" data-testid="resume-note">
          Started already, on this or another device? “I agree — start” continues where you left off.
        </p>
      ) : null}
    </div>
  )
}
