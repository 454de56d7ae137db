import type { Metadata } from 'next'

import { TRPCReactProvider } from '@/trpc/react'

import './globals.css'

// every page renders per request: the CSP nonce (src/proxy.ts) must reach Next's inline scripts, which a page
// prerendered at build time would serve without one (and the browser would block)
export const dynamic = 'force-dynamic'

export const metadata: Metadata = {
  title: { default: 'Tandem Lab', template: '%s · Tandem Lab' },
  description: 'Tandem reinforcement learning with verifiable rewards, and human handoff studies',
}

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  )
}
