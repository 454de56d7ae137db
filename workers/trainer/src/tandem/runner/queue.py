"""The job queue in Postgres: the only place that holds the claim SQL and the job state transitions.

A job moves QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED. A worker claims the claimable job of highest
priority, oldest first within a priority (an experiment's jobs carry its priority; other jobs have 0), with
FOR UPDATE SKIP LOCKED (two workers never get the same row), heartbeats while it runs, and loses its
lease when the job is re-queued under it. A RUNNING job whose heartbeat is older than the stale timeout is
re-queued by any worker (the one that held it died) while attempts remain, else FAILED with the reason; a
stopping worker releases its job without using up an attempt. Cancellation is a requested state (CANCEL_REQUESTED)
that the running handler sees on its next heartbeat and honours between steps. Failures retry with
exponential backoff up to max_attempts; a job whose input is invalid fails at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..limits import BACKOFF_CAP_SECONDS

CHANNEL = "tandem_jobs"
KINDS = ("BUILD_BASE", "TRAIN", "EVALUATE", "GENERATE_TRACES", "VERIFY_RESPONSES", "VALIDATE_MODEL", "IMPORT_DATASET",
         "GENERATE_DATASET", "GENERATE_STUDY_TRACES", "EXPORT_STUDY", "EXPORT_ONNX", "EXPERIMENT_REPORT",
         "STUDY_JUNIOR", "STUDY_ANALYSIS")


@dataclass
class Job:
    id: str
    kind: str
    status: str
    payload: dict
    attempts: int
    max_attempts: int
    training_run_id: str | None = None
    evaluation_run_id: str | None = None
    study_id: str | None = None
    experiment_id: str | None = None
    priority: int = 0

    @classmethod
    def from_row(cls, row: dict) -> "Job":
        return cls(row["id"], row["kind"], row["status"], row["payload"], row["attempts"], row["max_attempts"],
                   row.get("training_run_id"), row.get("evaluation_run_id"), row.get("study_id"),
                   row.get("experiment_id"), row.get("priority") or 0)


class LeaseLost(RuntimeError):
    """The job is no longer ours (it was re-queued as stale and maybe claimed by another worker)."""


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


def new_id(prefix: str) -> str:
    """Row ids written from Python (Prisma's cuid() default lives in the client, not the database)."""
    return prefix + secrets.token_hex(12)


def enqueue(conn, kind: str, payload: dict, *, max_attempts: int = 3, training_run_id: str | None = None,
            evaluation_run_id: str | None = None, study_id: str | None = None, created_by_id: str | None = None,
            experiment_id: str | None = None, priority: int = 0) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; expected one of {KINDS}")
    job_id = new_id("j")
    conn.execute(
        """INSERT INTO jobs (id, kind, payload, max_attempts, training_run_id, evaluation_run_id, study_id, created_by_id,
                             experiment_id, priority)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (job_id, kind, Jsonb(payload), max_attempts, training_run_id, evaluation_run_id, study_id, created_by_id,
         experiment_id, priority),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, job_id))
    return job_id


def claim(conn, worker_id: str, kinds: tuple[str, ...] = KINDS) -> Job | None:
    """Atomically take the claimable job of highest priority (the oldest of those), or None."""
    row = conn.execute(
        """UPDATE jobs SET status = 'RUNNING', locked_by = %(worker)s, heartbeat_at = now(),
                  started_at = coalesce(started_at, now()), attempts = attempts + 1
           WHERE id = (SELECT id FROM jobs
                       WHERE status = 'QUEUED' AND run_after <= now() AND kind = ANY(%(kinds)s::"JobKind"[])
                       ORDER BY priority DESC, created_at, id
                       FOR UPDATE SKIP LOCKED
                       LIMIT 1)
           RETURNING *""",
        {"worker": worker_id, "kinds": list(kinds)},
    ).fetchone()
    return Job.from_row(row) if row else None


def heartbeat(conn, job_id: str, worker_id: str, progress: float | None = None, message: str | None = None) -> bool:
    """Record liveness (and progress). Returns True when cancellation was requested. Raises LeaseLost."""
    row = conn.execute(
        """UPDATE jobs SET heartbeat_at = now(),
                  progress = coalesce(%s, progress), progress_message = coalesce(%s, progress_message)
           WHERE id = %s AND locked_by = %s AND status IN ('RUNNING', 'CANCEL_REQUESTED')
           RETURNING status""",
        (progress, message, job_id, worker_id),
    ).fetchone()
    if row is None:
        raise LeaseLost(f"job {job_id} is no longer held by {worker_id}")
    return row["status"] == "CANCEL_REQUESTED"


def _finish(conn, job_id: str, worker_id: str, status: str, **fields: Any) -> bool:
    sets = ", ".join(f"{k} = %({k})s" for k in fields)
    row = conn.execute(
        f"""UPDATE jobs SET status = %(status)s, finished_at = now(), locked_by = NULL{', ' + sets if sets else ''}
            WHERE id = %(id)s AND locked_by = %(worker)s RETURNING id""",
        {"status": status, "id": job_id, "worker": worker_id, **fields},
    ).fetchone()
    return row is not None


def succeed(conn, job_id: str, worker_id: str, result: dict | None = None) -> bool:
    return _finish(conn, job_id, worker_id, "SUCCEEDED", result=Jsonb(result or {}), progress=1.0, error=None)


def cancelled(conn, job_id: str, worker_id: str) -> bool:
    return _finish(conn, job_id, worker_id, "CANCELLED")


def backoff_seconds(attempts: int, base: float = 5.0, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Delay before retry number `attempts` (1-based): base, 2*base, 4*base, ... capped."""
    return min(cap, base * 2 ** max(0, attempts - 1))


def fail(conn, job: Job, worker_id: str, error: str, retryable: bool = True, backoff_base: float = 5.0) -> str:
    """Re-queue with backoff while attempts remain (and the error is retryable), else FAILED. Returns the status."""
    if retryable and job.attempts < job.max_attempts:
        conn.execute(
            """UPDATE jobs SET status = 'QUEUED', locked_by = NULL, error = %s,
                      run_after = now() + make_interval(secs => %s)
               WHERE id = %s AND locked_by = %s""",
            (error, backoff_seconds(job.attempts, backoff_base), job.id, worker_id),
        )
        return "QUEUED"
    _finish(conn, job.id, worker_id, "FAILED", error=error)
    return "FAILED"


def sweep_stale(conn, stale_after_s: float, backoff_base: float = 5.0) -> list[dict]:
    """Settle RUNNING jobs whose worker stopped heartbeating (killed, out of memory, hung; see the worker's stall
    rule): re-queued with backoff while attempts remain, else FAILED with the reason, so a job that kills its
    worker cannot crash-loop. A stale cancel request becomes CANCELLED. Returns the rows changed (id, kind,
    payload, status, error)."""
    rows = conn.execute(
        """UPDATE jobs SET
                  status = CASE WHEN status = 'CANCEL_REQUESTED' THEN 'CANCELLED'::"JobStatus"
                                WHEN attempts < max_attempts THEN 'QUEUED'::"JobStatus"
                                ELSE 'FAILED'::"JobStatus" END,
                  error = CASE WHEN status = 'CANCEL_REQUESTED' THEN error
                               ELSE format('the worker stopped responding on attempt %%s of %%s (last heartbeat %%s, '
                                           'from %%s; none for over %%s s); %%s', attempts, max_attempts,
                                           to_char(heartbeat_at, 'YYYY-MM-DD HH24:MI:SS'), locked_by, %(stale)s,
                                           CASE WHEN attempts < max_attempts THEN 're-queued'
                                                ELSE 'no attempts left, so it is not retried' END) END,
                  locked_by = NULL,
                  run_after = now() + make_interval(secs => least(%(cap)s, %(base)s * power(2, greatest(0, attempts - 1)))),
                  finished_at = CASE WHEN status = 'CANCEL_REQUESTED' OR attempts >= max_attempts THEN now() END
           WHERE status IN ('RUNNING', 'CANCEL_REQUESTED')
             AND heartbeat_at < now() - make_interval(secs => %(stale)s)
           RETURNING id, kind, payload, status, error""",
        {"stale": stale_after_s, "base": backoff_base, "cap": BACKOFF_CAP_SECONDS},
    ).fetchall()
    requeued = [r["id"] for r in rows if r["status"] == "QUEUED"]
    if requeued:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, requeued[0]))
    return rows


