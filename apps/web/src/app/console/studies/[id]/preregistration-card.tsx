'use client'
// The study's preregistration: once frozen (when the study opens), its SHA-256 — the hash of the JSON download's bytes,
// so `sha256sum` of the file checks it — with a copy button and the JSON and Markdown downloads; before that, when it
// will be frozen. Shown to every researcher, like the design it records.
import { CopyField } from '@/components/copy-field'
import type { PreregistrationStatus } from '@/server/studies/preregistration'

export function PreregistrationCard({ studyId, status, sha256 }: { studyId: string; status: PreregistrationStatus; sha256: string | null }) {
  const href = (format: 'json' | 'md') => `/api/studies/${studyId}/preregistration?format=${format}`
  return (
    <section className="card space-y-2" aria-labelledby="preregistration-heading" data-testid="preregistration" data-status={status}>
      <h2 id="preregistration-heading" className="font-semibold">
        Preregistration
      </h2>
      {status === 'frozen' && sha256 ? (
        <>
          <p className="text-sm text-slate-600">
            Frozen when the study opened: the conditions with their checkpoint hashes, the items with their trace ids, the handoff, assignment and
            exclusion rules, the outcomes and pay, the power plan and the planned analysis. Cite its SHA-256; every export carries it.
          </p>
          <CopyField id="preregistration-sha256" label="SHA-256" value={sha256} what="hash" testId="preregistration-sha256" visibleLabel />
          <p className="flex flex-wrap gap-3 text-sm">
            <a className="text-indigo-700 hover:underline" href={href('json')} download data-testid="preregistration-json">
              Download JSON
            </a>
            <a className="text-indigo-700 hover:underline" href={href('md')} download data-testid="preregistration-md">
              Download Markdown
            </a>
            <span className="text-xs text-slate-600">
              (<code>sha256sum</code> of the JSON file gives the hash above)
            </span>
          </p>
        </>
      ) : (
        <p className="text-sm text-slate-600" data-testid="preregistration-pending">
          Frozen when the study opens{status === 'draft' ? ' (its design part was written at launch; the items and checkpoint hashes are added then)' : ''}: its
          SHA-256 appears here, with the JSON and Markdown to download.
        </p>
      )}
    </section>
  )
}
