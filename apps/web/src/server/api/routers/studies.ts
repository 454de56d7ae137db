// Handoff studies (researcher side): design (DRAFT), launch (GENERATING: the worker pre-generates the senior traces
// and opens the study), pause/resume/close, dashboard, participants, exports, collaborators. The participant side is
// participant.ts. Access (server/auth/access.ts): the design is readable lab-wide; participant data (dashboard,
// participants, sessions, exports) by the owner, collaborators and admins; raw ids by the owner and admins; the owner or
// an admin changes the study and its collaborators.
import { randomBytes } from 'node:crypto'

import { TRPCError } from '@trpc/server'

import { Prisma } from '../../../generated/prisma/client'
import { audit } from '../../audit'
import { parseReport } from '../../evaluation-reports'
import { requireStudyNeed, studyAccess, studyPermissions } from '../../auth/access'
import type { Db } from '../../db'
import { enqueueJob } from '../../jobs'
import { LATIN_SQUARE_RULE, participantItems } from '../../studies/assignment'
import { enqueueStudyAnalysis, participantSession, studyAnalysis, studyDashboard, studyParticipants } from '../../studies/dashboard'
import { requestStoredExport, storedExportSchema } from '../../studies/export'
import { setExclusionSchema, setManualExclusion } from '../../studies/manual-exclusion'
import { handoffPointText, nearestHandoffPoint, powerPlanFor } from '../../studies/power'
import { buildPreregistrationDraft, preregistrationStatus } from '../../studies/preregistration'
import { consentPlaceholderProblem } from '../../studies/text-placeholders'
import { fieldError } from '../errors'
import { paged, skipTake } from '../pagination'
import { createTRPCRouter, researcherProcedure, studyProcedure } from '../trpc'
import {
  addCollaboratorSchema,
  dashboardSchema,
  listStudiesSchema,
  participantSessionSchema,
  participantsSchema,
  powerPrefillSchema,
  removeCollaboratorSchema,
  studyDesignSchema,
  studyIdSchema,
  updateStudySchema,
  type StudyDesign,
} from './studies.schema'

/** Where participants start; the study's URL parameters are appended by the recruiting platform. */
export function studyLinkPath(studyId: string): string {
  return `/study/${studyId}`
}

/** A procedure on a study the caller owns (or any, for an admin); others get FORBIDDEN naming `verb`. */
function ownerProcedure(verb: string) {
  return studyProcedure('manage', `Only the study’s owner or an admin can ${verb} it`)
}

/** The study's collaborators, oldest first. */
async function collaboratorsOf(db: Db, studyId: string) {
  const rows = await db.studyCollaborator.findMany({
    where: { studyId },
    orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }],
    select: { userId: true, createdAt: true, user: { select: { email: true, name: true, disabledAt: true } }, addedBy: { select: { email: true } } },
  })
  return rows.map((r) => ({
    userId: r.userId, email: r.user.email, name: r.user.name, disabled: r.user.disabledAt !== null, addedAt: r.createdAt,
    addedByEmail: r.addedBy?.email ?? null,
  }))
}

/** Checks what zod cannot: the dataset and checkpoints exist and the dataset has enough problems. */
async function checkReferences(db: Db, design: StudyDesign) {
  const dataset = await db.dataset.findUnique({ where: { id: design.datasetId }, select: { id: true, _count: { select: { problems: true } } } })
  if (!dataset) throw fieldError({ datasetId: ['No such dataset'] })
  if (dataset._count.problems < design.problemCount) {
    throw fieldError({ problemCount: [`The dataset has ${dataset._count.problems} problems; choose at most that many`] })
  }
  const found = await db.checkpoint.findMany({ where: { id: { in: design.conditions.map((c) => c.checkpointId) } }, select: { id: true } })
  const known = new Set(found.map((c) => c.id))
  const errors: Record<string, string[]> = {}
  design.conditions.forEach((c, i) => {
    if (!known.has(c.checkpointId)) errors[`conditions.${i}.checkpointId`] = ['No such checkpoint']
  })
  if (Object.keys(errors).length) throw fieldError(errors)
}

