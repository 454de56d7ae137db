'use client'
import { useRouter } from 'next/navigation'
import { useEffect } from 'react'

import { TAB_SESSION_KEY } from '../../_flow/backend'
import { tabStorage } from '../../_flow/trpc-backend'
import { Loading } from '../../_flow/ui'

export function AdoptToken({ token }: { token: string }) {
  const router = useRouter()
  useEffect(() => {
    tabStorage.set(TAB_SESSION_KEY, token)
    router.replace('/take')
  }, [router, token])
  return <Loading />
}
