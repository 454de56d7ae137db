"""Job handlers: each reads its inputs from the domain tables, runs the trainer's code, and writes results back.

Kinds and payloads (JSON):
  BUILD_BASE        {"name": str, "fixture": bool = false, "seed": int = 0}
  TRAIN             {"runId": str}  (a CANCELLED or FAILED run resumes from its newest complete checkpoint)
  EVALUATE          {"evaluationRunId": str}
  VERIFY_RESPONSES  {"responseIds": [str]}  (responses that already have a verdict are skipped)
  GENERATE_TRACES: see traces.py; GENERATE_STUDY_TRACES: see studies.py; STUDY_JUNIOR: see study_junior.py;
  STUDY_ANALYSIS: see study_analysis.py; EXPORT_STUDY: see study_exports.py; EXPERIMENT_REPORT: see experiments.py;
  VALIDATE_MODEL, IMPORT_DATASET, GENERATE_DATASET, EXPORT_ONNX: see catalog.py.
A payload that does not fit raises InvalidPayload: the job fails at once with that message, nothing written.

EVALUATE stores every example of its report as a trace (traces.insert_trace: author spans, settings, word
surprisal and a verifier_results row, like every other trace).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from psycopg.types.json import Jsonb

from . import experiments
from .catalog import (export_onnx_job, generate_dataset_job, import_dataset_job, record_checkpoint, require_within_roots,
                      validate_model_job)
from .payload import InvalidPayload, require
from .queue import new_id
from .studies import generate_study_traces_job
from .study_analysis import enqueue_for_responses, study_analysis_job
from .study_exports import export_study_job
from .study_junior import study_junior_job
from .traces import default_junior_path, generate_traces_job, insert_trace, insert_verdict, pg_safe, trace_settings

# ---------------------------------------------------------------- BUILD_BASE


def build_base_job(ctx) -> dict:
    from dataclasses import replace

    from ..base_model import FIXTURE_RECIPE, BaseModelRecipe, build_base

    name = require(ctx.job.payload, "name", str)
    recipe = FIXTURE_RECIPE if require(ctx.job.payload, "fixture", bool, False) else BaseModelRecipe()
    recipe = replace(recipe, seed=require(ctx.job.payload, "seed", int, 0))
    ctx.progress(0.05, "building base model")
    out = build_base(recipe=recipe, log=ctx.log, evaluate_problems=0 if recipe == FIXTURE_RECIPE else 200)
    info = json.loads((out / "build.json").read_text())
    row = ctx.conn.execute(
        """INSERT INTO base_models (id, name, path, info, validated_at, created_by_id)
           VALUES (%s, %s, %s, %s, now(), (SELECT created_by_id FROM jobs WHERE id = %s))
           ON CONFLICT (name) DO UPDATE SET path = EXCLUDED.path, info = EXCLUDED.info, validated_at = now(),
                                            validation_error = NULL
           RETURNING id""",
        (new_id("m"), name, str(out), Jsonb(info), ctx.job.id),
    ).fetchone()
    checkpoint_id = record_checkpoint(ctx.conn, None, 0, out, base_model_id=row["id"])
    return {"baseModelId": row["id"], "path": str(out), "checkpointId": checkpoint_id}


# ---------------------------------------------------------------- TRAIN


def _export_problems(conn, dataset_id: str, path: Path) -> int:
    rows = conn.execute(
        "SELECT external_id, problem, answer, solution FROM problems WHERE dataset_id = %s ORDER BY external_id",
        (dataset_id,),
    ).fetchall()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for r in rows:
            f.write(json.dumps({"id": r["external_id"], "problem": r["problem"], "answer": r["answer"],
                                "solution": r["solution"]}) + "\n")
    return len(rows)


# metrics.jsonl keys, which are also the run_metrics column names
METRIC_COLUMNS = ("reward", "accuracy", "kl", "clip_fraction", "entropy", "senior_token_share", "zero_signal_groups",
                  "groups", "tokens_per_second", "loss", "grad_norm", "completion_length", "elapsed_s")


def insert_metric(conn, run_id: str, row: dict):
    cols = [c for c in METRIC_COLUMNS if row.get(c) is not None]
    names = ", ".join(["id", "run_id", "step", *cols])
    values = [new_id("x"), run_id, row["step"], *(row[c] for c in cols)]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols) or "step = EXCLUDED.step"
    conn.execute(
        f"INSERT INTO run_metrics ({names}) VALUES ({', '.join(['%s'] * len(values))}) "
        f"ON CONFLICT (run_id, step) DO UPDATE SET {updates}",
        values,
    )


def train_job(ctx) -> dict:
    from ..config import ConfigError, TandemConfig
    from ..trainer import last_checkpoint, train
    from ..rollout_log import store_step as store_rollouts

    run_id = require(ctx.job.payload, "runId", str)
    run = ctx.conn.execute(
        """SELECT r.*, b.path AS base_path, j.path AS junior_path
           FROM training_runs r JOIN base_models b ON b.id = r.base_model_id
           LEFT JOIN base_models j ON j.id = r.junior_model_id WHERE r.id = %s""",
        (run_id,),
    ).fetchone()
    if run is None:
        raise InvalidPayload(f"training run {run_id} does not exist")
    require_within_roots(run["base_path"], f"the base model of training run {run_id}")
    if run["junior_path"]:
        require_within_roots(run["junior_path"], f"the junior model of training run {run_id}")
    output_dir = ctx.runs_dir / run_id
    dataset_path = output_dir / "dataset.jsonl"
    overrides = {"model_name_or_path": run["base_path"], "junior_name_or_path": run["junior_path"],
                 "output_dir": str(output_dir), "dataset": str(dataset_path), "seed": run["seed"]}
    try:
        config = TandemConfig.from_dict({**(run["config"] or {}), **overrides}, source=f"training run {run_id} config")
    except ConfigError as e:
        raise InvalidPayload(str(e)) from None
    if config.algorithm != run["algorithm"].lower():
        raise InvalidPayload(f"run algorithm {run['algorithm']} disagrees with p_junior={config.p_junior}")
    if _export_problems(ctx.conn, run["dataset_id"], dataset_path) == 0:
        raise InvalidPayload(f"dataset {run['dataset_id']} has no problems")

    # Resume: rows past the checkpoint we resume from will be produced again; drop them first.
    resume = last_checkpoint(output_dir)
    resume_step = int(resume.name.split("-")[-1]) if resume else 0
    ctx.conn.execute("DELETE FROM run_metrics WHERE run_id = %s AND step > %s", (run_id, resume_step))
    ctx.conn.execute(
        """UPDATE training_runs SET status = 'RUNNING', output_dir = %s, started_at = coalesce(started_at, now()),
                  current_step = %s, error = NULL, finished_at = NULL WHERE id = %s""",
        (str(output_dir), resume_step, run_id),
    )
    experiments.settle(ctx.conn, run["experiment_id"])  # the experiment is running from its first step on

    def on_step(row: dict, max_steps: int):
        insert_metric(ctx.conn, run_id, row)
        ctx.conn.execute("UPDATE training_runs SET current_step = %s WHERE id = %s", (row["step"], run_id))
        ctx.progress(row["step"] / max_steps, f"step {row['step']}/{max_steps}")

    try:
        result = train(config, log=ctx.log, on_step=on_step, should_stop=ctx.cancel_requested,
                       on_checkpoint=lambda step, path: record_checkpoint(ctx.conn, run_id, step, path),
                       on_rollouts=lambda step, samples: store_rollouts(ctx.conn, run_id, step, samples,
                                                                        config.rollout_log_max_samples,
                                                                        config.logging_steps))
    except Exception as e:
        ctx.conn.execute("UPDATE training_runs SET error = %s WHERE id = %s", (str(e)[:2000], run_id))
        raise
    if ctx.lease_lost or ctx.stalled:
        return {}
    if not result.completed and ctx.releasing:  # the worker is stopping: the run waits for the next worker
        ctx.conn.execute("UPDATE training_runs SET status = 'QUEUED', current_step = %s WHERE id = %s",
                         (result.final_step, run_id))
        ctx.log(f"stopped at step {result.final_step} for a stopping worker; it resumes from there")
        return {"runId": run_id, "finalStep": result.final_step, "released": True}
    status = "SUCCEEDED" if result.completed else "CANCELLED"
    checkpoint_id = evaluation_run_id = None
    with ctx.conn.transaction():  # the final checkpoint, the run's status and (in an experiment) its evaluation
        if result.completed:
            checkpoint_id = record_checkpoint(ctx.conn, run_id, result.final_step, output_dir / "final")
        ctx.conn.execute(
            "UPDATE training_runs SET status = %s, current_step = %s, finished_at = now() WHERE id = %s",
            (status, result.final_step, run_id),
        )
        if checkpoint_id is not None:
            evaluation_run_id = experiments.evaluate_final_checkpoint(ctx.conn, run_id, checkpoint_id)
        experiments.settle(ctx.conn, run["experiment_id"])
    if evaluation_run_id is not None:
        ctx.log(f"final checkpoint {checkpoint_id} queued for the experiment's evaluation {evaluation_run_id}")
    return {"runId": run_id, "finalStep": result.final_step, "resumedFrom": result.resumed_from,
            "checkpointId": checkpoint_id, "cancelled": not result.completed}


# ---------------------------------------------------------------- EVALUATE


def evaluate_job(ctx) -> dict:
    from ..evaluate import EvalSettings, evaluate_checkpoint
    from ..verifier import Verdict

    eval_id = require(ctx.job.payload, "evaluationRunId", str)
    run = ctx.conn.execute(
        """SELECT e.*, c.path AS checkpoint_path, jc.path AS junior_checkpoint_path
           FROM evaluation_runs e JOIN checkpoints c ON c.id = e.checkpoint_id
           LEFT JOIN checkpoints jc ON jc.id = e.junior_checkpoint_id
           WHERE e.id = %s""",
        (eval_id,),
    ).fetchone()
    if run is None:
        raise InvalidPayload(f"evaluation run {eval_id} does not exist")
    junior = run["junior_checkpoint_path"] or default_junior_path(ctx.conn, run["checkpoint_id"])
    if not junior:
        raise InvalidPayload("no junior: set junior_checkpoint_id or evaluate a checkpoint of a training run")
    settings_json = dict(run["settings"] or {})
    dataset_id = settings_json.pop("datasetId", None)
    if not dataset_id:
        raise InvalidPayload("settings.datasetId is missing")
    try:
        settings = EvalSettings.from_dict(settings_json)
    except (TypeError, ValueError) as e:
        raise InvalidPayload(f"evaluation run {eval_id}: {e}") from None
    rows = ctx.conn.execute(
        "SELECT id AS row_id, external_id AS id, problem, answer FROM problems WHERE dataset_id = %s ORDER BY external_id",
        (dataset_id,),
    ).fetchall()
    if not rows:
        raise InvalidPayload(f"dataset {dataset_id} has no problems")
    row_ids = {r["id"]: r["row_id"] for r in rows}
    ctx.conn.execute("UPDATE evaluation_runs SET status = 'RUNNING' WHERE id = %s", (eval_id,))
    ctx.progress(0.05, "evaluating")
    report = evaluate_checkpoint(Path(run["checkpoint_path"]), Path(junior),
                                 [{k: r[k] for k in ("id", "problem", "answer")} for r in rows],
                                 list(run["suites"]), settings, log=ctx.log)
    report_json = pg_safe(json.loads(json.dumps(report)))
    with ctx.conn.transaction():
        ctx.conn.execute(
            """INSERT INTO evaluation_reports (id, evaluation_run_id, suite, metrics, report)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (evaluation_run_id, suite) DO UPDATE SET metrics = EXCLUDED.metrics, report = EXCLUDED.report""",
            (new_id("r"), eval_id, ",".join(run["suites"]), Jsonb(report_json["metrics"]), Jsonb(report_json)),
        )
        # Every example of the report is a trace of this evaluation (a re-run replaces them).
        ctx.conn.execute("DELETE FROM traces WHERE evaluation_run_id = %s", (eval_id,))
        trace_ids = []
        for example in report_json["examples"]:
            verdict = Verdict(example["verifier"], example["verifier_version"], example["extracted"],
                              example["verdict"], example["verdict_details"])
            trace_ids.append(insert_trace(
                ctx.conn, checkpoint_id=run["checkpoint_id"], problem_id=row_ids[example["problem_id"]],
                text=example["text"], author_spans=example["author_spans"],
                settings=trace_settings(example["suite"], example["schedule"], example["p_junior"],
                                        example["granularity"], settings.temperature, settings.max_new_tokens,
                                        report_json["junior"]),
                seed=settings.seed, verdict=verdict, word_surprisal=example.get("word_surprisal"),
                evaluation_run_id=eval_id,
            ))
        ctx.conn.execute("UPDATE evaluation_runs SET status = 'SUCCEEDED' WHERE id = %s", (eval_id,))
        experiments.settle(ctx.conn, run["experiment_id"])  # the last evaluation in enqueues the report job
    return {"evaluationRunId": eval_id, "metrics": sorted(report_json["metrics"]), "traceCount": len(trace_ids)}


# ---------------------------------------------------------------- VERIFY_RESPONSES


def verify_responses_job(ctx) -> dict:
    from ..verifier import verify_human_answer

    response_ids = require(ctx.job.payload, "responseIds", list)
    rows = ctx.conn.execute(
        """SELECT resp.id, resp.answer, p.answer AS expected
           FROM responses resp JOIN assignments a ON a.id = resp.assignment_id
           JOIN study_items i ON i.id = a.item_id JOIN problems p ON p.id = i.problem_id
           LEFT JOIN verifier_results v ON v.response_id = resp.id
           WHERE resp.id = ANY(%s) AND v.id IS NULL""",
        (response_ids,),
    ).fetchall()
    with ctx.conn.transaction():  # the verdicts and the model refit they call for commit together
        verified = [r["id"] for r in rows if insert_verdict(ctx.conn, verify_human_answer(r["answer"], r["expected"]),
                                                             response_id=r["id"])]
        analyses = enqueue_for_responses(ctx.conn, verified) if verified else []
    return {"verified": len(verified)} | ({"studyAnalysisJobs": analyses} if analyses else {})


# What a job that failed for good (no retries left, or invalid) leaves on the row it was working for, so the
# console shows the failure instead of a run that stays RUNNING or an upload that stays PENDING.
_FAILURE_UPDATES = {
    "TRAIN": ("runId", """UPDATE training_runs SET status = 'FAILED', error = %(error)s, finished_at = now()
                          WHERE id = %(id)s AND status IN ('QUEUED', 'RUNNING')"""),
    "EVALUATE": ("evaluationRunId", """UPDATE evaluation_runs SET status = 'FAILED'
                                       WHERE id = %(id)s AND status IN ('QUEUED', 'RUNNING')"""),
    "VALIDATE_MODEL": ("baseModelId", """UPDATE base_models SET validated_at = NULL,
                                         validation_error = 'validation could not run: ' || %(error)s
                                         WHERE id = %(id)s"""),
    "IMPORT_DATASET": ("uploadId", """UPDATE dataset_uploads SET status = 'FAILED',
                                      errors = jsonb_build_array(jsonb_build_object(
                                        'line', 0, 'field', NULL, 'reason', 'the import could not run: ' || %(error)s))
                                      WHERE id = %(id)s AND status = 'PENDING'"""),
    # back to DRAFT, so the researcher sees why and can launch again
    "GENERATE_STUDY_TRACES": ("studyId", """UPDATE studies SET status = 'DRAFT', generation_error = %(error)s
                                            WHERE id = %(id)s AND status = 'GENERATING'"""),
    "EXPORT_STUDY": ("exportId", """UPDATE study_exports SET status = 'FAILED', error = %(error)s
                                    WHERE id = %(id)s AND status = 'PENDING'"""),
}


def record_job_failure(conn, kind: str, payload, error: str):
    """Mark the job's run, evaluation, model, upload, study or export as failed (called once the job itself is
    FAILED)."""
    if kind in _FAILURE_UPDATES and isinstance(payload, dict):
        key, sql = _FAILURE_UPDATES[kind]
        if isinstance(payload.get(key), str):
            conn.execute(sql, {"id": payload[key], "error": error[:2000]})
    experiment_id = experiments.experiment_of(conn, kind, payload)
    if experiment_id is not None:
        experiments.settle(conn, experiment_id)


HANDLERS: dict[str, Callable] = {
    "BUILD_BASE": build_base_job,
    "TRAIN": train_job,
    "EVALUATE": evaluate_job,
    "GENERATE_TRACES": generate_traces_job,
    "VERIFY_RESPONSES": verify_responses_job,
    "VALIDATE_MODEL": validate_model_job,
    "IMPORT_DATASET": import_dataset_job,
    "GENERATE_DATASET": generate_dataset_job,
    "EXPORT_ONNX": export_onnx_job,
    "GENERATE_STUDY_TRACES": generate_study_traces_job,
    "EXPORT_STUDY": export_study_job,
    "STUDY_JUNIOR": study_junior_job,
    "STUDY_ANALYSIS": study_analysis_job,
    **experiments.HANDLERS,
}
