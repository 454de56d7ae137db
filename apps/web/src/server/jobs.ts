// The web side of the job queue (the contract with workers/trainer/src/tandem/runner/queue.py).
// Enqueue = INSERT a QUEUED row + pg_notify('tandem_jobs', id) in the caller's transaction: the NOTIFY is
// delivered at commit, so a worker never wakes up for a job it cannot see yet (and never for a rolled-back
// one). Claiming, heartbeats and completion belong to the Python runner alone.
import { randomBytes } from 'node:crypto'

import type { Prisma } from '../generated/prisma/client'

export const JOBS_CHANNEL = 'tandem_jobs'

export type JobKind =
  | 'BUILD_BASE' | 'TRAIN' | 'EVALUATE' | 'GENERATE_TRACES' | 'VERIFY_RESPONSES'
  | 'VALIDATE_MODEL' | 'IMPORT_DATASET' | 'GENERATE_DATASET' | 'GENERATE_STUDY_TRACES' | 'EXPORT_STUDY'
  | 'EXPORT_ONNX' | 'EXPERIMENT_REPORT' | 'STUDY_JUNIOR' | 'STUDY_ANALYSIS'
export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCEL_REQUESTED' | 'CANCELLED'

/** Payloads, as the runner's handlers read them (handlers.py). */
export interface JobPayloads {
  BUILD_BASE: { name: string; fixture?: boolean; seed?: number }
  TRAIN: { runId: string }
  EVALUATE: { evaluationRunId: string }
  // pJunior 0 = the senior alone; above 0 = word-level co-generation with the checkpoint's junior
  GENERATE_TRACES: {
    checkpointId: string; problemIds: string[]; seed?: number; temperature?: number; maxNewTokens?: number; pJunior?: number
  }
  VERIFY_RESPONSES: { responseIds: string[] }
  VALIDATE_MODEL: { baseModelId: string }
  IMPORT_DATASET: { uploadId: string }
  GENERATE_DATASET: { name: string; n: number; seed: number; minSteps: number; maxSteps: number; createdById: string }
  // the senior traces of a launched study, cut at its handoff rule; opens the study (runner/studies.py)
  GENERATE_STUDY_TRACES: { studyId: string }
  // a Parquet export of study_response_rows, or the analysis bundle (zip: CSV, codebook, preregistration,
  // analysis.py, analysis.R), into study_exports.content (runner/study_exports.py); the bundle carries the codebook
  EXPORT_STUDY: { exportId: string; codebook?: { name: string; type: string; description: string }[] }
  // the junior finishing each study item's cut trace, k samples, verified (runner/study_junior.py; enqueued by the
  // worker when the study opens)
  STUDY_JUNIOR: { studyId: string }
  // the mixed-effects logistic model of the study's accuracy, stored in study_analyses (runner/study_analysis.py)
  STUDY_ANALYSIS: { studyId: string }
  // a checkpoint as ONNX with its KV cache, checked against PyTorch, recorded as an 'onnx' checkpoint (catalog.py)
  EXPORT_ONNX: { checkpointId: string }
  // the claims report of an experiment whose evaluations are all in (enqueued by the worker)
  EXPERIMENT_REPORT: { experimentId: string }
}

export interface EnqueueOptions<K extends JobKind> {
  kind: K
  payload: JobPayloads[K]
  createdById?: string | null
  trainingRunId?: string | null
  evaluationRunId?: string | null
  studyId?: string | null
  /** The experiment the job serves; its jobs share the experiment's priority. */
  experimentId?: string | null
  /** Higher is claimed first (queue.py); 0 for everything outside an experiment. */
  priority?: number
  maxAttempts?: number
}

export function newJobId(): string {
  return 'j' + randomBytes(12).toString('hex')
}

/** Inserts a QUEUED job and notifies the workers; call inside a transaction. Returns the job id. */
export async function enqueueJob<K extends JobKind>(tx: Prisma.TransactionClient, opts: EnqueueOptions<K>): Promise<string> {
  const id = newJobId()
  await tx.$executeRaw`
    INSERT INTO jobs (id, kind, payload, max_attempts, training_run_id, evaluation_run_id, study_id, created_by_id,
                      experiment_id, priority)
    VALUES (${id}, ${opts.kind}::"JobKind", ${JSON.stringify(opts.payload)}::jsonb, ${opts.maxAttempts ?? 3},
            ${opts.trainingRunId ?? null}, ${opts.evaluationRunId ?? null}, ${opts.studyId ?? null},
            ${opts.createdById ?? null}, ${opts.experimentId ?? null}, ${opts.priority ?? 0})`
  await tx.$executeRaw`SELECT pg_notify(${JOBS_CHANNEL}, ${id})`
  return id
}

/**
 * Cancellation, as queue.request_cancel does it: a QUEUED job is CANCELLED at once; a RUNNING one becomes
 * CANCEL_REQUESTED and its worker stops between steps. Returns the new status, or null when the job was
 * not QUEUED or RUNNING.
 */
export async function requestCancel(tx: Prisma.TransactionClient, jobId: string): Promise<JobStatus | null> {
  const rows = await tx.$queryRaw<{ status: JobStatus }[]>`
    UPDATE jobs SET status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED'::"JobStatus"
                                  ELSE 'CANCEL_REQUESTED'::"JobStatus" END,
                    finished_at = CASE WHEN status = 'QUEUED' THEN now() ELSE finished_at END
    WHERE id = ${jobId} AND status IN ('QUEUED', 'RUNNING')
    RETURNING status::text AS status`
  return rows[0]?.status ?? null
}
