"""Security items of the worker (docs/security.md, "Workers and jobs" and "Model paths"), against a real Postgres:
no crash loops (stale jobs fail after max_attempts, hung jobs stop heartbeating, SIGTERM drains), bounded dataset
uploads, model paths only under the model roots, weights only from safetensors."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg.types.json import Jsonb

from tandem import limits
from tandem.data import arithmetic_splits
from tandem.limits import UploadBounds
from tandem.runner import handlers, queue
from tandem.runner.catalog import redact_paths
from tandem.runner.worker import Worker, WorkerSettings
from waiting import wait_until


def _settings(db_url, tmp_path, **kw) -> WorkerSettings:
    return WorkerSettings(db_url, tmp_path / "runs", **{"heartbeat_s": 0.2, "stale_after_s": 5, "poll_s": 0.2,
                                                        "backoff_base_s": 0.1, **kw})


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def _user(conn):
    conn.execute("INSERT INTO users (id, email, name, password_hash, role) VALUES ('u1', 'r@x.org', 'R', 'x', 'RESEARCHER')")


def _upload(conn, content: bytes, fmt: str, upload_id: str = "up1") -> str:
    conn.execute(
        """INSERT INTO dataset_uploads (id, name, filename, format, content, size_bytes, created_by_id)
           VALUES (%s, %s, %s, %s, %s, %s, 'u1')""",
        (upload_id, f"set-{upload_id}", f"file.{fmt}", fmt, content, len(content)),
    )
    return upload_id


# Python run as a worker process whose handler for one job kind is replaced by `body` (a function of ctx).
WORKER_SCRIPT = """
import os, signal, sys, time
from pathlib import Path
from tandem.runner import handlers, worker
from tandem.runner.worker import Worker, WorkerSettings

def handler(ctx):
{body}

handlers.HANDLERS[sys.argv[2]] = handler
settings = WorkerSettings(sys.argv[1], Path(sys.argv[3]), heartbeat_s=0.2, stale_after_s=1, poll_s=0.2,
                          backoff_base_s=0.1, drain_s=float(sys.argv[4]))
