-- CreateEnum
CREATE TYPE "AssignmentRule" AS ENUM ('LATIN_SQUARE');

-- CreateEnum
CREATE TYPE "ExportStatus" AS ENUM ('PENDING', 'READY', 'FAILED');

-- CreateEnum
CREATE TYPE "ExportFormat" AS ENUM ('CSV', 'JSONL', 'PARQUET');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "JobKind" ADD VALUE 'GENERATE_STUDY_TRACES';
ALTER TYPE "JobKind" ADD VALUE 'EXPORT_STUDY';

-- AlterTable
ALTER TABLE "assignments" ADD COLUMN     "draft_saved_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "participants" ADD COLUMN     "attention" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "instructions_done_at" TIMESTAMP(3),
ADD COLUMN     "ordinal" INTEGER,
ADD COLUMN     "practice" JSONB,
ADD COLUMN     "practice_done_at" TIMESTAMP(3),
ADD COLUMN     "user_agent" TEXT;

-- AlterTable
ALTER TABLE "studies" ADD COLUMN     "attention_checks" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "closed_at" TIMESTAMP(3),
ADD COLUMN     "generation_error" TEXT,
ADD COLUMN     "hash_salt" TEXT NOT NULL,
ADD COLUMN     "launched_at" TIMESTAMP(3),
ADD COLUMN     "max_new_tokens" INTEGER NOT NULL DEFAULT 96,
ADD COLUMN     "min_seconds_per_task" INTEGER NOT NULL DEFAULT 10,
ADD COLUMN     "opened_at" TIMESTAMP(3),
ADD COLUMN     "participant_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "practice" JSONB NOT NULL,
ADD COLUMN     "problem_count" INTEGER NOT NULL,
ADD COLUMN     "seed" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "temperature" DOUBLE PRECISION NOT NULL DEFAULT 1.0,
DROP COLUMN "assignment_rule",
ADD COLUMN     "assignment_rule" "AssignmentRule" NOT NULL DEFAULT 'LATIN_SQUARE';

-- CreateTable
CREATE TABLE "study_exports" (
    "id" TEXT NOT NULL,
    "study_id" TEXT NOT NULL,
    "format" "ExportFormat" NOT NULL,
    "id_mode" TEXT NOT NULL,
    "status" "ExportStatus" NOT NULL DEFAULT 'PENDING',
    "row_count" INTEGER,
    "content" BYTEA,
    "error" TEXT,
    "created_by_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "study_exports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "study_exports_study_id_created_at_idx" ON "study_exports"("study_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "participants_study_id_ordinal_key" ON "participants"("study_id", "ordinal");

-- CreateIndex
CREATE INDEX "studies_owner_id_created_at_idx" ON "studies"("owner_id", "created_at");

-- AddForeignKey
ALTER TABLE "study_exports" ADD CONSTRAINT "study_exports_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "studies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "study_exports" ADD CONSTRAINT "study_exports_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Study data, defined once in SQL and read by the dashboard, the CSV/JSONL exports (apps/web) and the
-- Parquet export (workers/trainer). Prisma does not manage views; schema.prisma's drift check ignores them.

-- Exclusion rules, applied visibly (nothing is deleted): a participant is excluded for a failed attention
-- check, or for a median time per answered (not timed-out) task below the study's min_seconds_per_task.
CREATE VIEW "study_participant_exclusions" AS
SELECT
  pa.id AS participant_id,
  pa.study_id,
  EXISTS (
    SELECT 1 FROM jsonb_array_elements(pa.attention) e WHERE (e ->> 'correct')::boolean IS NOT TRUE
  ) AS failed_attention,
  (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.elapsed_ms)
    FROM responses r JOIN assignments a ON a.id = r.assignment_id
    WHERE a.participant_id = pa.id AND NOT r.timed_out
  ) AS median_task_ms,
  s.min_seconds_per_task
FROM participants pa JOIN studies s ON s.id = pa.study_id;

CREATE VIEW "study_participant_status" AS
SELECT
  x.participant_id,
  x.study_id,
  x.failed_attention,
  x.median_task_ms,
  NULLIF(concat_ws('; ',
    CASE WHEN x.failed_attention THEN 'failed attention check' END,
    CASE WHEN x.median_task_ms < x.min_seconds_per_task * 1000
      THEN 'implausibly fast (median ' || round((x.median_task_ms / 1000.0)::numeric, 1) || ' s per task < '
           || x.min_seconds_per_task || ' s)' END
  ), '') AS exclusion_reason
FROM study_participant_exclusions x;

-- One row per response, with every linked id (response, verifier result, trace, checkpoint, run) and the
-- run's algorithm and config. Column meanings: apps/web/src/server/studies/codebook.ts.
CREATE VIEW "study_response_rows" AS
SELECT
  s.id AS study_id,
  s.name AS study_name,
  s.assignment_rule::text AS assignment_rule,
  s.handoff_rule AS handoff_rule,
  pa.id AS participant_id,
  pa.ordinal AS participant_ordinal,
  pa.external_id AS participant_external_id,
  CASE WHEN pa.external_id IS NULL THEN NULL
       ELSE encode(sha256(convert_to(s.hash_salt || ':' || pa.external_id, 'UTF8')), 'hex') END
    AS participant_external_id_hash,
  pa.url_params AS url_params,
  pa.completed_at AS participant_completed_at,
  ps.exclusion_reason IS NOT NULL AS excluded,
  ps.exclusion_reason,
  a.id AS assignment_id,
  a.position AS task_position,
  c.id AS condition_id,
  c.name AS condition_name,
  ck.id AS checkpoint_id,
  ck.step AS checkpoint_step,
  run.id AS run_id,
  run.name AS run_name,
  run.algorithm::text AS algorithm,
  run.config AS run_config,
  i.id AS study_item_id,
  p.id AS problem_id,
  p.external_id AS problem_external_id,
  p.answer AS expected_answer,
  t.id AS trace_id,
  t.seed AS trace_seed,
  i.handoff_step,
  r.id AS response_id,
  r.continuation,
  r.answer,
  r.ease_rating,
  r.confidence,
  a.started_at,
  r.submitted_at,
  r.elapsed_ms,
  r.timed_out,
  v.id AS verifier_result_id,
  v.verifier,
  v.version AS verifier_version,
  v.extracted_answer,
  v.verdict::text AS verdict,
  CASE WHEN v.id IS NULL THEN NULL ELSE v.verdict = 'CORRECT' END AS correct
FROM responses r
JOIN assignments a ON a.id = r.assignment_id
JOIN participants pa ON pa.id = a.participant_id
JOIN study_participant_status ps ON ps.participant_id = pa.id
JOIN studies s ON s.id = pa.study_id
JOIN study_items i ON i.id = a.item_id
JOIN study_conditions c ON c.id = i.condition_id
JOIN checkpoints ck ON ck.id = c.checkpoint_id
LEFT JOIN training_runs run ON run.id = ck.run_id
JOIN problems p ON p.id = i.problem_id
LEFT JOIN traces t ON t.id = i.trace_id
LEFT JOIN verifier_results v ON v.response_id = r.id;
