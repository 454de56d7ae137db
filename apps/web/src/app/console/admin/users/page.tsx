import type { Metadata } from 'next'

import { requireUser } from '@/server/auth/current-user'

import { AdminOnly } from '../admin-only'
import { UsersView } from './users-view'

export const metadata: Metadata = { title: 'Users' }

export default async function UsersPage() {
  const me = await requireUser()
  // checked here, on the server, not only by hiding the nav link (the procedures refuse non-admins as well)
  if (me.role !== 'ADMIN') return <AdminOnly />
  return <UsersView />
}