w = Worker(settings)
signal.signal(signal.SIGTERM, lambda s, f: w.drain("received SIGTERM"))
w.run_forever()
"""


def _worker_process(db_url, tmp_path, kind: str, body: str, log_name: str, drain_s: float = 30) -> subprocess.Popen:
    script = WORKER_SCRIPT.format(body=textwrap.indent(textwrap.dedent(body), "    "))
    log = open(tmp_path / log_name, "w")
    return subprocess.Popen([sys.executable, "-c", script, db_url, kind, str(tmp_path / "runs"), str(drain_s)],
                            stdout=log, stderr=subprocess.STDOUT)


# ================================================================ item 8


class TestItem8NoCrashLoops:
    """item 8: a job whose worker dies is re-queued only while attempts remain, then FAILED with the reason."""

    def test_a_stale_job_is_requeued_while_attempts_remain_then_failed_with_the_reason(self, db_url, conn, tmp_path):
        _user(conn)
        _upload(conn, b'{"problem": "1+1", "answer": "2"}\n', "jsonl")
        job_id = queue.enqueue(conn, "IMPORT_DATASET", {"uploadId": "up1"}, max_attempts=3)
        worker = Worker(_settings(db_url, tmp_path, backoff_base_s=0))
        for attempt in (1, 2, 3):
            job = queue.claim(conn, f"dying-worker-{attempt}")
            assert job is not None and job.id == job_id and job.attempts == attempt
            conn.execute("UPDATE jobs SET heartbeat_at = now() - interval '1 minute' WHERE id = %s", (job_id,))
            worker.settle_stale()
            row = queue.get(conn, job_id)
            assert f"the worker stopped responding on attempt {attempt} of 3" in row["error"]
            assert f"from dying-worker-{attempt}" in row["error"] and "last heartbeat 20" in row["error"]
            if attempt < 3:
                assert row["status"] == "QUEUED" and row["error"].endswith("re-queued")
        row = queue.get(conn, job_id)
        assert row["status"] == "FAILED" and row["locked_by"] is None and row["finished_at"] is not None
        assert row["error"].endswith("no attempts left, so it is not retried")
        assert queue.claim(conn, "another-worker") is None  # never claimed again
        upload = conn.execute("SELECT status, errors FROM dataset_uploads WHERE id = 'up1'").fetchone()
        assert upload["status"] == "FAILED" and "the worker stopped responding" in upload["errors"][0]["reason"]
        worker.conn.close()

    def test_a_job_that_kills_its_worker_runs_max_attempts_times_then_fails(self, db_url, conn, tmp_path):
        calls = tmp_path / "calls.txt"
        body = f"""
            with open({str(calls)!r}, "a") as f:
                f.write("x\\n")
            os.kill(os.getpid(), signal.SIGKILL)  # what an out-of-memory kill looks like
        """
        job_id = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []}, max_attempts=3)
        for spawn in range(8):  # the old rule re-queues forever: 8 deaths are far past 3 attempts
            if queue.get(conn, job_id)["status"] == "FAILED":
                break
            process = _worker_process(db_url, tmp_path, "VERIFY_RESPONSES", body, f"worker-{spawn}.log")
            try:
                wait_until(lambda: process.poll() is not None or queue.get(conn, job_id)["status"] == "FAILED", 60,
                      "the worker to die or the job to fail")
            finally:
                process.kill()
                process.wait()
        row = queue.get(conn, job_id)
        assert row["status"] == "FAILED", row
        assert "the worker stopped responding on attempt 3 of 3" in row["error"]
        assert calls.read_text().count("x") == 3

    def test_a_hung_job_stops_heartbeating_and_says_why(self, db_url, conn, tmp_path, monkeypatch):
        release = threading.Event()

        def hangs(ctx):
            ctx.progress(0.1, "started")
            release.wait(20)  # no progress, no log line: a deadlock as the worker sees it
            return {}

        monkeypatch.setitem(handlers.HANDLERS, "VERIFY_RESPONSES", hangs)
        job_id = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []})
        worker = Worker(_settings(db_url, tmp_path, stall_s=1.0, stale_after_s=1.5))
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("status", worker.run_once()))
        thread.start()
        try:
            wait_until(lambda: _count(conn, "job_logs") > 0, 10, "the stall to be logged")
            line = conn.execute("SELECT line FROM job_logs WHERE job_id = %s", (job_id,)).fetchone()["line"]
            assert "no progress or log line for" in line and "TANDEM_JOB_STALL_SECONDS" in line
            first = queue.get(conn, job_id)["heartbeat_at"]
            time.sleep(1.0)  # five heartbeat periods
            assert queue.get(conn, job_id)["heartbeat_at"] == first  # the heartbeat has stopped
        finally:
            release.set()
            thread.join(10)
        assert result["status"] == "STALLED" and queue.get(conn, job_id)["status"] == "RUNNING"  # nothing written
        time.sleep(1.6)
        other = Worker(_settings(db_url, tmp_path, stale_after_s=1.5, backoff_base_s=30))
        other.settle_stale()
        row = queue.get(conn, job_id)
        assert row["status"] == "QUEUED" and "the worker stopped responding on attempt 1 of 3" in row["error"]
        worker.conn.close()
        other.conn.close()

    def test_a_slow_job_that_reports_progress_keeps_its_heartbeat(self, db_url, conn, tmp_path, monkeypatch):
        def slow(ctx):
            for i in range(15):
                time.sleep(0.2)
                ctx.progress(i / 15, f"step {i}")
            return {"ok": True}

        monkeypatch.setitem(handlers.HANDLERS, "VERIFY_RESPONSES", slow)
        job_id = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []})
        worker = Worker(_settings(db_url, tmp_path, stall_s=1.0))
        assert worker.run_once() == "SUCCEEDED" and queue.get(conn, job_id)["status"] == "SUCCEEDED"
        worker.conn.close()


# ---------------------------------------------------------------- SIGTERM


def _seed_training(conn, model_dir: Path, max_steps: int, user: bool = True) -> str:
    if user:
        _user(conn)
    conn.execute("INSERT INTO base_models (id, name, path) VALUES ('m1', 'fixture', %s)", (str(model_dir),))
    conn.execute("INSERT INTO datasets (id, name, source, row_count) VALUES ('d1', 'arith', 'generated', 24)")
    for p in arithmetic_splits(n_train=24, n_eval=1, seed=0).train:
        conn.execute("INSERT INTO problems (id, dataset_id, external_id, problem, answer) VALUES (%s, 'd1', %s, %s, %s)",
                     ("p-" + p["id"], p["id"], p["problem"], p["answer"]))
    config = {"num_generations": 4, "per_device_train_batch_size": 8, "max_steps": max_steps, "save_steps": 50,
              "max_completion_length": 16, "p_junior": 0.0}
    conn.execute(
        """INSERT INTO training_runs (id, name, algorithm, config, seed, max_steps, owner_id, base_model_id, dataset_id)
           VALUES ('run1', 'run1', 'GRPO', %s, 0, %s, 'u1', 'm1', 'd1')""",
        (Jsonb(config), max_steps),
    )
    return queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")


class TestItem8SigtermDrains:
    """item 8: on SIGTERM the worker finishes its step, checkpoints, releases the job and exits 0."""

    def test_sigterm_mid_training_releases_the_job_which_resumes_from_the_checkpoint(self, db_url, conn, tmp_path,
                                                                                        fixture_model_dir):
        job_id = _seed_training(conn, fixture_model_dir, max_steps=8)
        log = tmp_path / "worker.log"
        with open(log, "w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tandem.cli", "worker", "--database-url", db_url, "--runs-dir",
                 str(tmp_path / "runs"), "--heartbeat", "0.2", "--stale-after", "5", "--poll", "0.2"],
                stdout=out, stderr=subprocess.STDOUT)
            try:
                wait_until(lambda: _count(conn, "run_metrics") >= 2, 180, "two training steps")
                process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=60)
            finally:
                if process.poll() is None:
                    process.kill()
        output = log.read_text()
        assert code == 0, output[-3000:]
        assert "received SIGTERM; draining" in output and "released job" in output
        job = queue.get(conn, job_id)
        assert job["status"] == "QUEUED" and job["locked_by"] is None, job
        assert job["attempts"] == 0  # a stopping worker is no failure of the job
        run = conn.execute("SELECT status, current_step FROM training_runs WHERE id = 'run1'").fetchone()
        stopped_at = run["current_step"]
        assert run["status"] == "QUEUED" and 2 <= stopped_at < 8
        assert (tmp_path / "runs" / "run1" / f"checkpoint-{stopped_at}").is_dir()  # saved at the step it stopped

        worker = Worker(_settings(db_url, tmp_path))
        assert worker.run_once() == "SUCCEEDED"
        worker.conn.close()
        assert queue.get(conn, job_id)["result"]["resumedFrom"] == stopped_at
        steps = [r["step"] for r in conn.execute("SELECT step FROM run_metrics WHERE run_id = 'run1' ORDER BY step")]
        assert steps == list(range(1, 9))  # nothing lost, nothing repeated

    def test_a_job_that_does_not_stop_is_released_at_the_drain_deadline(self, db_url, conn, tmp_path):
        job_id = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []})
        body = """
            ctx.log("working without looking at cancel_requested")
            time.sleep(120)
        """
        process = _worker_process(db_url, tmp_path, "VERIFY_RESPONSES", body, "worker.log", drain_s=1.5)
        try:
            wait_until(lambda: _count(conn, "job_logs") > 0, 60, "the job to start")
            started = time.time()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert code == 0 and time.time() - started < 15
        assert "did not stop within 1.5 s; released it (QUEUED)" in (tmp_path / "worker.log").read_text()
        job = queue.get(conn, job_id)
        assert job["status"] == "QUEUED" and job["attempts"] == 0 and job["locked_by"] is None


# ---------------------------------------------------------------- uploads


def _import(conn, worker) -> tuple[dict, dict]:
    job_id = queue.enqueue(conn, "IMPORT_DATASET", {"uploadId": "up1"})
    worker.run_once()
    return queue.get(conn, job_id), conn.execute("SELECT * FROM dataset_uploads WHERE id = 'up1'").fetchone()


def _rows(n: int) -> list[dict]:
    return [{"id": f"r{i}", "problem": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(n)]


def _encode(rows: list[dict], fmt: str) -> bytes:
    if fmt == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in rows).encode()
    if fmt == "csv":
        return ("id,problem,answer\n" + "".join(f"{r['id']},{r['problem']},{r['answer']}\n" for r in rows)).encode()
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


@pytest.fixture
def upload_worker(db_url, conn, tmp_path):
    _user(conn)
    w = Worker(_settings(db_url, tmp_path))
    yield w
    w.conn.close()


def _refused(conn, job: dict, upload: dict, reason: str):
    assert job["status"] == "SUCCEEDED" and job["result"]["ok"] is False and job["attempts"] == 1, job
    assert upload["status"] == "FAILED" and upload["dataset_id"] is None
    assert reason in upload["errors"][0]["reason"], upload["errors"]
    assert upload["errors"][0]["line"] == 0
    assert _count(conn, "datasets") == 0 and _count(conn, "problems") == 0


class TestItem8UploadsAreBounded:
    """item 8: an upload is bounded by size, rows and decoded bytes, so one upload cannot exhaust a worker."""

    @pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
    def test_an_oversized_file_is_refused_before_it_is_read(self, conn, upload_worker, monkeypatch, fmt):
        content = _encode(_rows(200), fmt)
        monkeypatch.setattr(limits, "UPLOAD", UploadBounds(max_bytes=len(content) - 1, max_rows=10_000,
                                                           max_decoded_bytes=10 * limits.MIB))
        _upload(conn, content, fmt)
        job, upload = _import(conn, upload_worker)
        _refused(conn, job, upload, f"the file is {len(content)} bytes; the limit is {len(content) - 1} bytes")

    @pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
    def test_too_many_rows_are_refused(self, conn, upload_worker, monkeypatch, fmt):
        monkeypatch.setattr(limits, "UPLOAD", UploadBounds(max_bytes=limits.MIB, max_rows=50,
                                                           max_decoded_bytes=10 * limits.MIB))
        _upload(conn, _encode(_rows(51), fmt), fmt)
        job, upload = _import(conn, upload_worker)
        _refused(conn, job, upload, "more than 50 rows; the limit is 50 rows per upload")

    def test_exactly_the_row_limit_is_imported(self, conn, upload_worker, monkeypatch):
        monkeypatch.setattr(limits, "UPLOAD", UploadBounds(max_bytes=limits.MIB, max_rows=50,
                                                           max_decoded_bytes=10 * limits.MIB))
        _upload(conn, _encode(_rows(50), "parquet"), "parquet")
        job, upload = _import(conn, upload_worker)
        assert job["result"]["ok"] is True and upload["status"] == "IMPORTED" and _count(conn, "problems") == 50

    def test_a_parquet_decompression_bomb_is_refused_from_its_footer(self, conn, upload_worker, monkeypatch):
        # 16 rows of 1 MiB text each, zstd-compressed: a few kB on disk, 16 MiB once decompressed
        table = pa.table({"problem": ["a" * limits.MIB] * 16, "answer": ["1"] * 16})
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd", use_dictionary=False)
        content = buffer.getvalue()
        assert len(content) < 64 * limits.KIB
        monkeypatch.setattr(limits, "UPLOAD", UploadBounds(max_bytes=limits.MIB, max_rows=1000,
                                                           max_decoded_bytes=8 * limits.MIB))
        _upload(conn, content, "parquet")
        job, upload = _import(conn, upload_worker)
        _refused(conn, job, upload, "the file expands too far: its pages decompress to")
        assert "the limit is 8388608 bytes (8 MiB) of decoded data per upload" in upload["errors"][0]["reason"]

    def test_a_parquet_dictionary_bomb_is_refused_before_its_rows_are_decoded(self, conn, upload_worker, monkeypatch):
        # one 4 KiB string repeated 5,000 times: stored once in the dictionary, 20 MiB once every row is decoded
        table = pa.table({"problem": [("x" * 4096)] * 5000, "answer": ["1"] * 5000})
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd", use_dictionary=True)
        content = buffer.getvalue()
        assert len(content) < 64 * limits.KIB
        monkeypatch.setattr(limits, "UPLOAD", UploadBounds(max_bytes=limits.MIB, max_rows=10_000,
                                                           max_decoded_bytes=8 * limits.MIB))
        _upload(conn, content, "parquet")
        job, upload = _import(conn, upload_worker)
        _refused(conn, job, upload, "the file expands too far: its rows decode to")

    def test_deeply_nested_json_is_a_row_error_not_a_crash(self, conn, upload_worker):
        content = b'{"problem": "1+1", "answer": "2"}\n' + b"[" * 100_000 + b"\n"
        _upload(conn, content, "jsonl")
        job, upload = _import(conn, upload_worker)
        assert job["status"] == "SUCCEEDED" and job["attempts"] == 1 and upload["status"] == "FAILED"
        assert upload["errors"] == [{"line": 2, "field": None, "reason": "invalid JSON: nested too deeply"}]
        assert _count(conn, "problems") == 0

    def test_the_default_bounds_match_the_web_apps_upload_limit(self):
        limits_ts = (Path(__file__).resolve().parents[3] / "apps/web/src/server/api/routers/datasets.schema.ts").read_text()
        assert "MAX_UPLOAD_BYTES = 20 * 1024 * 1024" in limits_ts
        assert limits.UPLOAD.max_bytes == 20 * limits.MIB


# ================================================================ item 9


def _copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


class TestItem9ModelPaths:
    """item 9: models register only under the model roots; refusals do not reveal paths outside them."""

    @pytest.fixture
    def roots(self, tmp_path, monkeypatch):
        root = tmp_path / "models"
        root.mkdir()
        monkeypatch.setenv("TANDEM_MODEL_ROOTS", str(root))
        return root

    def _validate(self, conn, worker, path) -> tuple[dict, dict]:
        conn.execute("DELETE FROM base_models")
        conn.execute("INSERT INTO base_models (id, name, path) VALUES ('m1', 'm1', %s)", (str(path),))
        job_id = queue.enqueue(conn, "VALIDATE_MODEL", {"baseModelId": "m1"})
        worker.run_once()
        return queue.get(conn, job_id), conn.execute("SELECT * FROM base_models WHERE id = 'm1'").fetchone()

    def test_a_model_inside_a_root_is_registered(self, conn, upload_worker, roots, fixture_model_dir):
        path = _copy_model(fixture_model_dir, roots / "tiny")
        job, model = self._validate(conn, upload_worker, path)
        assert job["result"]["ok"] is True and model["validated_at"] is not None

    def test_paths_outside_the_roots_are_refused_alike_without_echoing_them(self, conn, upload_worker, roots, tmp_path,
                                                                              fixture_model_dir):
        outside = _copy_model(fixture_model_dir, tmp_path / "elsewhere" / "tiny")  # a real, valid model
        (roots / "link").symlink_to(outside, target_is_directory=True)
        sneaky = _copy_model(fixture_model_dir, roots / "sneaky")
        (sneaky / "config.json").unlink()
        (sneaky / "config.json").symlink_to(outside / "config.json")
        candidates = {
            "a valid model outside": outside,
            "a missing path": Path("/nonexistent/model"),
            "an existing file": Path("/etc/passwd"),
            "a directory": Path("/etc"),
            "a way out with ..": roots / ".." / "elsewhere" / "tiny",
            "a symlink out of a root": roots / "link",
        }
        errors = {}
        for what, path in candidates.items():
            job, model = self._validate(conn, upload_worker, path)
            assert job["status"] == "SUCCEEDED" and job["result"]["ok"] is False, what
            assert model["validated_at"] is None and _count(conn, "checkpoints") == 0, what
            errors[what] = model["validation_error"]
        assert len(set(errors.values())) == 1, errors  # one answer: nothing about what lies outside
        error = next(iter(errors.values()))
        assert error.startswith("the path is outside the model roots this worker loads models from")
        assert str(roots.resolve()) in error and "TANDEM_MODEL_ROOTS" in error
        for leaked in ("elsewhere", "/etc", "nonexistent", "link"):
            assert leaked not in error
        job, model = self._validate(conn, upload_worker, sneaky)
        assert model["validation_error"].startswith("config.json links outside the model roots")
        assert "elsewhere" not in model["validation_error"]

    def test_a_training_run_on_a_base_model_outside_the_roots_fails_without_loading_it(self, conn, upload_worker, roots,
                                                                                         tmp_path, fixture_model_dir):
        outside = _copy_model(fixture_model_dir, tmp_path / "elsewhere" / "tiny")
        job_id = _seed_training(conn, outside, max_steps=2, user=False)  # upload_worker made the user
        assert upload_worker.run_once() == "FAILED"
        job = queue.get(conn, job_id)
        assert job["attempts"] == 1 and "the base model of training run run1: the path is outside the model roots" in job["error"]
        assert "elsewhere" not in job["error"] and _count(conn, "run_metrics") == 0
        assert not (tmp_path / "runs" / "run1").exists()

    def test_library_errors_lose_paths_outside_the_roots(self, roots):
        root = roots.resolve()
        text = f"Can't load /etc/shadow (see {root}/tiny/config.json) or /home/x/.cache/huggingface/hub"
        assert redact_paths(text) == (f"Can't load <a path outside the model roots> (see {root}/tiny/config.json) "
                                      "or <a path outside the model roots>")


class TestItem9SafetensorsOnly:
    """item 9: weights load with use_safetensors=True; a pickle-only checkpoint is refused with a clear message."""

    def test_a_directory_with_only_pytorch_model_bin_is_refused(self, tmp_path, fixture_model_dir):
        import torch

        from tandem.models import UnsafeWeights, load_model

        path = _copy_model(fixture_model_dir, tmp_path / "pickled")
        state = load_model(fixture_model_dir).state_dict()
        (path / "model.safetensors").unlink()
        torch.save(state, path / "pytorch_model.bin")
        with pytest.raises(UnsafeWeights, match=r"pytorch_model\*\.bin \(pickle\) only, and only safetensors weights "
                                                r"are loaded; convert them with model.save_pretrained\(dir\)"):
            load_model(path)

    def test_every_from_pretrained_of_weights_passes_use_safetensors(self):
        import ast

        src = Path(__file__).resolve().parents[1] / "src" / "tandem"
        calls = []
        for file in src.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "from_pretrained" and isinstance(node.func.value, ast.Name)
                        and node.func.value.id.startswith("AutoModel")):
                    calls.append((file.name, {k.arg: getattr(k.value, "value", None) for k in node.keywords}))
        assert calls and all(kw.get("use_safetensors") is True for _, kw in calls), calls
