// The participant's pages (the study link and the session): calm and minimal, no console navigation, one
// readable column that works from 375 px up. Not indexed, and no Referer leaves them (the session token is in no
// URL after the first load, but an old /take/<token> link still carries it once).
import type { Metadata } from 'next'

export const metadata: Metadata = {
  title: 'Study',
  robots: { index: false, follow: false },
  referrer: 'no-referrer',
}

export default function ParticipantLayout({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex min-h-screen flex-col bg-white">
      <header className="border-b border-slate-200">
        <div className="mx-auto w-full max-w-2xl px-4 py-3 text-sm font-medium text-slate-600">Tandem Lab · research study</div>
      </header>
      <main className="mx-auto w-full max-w-2xl flex-1 px-4 py-8">{children}</main>
    </div>
  )
}
