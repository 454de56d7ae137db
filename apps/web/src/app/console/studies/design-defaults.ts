// The designer's starting values and completion codes: plain functions (no 'use client'), so the server page can
// make a new design's defaults (and its random completion codes) and the browser form can reuse them.
import {
  PROLIFIC_PARAMS,
  type AttentionCheck,
  type HandoffRule,
  type PowerPlanInput,
  type PracticeTask,
  type StudyDesignInput,
} from '@/server/api/routers/studies.schema'

export interface DatasetOption {
  id: string
  name: string
  rowCount: number
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'

/** A completion code participants paste back into the recruiting platform: 8 unambiguous letters and digits. */
export function randomCompletionCode(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  return [...random(8)].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('')
}

/**
 * The consent text a new design starts with. The bracketed placeholders are the study's own details, which only the
 * researcher knows: the designer lists those left and launch refuses until each is replaced (text-placeholders.ts).
 */
export const DEFAULT_CONSENT =
  'You are invited to take part in a short research study on how people continue a computer’s step-by-step reasoning, ' +
  'run by [RESEARCHER AND INSTITUTION]. You will solve a few short arithmetic problems, each started by an AI model, and ' +
  'rate how easy its reasoning was to follow.\n\n' +
  'The study takes about [DURATION]. You will be paid [PAYMENT] through your recruiting platform when you finish.\n\n' +
  'Taking part is voluntary. You may stop at any time, without giving a reason, by choosing “Leave the study” at the ' +
  'bottom of the page or by closing it. To withdraw your data after taking part: [HOW TO WITHDRAW].\n\n' +
  'We record your answers, ratings and timings, and your recruiting platform ID; data are analysed and shared only in ' +
  'pseudonymised form. Questions or concerns: [CONTACT].\n\n' +
  'By choosing “I agree” you confirm that you are 18 or older and consent to take part.'

export const DEFAULT_INSTRUCTIONS =
  'Each task shows a problem and the first steps of a solution written by an AI model. Read the steps, continue the ' +
  'reasoning in your own words, and give your final answer. The steps may contain mistakes: you may correct them. ' +
  'Then rate how easy the reasoning was to follow and how confident you are.\n\n' +
  'Each task has a time limit, and the time left is shown at the top of the page. When it runs out, what you have ' +
  'written so far is saved and you go on to the next task. Please do not use a calculator or search engine.'

/** The practice's reasoning stops before the end, so the participant has a step of their own to add. */
export const DEFAULT_PRACTICE: PracticeTask = {
  problem: 'Tom has 12 apples. He buys 3 bags with 4 apples each. How many apples does he have now?',
  reasoning: 'Step 1: The 3 bags hold 3 × 4 = 12 apples.',
  answer: '24',
}

const DEFAULT_ATTENTION_CHECK: AttentionCheck = {
  id: 'check-1',
  afterTask: 1,
  prompt: 'To show that you are reading carefully, please choose “Blue” below.',
  options: ['Red', 'Blue', 'Green'],
  correct: 'Blue',
}

/** The codes a new design starts with, one per outcome (they must differ). */
export interface OutcomeCodes {
  completed: string
  screenedOut: string
  timedOut: string
}

/** Three different random codes (a clash of 8 random characters is all but impossible; it is redrawn anyway). */
export function randomOutcomeCodes(random?: (n: number) => Uint8Array): OutcomeCodes {
  const codes: string[] = []
  while (codes.length < 3) {
    const code = randomCompletionCode(random)
    if (!codes.includes(code)) codes.push(code)
  }
  return { completed: codes[0]!, screenedOut: codes[1]!, timedOut: codes[2]! }
}

/** The accuracy the power panel assumes for a condition until an evaluation or the researcher says otherwise. */
export const DEFAULT_EXPECTED_ACCURACY = 0.5

/** A power plan with the panel's defaults for the given condition names. */
export function defaultPowerPlan(conditionNames: string[]): PowerPlanInput {
  return {
    alpha: 0.05,
    power: 0.8,
    accuracies: Object.fromEntries(conditionNames.map((name) => [name, DEFAULT_EXPECTED_ACCURACY])),
    participantSd: 0.5,
    problemSd: 0.5,
    sources: {},
  }
}

/** A new design's starting values: two conditions to fill in, 4 tasks of 300 s, handoff after step 2. */
export function defaultDesign(datasets: DatasetOption[], codes: OutcomeCodes): StudyDesignInput {
  const dataset = datasets.find((d) => d.name === 'digit-chains-eval') ?? datasets.find((d) => d.name === 'arithmetic-eval') ?? datasets[0]
  return {
    name: '',
    publicTitle: '',
    conditions: [
      { name: 'TRL', checkpointId: '', live: false },
      { name: 'GRPO', checkpointId: '', live: false },
    ],
    datasetId: dataset?.id ?? '',
    problemCount: Math.min(20, dataset?.rowCount || 20),
    seed: 0,
    handoffRule: { kind: 'step', k: 2, f: 0.5 } as HandoffRule,
    temperature: 1,
    maxNewTokens: 96,
    liveTokensPerSecond: 12,
    tasksPerParticipant: 4,
    timeLimitSeconds: 300,
    minSecondsPerTask: 10,
    consentText: DEFAULT_CONSENT,
    instructions: DEFAULT_INSTRUCTIONS,
    practice: { ...DEFAULT_PRACTICE },
    attentionChecks: [{ ...DEFAULT_ATTENTION_CHECK, options: [...DEFAULT_ATTENTION_CHECK.options] }],
    completionCode: codes.completed,
    redirectUrl: '',
    screenedOutCode: codes.screenedOut,
    screenedOutRedirectUrl: '',
    timedOutCode: codes.timedOut,
    timedOutRedirectUrl: '',
    urlParams: [...PROLIFIC_PARAMS],
    // the recruiter's id is the participant's way back to their session on any device (docs/studies.md, Participant identity)
    requireParticipantId: true,
    sessionTimeLimitSeconds: null,
    refillDropouts: true,
    juniorSamples: 4,
    // no pay is assumed: the researcher sets it (the power panel's cost reads it)
    currency: 'GBP',
    basePayCents: 0,
    bonusPerCorrectCents: 0,
    bonusCapCents: null,
    powerPlan: defaultPowerPlan(['TRL', 'GRPO']),
  }
}

/** "run · TRL · step 40": a run checkpoint as the studies pages name it (a pair's run name already ends in its algorithm). */
export function runCheckpointLabel(runName: string, algorithm: string, step: number): string {
  return `${runName}${runName.endsWith(` · ${algorithm}`) ? '' : ` · ${algorithm}`} · step ${step}`
}
