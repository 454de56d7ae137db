import Link from 'next/link'

/** What a signed-in non-admin gets instead of an admin page (rendered on the server; no admin data is read). */
export function AdminOnly() {
  return (
    <div className="card mx-auto max-w-xl space-y-3" data-testid="admin-only">
      <h1 className="text-xl font-semibold">Administrators only</h1>
      <p className="text-sm text-slate-700">
        This page manages accounts and needs the ADMIN role. Your account is a researcher account; ask an administrator if
        you need access.
      </p>
      <Link href="/console" className="btn-secondary">
        Back to the console
      </Link>
    </div>
  )
}
