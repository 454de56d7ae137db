// THE access policy of the web app: who the caller is, and what they may do. tRPC's middleware (server/api/trpc.ts)
// and every route handler under app/api/studies call this module; nothing else decides access. The rules, as a table,
// are in docs/security.md (## Access):
//   - a caller is a signed-in user whose account exists, is enabled, and whose session carries the account's current
//     session version (raised by "sign out everywhere" and when an admin disables, enables or signs out the account);
//   - research artefacts (models, datasets, runs, checkpoints, evaluations, traces, a study's design) are readable
//     lab-wide by researchers; changing or stopping one is for its owner or an admin; a job is followed by who started
//     it or an admin;
//   - a study's participant data (sessions, responses, dashboard, exports) is read by its owner, its collaborators and
//     admins; raw participant ids are exported by its owner and admins only; the owner or an admin manages the study
//     and its list of collaborators.
import { TRPCError } from '@trpc/server'
import { getHTTPStatusCodeFromError } from '@trpc/server/http'
import type { Session } from 'next-auth'

import type { Db } from '../db'

export type Role = 'ADMIN' | 'RESEARCHER'

/** The caller as the database has them now (never as the session claims). */
export interface Caller {
  id: string
  email: string
  name: string
  role: Role
}

/** What the rules look at: who, and in which role. */
export type Actor = Pick<Caller, 'id' | 'role'>

/** Roles that use the console; participants have no account (their session token is their credential). */
export const RESEARCHER_ROLES: readonly Role[] = ['RESEARCHER', 'ADMIN']

/** The session version a JWT carries, read by the Auth.js callbacks (config.ts); absent on tokens issued before it. */
export function sessionVersionOf(session: Session | null): number | undefined {
  const version = (session?.user as { sessionVersion?: unknown } | undefined)?.sessionVersion
  return typeof version === 'number' ? version : undefined
}

/** The session version to write into a new JWT: the account's current one. */
export async function currentSessionVersion(db: Db, userId: string): Promise<number | undefined> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { sessionVersion: true } })
  return user?.sessionVersion
}

/**
 * The signed-in caller, re-read on every call, or UNAUTHORIZED: signed out, account deleted, disabled, or the session
 * was revoked (its version is not the account's current one).
 */
export async function authenticate(db: Db, session: Session | null): Promise<Caller> {
  const userId = session?.user?.id
  if (!userId) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue' })
  const user = await db.user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, name: true, role: true, disabledAt: true, sessionVersion: true },
  })
  if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your account no longer exists' })
  if (user.disabledAt) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'This account is disabled' })
  if (sessionVersionOf(session) !== user.sessionVersion) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'This session has been signed out (sign out everywhere, or an administrator changed the account); sign in again' })
  }
  return { id: user.id, email: user.email, name: user.name, role: user.role }
}

/** FORBIDDEN unless the caller has one of `roles`. */
export function requireRole(user: Actor, roles: readonly Role[]): void {
  if (!roles.includes(user.role)) throw new TRPCError({ code: 'FORBIDDEN', message: `Requires role ${roles.join(' or ')}` })
}

// ── research artefacts ────────────────────────────────────────────────────────────────────────────────────────────

/** Models, datasets, runs, checkpoints, evaluations, traces and study designs: every researcher reads them. */
export function canReadArtefact(user: Actor): boolean {
  return RESEARCHER_ROLES.includes(user.role)
}

/** Changing or stopping an artefact (cancel/resume a run, re-validate a model, …): its owner or an admin. */
export function canMutateArtefact(user: Actor, ownerId: string | null): boolean {
  return user.role === 'ADMIN' || (ownerId !== null && ownerId === user.id)
}

/** A job's progress and an upload's row errors (work in progress, not yet an artefact): who started it or an admin. */
export function canFollowJob(user: Actor, startedById: string | null): boolean {
  return canMutateArtefact(user, startedById)
}

/** FORBIDDEN unless the caller may change the artefact; `what` names it ("the run’s", "the model’s"). */
export function requireArtefactOwner(user: Actor, ownerId: string | null, what: string, verb: string): void {
  if (!canMutateArtefact(user, ownerId)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `Only ${what} owner or an admin can ${verb} it` })
  }
}

// ── studies ───────────────────────────────────────────────────────────────────────────────────────────────────────

/** What a study is to the caller. */
export type StudyRelation = 'owner' | 'collaborator' | 'admin' | 'none'

export interface StudyAccess {
  id: string
  name: string
  status: 'DRAFT' | 'GENERATING' | 'OPEN' | 'PAUSED' | 'CLOSED'
  ownerId: string
  relation: StudyRelation
}

/** Owner, collaborators and admins read a study's participant data (sessions, user agents, URL parameters, answers). */
export function canReadParticipantData(user: Actor, study: { ownerId: string; relation: StudyRelation }): boolean {
  return canManageStudy(user, study) || study.relation === 'collaborator'
}