function designData(design: StudyDesign, powerPlan: Prisma.InputJsonValue | typeof Prisma.DbNull) {
  const { conditions: _conditions, powerPlan: _powerPlan, ...fields } = design
  return {
    ...fields,
    handoffRule: fields.handoffRule as Prisma.InputJsonValue,
    practice: fields.practice as Prisma.InputJsonValue,
    attentionChecks: fields.attentionChecks as unknown as Prisma.InputJsonValue,
    powerPlan,
  }
}

/**
 * The design's power plan as stored (studies.power_plan, part of the preregistration): its inputs with the curve, N
 * needed and cost re-simulated here (studies/power.ts, the same seeded code the designer runs), so what is stored
 * follows from what is stored beside it.
 */
async function storedPowerPlan(db: Db, design: StudyDesign): Promise<Prisma.InputJsonValue | typeof Prisma.DbNull> {
  if (!design.powerPlan) return Prisma.DbNull
  const checkpoints = await db.checkpoint.findMany({
    where: { id: { in: design.conditions.map((c) => c.checkpointId) } },
    select: { id: true, run: { select: { algorithm: true } } },
  })
  const algorithmOf = new Map(checkpoints.map((c) => [c.id, c.run?.algorithm ?? null]))
  const conditions = design.conditions.map((c) => ({ name: c.name, algorithm: algorithmOf.get(c.checkpointId) ?? null }))
  const { elapsedMs: _elapsed, ...plan } = powerPlanFor({ ...design, conditions }, design.powerPlan)
  return plan as unknown as Prisma.InputJsonValue
}

/** Model-side accuracies are kept inside (0, 1), where the power simulation's logits are finite. */
const PREFILL_BOUNDS = [0.01, 0.99] as const

const TRANSITIONS = {
  pause: { from: ['OPEN'], to: 'PAUSED', verb: 'pause' },
  resume: { from: ['PAUSED'], to: 'OPEN', verb: 'resume' },
  close: { from: ['GENERATING', 'OPEN', 'PAUSED'], to: 'CLOSED', verb: 'close' },
} as const

function transition(name: keyof typeof TRANSITIONS) {
  const { from, to, verb } = TRANSITIONS[name]
  return ownerProcedure(verb).mutation(async ({ ctx }) => {
    const study = ctx.study
    return ctx.db.$transaction(async (tx) => {
      const changed = await tx.study.updateMany({
        where: { id: study.id, status: { in: [...from] } },
        data: { status: to, ...(to === 'CLOSED' ? { closedAt: new Date() } : {}) },
      })
      if (changed.count === 0) {
        throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `A ${study.status.toLowerCase()} study cannot be ${verb}d (only ${from.join(' or ').toLowerCase()})` })
      }
      await audit(tx, { actorId: ctx.user.id, action: `study.${name}`, entity: 'studies', entityId: study.id, details: { from: study.status, to } })
      return { status: to }
    })
  })
}

