// "Preview as participant": the participant router's behaviour simulated in the browser from studies.preview's
// data — stages, the task clock, attention checks after their task, completion. Nothing is sent to the server
// and nothing is kept after the page closes (its storage is memory, not localStorage).
import {
  attentionCheckSchema,
  participantTitle,
  practiceTaskSchema,
  type AttentionCheck,
  type PracticeTask,
} from '@/server/api/routers/studies.schema'
import {
  completionFor,
  screensOut,
  sessionTimeLimitSeconds,
  type Outcome,
  type OutcomeTexts,
} from '@/server/studies/outcomes'
import { practiceVerdict } from '@/server/studies/practice-check'
import type { RouterOutputs } from '@/trpc/react'

import {
  FlowError,
  INVALID_LINK,
  type DraftValues,
  type KeyValueStore,
  type ParticipantBackend,
  type SessionView,
} from './backend'

export type PreviewData = RouterOutputs['studies']['preview']

/** As on the server (participant-session.ts TIMEOUT_GRACE_MS): a late request within this still counts. */
const GRACE_MS = 15_000

interface PreviewTask {
  id: string
  problem: string
  prefixText: string
  draft: DraftValues | null
  startedAt: number | null
  answered: boolean
}

interface PreviewSession {
  token: string
  declined: boolean
  instructionsDone: boolean
  practiceDone: boolean
  tasks: PreviewTask[]
  /** answered checks: whether each answer was the expected one */
  attention: Map<string, boolean>
  consentedAt: number
  /** how the session ended (null: running) */
  outcome: Outcome | null
  /** the practice answer, for its result screen before the first task (as the server keeps it) */
  practiceAnswer: { continuation: string; answer: string } | null
}

export function memoryStorage(): KeyValueStore {
  const items = new Map<string, string>()
  return {
    get: (key) => items.get(key) ?? null,
    set: (key, value) => void items.set(key, value),
    remove: (key) => void items.delete(key),
  }
}

function parsePractice(value: unknown): PracticeTask {
  const parsed = practiceTaskSchema.safeParse(value)
  return parsed.success ? parsed.data : { problem: '(no practice problem)', reasoning: '', answer: '' }
}

function parseChecks(value: unknown): AttentionCheck[] {
  const list = Array.isArray(value) ? value : []
  return list
    .map((c) => attentionCheckSchema.safeParse(c))
    .flatMap((r) => (r.success ? [r.data] : []))
    .sort((a, b) => a.afterTask - b.afterTask)
}

function randomToken(): string {
  // not a credential (it never leaves the page), so Math.random is enough and works outside secure contexts
  let token = 'preview-'
  while (token.length < 40) token += Math.random().toString(36).slice(2)
  return token
}

/** The study's code and redirect per outcome (studies.preview may carry only the completed ones). */
function outcomeTexts(data: PreviewData): OutcomeTexts {
  const more = data as Partial<OutcomeTexts>
  return {
    completionCode: data.completionCode,
    redirectUrl: data.redirectUrl,
    screenedOutCode: more.screenedOutCode ?? null,
    screenedOutRedirectUrl: more.screenedOutRedirectUrl ?? null,
    timedOutCode: more.timedOutCode ?? null,
    timedOutRedirectUrl: more.timedOutRedirectUrl ?? null,
  }
}

