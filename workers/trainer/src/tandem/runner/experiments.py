"""An experiment's orchestration on the worker side (docs/experiments.md "How an experiment runs").

The web app launches an experiment in one transaction: the `experiments` row, one training run and TRAIN job per
arm × seed and the base model's evaluation with its EVALUATE job, every job at the experiment's priority. From
there the worker drives it:
- a TRAIN job that completes its run evaluates the run's final checkpoint: in the transaction that records the
  checkpoint it inserts an `evaluation_runs` row (the experiment's suites and settings on its held-out dataset)
  and an EVALUATE job at the experiment's priority (`evaluate_final_checkpoint`);
- after every job of an experiment (and inside the transactions that finish a run or an evaluation) `settle`
  recomputes the experiment's status from its rows, and once every run and evaluation has succeeded enqueues the
  single EXPERIMENT_REPORT job;
- the EXPERIMENT_REPORT job (`experiment_report_job`) computes the report with `tandem.experiments.build_report`
  and marks the experiment SUCCEEDED.
`settle` takes the experiment row's lock first, so two workers finishing its last two evaluations at once are
serialised: the second sees the first's commit, and exactly one report job is enqueued.
"""

from __future__ import annotations

import json

from psycopg.types.json import Jsonb

from . import queue
from ..claims import DEFAULT_MARGIN, check_margin
from .payload import InvalidPayload, require

ACTIVE = ("QUEUED", "RUNNING")
ACTIVE_JOB = ("QUEUED", "RUNNING", "CANCEL_REQUESTED")


def evaluation_of(experiment: dict) -> tuple[list[str], dict, float]:
    """The experiment's `evaluation` JSON as (suites, EvalSettings fields, margin for "≈"): {"suites": [...],
    "settings": {...}, "margin": 0.03}, or the settings' fields beside "suites" (and "margin") at the top level.
    Raises InvalidPayload naming what is wrong."""
    evaluation = experiment["evaluation"]
    if not isinstance(evaluation, dict):
        raise InvalidPayload(f"experiment {experiment['id']}: evaluation must be an object with suites and settings")
    suites = evaluation.get("suites")
    if not isinstance(suites, list) or not suites or not all(isinstance(s, str) for s in suites):
        raise InvalidPayload(f"experiment {experiment['id']}: evaluation.suites must be a non-empty list of suite "
                             f"names, got {suites!r}")
    settings = evaluation.get("settings")
    if settings is None:
        settings = {k: v for k, v in evaluation.items() if k not in ("suites", "margin")}
    if not isinstance(settings, dict):
        raise InvalidPayload(f"experiment {experiment['id']}: evaluation.settings must be an object")
    margin = evaluation.get("margin", DEFAULT_MARGIN)
    try:
        margin = check_margin(margin)
    except ValueError as e:
        raise InvalidPayload(f"experiment {experiment['id']}: evaluation.margin: {e}") from None
    return suites, {k: v for k, v in settings.items() if k != "datasetId"}, margin


def evaluate_final_checkpoint(conn, run_id: str, checkpoint_id: str) -> str | None:
    """For a run of an experiment whose final checkpoint was just recorded: its evaluation row and EVALUATE job, at
    the experiment's priority (call inside the transaction that records the checkpoint). Idempotent: a checkpoint
    that already has an evaluation of the experiment gets no second one. Returns the evaluation run id, or None
    for a run outside an experiment."""
    experiment = conn.execute(
        """SELECT e.* FROM experiments e JOIN training_runs r ON r.experiment_id = e.id WHERE r.id = %s""",
        (run_id,),
    ).fetchone()
    if experiment is None:
        return None
    existing = conn.execute(
        "SELECT id FROM evaluation_runs WHERE experiment_id = %s AND checkpoint_id = %s ORDER BY created_at LIMIT 1",
        (experiment["id"], checkpoint_id),
    ).fetchone()
    if existing:
        return existing["id"]
    suites, settings, _ = evaluation_of(experiment)
    eval_id = queue.new_id("e")
    conn.execute(
        """INSERT INTO evaluation_runs (id, checkpoint_id, suites, settings, created_by_id, experiment_id)
           VALUES (%s, %s, %s, %s, %s, %s)""",
        (eval_id, checkpoint_id, suites, Jsonb({"datasetId": experiment["eval_dataset_id"], **settings}),
         experiment["owner_id"], experiment["id"]),
    )
    queue.enqueue(conn, "EVALUATE", {"evaluationRunId": eval_id}, evaluation_run_id=eval_id,
                  created_by_id=experiment["owner_id"], experiment_id=experiment["id"],
                  priority=experiment["priority"])
    return eval_id


