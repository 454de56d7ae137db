// The participant pages as participants see them (server-rendered markup, no browser): no researcher jargon, the AI's
// reasoning typeset and in the same font in static and live conditions, a time-up that says so, a practice that
// teaches, and the instructions' length line. The designer's consent defaults carry placeholders the researcher fills.
import { createElement, type ReactElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, test } from 'vitest'

import type { ParticipantBackend, SessionView, TaskView } from '@/app/(participant)/_flow/backend'
import { ContinuationFields, looksLikeTex } from '@/app/(participant)/_flow/continuation-fields'
import { HandoffTask, REASONING_BOX } from '@/app/(participant)/_flow/handoff-task'
import { InstructionsStage, studyLengthText } from '@/app/(participant)/_flow/instructions-stage'
import { LiveTask } from '@/app/(participant)/_flow/live-task'
import { PracticeReview, type ReviewedPractice } from '@/app/(participant)/_flow/practice-stage'
import { TaskClock, TaskStage } from '@/app/(participant)/_flow/task-stage'
import { DEFAULT_CONSENT, DEFAULT_INSTRUCTIONS, DEFAULT_PRACTICE } from '@/app/console/studies/design-defaults'
import { ConsentHint } from '@/app/console/studies/fieldsets/texts-fieldset'
import { answerValue, practiceVerdict } from '@/server/studies/practice-check'
import { consentPlaceholderProblem, unfilledPlaceholders } from '@/server/studies/text-placeholders'

const html = (element: ReactElement) => renderToStaticMarkup(element)
/** The visible text of some markup (tags dropped, entities of quotes and ampersands decoded). */
const text = (markup: string) => markup.replace(/<[^>]+>/g, '').replaceAll('&quot;', '"').replaceAll('&#x27;', "'").replaceAll('&amp;', '&')

/** The class list of the element carrying `data-testid="<testId>"`. */
const classOf = (markup: string, testId: string) =>
  new RegExp(`<[a-z]+\\b[^>]*data-testid="${testId}"[^>]*>`).exec(markup)?.[0].match(/class="([^"]*)"/)?.[1]

const registered = (name: string) => ({ name, onChange: async () => undefined, onBlur: async () => undefined, ref: () => undefined })

/** Effects never run in server rendering: a backend that is never called. */
const idleBackend = new Proxy({ kind: 'live', storage: { get: () => null, set: () => undefined, remove: () => undefined } }, {
  get: (target, key) => (key in target ? target[key as keyof typeof target] : () => Promise.reject(new Error(`not called: ${String(key)}`))),
}) as unknown as ParticipantBackend

/** Researcher words and TeX hints that must not reach participants. */
const JARGON = [/\$…\$/, /TeX/, /\\frac/, /senior/i, /LaTeX/]

describe('no researcher jargon', () => {
  test('the continuation and answer fields hint in plain words: numbers and fractions, no $…$ or TeX', () => {
    for (const live of [undefined, { writing: true }]) {
      const markup = html(
        createElement(ContinuationFields, {
          idPrefix: 'task',
          continuation: registered('continuation'),
          answer: registered('answer'),
          answerValue: '',
          errors: {},
          live,
        }),
      )
      for (const word of JARGON) expect(text(markup)).not.toMatch(word)
      expect(text(markup)).toContain('e.g. 42, 1/2 or 0.5')
      // code-like monospace fields look like a programming task
      expect(markup).not.toContain('font-mono')
    }
  })

  test('the typeset preview shows only for an answer written in TeX', () => {
    expect(looksLikeTex('42')).toBe(false)
    expect(looksLikeTex('1/2')).toBe(false)
    expect(looksLikeTex('-0.5')).toBe(false)
    expect(looksLikeTex('\\frac{1}{2}')).toBe(true)
    expect(looksLikeTex('$x^2$')).toBe(true)
    const plain = html(createElement(ContinuationFields, { idPrefix: 't', continuation: registered('c'), answer: registered('a'), answerValue: '1/2', errors: {} }))
    expect(plain).not.toContain('class="katex"')
    const tex = html(createElement(ContinuationFields, { idPrefix: 't', continuation: registered('c'), answer: registered('a'), answerValue: '\\frac{1}{2}', errors: {} }))
    expect(tex).toContain('class="katex"')
  })

  test('the default texts a new study starts with carry no jargon either', () => {
    for (const words of [DEFAULT_INSTRUCTIONS, DEFAULT_PRACTICE.problem, DEFAULT_PRACTICE.reasoning]) {
      for (const word of JARGON) expect(words).not.toMatch(word)
    }
  })
})

