"""Health checks of the worker images; exit 0 when healthy, else 1 with the reason on stderr.

  --readiness  DATABASE_URL accepts a connection (the worker can claim jobs) and, with TANDEM_REQUIRE_CUDA=1
               (the GPU image), torch sees a CUDA device.
  --liveness   the worker's liveness file (TANDEM_ALIVE_FILE) was touched within TANDEM_ALIVE_MAX_AGE_S: the idle
               loop touches it every poll and a running job's heartbeat every beat, and a job that makes no
               progress for TANDEM_JOB_STALL_SECONDS stops its heartbeat, so a hung worker goes stale here and
               is restarted (its job is re-queued, or failed after max_attempts, by another worker).
  (no flag)    both: the image's HEALTHCHECK.
The numbers and their reasons are in workers/trainer/src/tandem/limits.py.
"""

import os
import sys
import time


def ready() -> str | None:
    try:
        import psycopg

        psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5).close()
    except Exception as e:  # KeyError when unset, psycopg.OperationalError when unreachable
        return f"database: {type(e).__name__}: {e}"
    if os.environ.get("TANDEM_REQUIRE_CUDA") == "1":
        import torch

        if not torch.cuda.is_available():
            return "cuda: torch sees no CUDA device"
    return None


def alive() -> str | None:
    from tandem.limits import ALIVE_FILE_ENV, ALIVE_MAX_AGE_SECONDS

    path = os.environ.get(ALIVE_FILE_ENV, "").strip()
    if not path:
        return f"liveness: {ALIVE_FILE_ENV} is not set, so the worker keeps no liveness file"
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return f"liveness: {path} does not exist (the worker has not started its loop)"
    if age > ALIVE_MAX_AGE_SECONDS:
        return f"liveness: {path} was last touched {age:.0f} s ago (limit {ALIVE_MAX_AGE_SECONDS:g} s): the worker is hung"
    return None


if __name__ == "__main__":
    checks = {"--readiness": [ready], "--liveness": [alive]}.get(sys.argv[1] if len(sys.argv) > 1 else "", [alive, ready])
    for check in checks:
        problem = check()
        if problem:
            print(problem, file=sys.stderr)
            sys.exit(1)