def experiment_of(conn, kind: str, payload, job_experiment_id: str | None = None) -> str | None:
    """The experiment a job works for: the job's own experiment_id, else its run's or evaluation's."""
    if job_experiment_id:
        return job_experiment_id
    if not isinstance(payload, dict):
        return None
    if kind == "TRAIN" and isinstance(payload.get("runId"), str):
        row = conn.execute("SELECT experiment_id FROM training_runs WHERE id = %s", (payload["runId"],)).fetchone()
    elif kind == "EVALUATE" and isinstance(payload.get("evaluationRunId"), str):
        row = conn.execute("SELECT experiment_id FROM evaluation_runs WHERE id = %s",
                           (payload["evaluationRunId"],)).fetchone()
    elif kind == "EXPERIMENT_REPORT" and isinstance(payload.get("experimentId"), str):
        return payload["experimentId"]
    else:
        return None
    return row["experiment_id"] if row else None


# A queued or running row whose jobs are all finished was cancelled while queued (the web cancels a queued job at
# once and no worker ever sees it): it counts as CANCELLED, so the experiment does not wait for it for ever.
_EVALUATION_STATUS = """CASE WHEN e.status IN ('QUEUED', 'RUNNING') AND NOT EXISTS (
                           SELECT 1 FROM jobs j WHERE j.evaluation_run_id = e.id AND j.status::text = ANY(%(active)s))
                         THEN 'CANCELLED' ELSE e.status::text END"""


def _final_evaluations(conn, experiment_id: str) -> tuple[list[dict], list[dict]]:
    """(runs with their final checkpoint's newest evaluation of the experiment, the base's newest evaluations)."""
    runs = conn.execute(
        """SELECT r.id, r.arm_name,
                  CASE WHEN r.status IN ('QUEUED', 'RUNNING') AND NOT EXISTS (
                         SELECT 1 FROM jobs j WHERE j.training_run_id = r.id AND j.status::text = ANY(%(active)s))
                       THEN 'CANCELLED' ELSE r.status::text END AS status, r.seed, r.algorithm, r.config, r.error, fc.id AS checkpoint_id,
                  ev.id AS evaluation_run_id, ev.status AS evaluation_status
           FROM training_runs r
           LEFT JOIN LATERAL (SELECT c.id FROM checkpoints c WHERE c.run_id = r.id AND c.format = 'hf-safetensors'
                              AND r.status = 'SUCCEEDED' ORDER BY c.step DESC, c.created_at DESC LIMIT 1) fc ON true
           LEFT JOIN LATERAL (SELECT e.id, """ + _EVALUATION_STATUS + """ AS status FROM evaluation_runs e
                              WHERE e.experiment_id = r.experiment_id AND e.checkpoint_id = fc.id
                              ORDER BY e.created_at DESC, e.id DESC LIMIT 1) ev ON true
           WHERE r.experiment_id = %(experiment)s ORDER BY r.arm_name, r.seed, r.id""",
        {"experiment": experiment_id, "active": list(ACTIVE_JOB)},
    ).fetchall()
    base = conn.execute(
        """SELECT DISTINCT ON (e.checkpoint_id) e.id AS evaluation_run_id, """ + _EVALUATION_STATUS + """ AS evaluation_status,
                  e.checkpoint_id
           FROM evaluation_runs e JOIN checkpoints c ON c.id = e.checkpoint_id
           WHERE e.experiment_id = %(experiment)s AND c.run_id IS NULL
           ORDER BY e.checkpoint_id, e.created_at DESC, e.id DESC""",
        {"experiment": experiment_id, "active": list(ACTIVE_JOB)},
    ).fetchall()
    return runs, base


def _failure_reason(conn, experiment_id: str, runs: list[dict]) -> str:
    failed_run = next((r for r in runs if r["status"] == "FAILED"), None)
    job = conn.execute(
        """SELECT kind, error FROM jobs WHERE experiment_id = %s AND status = 'FAILED'
           ORDER BY finished_at DESC NULLS LAST LIMIT 1""",
        (experiment_id,),
    ).fetchone()
    if failed_run is not None:
        return (f"run {failed_run['id']} ({failed_run['arm_name']}, seed {failed_run['seed']}) failed: "
                f"{failed_run['error'] or (job and job['error']) or 'no reason recorded'}")
    if job is not None:
        return f"{job['kind'].lower()} job failed: {job['error'] or 'no reason recorded'}"
    return "an evaluation failed"


