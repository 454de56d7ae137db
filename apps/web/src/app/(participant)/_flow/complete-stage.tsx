'use client'
// The end of the session, however it ended (the server decides: participant-session.ts, outcomes.ts): the
// completion code big with a copy button when the outcome has one, the outcome's message, and the way back to the
// recruiting site when the study set a redirect. The study link forgets this session, so opening it again does not
// resume an ended study.
import { useEffect, useState } from 'react'

import { studyTokenKey, type CompletionView, type KeyValueStore } from './backend'
import { FOCUS_RING, StageHeading } from './ui'

/** Only http(s) links are followed (a study's redirect URL is checked on save; this guards older rows too). */
function safeUrl(url: string | null): string | null {
  if (!url) return null
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? url : null
  } catch {
    return null
  }
}

/** Prolific's own pages (app.prolific.com, and the older prolific.co): the link says where it goes. */
function isProlific(url: string): boolean {
  const host = new URL(url).hostname
  return /(^|\.)prolific\.(com|co)$/.test(host)
}

const HEADINGS: Record<CompletionView['outcome'], string> = {
  COMPLETED: 'Thank you — you have finished.',
  SCREENED_OUT: 'The study has ended',
  TIMED_OUT: 'The time for this study has run out',
  RETURNED: 'Thank you for your time',
}

function CompletionCode({ code }: { code: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle')
  async function copy() {
    try {
      await navigator.clipboard.writeText(code)
      setCopied('copied')
    } catch {
      // no clipboard (permissions, old browser): select the code so it can be copied by hand
      const element = document.getElementById('completion-code')
      if (element) window.getSelection()?.selectAllChildren(element)
      setCopied('failed')
    }
  }
  return (
    <section aria-labelledby="code-heading" className="card space-y-3">
      <h2 id="code-heading" className="text-lg font-semibold">
        Your completion code
      </h2>
      <p id="completion-code" data-testid="completion-code" className="font-mono text-3xl font-semibold tracking-wider break-all text-slate-900 sm:text-4xl">
        {code}
      </p>
      <div className="flex flex-wrap items-center gap-3">
        <button type="button" className={`btn-secondary ${FOCUS_RING}`} onClick={() => void copy()}>
          Copy code
        </button>
        <p role="status" className="text-sm text-slate-600">
          {copied === 'copied' ? 'Copied.' : copied === 'failed' ? 'Copying did not work here: the code is selected, copy it with your keyboard.' : ''}
        </p>
      </div>
    </section>
  )
}

export function CompleteStage({ studyId, completion, storage }: { studyId: string; completion: CompletionView; storage: KeyValueStore }) {
  useEffect(() => storage.remove(studyTokenKey(studyId)), [storage, studyId])
  const redirect = safeUrl(completion.redirectUrl)
  const completed = completion.outcome === 'COMPLETED'

  return (
    <div className="space-y-6" data-testid="completion" data-outcome={completion.outcome}>
      <StageHeading>{HEADINGS[completion.outcome]}</StageHeading>
      {/* the completed page keeps its plain thank-you heading; other outcomes say what happened */}
      {completed ? null : (
        <p className="leading-relaxed text-slate-800" data-testid="completion-message">
          {completion.message}
        </p>
      )}
      {completion.code ? <CompletionCode code={completion.code} /> : null}
      {redirect ? (
        <p>
          <a href={redirect} rel="noreferrer" className={`btn-primary ${FOCUS_RING}`}>
            {isProlific(redirect) ? 'Continue to Prolific' : 'Return to the recruiting site'}
          </a>
        </p>
      ) : (
        <p className="text-slate-700">You can close this page.</p>
      )}
    </div>
  )
}
