"""`tandem worker`: the loop that serves the web app's jobs.

Idle, it settles stale jobs (queue.sweep_stale), claims one, and otherwise sleeps on LISTEN tandem_jobs (with a
polling fallback). Running a job, a heartbeat thread on its own connection keeps the lease alive, publishes
progress and notices cancellation requests; the handler writes its results into the domain tables.

Failure rules (numbers and reasons in tandem/limits.py):
- a job that reports neither progress nor a log line for JOB_STALL_SECONDS is taken to be hung: its heartbeat
  stops (and says why in the job's log), so the stale rule re-queues it or, with no attempts left, fails it;
- on SIGTERM the worker stops claiming, asks its job to stop at the next step as a cancellation would (training
  saves a checkpoint and resumes from it later), releases the job to the queue without using up an attempt and
  exits 0; a job still running after DRAIN_SECONDS is released anyway;
- the liveness file (TANDEM_ALIVE_FILE) is touched by the idle loop and by every heartbeat, so a hung worker
  fails its liveness probe (infra/docker/worker-healthcheck.py).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .. import limits
from . import experiments, queue
from .handlers import HANDLERS, InvalidPayload, record_job_failure


def _alive_file_from_env() -> Path | None:
    text = os.environ.get(limits.ALIVE_FILE_ENV, "").strip()
    return Path(text) if text else None


@dataclass
class WorkerSettings:
    database_url: str
    runs_dir: Path = Path("runs")
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    heartbeat_s: float = limits.HEARTBEAT_SECONDS
    stale_after_s: float = limits.STALE_AFTER_SECONDS
    poll_s: float = 5.0
    backoff_base_s: float = limits.BACKOFF_BASE_SECONDS
    stall_s: float = limits.JOB_STALL_SECONDS
    drain_s: float = limits.DRAIN_SECONDS
    alive_file: Path | None = field(default_factory=_alive_file_from_env)
    kinds: tuple[str, ...] = queue.KINDS


def touch_alive(settings: WorkerSettings):
    """Mark the worker alive for its liveness probe (a failure to write is reported, never fatal)."""
    if settings.alive_file is not None:
        try:
            settings.alive_file.touch()
        except OSError as e:
            print(f"cannot touch the liveness file {settings.alive_file}: {e}", file=sys.stderr, flush=True)


class JobContext:
    """What a handler gets: its job, a connection for its writes, progress, logs and the cancel flag."""

    def __init__(self, job: queue.Job, settings: WorkerSettings):
        self.job, self.settings = job, settings
        self.conn = queue.connect(settings.database_url)
        self._beat_conn = queue.connect(settings.database_url)
        self._progress: tuple[float | None, str | None] = (None, None)
        self._last_sign_of_life = time.monotonic()  # the last progress change or log line
        self._cancel = threading.Event()  # the job's row asks for cancellation
        self._drain = threading.Event()  # the worker is stopping: stop at the next step, then release the job
        self._lost = threading.Event()
        self._stalled = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._beat_loop, daemon=True, name=f"heartbeat-{job.id}")
        self._thread.start()

    @property
    def runs_dir(self) -> Path:
        return self.settings.runs_dir

    def _beat_loop(self):
        while not self._stop.wait(self.settings.heartbeat_s):
            silent = time.monotonic() - self._last_sign_of_life
            if silent > self.settings.stall_s:
                self._stall(silent)
                return
            self._beat()

    def _stall(self, silent: float):
        """Stop heartbeating for good: the job has made no progress for stall_s, so it is treated as hung."""
        with self._lock:
            self._stalled.set()
            self._cancel.set()  # should the handler wake up, it stops at its next step and writes nothing
        line = (f"no progress or log line for {silent:.0f} s (the limit is {self.settings.stall_s:g} s, "
                f"TANDEM_JOB_STALL_SECONDS): the heartbeat stops, so the job is re-queued, or failed when no "
                f"attempts are left, once it is stale")
        print(f"[{self.job.kind.lower()} {self.job.id}] {line}", flush=True)
        try:
            queue.log_line(self._beat_conn, self.job.id, line)  # not self.conn: the hung handler may hold it
        except Exception:
            traceback.print_exc()

    def _beat(self):
        with self._lock:
            if self._stalled.is_set():
                return
            progress, message = self._progress
            try:
                if queue.heartbeat(self._beat_conn, self.job.id, self.settings.worker_id, progress, message):
                    self._cancel.set()
                touch_alive(self.settings)
            except queue.LeaseLost:
                self._lost.set()
                self._cancel.set()

    def progress(self, fraction: float, message: str | None = None):
        value = (max(0.0, min(1.0, fraction)), message)
        if value != self._progress:
            self._last_sign_of_life = time.monotonic()
        self._progress = value

    def log(self, line: str):
        self._last_sign_of_life = time.monotonic()
        print(f"[{self.job.kind.lower()} {self.job.id}] {line}", flush=True)
        queue.log_line(self.conn, self.job.id, line)

    def cancel_requested(self) -> bool:
        """Checked by handlers between steps: the job was cancelled, its lease is gone, it stalled, or the worker
        is stopping. Also refreshes the heartbeat's view right now."""
        self._beat()
        return self._cancel.is_set() or self._drain.is_set()

    def request_drain(self):
        self._drain.set()

    @property
    def releasing(self) -> bool:
        """The handler stops because the worker is stopping (not because the job was cancelled): the job goes back
        to the queue and is picked up again, a training run from the checkpoint it saves now."""
        return self._drain.is_set() and not self._cancel.is_set()

    @property
    def lease_lost(self) -> bool:
        return self._lost.is_set()

    @property
    def stalled(self) -> bool:
        return self._stalled.is_set()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._beat_conn.close()
        self.conn.close()


