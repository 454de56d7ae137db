// Small shared pieces of the participant pages: the stage heading (focus lands here when the stage changes),
// paragraphs of study text with math, notices, and the focus ring every control shows.
import { MathText } from '@/components/math-text'

/** A clearly visible keyboard focus ring (the shared .btn classes leave it to the browser). */
export const FOCUS_RING = 'focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-700'

export const STAGE_HEADING_ID = 'stage-heading'

/** The page's <h1>; tabIndex -1 so the flow can move focus to it after a step (e.g. to the next task). */
export function StageHeading({ children }: { children: React.ReactNode }) {
  return (
    <h1 id={STAGE_HEADING_ID} tabIndex={-1} className="text-2xl font-semibold text-slate-900 focus:outline-none">
      {children}
    </h1>
  )
}

/** The study's public title above every stage of the session (the stage's own heading is the page's <h1>). */
export function StudyTitle({ children }: { children: React.ReactNode }) {
  return (
    <p className="text-sm font-medium text-indigo-700" data-testid="study-title">
      {children}
    </p>
  )
}

/** Text written by the researcher: blank lines separate paragraphs, single newlines and $…$ math are kept. */
export function Prose({ text, testId }: { text: string; testId?: string }) {
  const paragraphs = text.split(/\n[ \t]*\n/).filter((p) => p.trim() !== '')
  return (
    <div className="space-y-3 leading-relaxed text-slate-800" data-testid={testId}>
      {paragraphs.map((p, i) => (
        <p key={i}>
          <MathText text={p.trim()} />
        </p>
      ))}
    </div>
  )
}

/** A non-blocking notice (e.g. "still trying to reach the server"), announced politely. */
export function Notice({ children, testId }: { children: React.ReactNode; testId?: string }) {
  return (
    <p role="status" data-testid={testId} className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
      {children}
    </p>
  )
}

/** A page that ends the flow (declined, closed, invalid link): a heading and a polite message, nothing else. */
export function EndMessage({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="space-y-4" data-testid="end-message">
      <StageHeading>{title}</StageHeading>
      <div className="space-y-3 leading-relaxed text-slate-700">{children}</div>
    </div>
  )
}

export function Loading({ children = 'Loading…' }: { children?: React.ReactNode }) {
  return (
    <p role="status" className="text-slate-600">
      {children}
    </p>
  )
}
