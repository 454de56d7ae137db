"""`tandem worker`: the loop that serves the web app's jobs.

Idle, it re-queues stale jobs, claims one, and otherwise sleeps on LISTEN tandem_jobs (with a polling
fallback). Running a job, a heartbeat thread on its own connection keeps the lease alive, publishes
progress and notices cancellation requests; the handler writes its results into the domain tables.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import queue
from .handlers import HANDLERS, InvalidPayload, record_job_failure


@dataclass
class WorkerSettings:
    database_url: str
    runs_dir: Path = Path("runs")
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    heartbeat_s: float = 2.0
    stale_after_s: float = 30.0
    poll_s: float = 5.0
    backoff_base_s: float = 5.0
    kinds: tuple[str, ...] = queue.KINDS


class JobContext:
    """What a handler gets: its job, a connection for its writes, progress, logs and the cancel flag."""

    def __init__(self, job: queue.Job, settings: WorkerSettings):
        self.job, self.settings = job, settings
        self.conn = queue.connect(settings.database_url)
        self._beat_conn = queue.connect(settings.database_url)
        self._progress: tuple[float | None, str | None] = (None, None)
        self._cancel = threading.Event()
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._beat_loop, daemon=True, name=f"heartbeat-{job.id}")
        self._thread.start()

    @property
    def runs_dir(self) -> Path:
        return self.settings.runs_dir

    def _beat_loop(self):
        while not self._stop.wait(self.settings.heartbeat_s):
            self._beat()

    def _beat(self):
        with self._lock:
            progress, message = self._progress
            try:
                if queue.heartbeat(self._beat_conn, self.job.id, self.settings.worker_id, progress, message):
                    self._cancel.set()
            except queue.LeaseLost:
                self._lost.set()
                self._cancel.set()

    def progress(self, fraction: float, message: str | None = None):
        self._progress = (max(0.0, min(1.0, fraction)), message)

    def log(self, line: str):
        print(f"[{self.job.kind.lower()} {self.job.id}] {line}", flush=True)
        queue.log_line(self.conn, self.job.id, line)

    def cancel_requested(self) -> bool:
        """Checked by handlers between steps; also refreshes the heartbeat's view right now."""
        self._beat()
        return self._cancel.is_set()

    @property
    def lease_lost(self) -> bool:
        return self._lost.is_set()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._beat_conn.close()
        self.conn.close()


class Worker:
    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self.conn = queue.connect(settings.database_url)

    def run_once(self) -> str | None:
        """Re-queue stale jobs, then claim and run one job. Returns its final status, or None if idle."""
        queue.requeue_stale(self.conn, self.settings.stale_after_s)
        job = queue.claim(self.conn, self.settings.worker_id, self.settings.kinds)
        if job is None:
            return None
        return self.run_job(job)

    def run_job(self, job: queue.Job) -> str:
        worker = self.settings.worker_id
        ctx = JobContext(job, self.settings)
        try:
            handler = HANDLERS.get(job.kind)
            if handler is None:
                raise InvalidPayload(f"no handler for job kind {job.kind}")
            result = handler(ctx) or {}
            if ctx.lease_lost:
                return "LOST"  # another worker owns the job now; write nothing more
            if result.get("cancelled"):
                queue.cancelled(self.conn, job.id, worker)
                return "CANCELLED"
            queue.succeed(self.conn, job.id, worker, result)
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
            ctx.close()

    def _fail(self, job: queue.Job, error: str, retryable: bool) -> str:
        status = queue.fail(self.conn, job, self.settings.worker_id, error, retryable=retryable,
                            backoff_base=self.settings.backoff_base_s)
        if status == "FAILED":
            try:
                record_job_failure(self.conn, job.kind, job.payload, error)
            except Exception:  # the job's own FAILED state is recorded; this is the console's convenience
                traceback.print_exc()
        return status

    def run_forever(self, stop: threading.Event | None = None):
        stop = stop or threading.Event()
        listen = queue.connect(self.settings.database_url)
        listen.execute(f"LISTEN {queue.CHANNEL}")
        print(f"worker {self.settings.worker_id} listening on {queue.CHANNEL}", flush=True)
        try:
            while not stop.is_set():
                if self.run_once() is not None:
                    continue  # there may be more work: look again before sleeping
                for _ in listen.notifies(timeout=self.settings.poll_s, stop_after=1):
                    break
        finally:
            listen.close()
            self.conn.close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="tandem worker", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs-dir", default=os.environ.get("TANDEM_RUNS_DIR", "runs"))
    parser.add_argument("--stale-after", type=float, default=float(os.environ.get("TANDEM_STALE_AFTER_S", 30)))
    parser.add_argument("--heartbeat", type=float, default=2.0)
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
    if args.once:
        status = worker.run_once()
        print(status or "idle")
        return 0
    worker.run_forever()
    return 0