describe("the AI's reasoning", () => {
  const live = (spans: { seq: number; author: 'senior' | 'human'; text: string }[]) =>
    html(
      createElement(LiveTask, {
        backend: idleBackend,
        token: 't',
        assignmentId: 'a',
        problem: 'What is 4 · 6?',
        initial: { control: 'human', spans, seniorStopped: 'eos', canHandBack: true } as unknown as TaskView['live'] & object,
        readOnly: false,
        writing: () => '',
        onControl: () => undefined,
        onHandedBack: () => undefined,
      }),
    )

  test('static and live reasoning sit in the same proportional-font box (a different look would be a confound)', () => {
    const staticBox = classOf(html(createElement(HandoffTask, { problem: 'p', reasoning: 'Step 1: 4 · 6 = 24' })), 'task-reasoning')
    const liveBox = classOf(live([{ seq: 0, author: 'senior', text: 'Step 1: 4 · 6 = 24' }]), 'live-text')
    expect(staticBox).toBe(REASONING_BOX)
    expect(liveBox).toContain(REASONING_BOX)
    for (const box of [staticBox!, liveBox!]) {
      expect(box).not.toMatch(/font-mono|text-sm|text-xs/)
    }
  })

  test('\\boxed{…} and inline math are typeset, in static and in live reasoning', () => {
    const reasoning = 'Step 1: $4 \\times 6 = 24$\nSo \\boxed{24}'
    for (const markup of [
      html(createElement(HandoffTask, { problem: 'p', reasoning })),
      live([
        { seq: 0, author: 'senior', text: reasoning },
        { seq: 1, author: 'human', text: ' and \\frac{1}{2} more' },
      ]),
    ]) {
      expect(markup.match(/class="katex"/g)?.length ?? 0).toBeGreaterThanOrEqual(2)
      expect(markup).toContain('notation="box"') // \boxed's frame, not its source
    }
    expect(live([{ seq: 0, author: 'human', text: 'half is \\frac{1}{2}' }])).toContain('mfrac')
  })
})

describe('the time-up', () => {
  test('the clock is sticky at the top, also on a phone', () => {
    const markup = html(createElement(TaskClock, { left: 125, timeUp: false, saved: false, onContinue: () => undefined }))
    expect(classOf(markup, 'task-clock')).toMatch(/\bsticky\b/)
    expect(classOf(markup, 'task-clock')).toMatch(/\btop-0\b/)
    expect(text(markup)).toContain('2:05')
    expect(text(markup)).not.toContain('Time is up')
  })

  test('at 0 it says so; once the answer is saved it says that and offers to continue', () => {
    const saving = text(html(createElement(TaskClock, { left: 0, timeUp: true, saved: false, onContinue: () => undefined })))
    expect(saving).toContain('Time is up — saving your answer so far')
    expect(saving).not.toContain('Continue')
    const saved = html(createElement(TaskClock, { left: 0, timeUp: true, saved: true, onContinue: () => undefined }))
    expect(text(saved)).toContain('Time is up — your answer so far was saved.')
    expect(saved).toMatch(/<button[^>]*data-testid="time-up-continue"[^>]*>Continue<\/button>/)
  })
})

