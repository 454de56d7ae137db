// The preregistration, web side: the draft built at launch (pure, from the design and the rule texts), written by
// `studies.launch`, its status and hash on `studies.get`, and the download route serving the frozen JSON byte for byte
// (sha256 of the download = the hash on the page).
import { createHash } from 'node:crypto'

import type { Session } from 'next-auth'
import { beforeAll, describe, expect, test, vi } from 'vitest'

const current = vi.hoisted(() => ({ session: null as Session | null }))
// the route handler reads the caller's session through auth(); here it is the session the test signs in as
vi.mock('@/server/auth', () => ({ auth: async () => current.session }))

import * as preregistrationRoute from '@/app/api/studies/[id]/preregistration/route'
import { LATIN_SQUARE_RULE, REFILL_RULE } from '@/server/studies/assignment'
import { AGREEMENT_METHOD, differenceMethodText, exclusionRuleTexts } from '@/server/studies/dashboard'
import {
  MIXED_MODEL_FORMULA, buildPreregistrationDraft, outcomeRuleTexts, preregistrationStatus, referenceCondition, type PreregistrationStudy,
} from '@/server/studies/preregistration'

import { callerFor, makeUser, sessionFor, testDb, type TestUser } from './support/helpers'
import { makeOpenStudy, validStudyDesign, type OpenStudy } from './support/studies'

const db = testDb()

const STUDY: PreregistrationStudy = {
  id: 'study-1', name: 'Legibility to people', seed: 7, tasksPerParticipant: 4, timeLimitSeconds: 300, sessionTimeLimitSeconds: null,
  temperature: 0.7, maxNewTokens: 256, juniorSamples: 8, minSecondsPerTask: 10, maxParticipants: 120,
  handoffRule: { kind: 'fraction', f: 0.5 }, assignmentRule: 'LATIN_SQUARE', refillDropouts: true,
  attentionChecks: [{ id: 'a1', afterTask: 2, prompt: 'Choose "blue".', options: ['red', 'blue'], correct: 'blue' }],
  completionCode: 'C0DE', redirectUrl: 'https://app.prolific.com/submissions/complete?cc=C0DE', screenedOutCode: 'SCRN', screenedOutRedirectUrl: null,
  timedOutCode: null, timedOutRedirectUrl: null, currency: 'GBP', basePayCents: 450, bonusPerCorrectCents: 25, bonusCapCents: 100,
  powerPlan: { alpha: 0.05, power: 0.8, accuracies: { TRL: 0.6, GRPO: 0.45 } },
}
const CONDITIONS = [
  { name: 'TRL senior', checkpointId: 'ck-trl', live: false, algorithm: 'TRL' },
  { name: 'GRPO senior', checkpointId: 'ck-grpo', live: false, algorithm: 'GRPO' },
]
const PROBLEMS = [{ id: 'pb-2', externalId: 'q2' }, { id: 'pb-1', externalId: 'q1' }]

