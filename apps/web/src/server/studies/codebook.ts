// The export's codebook: every column of the study export (one row per response), in order, with its type and
// meaning. The rows come from the SQL view study_response_rows (prisma/migrations/…_studies); a test checks that
// this list and the view agree, so a column cannot be added to one and forgotten in the other. The Parquet export
// (workers/trainer/src/tandem/runner/study_exports.py) follows the same column rules.
import { LATIN_SQUARE_RULE } from './assignment'

export interface CodebookColumn {
  name: string
  type: 'text' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'json'
  description: string
}

export const EXPORT_COLUMNS: CodebookColumn[] = [
  { name: 'study_id', type: 'text', description: 'The study.' },
  { name: 'study_name', type: 'text', description: 'The study’s name.' },
  { name: 'assignment_rule', type: 'text', description: `How tasks were assigned. LATIN_SQUARE: ${LATIN_SQUARE_RULE}` },
  { name: 'handoff_rule', type: 'json', description: 'Where the senior’s solo trace was cut: {"kind":"step","k":k} keeps the first k reasoning steps (lines); {"kind":"fraction","f":f} keeps the first floor(f·s + 1/2) of its s steps.' },
  { name: 'participant_id', type: 'text', description: 'The participant (Tandem Lab’s id).' },
  { name: 'participant_ordinal', type: 'integer', description: 'Order of consent, from 0. The tasks come from participant_design_row (the same number unless the participant refilled a dropout’s row).' },
  { name: 'participant_external_id', type: 'text', description: 'The recruiting platform’s participant id (the study’s first URL parameter, e.g. PROLIFIC_PID): as given (ids=raw) or as a salted SHA-256, stable within the study (ids=hashed).' },
  { name: 'url_params', type: 'json', description: 'The accepted URL parameters of the study link (e.g. PROLIFIC_PID, STUDY_ID, SESSION_ID). With ids=hashed, all of them but the identifying one (the study’s first URL parameter, e.g. PROLIFIC_PID): SESSION_ID and STUDY_ID are no personal data and stay.' },
  { name: 'participant_completed_at', type: 'timestamp', description: 'When the participant finished the study (empty: not finished).' },
  { name: 'excluded', type: 'boolean', description: 'Whether an exclusion rule applies to the participant, the researcher’s own included (the row is kept either way).' },
  { name: 'exclusion_reason', type: 'text', description: 'Which rules apply, separated by "; ": "excluded by the researcher: <note>" or "tester (marked by the researcher: <note>)" (see manual_exclusion), "failed attention check" (any attention check answered wrongly) and/or "implausibly fast" (median time per answered, not timed-out task below the study’s minimum seconds per task).' },
  { name: 'assignment_id', type: 'text', description: 'The task: one problem under one condition for this participant.' },
  { name: 'task_position', type: 'integer', description: 'Position of the task in the participant’s sequence, from 0.' },
  { name: 'condition_id', type: 'text', description: 'The condition.' },
  { name: 'condition_name', type: 'text', description: 'The condition’s name.' },
  { name: 'checkpoint_id', type: 'text', description: 'The senior checkpoint whose reasoning the participant continued.' },
  { name: 'checkpoint_step', type: 'integer', description: 'The checkpoint’s training step.' },
  { name: 'run_id', type: 'text', description: 'The training run of the checkpoint (empty for a base model’s own weights).' },
  { name: 'run_name', type: 'text', description: 'The training run’s name.' },
  { name: 'algorithm', type: 'text', description: 'TRL (tandem reinforcement learning) or GRPO (solo) for run checkpoints.' },
  { name: 'run_config', type: 'json', description: 'The run’s full TandemConfig as launched.' },
  { name: 'study_item_id', type: 'text', description: 'The (condition, problem) item of the study.' },
  { name: 'problem_id', type: 'text', description: 'The problem (Tandem Lab’s id).' },
  { name: 'problem_external_id', type: 'text', description: 'The problem’s id in its dataset.' },
  { name: 'expected_answer', type: 'text', description: 'The dataset’s answer to the problem.' },
  { name: 'trace_id', type: 'text', description: 'The senior’s stored solo trace that was cut at the handoff point; for a live task, the whole shared text with its author spans (senior and participant).' },
  { name: 'trace_seed', type: 'integer', description: 'The seed the trace was generated with.' },
  { name: 'handoff_step', type: 'integer', description: 'How many reasoning steps of the senior’s trace the participant saw.' },
  { name: 'response_id', type: 'text', description: 'The participant’s response.' },
  { name: 'continuation', type: 'text', description: 'The participant’s continuation of the reasoning.' },
  { name: 'answer', type: 'text', description: 'The participant’s final answer (what the verifier judged).' },
  { name: 'ease_rating', type: 'integer', description: '“How easy was the reasoning to follow?” 1 (not at all) … 5 (completely); empty if timed out before rating.' },
  { name: 'confidence', type: 'integer', description: '“How confident are you in your answer?” 1 (not at all) … 5 (completely).' },
  { name: 'started_at', type: 'timestamp', description: 'When the server first showed the task (its clock starts here).' },
  { name: 'submitted_at', type: 'timestamp', description: 'When the server stored the response (for a time-out: the deadline).' },
  { name: 'elapsed_ms', type: 'integer', description: 'submitted_at − started_at in milliseconds, measured on the server.' },
  { name: 'timed_out', type: 'boolean', description: 'The time limit ran out; the response holds the last autosaved draft.' },
  { name: 'verifier_result_id', type: 'text', description: 'The verifier’s result for the response (empty: not verified yet).' },
  { name: 'verifier', type: 'text', description: 'The verifier’s name (the same one that scores training rollouts and evaluations).' },
  { name: 'verifier_version', type: 'text', description: 'The verifier’s version.' },
  { name: 'extracted_answer', type: 'text', description: 'The answer as the verifier read it.' },
  { name: 'verdict', type: 'text', description: 'CORRECT, INCORRECT or UNPARSEABLE.' },
  { name: 'correct', type: 'boolean', description: 'verdict = CORRECT (empty: not verified yet).' },
  { name: 'live', type: 'boolean', description: 'The condition was live: the senior streamed while the participant watched, took over and could hand back (continuation is then the whole shared text).' },
  { name: 'live_take_overs', type: 'integer', description: 'Live tasks: how often the participant took over from the senior (empty: not live).' },
  { name: 'live_hand_backs', type: 'integer', description: 'Live tasks: how often the participant handed control back to the senior.' },
  { name: 'live_scheduled_handover', type: 'boolean', description: 'Live tasks: the senior stopped at the study’s scheduled handover point (rather than being taken over first, or finishing).' },
  { name: 'live_senior_tokens', type: 'integer', description: 'Live tasks: tokens the senior wrote in the task (all its spans).' },
  { name: 'live_human_share', type: 'number', description: 'Live tasks: the participant’s share of the shared text, in characters (0–1).' },
  { name: 'junior_samples', type: 'integer', description: 'The frozen junior on the same item: how many times it finished the same cut trace (the study’s junior samples per item). Empty before the junior’s evaluation ran, and for live tasks (no fixed prefix).' },
  { name: 'junior_correct', type: 'integer', description: 'How many of those junior samples the same verifier judged correct.' },
  { name: 'junior_accuracy', type: 'number', description: 'junior_correct / junior_samples (0–1): the junior’s success on the item, to set beside people’s (correct).' },
  { name: 'participant_outcome', type: 'text', description: 'How the participant’s session ended: COMPLETED, SCREENED_OUT (the second failed attention check), TIMED_OUT (the whole session’s time limit passed) or RETURNED (left the study from its page); empty while the session runs.' },
  { name: 'participant_design_row', type: 'integer', description: 'The row of the assignment design whose tasks the participant took: their own ordinal, or a dropout’s row under the dropout refill rule.' },
  { name: 'preregistration_sha256', type: 'text', description: 'SHA-256 of the study’s frozen preregistration (the UTF-8 bytes of its canonical JSON, downloadable from the study page), the same in every row; empty if the study was never opened.' },
  { name: 'manual_exclusion', type: 'text', description: 'The researcher’s own exclusion of the participant: "excluded" or "tester" (someone trying the study, not a participant); empty: none. It sets excluded like the automatic rules and can be cleared; no data is deleted.' },
  { name: 'manual_note', type: 'text', description: 'The researcher’s note on that exclusion (why), as shown in exclusion_reason.' },
]