describe('the practice', () => {
  const practice = (answer: string, expected = '24'): ReviewedPractice => ({
    problem: DEFAULT_PRACTICE.problem,
    reasoning: DEFAULT_PRACTICE.reasoning,
    result: { continuation: 'Step 2: 12 + 12 = 24', answer, expected, verdict: practiceVerdict(answer, expected) },
  })
  const review = (p: ReviewedPractice) => text(html(createElement(PracticeReview, { practice: p, onStart: () => undefined })))

  test('the default practice stops before the end: its reasoning does not reach the answer', () => {
    expect(DEFAULT_PRACTICE.reasoning).not.toContain(DEFAULT_PRACTICE.answer)
    expect(DEFAULT_PRACTICE.reasoning.split('\n').length).toBeGreaterThanOrEqual(1)
  })

  test('a wrong answer is told so with the answer; a right one, in any plain form, is told it is correct', () => {
    expect(review(practice('23'))).toContain('Not correct — the answer was 24.')
    expect(review(practice('24'))).toContain('Correct — the answer was 24.')
    expect(review(practice('0.5', '\\frac{1}{2}'))).toContain('Correct — the answer was')
    const unread = review(practice('twenty-four'))
    expect(unread).toContain('The answer was 24. Yours could not be checked as written')
    // what the participant wrote is shown again, with the problem
    expect(review(practice('23'))).toContain('Step 2: 12 + 12 = 24')
    expect(review(practice('23'))).toContain('Start the study')
  })

  test('the first task shows the practice result first when the session view carries it, and the task once started', () => {
    const task = { assignmentId: 'a1', position: 1, total: 4, problem: 'p', prefixText: 'Step 1', draft: null, draftSavedAt: null, startedAt: null, deadline: null, live: null }
    const view = {
      stage: 'task',
      study: { id: 's', instructions: '', timeLimitSeconds: 300 },
      progress: { done: 0, total: 4 },
      practice: practice('23'),
      task,
      attention: null,
      completion: null,
      sessionDeadline: null,
      serverNow: new Date().toISOString(),
    } as unknown as SessionView & { task: TaskView }
    const props = { backend: idleBackend, token: 't', offsetMs: 0, onSubmitted: () => undefined, onStale: () => undefined }
    const first = text(html(createElement(TaskStage, { ...props, view })))
    expect(first).toContain('Not correct — the answer was 24.')
    expect(first).not.toContain('Task 1 of 4')
    const started = { ...view, task: { ...task, startedAt: new Date().toISOString(), deadline: new Date(Date.now() + 300_000).toISOString() } }
    const afterStart = text(html(createElement(TaskStage, { ...props, view: started })))
    expect(afterStart).toContain('Task 1 of 4')
    expect(afterStart).not.toContain('Not correct')
  })

  test('practiceVerdict compares numbers and fractions by value, like the verifier', () => {
    const cases: [string, string, string][] = [
      ['24', '24', 'correct'],
      ['$24$', '24', 'correct'],
      ['24.', '24', 'correct'],
      ['24.0', '24', 'correct'],
      ['\\boxed{24}', '24', 'correct'],
      ['2,400', '2400', 'correct'],
      ['1/2', '\\frac{1}{2}', 'correct'],
      ['0.5', '1/2', 'correct'],
      ['-\\frac{1}{2}', '-0.5', 'correct'],
      ['−3', '-3', 'correct'],
      ['23', '24', 'incorrect'],
      ['1/3', '0.33', 'incorrect'],
      ['x+1', 'x+1', 'correct'],
      ['twenty-four', '24', 'different'],
      ['1/0', '24', 'different'],
    ]
    for (const [given, expected, verdict] of cases) expect(practiceVerdict(given, expected), `${given} vs ${expected}`).toBe(verdict)
    expect(answerValue('12.50')).toEqual({ n: 1250n, d: 100n })
  })
})

describe('consent and instructions', () => {
  test('the default consent names duration, payment, contact and how to withdraw, as placeholders to fill', () => {
    expect(unfilledPlaceholders(DEFAULT_CONSENT)).toEqual(expect.arrayContaining(['[DURATION]', '[PAYMENT]', '[CONTACT]', '[HOW TO WITHDRAW]']))
    expect(consentPlaceholderProblem(DEFAULT_CONSENT)).toMatch(/^The consent text still has placeholders to fill in: \[RESEARCHER AND INSTITUTION\], \[DURATION\]/)
    expect(consentPlaceholderProblem('You will be paid £3 for about 20 minutes [see below].')).toBeNull()
    expect(unfilledPlaceholders('[PAYMENT] and [PAYMENT] and [a] and [OK] and [x^2]')).toEqual(['[PAYMENT]'])
  })

  test('the designer lists the placeholders left', () => {
    expect(text(html(createElement(ConsentHint, { placeholders: ['[DURATION]', '[CONTACT]'] })))).toContain('Fill in before launch: [DURATION], [CONTACT].')
    expect(text(html(createElement(ConsentHint, { placeholders: [] })))).not.toContain('Fill in')
  })

  test('the instructions say how many tasks and about how long, from the settings', () => {
    expect(studyLengthText({ tasks: 4, timeLimitSeconds: 300 })).toBe(
      'After a short practice there are 4 tasks. Each has a time limit of 5 minutes, so the tasks take at most 20 minutes in all.',
    )
    expect(studyLengthText({ tasks: 1, timeLimitSeconds: 90 })).toBe('After a short practice there is 1 task. It has a time limit of 1 minute 30 seconds.')
    const markup = text(
      html(createElement(InstructionsStage, { backend: idleBackend, token: 't', instructions: 'Read carefully.', length: { tasks: 3, timeLimitSeconds: 120 }, onDone: () => undefined })),
    )
    expect(markup).toContain('there are 3 tasks. Each has a time limit of 2 minutes, so the tasks take at most 6 minutes in all.')
  })
})