describe('buildPreregistrationDraft (pure)', () => {
  test('the design as the contract lays it out: study fields, conditions by name, problems in launch order, every rule in words', () => {
    const draft = buildPreregistrationDraft({ study: STUDY, conditions: CONDITIONS, problems: PROBLEMS })
    expect(draft.version).toBe(1)
    expect(draft.study).toEqual({
      id: 'study-1', name: 'Legibility to people', seed: 7, tasksPerParticipant: 4, timeLimitSeconds: 300, sessionTimeLimitSeconds: null,
      temperature: 0.7, maxNewTokens: 256, juniorSamples: 8, minSecondsPerTask: 10, maxParticipants: 120,
    })
    expect(draft.conditions).toEqual([
      { name: 'GRPO senior', checkpointId: 'ck-grpo', live: false },
      { name: 'TRL senior', checkpointId: 'ck-trl', live: false },
    ])
    expect(draft.problems).toEqual(PROBLEMS)
    expect(draft.handoffRule).toEqual({ kind: 'fraction', f: 0.5 })
    expect(draft.assignment).toEqual({ rule: 'LATIN_SQUARE', text: LATIN_SQUARE_RULE, refillDropouts: true, refillText: REFILL_RULE })
    expect(draft.exclusions).toEqual(exclusionRuleTexts(10))
    expect(draft.attentionChecks).toEqual(STUDY.attentionChecks)
    expect(draft.outcomes).toEqual({
      completed: { code: 'C0DE', redirectUrl: STUDY.redirectUrl },
      screenedOut: { code: 'SCRN', redirectUrl: null },
      timedOut: { code: null, redirectUrl: null },
      rules: outcomeRuleTexts(STUDY),
    })
    // the session limit in the rules is the derived one: 4 × 300 s + the allowance
    expect(draft.outcomes.rules.join('\n')).toMatch(/Timed out: The whole session may take 1800 s from consent/)
    expect(draft.outcomes.rules.join('\n')).toMatch(/2nd failed attention check/)
    expect(draft.pay).toEqual({ currency: 'GBP', basePayCents: 450, bonusPerCorrectCents: 25, bonusCapCents: 100 })
    expect(draft.powerPlan).toEqual(STUDY.powerPlan)
    expect(draft.analysis.primary).toMatch(/TRL − GRPO \(TRL senior minus GRPO senior\)/)
    expect(draft.analysis.model).toContain(MIXED_MODEL_FORMULA)
    expect(draft.analysis.model).toContain('(GRPO senior)')
    expect(draft.analysis.test).toBe(`TRL − GRPO: ${differenceMethodText()}`)
    expect(draft.analysis.humanJuniorAgreement).toContain(AGREEMENT_METHOD)
    // pure: the same input, the same draft, whatever the order of the conditions; a JSON round trip changes nothing
    expect(buildPreregistrationDraft({ study: STUDY, conditions: [...CONDITIONS].reverse(), problems: PROBLEMS })).toEqual(draft)
    expect(JSON.parse(JSON.stringify(draft))).toEqual(draft)
  })

  test('no primary comparison without two conditions or one TRL and one GRPO; the reference is the first GRPO, else the first by name', () => {
    const three = [...CONDITIONS, { name: 'A base', checkpointId: 'ck-base', live: true, algorithm: null }]
    expect(referenceCondition(three)).toBe('GRPO senior')
    expect(referenceCondition([{ name: 'z', checkpointId: 'a', live: false, algorithm: 'TRL' }, { name: 'b', checkpointId: 'b', live: false, algorithm: null }])).toBe('b')
    expect(referenceCondition([])).toBeNull()
    const draft = buildPreregistrationDraft({
      study: { ...STUDY, powerPlan: null, sessionTimeLimitSeconds: 900 },
      conditions: [...three, { name: 'TRL again', checkpointId: 'ck-trl-2', live: false, algorithm: 'TRL' }],
      problems: [],
    })
    expect(draft.analysis.primary).toMatch(/none is defined/)
    expect(draft.analysis.test).toBe(differenceMethodText())
    expect(draft.conditions.map((c) => c.name)).toEqual(['A base', 'GRPO senior', 'TRL again', 'TRL senior'])
    expect(draft.powerPlan).toBeNull()
    expect(draft.outcomes.rules.join('\n')).toMatch(/900 s from consent \(set by the study\)/)
  })

  test('status: frozen once hashed, a draft after launch, none before', () => {
    expect(preregistrationStatus({ preregistrationSha256: 'ab'.repeat(32), preregistrationDraft: {} })).toBe('frozen')
    expect(preregistrationStatus({ preregistrationSha256: null, preregistrationDraft: { version: 1 } })).toBe('draft')
    expect(preregistrationStatus({ preregistrationSha256: null, preregistrationDraft: null })).toBe('none')
  })
})

