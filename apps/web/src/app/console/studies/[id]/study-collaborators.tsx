'use client'
// Who reads this study's participant data beside its owner (and admins). The owner or an admin adds a researcher by
// the e-mail address of their account and removes them; collaborators see the list. Collaborators export hashed ids
// only; raw ids stay with the owner and admins (server/auth/access.ts).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'

import { formatDate } from '@/components/format'
import { useTRPC } from '@/trpc/react'

export function StudyCollaborators({ id, mayManage }: { id: string; mayManage: boolean }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const [email, setEmail] = useState('')
  const list = useQuery(trpc.studies.collaborators.list.queryOptions({ id }))
  const update = (rows: NonNullable<typeof list.data>) => queryClient.setQueryData(trpc.studies.collaborators.list.queryKey({ id }), rows)
  const add = useMutation(
    trpc.studies.collaborators.add.mutationOptions({
      onSuccess: (rows) => {
        update(rows)
        setEmail('')
      },
    }),
  )
  const remove = useMutation(trpc.studies.collaborators.remove.mutationOptions({ onSuccess: update }))
  const addError = add.error ? (add.error.data?.fieldErrors?.email?.join(' ') ?? add.error.message) : null

  return (
    <section className="card space-y-3" aria-labelledby="collaborators-heading" data-testid="study-collaborators">
      <div>
        <h2 id="collaborators-heading" className="font-semibold">
          Collaborators
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          They read the participant data (dashboard, sessions, exports with hashed ids) beside the owner and admins. Only the owner or an admin
          changes the list or exports raw participant ids.
        </p>
      </div>
      {list.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {list.error.message}
        </p>
      ) : list.data && list.data.length === 0 ? (
        <p className="text-sm text-slate-600">None yet.</p>
      ) : (
        <ul className="divide-y divide-slate-100 text-sm" data-testid="collaborator-list">
          {(list.data ?? []).map((c) => (
            <li key={c.userId} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span>
                <span className="font-medium">{c.email}</span>
                {c.disabled ? <span className="ml-2 text-xs text-red-700">(account disabled)</span> : null}
                <span className="ml-2 text-xs text-slate-600">
                  added {formatDate(c.addedAt)}
                  {c.addedByEmail ? ` by ${c.addedByEmail}` : ''}
                </span>
              </span>
              {mayManage ? (
                <button
                  type="button"
                  className="btn-secondary py-1"
                  disabled={remove.isPending}
                  aria-label={`Remove ${c.email}`}
                  onClick={() => remove.mutate({ id, userId: c.userId })}
                >
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {remove.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {remove.error.message}
        </p>
      ) : null}
      {mayManage ? (
        <form
          className="flex flex-col gap-2 sm:flex-row sm:items-start"
          onSubmit={(e) => {
            e.preventDefault()
            add.mutate({ id, email })
          }}
        >
          <div className="flex-1">
            <label htmlFor="collaborator-email" className="sr-only">
              E-mail address of a researcher’s account
            </label>
            <input
              id="collaborator-email"
              type="email"
              className="input"
              placeholder="researcher@example.org"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={addError ? true : undefined}
              aria-describedby={addError ? 'collaborator-email-error' : undefined}
              required
            />
            {addError ? (
              <p id="collaborator-email-error" role="alert" className="mt-1 text-sm text-red-700">
                {addError}
              </p>
            ) : null}
          </div>
          <button type="submit" className="btn-primary shrink-0" disabled={add.isPending}>
            {add.isPending ? 'Adding…' : 'Add collaborator'}
          </button>
        </form>
      ) : null}
    </section>
  )
}