class Worker:
    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self.conn = queue.connect(settings.database_url)
        self.draining = threading.Event()
        self._current: JobContext | None = None
        self._drain_timer: threading.Timer | None = None

    def run_once(self) -> str | None:
        """Settle stale jobs, then claim and run one job. Returns its final status, or None if idle or stopping."""
        self.settle_stale()
        if self.draining.is_set():
            return None
        job = queue.claim(self.conn, self.settings.worker_id, self.settings.kinds)
        if job is None:
            return None
        return self.run_job(job)

    def settle_stale(self):
        """Re-queue or fail the jobs of workers that stopped responding; a failed one marks its run or upload."""
        for row in queue.sweep_stale(self.conn, self.settings.stale_after_s, self.settings.backoff_base_s):
            print(f"stale job {row['id']} ({row['kind']}): {row['status']}: {row['error'] or ''}", flush=True)
            if row["status"] == "FAILED":
                self._record_failure(row["kind"], row["payload"], row["error"])

    def run_job(self, job: queue.Job) -> str:
        worker = self.settings.worker_id
        ctx = JobContext(job, self.settings)
        self._current = ctx
        if self.draining.is_set():
            ctx.request_drain()
        try:
            handler = HANDLERS.get(job.kind)
            if handler is None:
                raise InvalidPayload(f"no handler for job kind {job.kind}")
            result = handler(ctx) or {}
            if ctx.lease_lost:
                return "LOST"  # another worker owns the job now; write nothing more
            if ctx.stalled:
                return "STALLED"  # the heartbeat stopped: the stale rule settles the job
            if result.get("cancelled") or result.get("released"):
                if ctx.releasing:
                    return self._release(job)
                queue.cancelled(self.conn, job.id, worker)
                self._settle_experiment(job)
                return "CANCELLED"
            queue.succeed(self.conn, job.id, worker, result)
            self._settle_experiment(job)
            return "SUCCEEDED"
        except InvalidPayload as e:
            ctx.log(f"invalid job: {e}")
            return self._fail(job, f"invalid job: {e}", retryable=False)
        except Exception as e:  # any other failure is retried with backoff
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            ctx.log(f"failed (attempt {job.attempts}/{job.max_attempts}): {detail}")
            traceback.print_exc()
            return self._fail(job, detail, retryable=True)
        finally:
            self._current = None
            ctx.close()

    def _release(self, job: queue.Job) -> str:
        status = queue.release(self.conn, job.id, self.settings.worker_id)
        print(f"released job {job.id} ({job.kind}) to the queue: {status}", flush=True)
        return "RELEASED" if status == "QUEUED" else (status or "LOST")

    def _fail(self, job: queue.Job, error: str, retryable: bool) -> str:
        status = queue.fail(self.conn, job, self.settings.worker_id, error, retryable=retryable,
                            backoff_base=self.settings.backoff_base_s)
        if status == "FAILED":
            self._record_failure(job.kind, job.payload, error)
        return status

    def _settle_experiment(self, job: queue.Job):
        """A job of an experiment finished: its status may change (all cancelled, or the report may be due)."""
        try:
            experiments.settle(self.conn, experiments.experiment_of(self.conn, job.kind, job.payload, job.experiment_id))
        except Exception:  # the job's own state is recorded; the next job of the experiment settles it again
            traceback.print_exc()

    def _record_failure(self, kind: str, payload, error: str):
        try:
            record_job_failure(self.conn, kind, payload, error)
        except Exception:  # the job's own FAILED state is recorded; this is the console's convenience
            traceback.print_exc()

    def drain(self, why: str = "asked to stop"):
        """Stop claiming; ask the running job (if any) to stop at its next step and go back to the queue. After
        drain_s a job that has not stopped is released anyway and the process exits 0. Safe in a signal handler."""
        if self.draining.is_set():
            return
        self.draining.set()
        ctx = self._current
        # os.write, not print: a signal handler may interrupt a print, and buffered streams refuse re-entry
        os.write(1, (f"worker {self.settings.worker_id}: {why}; draining"
                     + (f" (job {ctx.job.id} stops at its next step, at most {self.settings.drain_s:g} s)" if ctx else "")
                     + "\n").encode())
        if ctx is not None:
            ctx.request_drain()
        self._drain_timer = threading.Timer(self.settings.drain_s, self._drain_deadline)
        self._drain_timer.daemon = True
        self._drain_timer.start()

    def _drain_deadline(self):
        ctx = self._current
        if ctx is None:
            return
        try:
            conn = queue.connect(self.settings.database_url)
            status = queue.release(conn, ctx.job.id, self.settings.worker_id)
            conn.close()
            print(f"job {ctx.job.id} did not stop within {self.settings.drain_s:g} s; released it ({status}) and "
                  "exiting", flush=True)
        except Exception:
            traceback.print_exc()
        os._exit(0)  # the handler is still running in the main thread; nothing more of it may be written

    def run_forever(self, stop: threading.Event | None = None):
        stop = stop or threading.Event()
        listen = queue.connect(self.settings.database_url)
        listen.execute(f"LISTEN {queue.CHANNEL}")
        print(f"worker {self.settings.worker_id} listening on {queue.CHANNEL}", flush=True)
        try:
            while not stop.is_set() and not self.draining.is_set():
                touch_alive(self.settings)
                if self.run_once() is not None:
                    continue  # there may be more work: look again before sleeping
                for _ in listen.notifies(timeout=self.settings.poll_s, stop_after=1):
                    break
        finally:
            if self._drain_timer is not None:
                self._drain_timer.cancel()
            listen.close()
            self.conn.close()
        if self.draining.is_set():
            print(f"worker {self.settings.worker_id} drained; exiting", flush=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="tandem worker", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs-dir", default=os.environ.get("TANDEM_RUNS_DIR", "runs"))
    parser.add_argument("--stale-after", type=float, default=limits.STALE_AFTER_SECONDS)
    parser.add_argument("--heartbeat", type=float, default=limits.HEARTBEAT_SECONDS)
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument("--once", action="store_true", help="run at most one job, then exit")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    settings = WorkerSettings(args.database_url, Path(args.runs_dir), heartbeat_s=args.heartbeat,
                              stale_after_s=args.stale_after, poll_s=args.poll)
    try:
        worker = Worker(settings)
    except Exception as e:  # psycopg.OperationalError: wrong URL, server down, missing database
        print(f"tandem worker: cannot connect to the database: {e}", file=sys.stderr)
        return 2
    # Kubernetes (and docker stop) send SIGTERM, then SIGKILL after the grace period: drain within it.
    signal.signal(signal.SIGTERM, lambda signum, frame: worker.drain(f"received {signal.Signals(signum).name}"))
    if args.once:
        status = worker.run_once()
        print(status or "idle")
        return 0
    worker.run_forever()
    return 0