/** Raw participant ids (the recruiting platform's own ids) leave the server for the owner and admins only. */
export function canExportRawIds(user: Actor, study: { ownerId: string }): boolean {
  return canManageStudy(user, study)
}

/** Editing, launching, pausing, resuming, closing a study and managing its collaborators: owner or admin. */
export function canManageStudy(user: Actor, study: { ownerId: string }): boolean {
  return user.role === 'ADMIN' || study.ownerId === user.id
}

/** What a route or procedure needs of a study, with the refusal it gets otherwise. */
export const STUDY_NEEDS = {
  /** the design: every researcher */
  design: { allows: (user: Actor) => canReadArtefact(user), refusal: 'Requires role RESEARCHER or ADMIN' },
  participantData: {
    allows: canReadParticipantData,
    refusal: 'Only the study’s owner, its collaborators or an admin can read its participant data',
  },
  rawIds: { allows: canExportRawIds, refusal: 'Only the study’s owner or an admin can export raw participant ids; collaborators export hashed ids' },
  manage: { allows: canManageStudy, refusal: 'Only the study’s owner or an admin can change it or its collaborators' },
} as const satisfies Record<string, { allows: (user: Actor, study: StudyAccess) => boolean; refusal: string }>

export type StudyNeed = keyof typeof STUDY_NEEDS

/** The study and what it is to the caller, or NOT_FOUND. */
export async function studyAccess(db: Db, user: Actor, studyId: string): Promise<StudyAccess> {
  const study = await db.study.findUnique({
    where: { id: studyId },
    select: { id: true, name: true, status: true, ownerId: true, collaborators: { where: { userId: user.id }, select: { userId: true } } },
  })
  if (!study) throw new TRPCError({ code: 'NOT_FOUND', message: `No study ${studyId}` })
  const relation: StudyRelation =
    study.ownerId === user.id ? 'owner' : user.role === 'ADMIN' ? 'admin' : study.collaborators.length ? 'collaborator' : 'none'
  return { id: study.id, name: study.name, status: study.status, ownerId: study.ownerId, relation }
}

/** FORBIDDEN unless the caller has `need` on the study. */
export function requireStudyNeed(user: Actor, study: StudyAccess, need: StudyNeed, refusal?: string): void {
  if (!STUDY_NEEDS[need].allows(user, study)) throw new TRPCError({ code: 'FORBIDDEN', message: refusal ?? STUDY_NEEDS[need].refusal })
}

/** The study if the caller has `need` on it; NOT_FOUND or FORBIDDEN otherwise. */
export async function requireStudy(db: Db, user: Actor, studyId: string, need: StudyNeed, refusal?: string): Promise<StudyAccess> {
  const study = await studyAccess(db, user, studyId)
  requireStudyNeed(user, study, need, refusal)
  return study
}

/** The study flags the console shows (which sections and buttons the caller gets). */
export function studyPermissions(user: Actor, study: { ownerId: string; relation: StudyRelation }) {
  return {
    mayControl: canManageStudy(user, study),
    mayReadParticipantData: canReadParticipantData(user, study),
    mayExportRawIds: canExportRawIds(user, study),
  }
}

// ── route handlers ────────────────────────────────────────────────────────────────────────────────────────────────

/** A refusal as a plain-text HTTP response (401, 403, 404) with the same message tRPC would send. */
export function refusalResponse(error: TRPCError): Response {
  return new Response(`${error.message}\n`, {
    status: getHTTPStatusCodeFromError(error),
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  })
}

async function orRefusal<T>(decide: () => Promise<T>): Promise<T | Response> {
  try {
    return await decide()
  } catch (error) {
    if (error instanceof TRPCError && ['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND'].includes(error.code)) return refusalResponse(error)
    throw error
  }
}

/** For route handlers: the signed-in researcher or admin, or the Response to send instead (401 / 403). */
export function routeResearcher(db: Db, session: Session | null): Promise<Caller | Response> {
  return orRefusal(async () => {
    const user = await authenticate(db, session)
    requireRole(user, RESEARCHER_ROLES)
    return user
  })
}

/** For route handlers: the study if the caller has `need` on it, or the Response to send instead (403 / 404). */
export function routeStudy(db: Db, user: Actor, studyId: string, need: StudyNeed): Promise<StudyAccess | Response> {
  return orRefusal(() => requireStudy(db, user, studyId, need))
}

/** For route handlers: null when the caller has `need` on a study already read with routeStudy, else the 403. */
export function routeStudyRefusal(user: Actor, study: StudyAccess, need: StudyNeed): Response | null {
  return STUDY_NEEDS[need].allows(user, study) ? null : refusalResponse(new TRPCError({ code: 'FORBIDDEN', message: STUDY_NEEDS[need].refusal }))
}
