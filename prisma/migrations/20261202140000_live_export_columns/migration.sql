-- The export's rows and live tasks: a live task's response links its own trace (the shared text with author
-- spans), a pre-generated task's the item's trace; new last columns: live (the condition was live) and the live
-- task in numbers — take-overs, hand-backs, whether the scheduled handover was reached, the senior's tokens and
-- the participant's share of the shared text.
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
  ls.human_share AS live_human_share
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
