'use client'
// Accounts (admins): invite a researcher or an admin (the invitation link is shown once, here, to copy),
// issue a new link to someone who has not accepted yet, disable or enable accounts, sign an account out everywhere.
import { zodResolver } from '@hookform/resolvers/zod'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useForm } from 'react-hook-form'

import { DataTable, type ColumnDef } from '@/components/data-table'
import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { formatDate } from '@/components/format'
import { Pagination } from '@/components/pagination'
import { StatusBadge } from '@/components/status-badge'
import { INVITE_DAYS, inviteUserSchema, ROLES, type InviteUserInput } from '@/server/api/routers/users.schema'
import { useTRPC, type RouterOutputs } from '@/trpc/react'

type UserRow = RouterOutputs['users']['list']['items'][number]
type Invitation = RouterOutputs['users']['invite']

const PAGE_SIZE = 20

export function UsersView() {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const [page, setPage] = useState(1)
  const [invitation, setInvitation] = useState<Invitation | null>(null)
  const [actionError, setActionError] = useState<string | null>(null)
  const list = useQuery(trpc.users.list.queryOptions({ page, pageSize: PAGE_SIZE }, { placeholderData: keepPreviousData }))
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() })

  const invite = useMutation(
    trpc.users.invite.mutationOptions({
      onSuccess: (result) => {
        setInvitation(result)
        void refresh()
      },
    }),
  )
  const setDisabled = useMutation(
    trpc.users.setDisabled.mutationOptions({
      onMutate: () => setActionError(null),
      onError: (error) => setActionError(error.message),
      onSettled: () => refresh(),
    }),
  )
  const [revoked, setRevoked] = useState<string | null>(null)
  const revokeSessions = useMutation(
    trpc.users.revokeSessions.mutationOptions({
      onMutate: () => {
        setActionError(null)
        setRevoked(null)
      },
      onError: (error) => setActionError(error.message),
    }),
  )

  const columns: ColumnDef<UserRow>[] = [
    { header: 'E-mail', accessorKey: 'email', cell: ({ row }) => <span className="font-medium">{row.original.email}</span> },
    { header: 'Name', accessorKey: 'name' },
    { header: 'Role', accessorKey: 'role', cell: ({ row }) => row.original.role.toLowerCase() },
    {
      header: 'Status',
      accessorKey: 'status',
      cell: ({ row }) => {
        const u = row.original
        const label = u.status === 'invited' && u.inviteExpired ? 'INVITE EXPIRED' : u.status.toUpperCase()
        return (
          <span className="flex flex-col gap-0.5">
            <StatusBadge status={label} testId="user-status" />
            {u.status === 'invited' && !u.inviteExpired ? <span className="text-xs text-slate-600">until {formatDate(u.inviteExpiresAt)}</span> : null}
          </span>
        )
      },
    },
    { header: 'Created', accessorKey: 'createdAt', cell: ({ row }) => formatDate(row.original.createdAt) },
    {
      id: 'actions',
      header: 'Actions',
      cell: ({ row }) => {
        const u = row.original
        if (u.isSelf) return <span className="text-xs text-slate-600">you</span>
        const busy = setDisabled.isPending || invite.isPending || revokeSessions.isPending
        return (
          <span className="flex flex-wrap gap-2">
            {u.status === 'invited' ? (
              <button
                type="button"
                className="btn-secondary py-1"
                disabled={busy}
                aria-label={`New link for ${u.email}`}
                onClick={() => invite.mutate({ email: u.email, name: u.name, role: u.role })}
              >
                New link
              </button>
            ) : null}
            {u.status === 'active' ? (
              <button
                type="button"
                className="btn-secondary py-1"
                disabled={busy}
                aria-label={`End sessions of ${u.email}`}
                onClick={() => revokeSessions.mutate({ userId: u.id }, { onSuccess: () => setRevoked(u.email) })}
              >
                End sessions
              </button>
            ) : null}
            {u.status === 'disabled' ? (
              <button type="button" className="btn-secondary py-1" disabled={busy} aria-label={`Enable ${u.email}`} onClick={() => setDisabled.mutate({ userId: u.id, disabled: false })}>
                Enable
              </button>
            ) : (
              <button
                type="button"
                className="btn-danger py-1"
                disabled={busy}
                aria-label={`Disable ${u.email}`}
                onClick={() => {
                  if (window.confirm(`Disable ${u.email}? They are signed out at once and cannot sign in until enabled again.`)) {
                    setDisabled.mutate({ userId: u.id, disabled: true })
                  }
                }}
              >
                Disable
              </button>
            )}
          </span>
        )
      },
    },
  ]

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Users</h1>
        <p className="mt-1 text-sm text-slate-600">
          Invite people by e-mail address: they get a link, valid for {INVITE_DAYS} days, where they choose their password.
        </p>
      </div>

      <InviteForm
        pending={invite.isPending}
        onInvite={(values, callbacks) => {
          setInvitation(null)
          invite.mutate(values, callbacks)
        }}
      />
      {invitation ? <InvitationLink invitation={invitation} onDone={() => setInvitation(null)} /> : null}

      <section className="card space-y-4 p-0 pb-4" aria-labelledby="users-heading">
        <h2 id="users-heading" className="px-5 pt-5 text-lg font-semibold">
          Accounts
        </h2>
        {actionError ? (
          <p role="alert" className="px-5 text-sm text-red-700">
            {actionError}
          </p>
        ) : null}
        {revoked ? (
          <p role="status" className="px-5 text-sm text-slate-700">
            Every session of {revoked} has ended; they can sign in again.
          </p>
        ) : null}
        {list.isError ? (
          <p role="alert" className="px-5 text-sm text-red-700">
            {list.error.message}
          </p>
        ) : list.data ? (
          <>
            <DataTable columns={columns} data={list.data.items} testId="users-table" caption="Accounts" getRowId={(u) => u.id} />
            <div className="px-5">
              <Pagination info={list.data} noun="user" onPage={setPage} />
            </div>
          </>
        ) : (
          <p className="px-5 text-sm text-slate-600">Loading users…</p>
        )}
      </section>
    </div>
  )
}

