'use client'
import { SessionFlow } from '../../_flow/session-flow'
import { useLiveBackend } from '../../_flow/trpc-backend'

export function TakeSession({ token }: { token: string }) {
  return <SessionFlow backend={useLiveBackend()} token={token} />
}