def settle(conn, experiment_id: str | None) -> str | None:
    """Recompute an experiment's status from its runs, evaluations and report job, and enqueue the report job
    when everything it needs has succeeded. Returns the status (None: no such experiment).

    FAILED: a run, an evaluation or the report job failed for good (the job's error says why); RUNNING while
    anything is queued or running; CANCELLED when nothing is left running and a run was cancelled; SUCCEEDED
    once the report is written. A failed or cancelled experiment whose runs are resumed becomes RUNNING again."""
    if experiment_id is None:
        return None
    with conn.transaction():
        experiment = conn.execute("SELECT * FROM experiments WHERE id = %s FOR UPDATE", (experiment_id,)).fetchone()
        if experiment is None:
            return None
        runs, base = _final_evaluations(conn, experiment_id)
        report_jobs = conn.execute(
            "SELECT status FROM jobs WHERE experiment_id = %s AND kind = 'EXPERIMENT_REPORT' ORDER BY created_at DESC",
            (experiment_id,),
        ).fetchall()
        report_job = report_jobs[0]["status"] if report_jobs else None
        evaluation_states = [r["evaluation_status"] for r in runs if r["status"] == "SUCCEEDED"] + \
                            [b["evaluation_status"] for b in base]
        run_states = [r["status"] for r in runs]
        if experiment["reported_at"] is not None:
            status = "SUCCEEDED"
        elif "FAILED" in run_states or "FAILED" in evaluation_states or report_job == "FAILED":
            status = "FAILED"
        elif any(s in ACTIVE for s in run_states) or any(s in ACTIVE for s in evaluation_states) \
                or report_job in ACTIVE_JOB:
            status = "RUNNING" if experiment["status"] != "QUEUED" or any(
                s in ("RUNNING", "SUCCEEDED") for s in run_states + evaluation_states) else "QUEUED"
        elif "CANCELLED" in run_states or "CANCELLED" in evaluation_states or report_job == "CANCELLED":
            status = "CANCELLED"
        elif runs and base and None not in evaluation_states and all(s == "SUCCEEDED" for s in evaluation_states):
            status = "RUNNING"
            queue.enqueue(conn, "EXPERIMENT_REPORT", {"experimentId": experiment_id},
                          created_by_id=experiment["owner_id"], experiment_id=experiment_id,
                          priority=experiment["priority"])
        else:  # a succeeded run whose evaluation was never created (e.g. a run finished before this worker version)
            for run in runs:
                if run["status"] == "SUCCEEDED" and run["evaluation_run_id"] is None and run["checkpoint_id"]:
                    evaluate_final_checkpoint(conn, run["id"], run["checkpoint_id"])
            status = "RUNNING"
        terminal = status in ("SUCCEEDED", "FAILED", "CANCELLED")
        if status != experiment["status"] or terminal != (experiment["finished_at"] is not None):
            conn.execute(
                """UPDATE experiments SET status = %s,
                          finished_at = CASE WHEN %s THEN coalesce(finished_at, now()) END WHERE id = %s""",
                (status, terminal, experiment_id),
            )
        if status == "FAILED" and experiment["status"] != "FAILED":
            reason = _failure_reason(conn, experiment_id, runs)
            owner_job = conn.execute(
                "SELECT id FROM jobs WHERE experiment_id = %s ORDER BY finished_at DESC NULLS LAST LIMIT 1",
                (experiment_id,),
            ).fetchone()
            if owner_job:
                queue.log_line(conn, owner_job["id"], f"experiment {experiment_id} failed: {reason}")
        return status


# ---------------------------------------------------------------- EXPERIMENT_REPORT


def _load_reports(conn, evaluation_run_ids: list[str]) -> dict[str, dict]:
    rows = conn.execute(
        "SELECT evaluation_run_id, report FROM evaluation_reports WHERE evaluation_run_id = ANY(%s)",
        (evaluation_run_ids,),
    ).fetchall()
    return {r["evaluation_run_id"]: r["report"] for r in rows}


