// How a participant's session ends, decided on the server in one place (docs/studies.md, "Outcomes and completion
// codes"): COMPLETED, SCREENED_OUT (the second failed attention check), TIMED_OUT (the whole session's limit passed
// before the last task) or RETURNED (the participant chose to leave). Each outcome has its completion code and
// redirect, as Prolific runs studies. An outcome is written once: every write is `… WHERE outcome IS NULL`, so the
// first one wins however the calls race. Pure (no server imports): the designer and the participant pages use it too;
// the statements that write outcomes are in participant-session.ts.

export const OUTCOMES = ['COMPLETED', 'SCREENED_OUT', 'TIMED_OUT', 'RETURNED'] as const
export type Outcome = (typeof OUTCOMES)[number]

/** Outcomes that free the participant's design row for the next arrival (assignment.ts REFILL_RULE). */
export const DROPOUT_OUTCOMES: readonly Outcome[] = ['TIMED_OUT', 'RETURNED', 'SCREENED_OUT']

/**
 * Prolific: a single failed attention check is no ground to reject a submission; two are. So the session ends at the
 * second failed check, and a study with fewer than two checks never screens anyone out.
 */
export const FAILED_CHECKS_TO_SCREEN_OUT = 2

/** Whether `failed` failed answers among a study's `checks` attention checks end the session. */
export function screensOut(checks: number, failed: number): boolean {
  return checks >= FAILED_CHECKS_TO_SCREEN_OUT && failed >= FAILED_CHECKS_TO_SCREEN_OUT
}

/** Time for consent, instructions, the practice task and the attention checks, on top of the tasks' own limits. */
export const SESSION_ALLOWANCE_SECONDS = 10 * 60

/** The whole session's limit when the study sets none: every task's full limit plus the fixed allowance. */
export function derivedSessionTimeLimitSeconds(tasksPerParticipant: number, timeLimitSeconds: number): number {
  return tasksPerParticipant * timeLimitSeconds + SESSION_ALLOWANCE_SECONDS
}

export interface SessionLimitStudy {
  /** studies.session_time_limit_s (null: derived) */
  sessionTimeLimitSeconds: number | null
  tasksPerParticipant: number
  timeLimitSeconds: number
}

/** The whole session's limit in seconds, counted from consent. */
export function sessionTimeLimitSeconds(study: SessionLimitStudy): number {
  return study.sessionTimeLimitSeconds ?? derivedSessionTimeLimitSeconds(study.tasksPerParticipant, study.timeLimitSeconds)
}

/** The rule in words, for the designer, the study page and the preregistration. */
export function sessionTimeLimitRule(study: SessionLimitStudy): string {
  const seconds = sessionTimeLimitSeconds(study)
  const how =
    study.sessionTimeLimitSeconds === null
      ? `tasks × time limit + ${SESSION_ALLOWANCE_SECONDS / 60} min for consent, instructions, practice and attention checks = ` +
        `${study.tasksPerParticipant} × ${study.timeLimitSeconds} s + ${SESSION_ALLOWANCE_SECONDS} s`
      : 'set by the study'
  return `The whole session may take ${seconds} s from consent (${how}).`
}

export function sessionDeadline(consentedAt: Date, limitSeconds: number): Date {
  return new Date(consentedAt.getTime() + limitSeconds * 1000)
}

/**
 * A task's own limit, cut short by the session's deadline: a task running when the whole session's time runs out ends
 * then (and is recorded as timed out like any task past its limit).
 */
export function effectiveTaskLimitSeconds(startedAt: Date, taskLimitSeconds: number, sessionEndsAt: Date | null): number {
  if (!sessionEndsAt) return taskLimitSeconds
  return Math.max(0, Math.min(taskLimitSeconds, (sessionEndsAt.getTime() - startedAt.getTime()) / 1000))
}

/** What a study says to each outcome: its code and redirect (completed uses completion_code / redirect_url). */
export interface OutcomeTexts {
  completionCode: string
  redirectUrl: string | null
  screenedOutCode: string | null
  screenedOutRedirectUrl: string | null
  timedOutCode: string | null
  timedOutRedirectUrl: string | null
}

/** What the participant's last page shows. */
export interface Completion {
  outcome: Outcome
  /** the code to paste into the recruiting site (null: this outcome has none) */
  code: string | null
  redirectUrl: string | null
  message: string
}

const NO_CODE = 'There is no completion code for this. If you came from Prolific, please return your submission there.'

/** The completion page of an ended session. */
export function completionFor(outcome: Outcome, study: OutcomeTexts): Completion {
  switch (outcome) {
    case 'COMPLETED':
      return { outcome, code: study.completionCode, redirectUrl: study.redirectUrl, message: 'Thank you — you have finished.' }
    case 'SCREENED_OUT': {
      const code = study.screenedOutCode || null
      return {
        outcome,
        code,
        redirectUrl: study.screenedOutRedirectUrl || null,
        message: `The study ended early because two of the check questions were not answered as asked. Thank you for your time.${code ? '' : ` ${NO_CODE}`}`,
      }
    }
    case 'TIMED_OUT': {
      const code = study.timedOutCode || null
      return {
        outcome,
        code,
        redirectUrl: study.timedOutRedirectUrl || null,
        message: `The time for this study has run out, so it has ended. Thank you for your time.${code ? '' : ` ${NO_CODE}`}`,
      }
    }
    case 'RETURNED':
      return {
        outcome,
        code: null,
        redirectUrl: null,
        message: 'Thank you. You have left the study; nothing more will be recorded. If you came from Prolific, please return your submission there. You can close this page.',
      }
  }
}
