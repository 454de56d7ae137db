-- AlterTable
ALTER TABLE "participants" ADD COLUMN     "manual_exclusion" TEXT,
ADD COLUMN     "manual_note" TEXT,
ADD COLUMN     "manual_set_at" TIMESTAMP(3),
ADD COLUMN     "manual_set_by_id" TEXT;

-- AlterTable
ALTER TABLE "studies" ADD COLUMN     "public_title" TEXT,
ADD COLUMN     "require_participant_id" BOOLEAN NOT NULL DEFAULT false;

-- The researcher's own exclusion joins the automatic rules: "excluded" or "tester" with a note, applied visibly and
-- reversibly like the rest (nothing is deleted). New last columns of both views carry it.
CREATE OR REPLACE VIEW "study_participant_exclusions" AS
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
  s.min_seconds_per_task,
  pa.manual_exclusion,
  pa.manual_note
FROM participants pa JOIN studies s ON s.id = pa.study_id;

CREATE OR REPLACE VIEW "study_participant_status" AS
SELECT
  x.participant_id,
  x.study_id,
  x.failed_attention,
  x.median_task_ms,
  NULLIF(concat_ws('; ',
    CASE x.manual_exclusion
      WHEN 'tester' THEN 'tester (marked by the researcher' || COALESCE(': ' || NULLIF(x.manual_note, ''), '') || ')'
      WHEN 'excluded' THEN 'excluded by the researcher' || COALESCE(': ' || NULLIF(x.manual_note, ''), '')
    END,
    CASE WHEN x.failed_attention THEN 'failed attention check' END,
    CASE WHEN x.median_task_ms < x.min_seconds_per_task * 1000
      THEN 'implausibly fast (median ' || round((x.median_task_ms / 1000.0)::numeric, 1) || ' s per task < '
           || x.min_seconds_per_task || ' s)' END
  ), '') AS exclusion_reason,
  x.manual_exclusion,
  x.manual_note
FROM study_participant_exclusions x;

-- The export's rows, new last columns: url_params_public (the URL parameters without the identifying one, the first
-- of the study's url_params: what hashed exports carry, e.g. SESSION_ID and STUDY_ID) and the manual exclusion.
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
  s.preregistration_sha256,
  pa.url_params - COALESCE(s.url_params[1], '') AS url_params_public,
  ps.manual_exclusion,
  ps.manual_note
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