export function createPreviewBackend(data: PreviewData, options: { latencyMs?: number } = {}): ParticipantBackend {
  const practice = parsePractice(data.practice)
  const checks = parseChecks(data.attentionChecks)
  const texts = outcomeTexts(data)
  // what participants would see as the title (studies.preview may predate the public title)
  const title = participantTitle((data as { publicTitle?: string | null }).publicTitle)
  const limitMs = data.timeLimitSeconds * 1000
  const sessionMs =
    sessionTimeLimitSeconds({
      sessionTimeLimitSeconds: (data as { sessionTimeLimitSeconds?: number | null }).sessionTimeLimitSeconds ?? null,
      tasksPerParticipant: data.tasksPerParticipant,
      timeLimitSeconds: data.timeLimitSeconds,
    }) * 1000
  const latencyMs = options.latencyMs ?? 150
  const storage = memoryStorage()
  const tabStorage = memoryStorage()
  let current: PreviewSession | null = null

  // a short pause, so pending states look as they do against the server
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, latencyMs))

  function sessionOf(token: string): PreviewSession {
    if (!current || current.token !== token) throw new FlowError(INVALID_LINK, 'UNAUTHORIZED', false)
    return current
  }
  function active(token: string): PreviewSession {
    const s = sessionOf(token)
    if (s.declined) throw new FlowError('You declined to take part; nothing more is recorded.', 'PRECONDITION_FAILED', false)
    return s
  }
  /** A session still running (an ended one takes no more answers). */
  function running(token: string): PreviewSession {
    const s = active(token)
    if (s.outcome) throw new FlowError('This session has ended; there is nothing more to do.', 'PRECONDITION_FAILED', false)
    return s
  }
  function taskOf(s: PreviewSession, id: string): PreviewTask {
    const task = s.tasks.find((t) => t.id === id)
    if (!task) throw new FlowError('This task is not part of your session.', 'NOT_FOUND', false)
    return task
  }
  const done = (s: PreviewSession) => s.tasks.filter((t) => t.answered).length
  const pendingCheck = (s: PreviewSession) => checks.find((c) => c.afterTask <= done(s) && !s.attention.has(c.id)) ?? null
  const failedChecks = (s: PreviewSession) => [...s.attention.values()].filter((correct) => !correct).length
  // as on the server (participant-session.ts settleSession): first the session's clock, then the checks, then done
  function settle(s: PreviewSession, now: number): boolean {
    if (s.outcome) return true
    if (now > s.consentedAt + sessionMs + GRACE_MS) s.outcome = 'TIMED_OUT'
    else if (screensOut(checks.length, failedChecks(s))) s.outcome = 'SCREENED_OUT'
    else if (s.tasks.every((t) => t.answered) && pendingCheck(s) === null) s.outcome = 'COMPLETED'
    return s.outcome !== null
  }
  const taskDeadline = (s: PreviewSession, startedAt: number) => Math.min(startedAt + limitMs, s.consentedAt + sessionMs)

  function view(s: PreviewSession, now: number): SessionView {
    // like the server's session call: a started task whose time ran out is recorded as timed out
    if (!s.outcome) {
      for (const t of s.tasks) {
        if (!t.answered && t.startedAt !== null && now > taskDeadline(s, t.startedAt) + GRACE_MS) t.answered = true
      }
      if (!s.declined) settle(s, now)
    }
    const base = {
      study: { id: data.id, title, instructions: data.instructions, timeLimitSeconds: data.timeLimitSeconds },
      progress: { done: done(s), total: s.tasks.length },
      practice: null,
      task: null,
      attention: null,
      completion: null,
      sessionDeadline: new Date(s.consentedAt + sessionMs).toISOString(),
      serverNow: new Date(now).toISOString(),
    }
    if (s.declined) return { ...base, stage: 'declined' }
    if (s.outcome) return { ...base, stage: 'complete', completion: completionFor(s.outcome, texts) }
    if (!s.instructionsDone) return { ...base, stage: 'instructions' }
    if (!s.practiceDone) return { ...base, stage: 'practice', practice: { problem: practice.problem, reasoning: practice.reasoning } }
    const check = pendingCheck(s)
    if (check) return { ...base, stage: 'attention', attention: { checkId: check.id, prompt: check.prompt, options: check.options } }
    const index = s.tasks.findIndex((t) => !t.answered)
    const task = s.tasks[index]
    if (!task) return { ...base, stage: 'complete', completion: completionFor('COMPLETED', texts) }
    const practiceResult =
      index === 0 && task.startedAt === null && s.practiceAnswer
        ? {
            problem: practice.problem,
            reasoning: practice.reasoning,
            result: { ...s.practiceAnswer, expected: practice.answer, verdict: practiceVerdict(s.practiceAnswer.answer, practice.answer) },
          }
        : null
    return {
      ...base,
      stage: 'task',
      practice: practiceResult,
      task: {
        assignmentId: task.id,
        position: index + 1,
        total: s.tasks.length,
        problem: task.problem,
        prefixText: task.prefixText,
        draft: task.draft,
        draftSavedAt: null,
        startedAt: task.startedAt === null ? null : new Date(task.startedAt).toISOString(),
        deadline: task.startedAt === null ? null : new Date(taskDeadline(s, task.startedAt)).toISOString(),
        // the preview shows every task with pre-generated reasoning; a live senior needs the live service
        live: null,
      },
    }
  }

  return {
    kind: 'preview',
    storage,
    tabStorage,
    async studyInfo() {
      await pause()
      // a preview shows the consent screen whatever the study's status, and needs no participant id
      return { id: data.id, title, consentText: data.consentText, open: true, notOpenMessage: null, urlParams: [], requireParticipantId: false }
    },
    async join({ consent }) {
      await pause()
      current = {
        token: randomToken(),
        declined: !consent,
        instructionsDone: false,
        practiceDone: false,
        tasks: consent
          ? data.tasks.map((t, i) => ({ id: `preview-task-${i + 1}`, problem: t.problem, prefixText: t.prefixText ?? '', draft: null, startedAt: null, answered: false }))
          : [],
        attention: new Map(),
        consentedAt: Date.now(),
        outcome: null,
        practiceAnswer: null,
      }
      return { token: current.token, declined: !consent }
    },
    async session(token) {
      await pause()
      return view(sessionOf(token), Date.now())
    },
    async finishInstructions(token) {
      await pause()
      running(token).instructionsDone = true
    },
    async submitPractice({ token, continuation, answer }) {
      await pause()
      const s = running(token)
      if (!s.instructionsDone) throw new FlowError('Read the instructions first.', 'PRECONDITION_FAILED', false)
      s.practiceDone = true
      s.practiceAnswer = { continuation, answer }
      return { expectedAnswer: practice.answer }
    },
    async startTask({ token, assignmentId }) {
      await pause()
      const s = running(token)
      const task = taskOf(s, assignmentId)
      const now = Date.now()
      task.startedAt ??= now
      return { startedAt: new Date(task.startedAt).toISOString(), deadline: new Date(taskDeadline(s, task.startedAt)).toISOString(), serverNow: new Date(now).toISOString() }
    },
    async saveDraft({ token, assignmentId, continuation, answer, easeRating, confidence }) {
      await pause()
      const task = taskOf(active(token), assignmentId)
      if (!task.answered) task.draft = { continuation, answer, easeRating, confidence }
      return { saved: !task.answered, savedAt: new Date().toISOString() }
    },
    saveDraftOnExit() {
      // the preview ends with the page
    },
    async submit({ token, assignmentId }) {
      await pause()
      const s = active(token)
      const task = taskOf(s, assignmentId)
      if (!task.answered && task.startedAt === null) throw new FlowError('This task has not been started.', 'PRECONDITION_FAILED', false)
      const duplicate = task.answered
      if (!duplicate && s.outcome) throw new FlowError('This session has ended; there is nothing more to do.', 'PRECONDITION_FAILED', false)
      task.answered = true
      return { responseId: `preview-response-${assignmentId}`, duplicate, complete: settle(s, Date.now()) }
    },
    async answerAttention({ token, checkId, answer }) {
      await pause()
      const s = active(token)
      const check = checks.find((c) => c.id === checkId)
      if (!check) throw new FlowError('There is no such question in this study.', 'NOT_FOUND', false)
      if (!check.options.includes(answer)) throw new FlowError('Choose one of the options.', 'BAD_REQUEST', false)
      if (!s.attention.has(checkId)) {
        if (s.outcome) throw new FlowError('This session has ended; there is nothing more to do.', 'PRECONDITION_FAILED', false)
        if (pendingCheck(s)?.id !== checkId) throw new FlowError('This question is not due yet.', 'PRECONDITION_FAILED', false)
        s.attention.set(checkId, answer === check.correct)
      }
      return { complete: settle(s, Date.now()) }
    },
    async leave(token) {
      await pause()
      const s = active(token)
      s.outcome ??= 'RETURNED'
      return { outcome: s.outcome }
    },
    // never reached: preview tasks are not live
    // eslint-disable-next-line require-yield
    async *liveStream() {
      throw new FlowError('Live tasks cannot be previewed.', 'BAD_REQUEST', false)
    },
    liveTakeOver: () => Promise.reject(new FlowError('Live tasks cannot be previewed.', 'BAD_REQUEST', false)),
    liveHandBack: () => Promise.reject(new FlowError('Live tasks cannot be previewed.', 'BAD_REQUEST', false)),
  }
}
