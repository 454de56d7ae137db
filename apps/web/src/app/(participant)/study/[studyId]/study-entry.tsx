'use client'
// The study link in the browser: a session already started here resumes (its token is in localStorage);
// otherwise the consent page (which, on a study that requires the participant's id, also continues a session
// started on another device). Either way the token goes to this tab's sessionStorage and the page to /take: the
// token is never put in a URL.
import { useRouter } from 'next/navigation'
import { useEffect, useState } from 'react'

import { asFlowError, studyTokenKey, TAB_SESSION_KEY, TAB_STUDY_LINK_KEY } from '../../_flow/backend'
import { JoinStage } from '../../_flow/join-stage'
import { tabStorage, useLiveBackend } from '../../_flow/trpc-backend'
import { Loading } from '../../_flow/ui'

export function StudyEntry({ studyId, query }: { studyId: string; query: Record<string, string> }) {
  const backend = useLiveBackend()
  const router = useRouter()
  const [checked, setChecked] = useState(false)

  // the session page offers this link again when its token stops working (the participant went on elsewhere)
  const link = `/study/${encodeURIComponent(studyId)}${Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : ''}`
  useEffect(() => {
    tabStorage.set(TAB_STUDY_LINK_KEY, link)
  }, [link])

  useEffect(() => {
    const key = studyTokenKey(studyId)
    const token = backend.storage.get(key)
    if (!token) {
      setChecked(true)
      return
    }
    let cancelled = false
    const resume = () => {
      tabStorage.set(TAB_SESSION_KEY, token)
      router.replace('/take')
    }
    // a token the server no longer knows (e.g. the study was reset) would send the link to a dead end forever
    backend.session(token).then(
      () => {
        if (!cancelled) resume()
      },
      (e: unknown) => {
        if (cancelled) return
        const error = asFlowError(e)
        if (error.code !== 'UNAUTHORIZED' && error.code !== 'BAD_REQUEST') return resume()
        backend.storage.remove(key)
        setChecked(true)
      },
    )
    return () => {
      cancelled = true
    }
  }, [backend, router, studyId])

  if (!checked) return <Loading />
  return (
    <JoinStage
      backend={backend}
      studyId={studyId}
      query={query}
      onJoined={(token) => {
        backend.storage.set(studyTokenKey(studyId), token)
        tabStorage.set(TAB_SESSION_KEY, token)
        router.replace('/take')
      }}
    />
  )
}
