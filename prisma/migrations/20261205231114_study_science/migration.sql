-- CreateEnum
CREATE TYPE "ParticipantOutcome" AS ENUM ('COMPLETED', 'SCREENED_OUT', 'TIMED_OUT', 'RETURNED');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ExportFormat" ADD VALUE 'BONUS_CSV';
ALTER TYPE "ExportFormat" ADD VALUE 'BUNDLE';

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "JobKind" ADD VALUE 'STUDY_JUNIOR';
ALTER TYPE "JobKind" ADD VALUE 'STUDY_ANALYSIS';

-- AlterTable
ALTER TABLE "participants" ADD COLUMN     "design_row" INTEGER,
ADD COLUMN     "outcome" "ParticipantOutcome",
ADD COLUMN     "outcome_at" TIMESTAMP(3),
ADD COLUMN     "refills_id" TEXT;

-- AlterTable
ALTER TABLE "studies" ADD COLUMN     "base_pay_cents" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "bonus_cap_cents" INTEGER,
ADD COLUMN     "bonus_per_correct_cents" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "currency" TEXT NOT NULL DEFAULT 'GBP',
ADD COLUMN     "junior_samples" INTEGER NOT NULL DEFAULT 4,
ADD COLUMN     "power_plan" JSONB,
ADD COLUMN     "preregistration_draft" JSONB,
ADD COLUMN     "preregistration_json" TEXT,
ADD COLUMN     "preregistration_markdown" TEXT,
ADD COLUMN     "preregistration_sha256" TEXT,
ADD COLUMN     "refill_dropouts" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "screened_out_code" TEXT,
ADD COLUMN     "screened_out_redirect_url" TEXT,
ADD COLUMN     "session_time_limit_s" INTEGER,
ADD COLUMN     "timed_out_code" TEXT,
ADD COLUMN     "timed_out_redirect_url" TEXT;

-- AlterTable
ALTER TABLE "study_items" ADD COLUMN     "junior_correct" INTEGER,
ADD COLUMN     "junior_model" TEXT,
ADD COLUMN     "junior_samples" INTEGER;

-- CreateTable
CREATE TABLE "study_analyses" (
    "id" TEXT NOT NULL,
    "study_id" TEXT NOT NULL,
    "response_count" INTEGER NOT NULL,
    "result" JSONB,
    "error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "study_analyses_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "study_analyses_study_id_created_at_idx" ON "study_analyses"("study_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "participants_refills_id_key" ON "participants"("refills_id");

-- AddForeignKey
ALTER TABLE "participants" ADD CONSTRAINT "participants_refills_id_fkey" FOREIGN KEY ("refills_id") REFERENCES "participants"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "study_analyses" ADD CONSTRAINT "study_analyses_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "studies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Participants before this migration took their own ordinal's row of the design.
UPDATE "participants" SET "design_row" = "ordinal" WHERE "ordinal" IS NOT NULL AND "design_row" IS NULL;

-- A participant's bonus, defined once (read by the participants table and the Prolific bonus CSV): the study's
-- bonus per verified correct answer, capped; none for a participant screened out by the attention checks.
CREATE VIEW "study_participant_bonus" AS
SELECT
  pa.id AS participant_id,
  pa.study_id,
  COALESCE(sum(CASE WHEN v.verdict = 'CORRECT' THEN 1 ELSE 0 END), 0)::int AS verified_correct,
  CASE WHEN pa.outcome IS NOT DISTINCT FROM 'SCREENED_OUT' THEN 0
       ELSE LEAST(COALESCE(sum(CASE WHEN v.verdict = 'CORRECT' THEN 1 ELSE 0 END), 0) * s.bonus_per_correct_cents,
                  COALESCE(s.bonus_cap_cents, 2147483647))::int
  END AS bonus_cents
FROM participants pa
JOIN studies s ON s.id = pa.study_id
LEFT JOIN assignments a ON a.participant_id = pa.id
LEFT JOIN responses r ON r.assignment_id = a.id
LEFT JOIN verifier_results v ON v.response_id = r.id
GROUP BY pa.id, pa.study_id, pa.outcome, s.bonus_per_correct_cents, s.bonus_cap_cents;

-- The export's rows, new last columns: the junior on the same item (samples, correct, accuracy), the participant's
-- outcome and design row, and the study's preregistration SHA-256 (so every export names what it was planned by).
CREATE OR REPLACE VIEW "study_response_rows" AS
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
  CASE WHEN v.id IS NULL THEN NULL ELSE v.verdict = 'CORRECT' END AS correct,
  c.live AS live,
  ls.take_overs AS live_take_overs,
  ls.hand_backs AS live_hand_backs,
  ls.scheduled_handover AS live_scheduled_handover,
  ls.senior_tokens AS live_senior_tokens,
  ls.human_share AS live_human_share,
  i.junior_samples,
  i.junior_correct,
  i.junior_correct::float8 / NULLIF(i.junior_samples, 0) AS junior_accuracy,
  pa.outcome::text AS participant_outcome,
  pa.design_row AS participant_design_row,
  s.preregistration_sha256
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
LEFT JOIN traces t ON t.id = COALESCE(r.trace_id, i.trace_id)
LEFT JOIN verifier_results v ON v.response_id = r.id
-- a live task's spans in numbers (NULL for a pre-generated task)
LEFT JOIN LATERAL (
  SELECT (count(*) FILTER (WHERE sp.end_reason = 'take_over'))::int AS take_overs,
         (count(*) FILTER (WHERE sp.end_reason = 'hand_back'))::int AS hand_backs,
         COALESCE(bool_or(sp.end_reason = 'handover'), false) AS scheduled_handover,
         (sum(sp.tokens) FILTER (WHERE sp.author = 'senior'))::int AS senior_tokens,
         COALESCE(sum(length(sp.text)) FILTER (WHERE sp.author = 'human'), 0)::float8 / NULLIF(sum(length(sp.text)), 0) AS human_share
  FROM live_spans sp WHERE sp.assignment_id = a.id
  HAVING c.live
) ls ON true;
