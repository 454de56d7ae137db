"""Every limit the worker enforces against bad input and failing jobs, in one place, each with its reason
(docs/security.md, "Workers and jobs" and "Model paths", explains them). Operators may override the ones named
TANDEM_* in the environment; a value that is not a number in range stops the worker at start with that name.

The web app's own limits are in apps/web/src/server/limits.ts; the dataset upload bound below repeats its
MAX_UPLOAD_BYTES, because a row reaching the queue any other way must meet it too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB


def _env_number(name: str, default: float, minimum: float, kind: type = float):
    """The environment's value of `name` as `kind` (>= minimum), else `default`; a bad value is a clear error."""
    text = os.environ.get(name)
    if text is None or not text.strip():
        return kind(default)
    try:
        value = kind(text.strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number >= {minimum}, got {text!r}")
    return value


# ---------------------------------------------------------------- dataset uploads (IMPORT_DATASET)


@dataclass(frozen=True)
class UploadBounds:
    """What one uploaded dataset may cost a worker; past any of these the upload is refused whole, nothing stored."""

    max_bytes: int  # the file as stored, before any decoding
    max_rows: int  # data rows (a Parquet file's footer is checked before its pages are read)
    max_decoded_bytes: int  # the text its rows decode to (Parquet pages are compressed and dictionary-encoded)


UPLOAD = UploadBounds(
    # The web app's MAX_UPLOAD_BYTES (20 MiB, apps/web/src/server/api/routers/datasets.schema.ts).
    max_bytes=_env_number("TANDEM_UPLOAD_MAX_BYTES", 20 * MIB, 1, int),
    # As many problems as GENERATE_DATASET may make (catalog.MAX_GENERATED_PROBLEMS); five times a generated
    # task's training split. Each row becomes a Python dict and a Postgres row: this caps both.
    max_rows=_env_number("TANDEM_UPLOAD_MAX_ROWS", 100_000, 1, int),
    # A 20 MiB Parquet file of ordinary text decodes to a few times its size; 128 MiB leaves room for that and
    # stops a decompression or dictionary bomb (a few kB that decode to gigabytes) long before a worker's
    # memory (4-8 GiB in infra/k8s/worker.yaml) is at risk.
    max_decoded_bytes=_env_number("TANDEM_UPLOAD_MAX_DECODED_BYTES", 128 * MIB, 1, int),
)

# ---------------------------------------------------------------- the job loop

# How often a running job's heartbeat is written. Several per stale period, so one slow write is no loss.
HEARTBEAT_SECONDS = 2.0
# A RUNNING job whose heartbeat is older than this is taken to have lost its worker (killed, OOM, node lost).
# 15 heartbeats: a database hiccup or a GC pause does not re-queue a healthy job.
STALE_AFTER_SECONDS = _env_number("TANDEM_STALE_AFTER_S", 30, 1)
# Retry delay: base, 2*base, 4*base ... capped; a job that keeps failing is not retried in a tight loop.
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0
# A job that reports neither progress nor a log line for this long is taken to be hung (a deadlock, a stuck
# device call): its heartbeat stops, so the stale rule above re-queues or fails it. The longest silent stretch of
# a healthy job is one evaluation suite or one training step of a large model; an hour is far past both.
JOB_STALL_SECONDS = _env_number("TANDEM_JOB_STALL_SECONDS", 3600, 1)
# On SIGTERM a worker stops claiming and asks its job to stop at the next step (training saves a checkpoint);
# a job still running after this long is released anyway. Kubernetes' terminationGracePeriodSeconds must be
# longer (infra/k8s/worker*.yaml; infra/check.sh compares them), or the kubelet kills the worker mid-release.
DRAIN_SECONDS = _env_number("TANDEM_DRAIN_SECONDS", 90, 1)
# The liveness file (infra/docker/worker-healthcheck.py --liveness): touched by the idle loop every poll and by
# the heartbeat of a running job. Older than this, the worker is hung: 3 stale periods, never one slow poll.
ALIVE_FILE_ENV = "TANDEM_ALIVE_FILE"
ALIVE_MAX_AGE_SECONDS = _env_number("TANDEM_ALIVE_MAX_AGE_S", 90, 1)

# ---------------------------------------------------------------- model paths

MODEL_ROOTS_ENV = "TANDEM_MODEL_ROOTS"


def model_roots() -> tuple[Path, ...]:
    """The directories models may be registered and loaded from: TANDEM_MODEL_ROOTS (os.pathsep-separated, like
    PATH), else the worker's own two: the model cache (TANDEM_CACHE, where base models are built) and the runs
    folder (TANDEM_RUNS_DIR, where checkpoints are written). Absolute and with symlinks resolved."""
    text = os.environ.get(MODEL_ROOTS_ENV, "")
    if text.strip():
        roots = [Path(p) for p in text.split(os.pathsep) if p.strip()]
    else:
        from .base_model import default_cache_dir

        roots = [default_cache_dir(), Path(os.environ.get("TANDEM_RUNS_DIR", "runs"))]
    return tuple(dict.fromkeys(p.expanduser().resolve() for p in roots))