/** The view column that the export drops: its value goes into participant_external_id when ids=hashed. */
export const HASHED_ID_COLUMN = 'participant_external_id_hash'

/**
 * The view column that the export drops: url_params without the identifying parameter, whose value goes into
 * url_params when ids=hashed (the worker's runner/study_exports.py follows the same rule).
 */
export const PUBLIC_URL_PARAMS_COLUMN = 'url_params_public'

/** The view's columns that are never exported under their own name (each stands in for another when ids=hashed). */
export const VIEW_ONLY_COLUMNS: readonly string[] = [HASHED_ID_COLUMN, PUBLIC_URL_PARAMS_COLUMN]

export function codebookMarkdown(study: { name: string; minSecondsPerTask: number }): string {
  const lines = [
    `# Codebook: ${study.name}`,
    '',
    'One row per response. Files: CSV (RFC 4180, UTF-8, header row; JSON columns as JSON text; empty = null),',
    'JSONL (one JSON object per line) and Parquet (same columns; JSON columns as JSON text).',
    "In the CSV a text cell that starts with = + - @, a tab or a carriage return has a ' put in front, so a",
    'spreadsheet shows it as text instead of running it as a formula; JSONL and Parquet hold the values unchanged.',
    '',
    `Exclusions are marked, never applied by deleting rows. Implausibly fast = median time per task under ${study.minSecondsPerTask} s.`,
    '',
    '| column | type | meaning |',
    '| --- | --- | --- |',
    ...EXPORT_COLUMNS.map((c) => `| ${c.name} | ${c.type} | ${c.description.replaceAll('|', '\\|')} |`),
    '',
  ]
  return lines.join('\n')
}