describe('launch writes the draft; the page shows its status and hash', () => {
  let open: OpenStudy

  beforeAll(async () => {
    open = await makeOpenStudy(db)
  })

  test('the draft of a launched study is the pure function of its design, conditions and sampled problems', async () => {
    const study = await db.study.findUniqueOrThrow({ where: { id: open.studyId } })
    const conditions = await db.studyCondition.findMany({
      where: { studyId: open.studyId }, select: { name: true, checkpointId: true, live: true, checkpoint: { select: { run: { select: { algorithm: true } } } } },
    })
    const items = await db.studyItem.findMany({ where: { studyId: open.studyId }, select: { problem: { select: { id: true, externalId: true } } } })
    const draft = study.preregistrationDraft as { problems: { id: string; externalId: string }[] }
    // every problem of the study's items, each once
    expect([...draft.problems].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [...new Map(items.map((i) => [i.problem.id, i.problem])).values()].sort((a, b) => a.id.localeCompare(b.id)),
    )
    expect(draft).toEqual(
      buildPreregistrationDraft({
        study,
        conditions: conditions.map((c) => ({ name: c.name, checkpointId: c.checkpointId, live: c.live, algorithm: c.checkpoint.run?.algorithm ?? null })),
        problems: draft.problems,
      }),
    )
    expect(study.preregistrationSha256).toBeNull()
  })

  test('studies.get: the status and hash only, never the texts (the page polls it)', async () => {
    const api = await callerFor(db, open.owner)
    const drafted = await api.studies.get({ id: open.studyId })
    expect(drafted.preregistration).toEqual({ status: 'draft', sha256: null })
    for (const key of ['preregistrationDraft', 'preregistrationJson', 'preregistrationMarkdown', 'hashSalt']) expect(drafted).not.toHaveProperty(key)
    const sha256 = 'c'.repeat(64)
    await db.study.update({ where: { id: open.studyId }, data: { preregistrationJson: '{}', preregistrationMarkdown: '#', preregistrationSha256: sha256 } })
    expect((await api.studies.get({ id: open.studyId })).preregistration).toEqual({ status: 'frozen', sha256 })
    const draftOnly = await api.studies.create(validStudyDesign([{ name: 'only', checkpointId: open.checkpoints.trl.id }], open.datasetId))
    expect((await api.studies.get({ id: draftOnly.id })).preregistration).toEqual({ status: 'none', sha256: null })
  })
})

describe('GET /api/studies/<id>/preregistration', () => {
  let frozen: OpenStudy
  let unfrozen: OpenStudy
  let stranger: TestUser
  // canonical JSON as the worker writes it (sorted keys, no spaces, UTF-8 kept): non-ASCII on purpose
  const json = '{"conditions":[{"name":"GRPO − baseline","checkpointSha256":"ab"}],"study":{"name":"Lisibilité 🧠"},"version":1}'
  const markdown = '# Preregistration: Lisibilité 🧠\n\n- GRPO − baseline\n'
  const sha256 = createHash('sha256').update(Buffer.from(json, 'utf8')).digest('hex')

  beforeAll(async () => {
    frozen = await makeOpenStudy(db)
    unfrozen = await makeOpenStudy(db)
    stranger = await makeUser(db, 'RESEARCHER')
    await db.study.update({ where: { id: frozen.studyId }, data: { preregistrationJson: json, preregistrationMarkdown: markdown, preregistrationSha256: sha256 } })
  })

  async function get(user: TestUser | null, studyId: string, query = '') {
    current.session = user ? await sessionFor(db, user) : null
    const request = new Request(`http://localhost:3000/api/studies/${studyId}/preregistration${query}`)
    return preregistrationRoute.GET(request, { params: Promise.resolve({ id: studyId }) })
  }

  test('JSON: exactly the stored bytes, so the SHA-256 of the download is the hash on the page', async () => {
    const response = await get(frozen.owner, frozen.studyId, '?format=json')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="preregistration-${frozen.studyId}.json"`)
    expect(response.headers.get('x-preregistration-sha256')).toBe(sha256)
    const bytes = Buffer.from(await response.arrayBuffer())
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256)
    expect(bytes.toString('utf8')).toBe(json)
    // JSON is the default format
    expect(createHash('sha256').update(Buffer.from(await (await get(frozen.owner, frozen.studyId)).arrayBuffer())).digest('hex')).toBe(sha256)
  })

  test('Markdown: the readable rendering, with the JSON’s hash in a header', async () => {
    const response = await get(frozen.owner, frozen.studyId, '?format=md')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/markdown; charset=utf-8')
    expect(response.headers.get('x-preregistration-sha256')).toBe(sha256)
    expect(await response.text()).toBe(markdown)
  })

  test('lab-wide like the design: any researcher reads it; signed out is 401', async () => {
    expect((await get(stranger, frozen.studyId, '?format=json')).status).toBe(200)
    expect((await get(null, frozen.studyId, '?format=json')).status).toBe(401)
    expect((await get(stranger, 'no-such-study')).status).toBe(404)
  })

  test('before the study opens: 409 saying when it is frozen; an unknown format: 400 naming the choices', async () => {
    const early = await get(unfrozen.owner, unfrozen.studyId, '?format=json')
    expect(early.status).toBe(409)
    expect(await early.text()).toMatch(/frozen when the study opens/)
    const odd = await get(frozen.owner, frozen.studyId, '?format=pdf')
    expect(odd.status).toBe(400)
    expect(await odd.text()).toMatch(/format=json or format=md/)
  })
})
