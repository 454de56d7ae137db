'use client'
// The end: the completion code (to paste into the recruiting site) and, when the study has one, the way back
// to it. The study link forgets this session, so opening it again does not resume a finished study.
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

export function CompleteStage({ studyId, completion, storage }: { studyId: string; completion: CompletionView; storage: KeyValueStore }) {
  useEffect(() => storage.remove(studyTokenKey(studyId)), [storage, studyId])
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle')
  const redirect = safeUrl(completion.redirectUrl)

  async function copy() {
    try {
      await navigator.clipboard.writeText(completion.code)
      setCopied('copied')
    } catch {
      // no clipboard (permissions, old browser): select the code so it can be copied by hand
      const code = document.getElementById('completion-code')
      if (code) window.getSelection()?.selectAllChildren(code)
      setCopied('failed')
    }
  }

  return (
    <div className="space-y-6">
      <StageHeading>Thank you — you have finished.</StageHeading>
      <section aria-labelledby="code-heading" className="card space-y-3">
        <h2 id="code-heading" className="text-lg font-semibold">
          Your completion code
        </h2>
        <p id="completion-code" data-testid="completion-code" className="font-mono text-3xl font-semibold tracking-wider break-all text-slate-900 sm:text-4xl">
          {completion.code}
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
      {redirect ? (
        <p>
          <a href={redirect} rel="noreferrer" className={`btn-primary ${FOCUS_RING}`}>
            Return to the recruiting site
          </a>
        </p>
      ) : (
        <p className="text-slate-700">You can close this page.</p>
      )}
    </div>
  )
}
