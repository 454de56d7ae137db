'use client'
import { useEffect, useState } from 'react'

import { INVALID_LINK, TAB_SESSION_KEY } from '../_flow/backend'
import { SessionFlow } from '../_flow/session-flow'
import { tabStorage, useLiveBackend } from '../_flow/trpc-backend'
import { EndMessage, Loading } from '../_flow/ui'

export function TakeSession() {
  const backend = useLiveBackend()
  // undefined: not read yet (sessionStorage exists only in the browser); null: this tab holds no session
  const [token, setToken] = useState<string | null | undefined>(undefined)
  useEffect(() => setToken(tabStorage.get(TAB_SESSION_KEY)), [])
  if (token === undefined) return <Loading />
  if (token === null) {
    return (
      <EndMessage title="This link does not work">
        <p role="alert">{INVALID_LINK}</p>
      </EndMessage>
    )
  }
  return <SessionFlow backend={backend} token={token} />
}
