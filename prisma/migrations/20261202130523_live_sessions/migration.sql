-- AlterTable
ALTER TABLE "responses" ADD COLUMN     "trace_id" TEXT;

-- CreateTable
CREATE TABLE "live_spans" (
    "id" TEXT NOT NULL,
    "assignment_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "author" TEXT NOT NULL,
    "text" TEXT NOT NULL DEFAULT '',
    "tokens" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "first_token_at" TIMESTAMP(3),
    "ended_at" TIMESTAMP(3),
    "end_reason" TEXT,

    CONSTRAINT "live_spans_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "live_spans_assignment_id_seq_key" ON "live_spans"("assignment_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "responses_trace_id_key" ON "responses"("trace_id");

-- AddForeignKey
ALTER TABLE "responses" ADD CONSTRAINT "responses_trace_id_fkey" FOREIGN KEY ("trace_id") REFERENCES "traces"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "live_spans" ADD CONSTRAINT "live_spans_assignment_id_fkey" FOREIGN KEY ("assignment_id") REFERENCES "assignments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A live task's response links its own trace (the shared text with author spans); a pre-generated task's, the
-- item's trace. New last column: live (the condition was live).
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
  c.live AS live
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
LEFT JOIN verifier_results v ON v.response_id = r.id;
