'use client'
// The study link's first page: the consent text, "I agree — start" / "I do not agree". Agreeing starts a session
// (the caller keeps the token and moves on); declining is recorded and ends here. A study that cannot be
// joined says why.
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'

import { FormError } from '@/components/form-error'

import { asFlowError, DECLINED_MESSAGE, FlowError, newSessionToken, type ParticipantBackend } from './backend'
import { failureMessage, withRetry } from './retry'
import { EndMessage, FOCUS_RING, Loading, Prose, StageHeading } from './ui'

/** The URL parameters the study keeps (e.g. PROLIFIC_PID), from the link's query string. */
export function acceptedParams(query: Record<string, string>, accepted: string[]): Record<string, string> {
  return Object.fromEntries(accepted.filter((name) => query[name] !== undefined).map((name) => [name, query[name]!]))
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
  if (!study.open) {
    return (
      <EndMessage title={study.name}>
        <p>{study.notOpenMessage ?? 'This study takes no participants right now.'}</p>
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
      setError(failureMessage(asFlowError(e), ''))
      setPending(null)
    }
  }

  return (
    <div className="space-y-6">
      <div className="space-y-1">
        <p className="text-sm font-medium text-indigo-700">Research study</p>
        <StageHeading>{study.name}</StageHeading>
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
    </div>
  )
}
