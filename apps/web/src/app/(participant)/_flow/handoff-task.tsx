// What a task shows before the participant writes: the problem and the AI's reasoning up to the handoff point.
// Shared by the practice task and the real tasks, so the practice looks exactly like the study.
import { MathText } from '@/components/math-text'

/**
 * The box the AI's reasoning sits in, with its math typeset: the same proportional font and size for pre-generated
 * (static) and live reasoning, since a different look between conditions would be a confound.
 */
export const REASONING_BOX = 'rounded-md border border-indigo-200 bg-indigo-50 p-3 leading-relaxed whitespace-pre-wrap break-words'

/** The task's problem, typeset (also above a live task's shared reasoning). */
export function ProblemSection({ problem }: { problem: string }) {
  return (
    <section aria-labelledby="problem-heading" className="space-y-2">
      <h2 id="problem-heading" className="text-lg font-semibold">
        Problem
      </h2>
      <div className="rounded-md border border-slate-200 bg-white p-3 leading-relaxed" data-testid="task-problem">
        <MathText text={problem} />
      </div>
    </section>
  )
}

export function HandoffTask({ problem, reasoning }: { problem: string; reasoning: string }) {
  return (
    <div className="space-y-4">
      <ProblemSection problem={problem} />
      <section aria-labelledby="reasoning-heading" className="space-y-2">
        <h2 id="reasoning-heading" className="text-lg font-semibold">
          {"The AI's reasoning so far"}
        </h2>
        <div className={REASONING_BOX} data-testid="task-reasoning">
          {reasoning.trim() ? (
            <MathText text={reasoning} className="block" />
          ) : (
            <p className="text-slate-600">(The AI has not written anything yet: start from the beginning.)</p>
          )}
        </div>
      </section>
    </div>
  )
}
