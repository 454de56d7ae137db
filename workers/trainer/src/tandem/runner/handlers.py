"""Job handlers: each reads its inputs from the domain tables, runs the trainer's code, and writes results back.

Kinds and payloads (JSON):
  BUILD_BASE        {"name": str, "fixture": bool = false, "seed": int = 0}
  TRAIN             {"runId": str}
  EVALUATE          {"evaluationRunId": str}
  GENERATE_TRACES   {"checkpointId": str, "problemIds": [str], "seed": int = 0, "temperature": float = 1.0,
                     "maxNewTokens": int = 96}
  VERIFY_RESPONSES  {"responseIds": [str]}  (responses that already have a verdict are skipped)
A payload that does not fit raises InvalidPayload: the job fails at once with that message, nothing written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

from psycopg.types.json import Jsonb

from .queue import new_id


class InvalidPayload(ValueError):
    """The job's input is wrong: retrying cannot help."""


def _require(payload: Any, key: str, kind: type, default: Any = ...) -> Any:
    if not isinstance(payload, dict):
        raise InvalidPayload(f"payload must be a JSON object, got {type(payload).__name__}")
    if key not in payload:
        if default is ...:
            raise InvalidPayload(f"payload.{key} is missing")
        return default
    value = payload[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InvalidPayload(f"payload.{key} must be {kind.__name__}, got {type(value).__name__}")
    return value


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------- BUILD_BASE


def build_base_job(ctx) -> dict:
    from dataclasses import replace

    from ..base_model import FIXTURE_RECIPE, BaseModelRecipe, build_base

    name = _require(ctx.job.payload, "name", str)
    recipe = FIXTURE_RECIPE if _require(ctx.job.payload, "fixture", bool, False) else BaseModelRecipe()
    recipe = replace(recipe, seed=_require(ctx.job.payload, "seed", int, 0))
    ctx.progress(0.05, "building base model")
    out = build_base(recipe=recipe, log=ctx.log, evaluate_problems=0 if recipe == FIXTURE_RECIPE else 200)
    info = json.loads((out / "build.json").read_text())
    row = ctx.conn.execute(
        """INSERT INTO base_models (id, name, path, info, validated_at, created_by_id)
           VALUES (%s, %s, %s, %s, now(), (SELECT created_by_id FROM jobs WHERE id = %s))
           ON CONFLICT (name) DO UPDATE SET path = EXCLUDED.path, info = EXCLUDED.info, validated_at = now()
           RETURNING id""",
        (new_id("m"), name, str(out), Jsonb(info), ctx.job.id),
    ).fetchone()
    return {"baseModelId": row["id"], "path": str(out)}


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


def record_checkpoint(conn, run_id: str | None, step: int, path: Path, base_model_id: str | None = None) -> str:
    weights = path / "model.safetensors"
    row = conn.execute(
        """INSERT INTO checkpoints (id, run_id, base_model_id, step, path, format, sha256, size_bytes)
           VALUES (%s, %s, %s, %s, %s, 'hf-safetensors', %s, %s)
           ON CONFLICT (run_id, step, format) DO UPDATE
             SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes
           RETURNING id""",
        (new_id("c"), run_id, base_model_id, step, str(path), file_sha256(weights), dir_size(path)),
    ).fetchone()
    return row["id"]


def train_job(ctx) -> dict:
    from ..config import ConfigError, TandemConfig
    from ..trainer import last_checkpoint, train

    run_id = _require(ctx.job.payload, "runId", str)
    run = ctx.conn.execute(
        """SELECT r.*, b.path AS base_path, j.path AS junior_path
           FROM training_runs r JOIN base_models b ON b.id = r.base_model_id
           LEFT JOIN base_models j ON j.id = r.junior_model_id WHERE r.id = %s""",
        (run_id,),
    ).fetchone()
    if run is None:
        raise InvalidPayload(f"training run {run_id} does not exist")
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
                  current_step = %s, error = NULL WHERE id = %s""",
        (str(output_dir), resume_step, run_id),
    )

    def on_step(row: dict, max_steps: int):
        insert_metric(ctx.conn, run_id, row)
        ctx.conn.execute("UPDATE training_runs SET current_step = %s WHERE id = %s", (row["step"], run_id))
        ctx.progress(row["step"] / max_steps, f"step {row['step']}/{max_steps}")

    try:
        result = train(config, log=ctx.log, on_step=on_step, should_stop=ctx.cancel_requested,
                       on_checkpoint=lambda step, path: record_checkpoint(ctx.conn, run_id, step, path))
    except Exception as e:
        ctx.conn.execute("UPDATE training_runs SET error = %s WHERE id = %s", (str(e)[:2000], run_id))
        raise
    if ctx.lease_lost:
        return {}
    status = "SUCCEEDED" if result.completed else "CANCELLED"
    checkpoint_id = None
    if result.completed:
        checkpoint_id = record_checkpoint(ctx.conn, run_id, result.final_step, output_dir / "final")
    ctx.conn.execute(
        "UPDATE training_runs SET status = %s, current_step = %s, finished_at = now() WHERE id = %s",
        (status, result.final_step, run_id),
    )
    return {"runId": run_id, "finalStep": result.final_step, "resumedFrom": result.resumed_from,
            "checkpointId": checkpoint_id, "cancelled": not result.completed}


# ---------------------------------------------------------------- EVALUATE


def evaluate_job(ctx) -> dict:
    from ..evaluate import EvalSettings, evaluate_checkpoint

    eval_id = _require(ctx.job.payload, "evaluationRunId", str)
    run = ctx.conn.execute(
        """SELECT e.*, c.path AS checkpoint_path, jc.path AS junior_checkpoint_path, b.path AS base_path
           FROM evaluation_runs e JOIN checkpoints c ON c.id = e.checkpoint_id
           LEFT JOIN checkpoints jc ON jc.id = e.junior_checkpoint_id
           LEFT JOIN training_runs r ON r.id = c.run_id
           LEFT JOIN base_models b ON b.id = coalesce(r.junior_model_id, r.base_model_id, c.base_model_id)
           WHERE e.id = %s""",
        (eval_id,),
    ).fetchone()
    if run is None:
        raise InvalidPayload(f"evaluation run {eval_id} does not exist")
    junior = run["junior_checkpoint_path"] or run["base_path"]
    if not junior:
        raise InvalidPayload("no junior: set junior_checkpoint_id or evaluate a checkpoint of a training run")
    settings_json = dict(run["settings"] or {})
    dataset_id = settings_json.pop("datasetId", None)
    if not dataset_id:
        raise InvalidPayload("settings.datasetId is missing")
    try:
        settings = EvalSettings.from_dict(settings_json)
        settings.validate()
    except (TypeError, ValueError) as e:
        raise InvalidPayload(f"bad evaluation settings: {e}") from None
    rows = ctx.conn.execute(
        "SELECT external_id AS id, problem, answer FROM problems WHERE dataset_id = %s ORDER BY external_id",
        (dataset_id,),
    ).fetchall()
    if not rows:
        raise InvalidPayload(f"dataset {dataset_id} has no problems")
    ctx.conn.execute("UPDATE evaluation_runs SET status = 'RUNNING' WHERE id = %s", (eval_id,))
    ctx.progress(0.05, "evaluating")
    report = evaluate_checkpoint(Path(run["checkpoint_path"]), Path(junior), [dict(r) for r in rows],
                                 list(run["suites"]), settings, log=ctx.log)
    report_json = json.loads(json.dumps(report))
    ctx.conn.execute(
        """INSERT INTO evaluation_reports (id, evaluation_run_id, suite, metrics, report)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (evaluation_run_id, suite) DO UPDATE SET metrics = EXCLUDED.metrics, report = EXCLUDED.report""",
        (new_id("r"), eval_id, ",".join(run["suites"]), Jsonb(report_json["metrics"]), Jsonb(report_json)),
    )
    ctx.conn.execute("UPDATE evaluation_runs SET status = 'SUCCEEDED' WHERE id = %s", (eval_id,))
    return {"evaluationRunId": eval_id, "metrics": sorted(report_json["metrics"])}


# ---------------------------------------------------------------- GENERATE_TRACES


def _insert_verdict(conn, verdict, trace_id: str | None = None, response_id: str | None = None) -> str:
    row = conn.execute(
        """INSERT INTO verifier_results (id, verifier, version, extracted_answer, verdict, details, trace_id, response_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (response_id) DO NOTHING RETURNING id""",
        (new_id("v"), verdict.verifier, verdict.version, verdict.extracted, verdict.verdict.upper(), verdict.details,
         trace_id, response_id),
    ).fetchone()
    return row["id"] if row else ""


def generate_traces_job(ctx) -> dict:
    from ..data import format_prompt
    from ..models import load_model_and_tokenizer
    from ..rollout import GenerationSettings, solo_rollout
    from ..verifier import verify_model_output

    payload = ctx.job.payload
    checkpoint_id = _require(payload, "checkpointId", str)
    problem_ids = _require(payload, "problemIds", list)
    if not problem_ids or not all(isinstance(p, str) for p in problem_ids):
        raise InvalidPayload("payload.problemIds must be a non-empty list of problem ids")
    settings = GenerationSettings(
        max_new_tokens=_require(payload, "maxNewTokens", int, 96),
        temperature=_require(payload, "temperature", float, 1.0),
        seed=_require(payload, "seed", int, 0),
    )
    checkpoint = ctx.conn.execute("SELECT path FROM checkpoints WHERE id = %s", (checkpoint_id,)).fetchone()
    if checkpoint is None:
        raise InvalidPayload(f"checkpoint {checkpoint_id} does not exist")
    problems = ctx.conn.execute("SELECT id, problem, answer FROM problems WHERE id = ANY(%s)", (problem_ids,)).fetchall()
    missing = set(problem_ids) - {p["id"] for p in problems}
    if missing:
        raise InvalidPayload(f"unknown problem ids: {sorted(missing)[:5]}")
    model, tokenizer = load_model_and_tokenizer(checkpoint["path"])
    result = solo_rollout(model, tokenizer, [format_prompt(p["problem"]) for p in problems], 1, settings)
    trace_ids = []
    with ctx.conn.transaction():
        for i, problem in enumerate(problems):
            trace_id = new_id("t")
            ctx.conn.execute(
                """INSERT INTO traces (id, checkpoint_id, problem_id, text, author_spans, settings, seed)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                (trace_id, checkpoint_id, problem["id"], result.texts[i], Jsonb(result.author_spans(tokenizer, i)),
                 Jsonb(result.settings), settings.seed),
            )
            _insert_verdict(ctx.conn, verify_model_output(result.texts[i], problem["answer"]), trace_id=trace_id)
            trace_ids.append(trace_id)
    return {"traceIds": trace_ids}


# ---------------------------------------------------------------- VERIFY_RESPONSES


def verify_responses_job(ctx) -> dict:
    from ..verifier import verify_human_answer

    response_ids = _require(ctx.job.payload, "responseIds", list)
    rows = ctx.conn.execute(
        """SELECT resp.id, resp.answer, p.answer AS expected
           FROM responses resp JOIN assignments a ON a.id = resp.assignment_id
           JOIN study_items i ON i.id = a.item_id JOIN problems p ON p.id = i.problem_id
           LEFT JOIN verifier_results v ON v.response_id = resp.id
           WHERE resp.id = ANY(%s) AND v.id IS NULL""",
        (response_ids,),
    ).fetchall()
    verified = [r["id"] for r in rows if _insert_verdict(ctx.conn, verify_human_answer(r["answer"], r["expected"]),
                                                          response_id=r["id"])]
    return {"verified": len(verified)}


HANDLERS: dict[str, Callable] = {
    "BUILD_BASE": build_base_job,
    "TRAIN": train_job,
    "EVALUATE": evaluate_job,
    "GENERATE_TRACES": generate_traces_job,
    "VERIFY_RESPONSES": verify_responses_job,
}
