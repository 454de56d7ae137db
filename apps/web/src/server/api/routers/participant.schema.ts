// Input schemas of the participant router (no account: the session token is the credential). Pure zod, no server
// imports: the participant pages validate with the same schemas.
import { z } from 'zod'

/** Ratings are 1 (not at all) … 5 (completely). */
export const RATING_MIN = 1
export const RATING_MAX = 5
export const MAX_CONTINUATION = 20_000
export const MAX_ANSWER = 500
export const MAX_URL_PARAM = 200

/** A link without the identifying parameter, on a study that requires it: the page says this and stops; nothing is written. */
export function missingParticipantIdMessage(param: string): string {
  return (
    `This link is missing your participant ID (${param}), which this study needs to keep your answers together. ` +
    'Please open the study again from the site that sent you here (for example your Prolific study page): it adds your ID to the link.'
  )
}

export const tokenSchema = z.string().min(20, 'This study link is not valid').max(200, 'This study link is not valid')

export const studyInfoSchema = z.object({ studyId: z.string().min(1).max(100) })

export const joinSchema = z.object({
  studyId: z.string().min(1).max(100),
  consent: z.boolean(),
  /** URL parameters of the study link; only the study's accepted ones are kept. */
  params: z.record(z.string().max(64), z.string().max(MAX_URL_PARAM, `URL parameters are at most ${MAX_URL_PARAM} characters`)).default({}),
  /**
   * The session token, made by the page (32 random bytes, base64url) so that join can be retried safely: a second
   * join with the same token returns the same session. Without it the server makes one.
   */
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'The session token must be 32 random bytes in base64url').optional(),
})

export const sessionSchema = z.object({ token: tokenSchema })

/** "Leave the study": the token in the body (a POST), nothing else. */
export const leaveSchema = z.object({ token: tokenSchema })

export const practiceSchema = z.object({
  token: tokenSchema,
  continuation: z.string().max(MAX_CONTINUATION, `At most ${MAX_CONTINUATION} characters`),
  answer: z.string().trim().min(1, 'Give a final answer').max(MAX_ANSWER, `At most ${MAX_ANSWER} characters`),
})

const rating = (label: string) =>
  z
    .number({ error: `Rate ${label}` })
    .int()
    .min(RATING_MIN, `Rate ${label}`)
    .max(RATING_MAX, `Rate ${label}`)

export const draftSchema = z.object({
  token: tokenSchema,
  assignmentId: z.string().min(1).max(100),
  continuation: z.string().max(MAX_CONTINUATION, `At most ${MAX_CONTINUATION} characters`),
  answer: z.string().max(MAX_ANSWER, `At most ${MAX_ANSWER} characters`),
  easeRating: z.number().int().min(RATING_MIN).max(RATING_MAX).nullable().optional(),
  confidence: z.number().int().min(RATING_MIN).max(RATING_MAX).nullable().optional(),
})

/** What the participant fills in for one task (the form's schema; submit adds the token and task). */
export const taskAnswerSchema = z.object({
  continuation: z.string().max(MAX_CONTINUATION, `At most ${MAX_CONTINUATION} characters`),
  answer: z.string().trim().min(1, 'Give a final answer').max(MAX_ANSWER, `At most ${MAX_ANSWER} characters`),
  easeRating: rating('how easy the reasoning was to follow'),
  confidence: rating('how confident you are'),
})

export const submitSchema = z.union([
  taskAnswerSchema.extend({ token: tokenSchema, assignmentId: z.string().min(1).max(100), timedOut: z.literal(false).optional() }),
  // at the deadline the page submits whatever is there; answer and ratings may be empty
  z.object({
    token: tokenSchema,
    assignmentId: z.string().min(1).max(100),
    timedOut: z.literal(true),
    continuation: z.string().max(MAX_CONTINUATION),
    answer: z.string().max(MAX_ANSWER),
    easeRating: z.number().int().min(RATING_MIN).max(RATING_MAX).nullable().optional(),
    confidence: z.number().int().min(RATING_MIN).max(RATING_MAX).nullable().optional(),
  }),
])

export const attentionSchema = z.object({
  token: tokenSchema,
  checkId: z.string().min(1).max(100),
  answer: z.string().min(1, 'Choose an answer').max(MAX_ANSWER),
})

/** A live task's actions: take over from the senior, or hand back with what the participant wrote. */
export const liveTaskSchema = z.object({ token: tokenSchema, assignmentId: z.string().min(1).max(100) })
export const handBackSchema = liveTaskSchema.extend({
  text: z.string().max(MAX_CONTINUATION, `At most ${MAX_CONTINUATION} characters`),
})