def requeue_stale(conn, stale_after_s: float, backoff_base: float = 5.0) -> list[str]:
    """sweep_stale, returning the ids of the jobs it changed."""
    return [r["id"] for r in sweep_stale(conn, stale_after_s, backoff_base)]


def release(conn, job_id: str, worker_id: str) -> str | None:
    """Give a job back without finishing it (the worker is stopping): QUEUED and claimable at once, its attempt not
    counted, since the job did not fail; a job whose cancellation was requested meanwhile is CANCELLED instead.
    Returns the new status, or None when the job was no longer ours."""
    row = conn.execute(
        """UPDATE jobs SET status = CASE WHEN status = 'CANCEL_REQUESTED' THEN 'CANCELLED'::"JobStatus"
                                         ELSE 'QUEUED'::"JobStatus" END,
                  finished_at = CASE WHEN status = 'CANCEL_REQUESTED' THEN now() END,
                  attempts = CASE WHEN status = 'CANCEL_REQUESTED' THEN attempts ELSE greatest(0, attempts - 1) END,
                  locked_by = NULL, run_after = now(), progress_message = 'released by a stopping worker'
           WHERE id = %s AND locked_by = %s AND status IN ('RUNNING', 'CANCEL_REQUESTED')
           RETURNING status""",
        (job_id, worker_id),
    ).fetchone()
    if row and row["status"] == "QUEUED":
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, job_id))
    return row["status"] if row else None


def request_cancel(conn, job_id: str) -> str | None:
    """QUEUED jobs are cancelled at once; RUNNING ones are asked to stop. Returns the new status."""
    row = conn.execute(
        """UPDATE jobs SET status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED'::"JobStatus"
                                         ELSE 'CANCEL_REQUESTED'::"JobStatus" END,
                  finished_at = CASE WHEN status = 'QUEUED' THEN now() END
           WHERE id = %s AND status IN ('QUEUED', 'RUNNING') RETURNING status""",
        (job_id,),
    ).fetchone()
    return row["status"] if row else None


def log_line(conn, job_id: str, line: str):
    conn.execute("INSERT INTO job_logs (job_id, line) VALUES (%s, %s)", (job_id, line[:4000]))


def get(conn, job_id: str) -> dict | None:
    return conn.execute("SELECT * FROM jobs WHERE id = %s", (job_id,)).fetchone()
