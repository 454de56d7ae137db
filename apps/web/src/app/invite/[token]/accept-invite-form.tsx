'use client'
// The invitee's form: name (prefilled by the admin) and a password, checked with the procedure's own schema;
// then on to the sign-in page.
import { zodResolver } from '@hookform/resolvers/zod'
import { useMutation } from '@tanstack/react-query'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { useForm } from 'react-hook-form'

import { FormError } from '@/components/form-error'
import { Field, fieldAria, showServerErrors } from '@/components/form-field'
import { acceptInviteSchema, MIN_PASSWORD_LENGTH, type AcceptInviteInput } from '@/server/api/routers/users.schema'
import { useTRPC } from '@/trpc/react'

export function AcceptInviteForm({ token, email, name }: { token: string; email: string; name: string }) {
  const trpc = useTRPC()
  const router = useRouter()
  const [formError, setFormError] = useState<string | null>(null)
  const form = useForm<AcceptInviteInput>({
    resolver: zodResolver(acceptInviteSchema),
    defaultValues: { token, name, password: '', confirm: '' },
  })
  const { register, handleSubmit, setError, formState } = form
  const errors = formState.errors
  const accept = useMutation(
    trpc.users.acceptInvite.mutationOptions({
      onSuccess: () => router.replace('/login'),
      onError: (error) => setFormError(showServerErrors(error, setError)),
    }),
  )

  return (
    <form
      className="space-y-4"
      noValidate
      aria-label="Choose your password"
      onSubmit={handleSubmit(
        (values) => {
          setFormError(null)
          accept.mutate(values)
        },
        () => setFormError('Fix the fields marked below.'),
      )}
    >
      <FormError message={formError ?? (errors.token?.message || null)} />
      {accept.isSuccess ? (
        <p role="status" className="text-sm text-emerald-800">
          Your password is set. Taking you to sign in…
        </p>
      ) : null}
      <Field id="invite-email" label="E-mail">
        <input id="invite-email" type="email" className="input" value={email} readOnly autoComplete="username" />
      </Field>
      <Field id="invite-name" label="Your name" error={errors.name?.message}>
        <input className="input" autoComplete="name" {...fieldAria('invite-name', errors.name?.message)} {...register('name')} />
      </Field>
      <Field id="invite-password" label="Password" error={errors.password?.message} hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}>
        <input
          type="password"
          className="input"
          autoComplete="new-password"
          {...fieldAria('invite-password', errors.password?.message, true)}
          {...register('password')}
        />
      </Field>
      <Field id="invite-confirm" label="Repeat the password" error={errors.confirm?.message}>
        <input type="password" className="input" autoComplete="new-password" {...fieldAria('invite-confirm', errors.confirm?.message)} {...register('confirm')} />
      </Field>
      <button type="submit" className="btn-primary w-full" disabled={accept.isPending || accept.isSuccess}>
        {accept.isPending ? 'Saving…' : 'Set password'}
      </button>
    </form>
  )
}