export const studiesRouter = createTRPCRouter({
  list: researcherProcedure.input(listStudiesSchema).query(async ({ ctx, input }) => {
    const where: Prisma.StudyWhereInput = {
      ...(input.status ? { status: input.status } : {}),
      ...(input.search ? { name: { contains: input.search, mode: 'insensitive' } } : {}),
    }
    const [total, rows] = await ctx.db.$transaction([
      ctx.db.study.count({ where }),
      ctx.db.study.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...skipTake(input),
        select: {
          id: true, name: true, status: true, createdAt: true, tasksPerParticipant: true,
          owner: { select: { email: true } },
          conditions: { orderBy: { name: 'asc' }, select: { name: true } },
          _count: { select: { participants: true } },
        },
      }),
    ])
    const completed = await ctx.db.participant.groupBy({
      by: ['studyId'], where: { studyId: { in: rows.map((r) => r.id) }, completedAt: { not: null } }, _count: { _all: true },
    })
    const completedBy = new Map(completed.map((c) => [c.studyId, c._count._all]))
    return paged(
      rows.map(({ owner, conditions, _count, ...s }) => ({
        ...s, ownerEmail: owner.email, conditions: conditions.map((c) => c.name), participants: _count.participants, completed: completedBy.get(s.id) ?? 0,
      })),
      total,
      input,
    )
  }),

  get: researcherProcedure.input(studyIdSchema).query(async ({ ctx, input }) => {
    const study = await ctx.db.study.findUnique({
      where: { id: input.id },
      include: {
        owner: { select: { id: true, email: true } },
        dataset: { select: { id: true, name: true } },
        conditions: {
          orderBy: { name: 'asc' },
          include: {
            checkpoint: {
              select: {
                id: true, step: true, path: true,
                run: { select: { id: true, name: true, algorithm: true } },
                baseModel: { select: { id: true, name: true } },
              },
            },
            _count: { select: { items: true } },
          },
        },
        jobs: {
          where: { kind: 'GENERATE_STUDY_TRACES' },
          orderBy: { createdAt: 'desc' },
          take: 1,
          select: { id: true, status: true, progress: true, progressMessage: true, error: true, attempts: true },
        },
        _count: { select: { items: true, participants: true } },
      },
    })
    if (!study) throw new TRPCError({ code: 'NOT_FOUND', message: `No study ${input.id}` })
    // the preregistration's texts are downloaded (/api/studies/<id>/preregistration), not polled with the page
    const { hashSalt: _salt, jobs, preregistrationDraft, preregistrationJson: _json, preregistrationMarkdown: _markdown, ...rest } = study
    const itemsWithTraces = await ctx.db.studyItem.count({ where: { studyId: study.id, traceId: { not: null } } })
    // the design is lab-wide; what the caller may do beyond reading it, for the page's sections and buttons
    const { mayControl, mayReadParticipantData, mayExportRawIds } = studyPermissions(ctx.user, await studyAccess(ctx.db, ctx.user, study.id))
    return {
      ...rest,
      mayReadParticipantData,
      mayExportRawIds,
      generationJob: jobs[0] ?? null,
      preregistration: {
        status: preregistrationStatus({ preregistrationSha256: study.preregistrationSha256, preregistrationDraft }),
        sha256: study.preregistrationSha256,
      },
      itemsWithTraces,
      link: studyLinkPath(study.id),
      assignmentRuleText: LATIN_SQUARE_RULE,
      mayControl,
      canEdit: mayControl && study.status === 'DRAFT',
    }
  }),

  create: researcherProcedure.input(studyDesignSchema).mutation(async ({ ctx, input }) => {
    await checkReferences(ctx.db, input)
    const powerPlan = await storedPowerPlan(ctx.db, input)
    return ctx.db.$transaction(async (tx) => {
      const study = await tx.study.create({
        data: {
          ...designData(input, powerPlan),
          ownerId: ctx.user.id,
          hashSalt: randomBytes(16).toString('hex'),
          conditions: { create: input.conditions.map((c) => ({ name: c.name, checkpointId: c.checkpointId, live: c.live })) },
        },
        select: { id: true },
      })
      await audit(tx, { actorId: ctx.user.id, action: 'study.create', entity: 'studies', entityId: study.id, details: { name: input.name } })
      return study
    })
  }),

  update: ownerProcedure('edit').input(updateStudySchema).mutation(async ({ ctx, input }) => {
    const study = ctx.study
    if (study.status !== 'DRAFT') throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Only a draft study can be edited' })
    await checkReferences(ctx.db, input.design)
    const powerPlan = await storedPowerPlan(ctx.db, input.design)
    return ctx.db.$transaction(async (tx) => {
      await tx.studyItem.deleteMany({ where: { studyId: study.id } })
      await tx.studyCondition.deleteMany({ where: { studyId: study.id } })
      await tx.study.update({
        where: { id: study.id },
        data: { ...designData(input.design, powerPlan), conditions: { create: input.design.conditions.map((c) => ({ name: c.name, checkpointId: c.checkpointId, live: c.live })) } },
      })
      await audit(tx, { actorId: ctx.user.id, action: 'study.update', entity: 'studies', entityId: study.id })
      return { id: study.id }
    })
  }),

  /**
   * The power panel's prefill: per checkpoint, the model-side accuracy at the study's handoff rule — the point nearest
   * the rule on the handoff curve (after step k: handoff_senior_first_k; at fraction f: handoff_fraction) of the
   * checkpoint's newest finished evaluation that has that curve — and a sentence saying where it came from.
   */
  powerPrefill: researcherProcedure.input(powerPrefillSchema).query(async ({ ctx, input }) => {
    const rule = input.handoffRule
    const curve = rule.kind === 'step' ? 'handoff_senior_first_k' : 'handoff_fraction'
    const rows = await ctx.db.$queryRaw<{ id: string; checkpointId: string; curve: unknown }[]>`
      SELECT er.id, er.checkpoint_id AS "checkpointId", r.report -> 'curves' -> ${curve} AS curve
      FROM evaluation_runs er JOIN evaluation_reports r ON r.evaluation_run_id = er.id
      WHERE er.checkpoint_id = ANY(${[...new Set(input.checkpointIds)]}) AND er.status = 'SUCCEEDED'
        AND r.report -> 'curves' -> ${curve} IS NOT NULL
      ORDER BY er.created_at DESC, er.id DESC, r.created_at DESC`
    return input.checkpointIds.map((checkpointId) => {
      for (const row of rows.filter((r) => r.checkpointId === checkpointId)) {
        const point = nearestHandoffPoint(parseReport(null, { curves: { [curve]: row.curve } }), rule)
        if (!point) continue
        const accuracy = Math.min(PREFILL_BOUNDS[1], Math.max(PREFILL_BOUNDS[0], point.accuracy))
        const exact = (rule.kind === 'step' ? rule.k : rule.f) === point.x
        const source =
          `from evaluation ${row.id}, ${handoffPointText(rule, point.x)}: ${point.accuracy.toFixed(2)}` +
          (exact ? '' : ` (the evaluated point nearest the study's ${handoffPointText(rule, rule.kind === 'step' ? rule.k : rule.f)})`) +
          (accuracy !== point.accuracy ? `, taken as ${accuracy} for the simulation` : '')
        return { checkpointId, evaluationId: row.id, x: point.x, accuracy, source }
      }
      return {
        checkpointId, evaluationId: null, x: null, accuracy: null,
        source: `no finished evaluation of this checkpoint has the ${curve} curve: enter the accuracy you expect`,
      }
    })
  }),

  /**
   * DRAFT → GENERATING: sample the problems (seeded), create one item per condition × problem, and queue the worker
   * job that generates each condition's senior trace per problem, cuts it at the handoff rule and opens the study.
   */
  launch: ownerProcedure('launch').mutation(async ({ ctx }) => {
    const owned = ctx.study
    if (owned.status !== 'DRAFT') throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `The study is ${owned.status.toLowerCase()}; only a draft can be launched` })
    return ctx.db.$transaction(async (tx) => {
      const study = await tx.study.findUniqueOrThrow({
        where: { id: owned.id },
        include: { conditions: { select: { id: true, name: true, checkpointId: true, live: true, checkpoint: { select: { run: { select: { algorithm: true } } } } } } },
      })
      // participants must never read "[DURATION]": the designer's placeholders are filled before launch
      const placeholders = consentPlaceholderProblem(study.consentText)
      if (placeholders) throw fieldError({ consentText: [placeholders] }, placeholders)
      // a seeded sample: order by a hash of (seed, problem id), so the same design always picks the same problems
      const problems = await tx.$queryRaw<{ id: string; externalId: string }[]>`
        SELECT id, external_id AS "externalId" FROM problems WHERE dataset_id = ${study.datasetId}
        ORDER BY md5(${String(study.seed)} || ':' || id), id LIMIT ${study.problemCount}`
      if (problems.length < study.problemCount) {
        throw fieldError({ problemCount: [`The dataset has ${problems.length} problems; the study needs ${study.problemCount}`] })
      }
      await tx.studyItem.deleteMany({ where: { studyId: study.id } })
      await tx.studyItem.createMany({
        data: study.conditions.flatMap((c) => problems.map((p) => ({ studyId: study.id, conditionId: c.id, problemId: p.id }))),
      })
      // the preregistration's design part; the worker completes and freezes it when the study opens
      const preregistrationDraft = buildPreregistrationDraft({
        study,
        conditions: study.conditions.map((c) => ({ name: c.name, checkpointId: c.checkpointId, live: c.live, algorithm: c.checkpoint.run?.algorithm ?? null })),
        problems,
      })
      await tx.study.update({
        where: { id: study.id },
        data: { status: 'GENERATING', launchedAt: new Date(), generationError: null, preregistrationDraft: preregistrationDraft as unknown as Prisma.InputJsonValue },
      })
      const jobId = await enqueueJob(tx, { kind: 'GENERATE_STUDY_TRACES', payload: { studyId: study.id }, studyId: study.id, createdById: ctx.user.id })
      await audit(tx, { actorId: ctx.user.id, action: 'study.launch', entity: 'studies', entityId: study.id, details: { jobId, items: study.conditions.length * problems.length } })
      return { jobId }
    })
  }),

  pause: transition('pause'),
  resume: transition('resume'),
  close: transition('close'),

  dashboard: studyProcedure('participantData').input(dashboardSchema).query(async ({ ctx, input }) => {
    return studyDashboard(ctx.db, input.id, { applyExclusions: input.applyExclusions })
  }),

  /** The newest cached mixed-model fit, responses since, and the fitting job's state (reads only: the worker fits). */
  analysis: studyProcedure('participantData').input(studyIdSchema).query(async ({ ctx, input }) => {
    return studyAnalysis(ctx.db, input.id)
  }),

  /** Queues a new fit of the mixed model (STUDY_ANALYSIS), unless one is already queued. */
  refitModel: studyProcedure('participantData').input(studyIdSchema).mutation(async ({ ctx, input }) => {
    return ctx.db.$transaction(async (tx) => {
      const queued = await enqueueStudyAnalysis(tx, input.id, ctx.user.id)
      if (!queued.alreadyQueued) {
        await audit(tx, { actorId: ctx.user.id, action: 'study.refit_model', entity: 'studies', entityId: input.id, details: { jobId: queued.jobId } })
      }
      return queued
    })
  }),

  participants: studyProcedure('participantData').input(participantsSchema).query(async ({ ctx, input }) => {
    return studyParticipants(ctx.db, input.id, { page: input.page, pageSize: input.pageSize, filter: input.filter, outcome: input.outcome })
  }),

  participantSession: studyProcedure('participantData').input(participantSessionSchema).query(async ({ ctx, input }) => {
    const session = await participantSession(ctx.db, input.id, input.participantId)
    if (!session) throw new TRPCError({ code: 'NOT_FOUND', message: `No participant ${input.participantId} in study ${input.id}` })
    return session
  }),

  /** The researcher's own exclusion of a participant ('excluded' or 'tester', with a note), or null to clear it; audited. */
  setExclusion: studyProcedure('participantData').input(setExclusionSchema).mutation(async ({ ctx, input }) => {
    const state = await ctx.db.$transaction((tx) =>
      setManualExclusion(tx, { studyId: input.id, participantId: input.participantId, kind: input.kind, note: input.note, userId: ctx.user.id }),
    )
    if (!state) throw new TRPCError({ code: 'NOT_FOUND', message: `No participant ${input.participantId} in study ${input.id}` })
    return state
  }),

  /**
   * What "preview as participant" shows: the texts, the practice task and the first participant's tasks (with the
   * senior's reasoning once traces exist). The preview runs in the browser only and records nothing.
   */
  preview: researcherProcedure.input(studyIdSchema).query(async ({ ctx, input }) => {
    const study = await ctx.db.study.findUnique({
      where: { id: input.id },
      select: {
        id: true, name: true, publicTitle: true, status: true, consentText: true, instructions: true, practice: true, attentionChecks: true,
        timeLimitSeconds: true, completionCode: true, redirectUrl: true, tasksPerParticipant: true, problemCount: true, datasetId: true,
        screenedOutCode: true, screenedOutRedirectUrl: true, timedOutCode: true, timedOutRedirectUrl: true, sessionTimeLimitSeconds: true,
        conditions: { orderBy: { name: 'asc' }, select: { id: true, name: true, live: true } },
      },
    })
    if (!study) throw new TRPCError({ code: 'NOT_FOUND', message: `No study ${input.id}` })
    const items = await ctx.db.studyItem.findMany({
      where: { studyId: study.id },
      select: { id: true, conditionId: true, prefixText: true, condition: { select: { name: true } }, problem: { select: { id: true, externalId: true, problem: true } } },
    })
    let tasks: { conditionName: string; problem: string; prefixText: string | null }[]
    if (items.length) {
      const byId = new Map(items.map((i) => [i.id, i]))
      const design = items.map((i) => ({ id: i.id, conditionId: i.conditionId, conditionName: i.condition.name, problemId: i.problem.id, problemExternalId: i.problem.externalId }))
      tasks = participantItems(0, design, study.tasksPerParticipant).map((d) => {
        const item = byId.get(d.id)!
        return { conditionName: d.conditionName, problem: item.problem.problem, prefixText: item.prefixText }
      })
    } else {
      // not launched yet: the dataset's first problems, without reasoning
      const sample = await ctx.db.problem.findMany({ where: { datasetId: study.datasetId }, orderBy: { externalId: 'asc' }, take: study.tasksPerParticipant, select: { problem: true } })
      tasks = sample.map((p, i) => ({ conditionName: study.conditions[i % study.conditions.length]?.name ?? '', problem: p.problem, prefixText: null }))
    }
    const { datasetId: _d, problemCount: _p, conditions: _c, ...design } = study
    // the preview records nothing, so a live condition's senior (which stores every span) is not run in it
    return { ...design, tasks, liveConditions: study.conditions.filter((c) => c.live).map((c) => c.name) }
  }),

  /**
   * Queues a Parquet export or the analysis bundle (zip) for the worker (EXPORT_STUDY); CSV and JSONL stream from
   * /api/studies/<id>/export, the Prolific bonus file from /api/studies/<id>/bonus.
   */
  requestExport: studyProcedure('participantData').input(storedExportSchema).mutation(async ({ ctx, input }) => {
    if (input.idMode === 'raw') requireStudyNeed(ctx.user, ctx.study, 'rawIds')
    return ctx.db.$transaction((tx) => requestStoredExport(tx, { studyId: input.id, idMode: input.idMode, format: input.format, userId: ctx.user.id }))
  }),

  exports: studyProcedure('participantData').query(async ({ ctx, input }) => {
    const rows = await ctx.db.studyExport.findMany({
      where: { studyId: input.id },
      orderBy: { createdAt: 'desc' },
      take: 50,
      select: { id: true, format: true, idMode: true, status: true, rowCount: true, error: true, createdAt: true, createdBy: { select: { email: true } } },
    })
    return rows.map(({ createdBy, ...r }) => ({ ...r, createdByEmail: createdBy?.email ?? null }))
  }),

  /** Researchers who read the study's participant data beside its owner; the owner (or an admin) keeps the list. */
  collaborators: createTRPCRouter({
    list: studyProcedure('participantData').query(({ ctx }) => collaboratorsOf(ctx.db, ctx.study.id)),

    /** Adds an existing, enabled account by e-mail address. */
    add: ownerProcedure('share').input(addCollaboratorSchema).mutation(async ({ ctx, input }) => {
      const user = await ctx.db.user.findUnique({ where: { email: input.email }, select: { id: true, email: true, disabledAt: true } })
      if (!user) throw fieldError({ email: [`No account has the e-mail address ${input.email}; an admin can invite them first`] })
      if (user.disabledAt) throw fieldError({ email: [`The account ${input.email} is disabled`] })
      if (user.id === ctx.study.ownerId) throw fieldError({ email: [`${input.email} owns this study`] })
      const already = await ctx.db.studyCollaborator.count({ where: { studyId: ctx.study.id, userId: user.id } })
      if (already) throw fieldError({ email: [`${input.email} is already a collaborator`] })
      try {
        await ctx.db.$transaction(async (tx) => {
          await tx.studyCollaborator.create({ data: { studyId: ctx.study.id, userId: user.id, addedById: ctx.user.id } })
          await audit(tx, {
            actorId: ctx.user.id, action: 'study.collaborator.add', entity: 'studies', entityId: ctx.study.id, details: { userId: user.id, email: user.email },
          })
        })
      } catch (error) {
        // added twice at once: the primary key decides
        if ((error as { code?: string }).code === 'P2002') throw fieldError({ email: [`${input.email} is already a collaborator`] })
        throw error
      }
      return collaboratorsOf(ctx.db, ctx.study.id)
    }),

    remove: ownerProcedure('share').input(removeCollaboratorSchema).mutation(async ({ ctx, input }) => {
      await ctx.db.$transaction(async (tx) => {
        const { count } = await tx.studyCollaborator.deleteMany({ where: { studyId: ctx.study.id, userId: input.userId } })
        if (count === 0) throw new TRPCError({ code: 'NOT_FOUND', message: `User ${input.userId} is not a collaborator of study ${ctx.study.id}` })
        await audit(tx, { actorId: ctx.user.id, action: 'study.collaborator.remove', entity: 'studies', entityId: ctx.study.id, details: { userId: input.userId } })
      })
      return collaboratorsOf(ctx.db, ctx.study.id)
    }),
  }),
})