def experiment_report_job(ctx) -> dict:
    from ..experiments import ExperimentArm, build_report

    experiment_id = require(ctx.job.payload, "experimentId", str)
    conn = ctx.conn
    experiment = conn.execute("SELECT * FROM experiments WHERE id = %s", (experiment_id,)).fetchone()
    if experiment is None:
        raise InvalidPayload(f"experiment {experiment_id} does not exist")
    runs, base = _final_evaluations(conn, experiment_id)
    not_ready = [r["id"] for r in runs if r["status"] != "SUCCEEDED" or r["evaluation_status"] != "SUCCEEDED"]
    if not_ready or not base or base[0]["evaluation_status"] != "SUCCEEDED":
        raise InvalidPayload(f"experiment {experiment_id} is not ready for its report: "
                             + (f"runs without a succeeded final evaluation: {not_ready}" if not_ready
                                else "the base model's evaluation has not succeeded"))
    reports = _load_reports(conn, [r["evaluation_run_id"] for r in runs] + [base[0]["evaluation_run_id"]])
    missing = [r["evaluation_run_id"] for r in runs if r["evaluation_run_id"] not in reports]
    if missing or base[0]["evaluation_run_id"] not in reports:
        raise InvalidPayload(f"experiment {experiment_id}: evaluations without a stored report: "
                             f"{missing or [base[0]['evaluation_run_id']]}")

    declared = [a.get("name") for a in (experiment["arms"] or []) if isinstance(a, dict)]
    arm_names = declared + sorted({r["arm_name"] for r in runs} - set(declared))
    arms, checkpoints = [], {}
    for name in arm_names:
        members = sorted((r for r in runs if r["arm_name"] == name), key=lambda r: (r["seed"], r["id"]))
        if not members:
            continue
        p_junior = float((members[0]["config"] or {}).get("p_junior", 0.0))
        arms.append(ExperimentArm(
            name, "GRPO" if members[0]["algorithm"] == "GRPO" else "TANDEM", p_junior, [r["seed"] for r in members],
            [r["id"] for r in members], [r["evaluation_run_id"] for r in members],
            [reports[r["evaluation_run_id"]] for r in members]))
        checkpoints[name] = {r["seed"]: r["checkpoint_id"] for r in members}
    _, settings_json, margin = evaluation_of(experiment)
    ctx.progress(0.1, "displacement analyses")
    displacement, null = _displacement(ctx, experiment, arms, checkpoints, settings_json)
    if ctx.cancel_requested():
        return {"cancelled": True}
    ctx.progress(0.8, "claims")
    try:
        report = build_report(arms, reports[base[0]["evaluation_run_id"]], displacement=displacement, null=null,
                              margin=margin, n_boot=int(settings_json.get("n_boot", 2000)),
                              seed=int(settings_json.get("seed", 0)))
    except ValueError as e:
        raise InvalidPayload(f"experiment {experiment_id}: {e}") from None
    report = json.loads(json.dumps(report, allow_nan=False))
    with conn.transaction():
        conn.execute("""UPDATE experiments SET report = %s, reported_at = now(), status = 'SUCCEEDED',
                               finished_at = now() WHERE id = %s""",
                     (Jsonb(report), experiment_id))
    return {"experimentId": experiment_id, "claims": len(report["claims"])}


def _displacement(ctx, experiment: dict, arms, checkpoints: dict, settings_json: dict):
    """Displacement reports per Tandem-RL arm (GRPO seed s against the arm's seed s, for every seed both have) and
    the GRPO-vs-GRPO null (consecutive GRPO seeds), on the experiment's held-out problems with its settings."""
    from pathlib import Path

    from ..evaluate import EvalSettings, displacement

    grpo = next((a for a in arms if a.algorithm == "GRPO"), None)
    trl_arms = [a for a in arms if a.algorithm == "TANDEM"]
    if grpo is None or not trl_arms:
        return {}, []
    base_path = ctx.conn.execute("SELECT path FROM base_models WHERE id = %s",
                                 (experiment["base_model_id"],)).fetchone()["path"]
    rows = ctx.conn.execute(
        "SELECT external_id AS id, problem, answer FROM problems WHERE dataset_id = %s ORDER BY external_id",
        (experiment["eval_dataset_id"],),
    ).fetchall()
    paths = {row["id"]: row["path"] for row in ctx.conn.execute(
        "SELECT id, path FROM checkpoints WHERE id = ANY(%s)",
        ([c for per_arm in checkpoints.values() for c in per_arm.values()],)).fetchall()}
    try:
        settings = EvalSettings.from_dict(settings_json)
    except (TypeError, ValueError) as e:
        raise InvalidPayload(f"experiment {experiment['id']}: evaluation settings: {e}") from None
    problems = [dict(r) for r in rows]

    def run(grpo_seed: int, other: str, other_seed: int) -> dict:
        ctx.log(f"displacement: {grpo.name} seed {grpo_seed} vs {other} seed {other_seed}")
        return displacement(Path(base_path), Path(paths[checkpoints[grpo.name][grpo_seed]]),
                            Path(paths[checkpoints[other][other_seed]]), problems, settings, log=ctx.log)

    out = {}
    for arm in trl_arms:
        shared = [s for s in arm.seeds if s in checkpoints[grpo.name]]
        out[arm.name] = [run(s, arm.name, s) for s in shared]
    null = [run(a, grpo.name, b) for a, b in zip(grpo.seeds, grpo.seeds[1:])]
    return out, null


HANDLERS = {"EXPERIMENT_REPORT": experiment_report_job}