type InviteError = Parameters<typeof showServerErrors>[0]

function InviteForm({
  pending,
  onInvite,
}: {
  pending: boolean
  onInvite: (values: InviteUserInput, callbacks: { onSuccess: () => void; onError: (error: InviteError) => void }) => void
}) {
  const [formError, setFormError] = useState<string | null>(null)
  const form = useForm<InviteUserInput>({ resolver: zodResolver(inviteUserSchema), defaultValues: { email: '', name: '', role: 'RESEARCHER' } })
  const { register, handleSubmit, setError, reset, formState } = form
  const errors = formState.errors

  return (
    <form
      className="card space-y-4"
      noValidate
      aria-labelledby="invite-heading"
      onSubmit={handleSubmit(
        (values) => {
          setFormError(null)
          onInvite(values, {
            // a fresh form for the next person; a refused invite keeps what was typed, with the errors on it
            onSuccess: () => reset(),
            onError: (error) => setFormError(showServerErrors(error, setError)),
          })
        },
        () => setFormError('Fix the fields marked below.'),
      )}
    >
      <h2 id="invite-heading" className="text-lg font-semibold">
        Invite someone
      </h2>
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-3">
        <Field id="invite-email" label="E-mail" error={errors.email?.message}>
          <input type="email" className="input" autoComplete="off" {...fieldAria('invite-email', errors.email?.message)} {...register('email')} />
        </Field>
        <Field id="invite-name" label="Name" error={errors.name?.message}>
          <input className="input" autoComplete="off" {...fieldAria('invite-name', errors.name?.message)} {...register('name')} />
        </Field>
        <Field id="invite-role" label="Role" error={errors.role?.message}>
          <select className="input" {...fieldAria('invite-role', errors.role?.message)} {...register('role')}>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role === 'ADMIN' ? 'Admin (manages accounts)' : 'Researcher'}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="flex justify-end">
        <button type="submit" className="btn-primary" disabled={pending}>
          {pending ? 'Inviting…' : 'Invite'}
        </button>
      </div>
    </form>
  )
}

/** The link, shown this once: only its hash is stored, so it cannot be shown again (a new link can be issued). */
function InvitationLink({ invitation, onDone }: { invitation: Invitation; onDone: () => void }) {
  const url = `${window.location.origin}${invitation.invitePath}`
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null)
  return (
    <section className="card space-y-3 border-indigo-200 bg-indigo-50" aria-labelledby="invitation-heading" data-testid="invitation">
      <h2 id="invitation-heading" className="text-base font-semibold">
        {invitation.reinvite ? 'New invitation link' : 'Invitation link'} for {invitation.email}
      </h2>
      <p className="text-sm text-slate-700">
        Send this link to {invitation.email}. It is shown only now and works once, until {new Date(invitation.expiresAt).toUTCString()}
        {invitation.reinvite ? '; earlier links no longer work' : ''}.
      </p>
      <div className="flex flex-col gap-2 sm:flex-row">
        <label htmlFor="invitation-url" className="sr-only">
          Invitation link
        </label>
        <input id="invitation-url" className="input font-mono text-xs" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          className="btn-primary shrink-0"
          onClick={() => {
            navigator.clipboard.writeText(url).then(
              () => setCopied('yes'),
              () => setCopied('failed'),
            )
          }}
        >
          {copied === 'yes' ? 'Copied' : 'Copy link'}
        </button>
        <button type="button" className="btn-secondary shrink-0" onClick={onDone}>
          Done
        </button>
      </div>
      <p className="text-xs text-slate-700" aria-live="polite">
        {copied === 'yes' ? 'The link is on your clipboard.' : copied === 'failed' ? 'Could not copy: select the link and copy it by hand.' : ''}
      </p>
    </section>
  )
}
