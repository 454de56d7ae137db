"""The job runner against a real Postgres: claiming, retries, stale leases, cancellation, kill -9 resume,
and each job kind writing its results into the domain tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tandem.data import arithmetic_splits
from tandem.runner import handlers, queue
from tandem.runner.worker import Worker, WorkerSettings

ROOT = Path(__file__).resolve().parents[3]
ADMIN_URL = os.environ.get("TANDEM_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _apply_migrations(url: str):
    files = sorted((ROOT / "prisma" / "migrations").glob("*/migration.sql"))
    assert files, "no committed migrations under prisma/migrations"
    with psycopg.connect(url, autocommit=True) as conn:
        for f in files:
            conn.execute(f.read_text())


@pytest.fixture
def db_url():
    """A fresh database with the committed migrations applied; dropped afterwards."""
    name = f"tandem_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        _apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def conn(db_url):
    c = queue.connect(db_url)
    yield c
    c.close()


def _settings(db_url, tmp_path, **kw) -> WorkerSettings:
    return WorkerSettings(db_url, tmp_path / "runs", heartbeat_s=0.3, stale_after_s=5, poll_s=0.5,
                          backoff_base_s=0.2, **kw)


def _seed_domain(conn, model_dir: Path, n_problems: int = 24) -> dict:
    """A researcher, the fixture model as base model, a generated dataset, and a 4-step GRPO run."""
    conn.execute("INSERT INTO users (id, email, name, password_hash, role) VALUES ('u1', 'r@x.org', 'R', 'x', 'RESEARCHER')")
    conn.execute("INSERT INTO base_models (id, name, path) VALUES ('m1', 'fixture', %s)", (str(model_dir),))
    conn.execute("INSERT INTO datasets (id, name, source, row_count) VALUES ('d1', 'arith', 'generated', %s)", (n_problems,))
    for p in arithmetic_splits(n_train=n_problems, n_eval=1, seed=0).train:
        conn.execute(
            "INSERT INTO problems (id, dataset_id, external_id, problem, answer, solution) VALUES (%s, 'd1', %s, %s, %s, %s)",
            ("p-" + p["id"], p["id"], p["problem"], p["answer"], p["solution"]),
        )
    return {"user": "u1", "model": "m1", "dataset": "d1"}


def _make_run(conn, run_id: str = "run1", **config) -> str:
    cfg = {"num_generations": 4, "per_device_train_batch_size": 8, "max_steps": 4, "save_steps": 2,
           "max_completion_length": 16, "p_junior": 0.0, **config}
    algorithm = "GRPO" if cfg["p_junior"] == 0 else "TRL"
    conn.execute(
        """INSERT INTO training_runs (id, name, algorithm, config, seed, max_steps, owner_id, base_model_id, dataset_id)
           VALUES (%s, %s, %s, %s, 0, %s, 'u1', 'm1', 'd1')""",
        (run_id, run_id, algorithm, Jsonb(cfg), cfg["max_steps"]),
    )
    return run_id


def _counts(conn) -> dict:
    tables = ["training_runs", "run_metrics", "checkpoints", "traces", "verifier_results", "evaluation_reports"]
    return {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in tables}


def _wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------- queue mechanics


def test_two_workers_never_claim_the_same_job(db_url, conn):
    ids = {queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []}) for _ in range(40)}
    claimed: dict[str, list[str]] = {"a": [], "b": []}

    def drain(name):
        c = queue.connect(db_url)
        while (job := queue.claim(c, f"worker-{name}")) is not None:
            claimed[name].append(job.id)
        c.close()

    threads = [threading.Thread(target=drain, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert set(claimed["a"]) | set(claimed["b"]) == ids
    assert all(r["status"] == "RUNNING" and r["attempts"] == 1 for r in conn.execute("SELECT * FROM jobs").fetchall())


def test_failures_retry_with_backoff_then_fail(db_url, conn, tmp_path, monkeypatch):
    calls = []

    def flaky(ctx):
        calls.append(time.time())
        raise RuntimeError("transient trouble")

    monkeypatch.setitem(handlers.HANDLERS, "VERIFY_RESPONSES", flaky)
    job_id = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []}, max_attempts=3)
    worker = Worker(_settings(db_url, tmp_path))
    assert worker.run_once() == "QUEUED"
    row = queue.get(conn, job_id)
    assert row["attempts"] == 1 and "transient trouble" in row["error"] and row["run_after"] > row["created_at"]
    assert worker.run_once() is None  # not claimable during its backoff
    _wait(lambda: worker.run_once() is not None, 5, "retry 2")
    _wait(lambda: worker.run_once() is not None, 5, "retry 3")
    row = queue.get(conn, job_id)
    assert row["status"] == "FAILED" and row["attempts"] == 3 and len(calls) == 3
    assert calls[2] - calls[1] > calls[1] - calls[0] > 0.15  # the delay doubles


def test_invalid_payload_fails_at_once_and_touches_nothing(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir)
    _make_run(conn)
    before = _counts(conn)
    bad = [
        ("TRAIN", {"runId": "no-such-run"}, "training run no-such-run does not exist"),
        ("TRAIN", {"run": "x"}, "payload.runId is missing"),
        ("TRAIN", ["not", "an", "object"], "payload must be a JSON object"),
        ("GENERATE_TRACES", {"checkpointId": "c", "problemIds": []}, "non-empty list"),
    ]
    ids = [queue.enqueue(conn, kind, payload) for kind, payload, _ in bad]
    worker = Worker(_settings(db_url, tmp_path))
    for _ in bad:
        assert worker.run_once() == "FAILED"
    for job_id, (_, _, message) in zip(ids, bad):
        row = queue.get(conn, job_id)
        assert row["status"] == "FAILED" and row["attempts"] == 1 and message in row["error"]
    assert _counts(conn) == before


def test_bad_run_config_names_the_field(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir)
    _make_run(conn, p_junior=0.0, num_generation=4)
    job_id = queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")
    assert Worker(_settings(db_url, tmp_path)).run_once() == "FAILED"
    assert "num_generation: unknown field (did you mean 'num_generations'?)" in queue.get(conn, job_id)["error"]


def test_stale_jobs_are_requeued_and_the_old_holder_loses_its_lease(db_url, conn):
    job_id = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []})
    assert queue.claim(conn, "dead-worker").id == job_id
    conn.execute("UPDATE jobs SET heartbeat_at = now() - interval '1 minute' WHERE id = %s", (job_id,))
    assert queue.requeue_stale(conn, stale_after_s=30) == [job_id]
    assert queue.get(conn, job_id)["status"] == "QUEUED"
    with pytest.raises(queue.LeaseLost):
        queue.heartbeat(conn, job_id, "dead-worker")
    assert queue.claim(conn, "live-worker").attempts == 2


# ---------------------------------------------------------------- job kinds end to end


def test_train_job_writes_metrics_checkpoints_and_run_status(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir)
    _make_run(conn, p_junior=0.5)
    job_id = queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")
    assert Worker(_settings(db_url, tmp_path)).run_once() == "SUCCEEDED"
    steps = [r["step"] for r in conn.execute("SELECT step FROM run_metrics WHERE run_id = 'run1' ORDER BY step")]
    assert steps == [1, 2, 3, 4]
    metric = conn.execute("SELECT * FROM run_metrics WHERE run_id = 'run1' AND step = 1").fetchone()
    assert 0 < metric["senior_token_share"] < 1 and metric["tokens_per_second"] > 0 and metric["groups"] == 2
    checkpoints = conn.execute("SELECT step, path, sha256, size_bytes FROM checkpoints ORDER BY step, path").fetchall()
    assert [c["step"] for c in checkpoints] == [2, 4]  # checkpoint-4 is replaced by final/ (same step)
    assert checkpoints[-1]["path"].endswith("final") and len(checkpoints[-1]["sha256"]) == 64
    run = conn.execute("SELECT * FROM training_runs WHERE id = 'run1'").fetchone()
    assert run["status"] == "SUCCEEDED" and run["current_step"] == 4 and run["finished_at"]
    job = queue.get(conn, job_id)
    assert job["progress"] == 1.0 and job["result"]["finalStep"] == 4
    assert conn.execute("SELECT count(*) AS n FROM job_logs WHERE job_id = %s", (job_id,)).fetchone()["n"] >= 4


def test_cancel_stops_training_within_a_step(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir)
    _make_run(conn, max_steps=40, save_steps=50)
    job_id = queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")
    worker = Worker(_settings(db_url, tmp_path))
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("status", worker.run_once()))
    thread.start()
    _wait(lambda: conn.execute("SELECT count(*) AS n FROM run_metrics").fetchone()["n"] >= 2, 120, "two steps")
    at_request = conn.execute("SELECT max(step) AS s FROM run_metrics").fetchone()["s"]
    assert queue.request_cancel(conn, job_id) == "CANCEL_REQUESTED"
    thread.join(timeout=120)
    assert result["status"] == "CANCELLED" and queue.get(conn, job_id)["status"] == "CANCELLED"
    run = conn.execute("SELECT status, current_step FROM training_runs WHERE id = 'run1'").fetchone()
    assert run["status"] == "CANCELLED" and run["current_step"] <= at_request + 1


def test_kill_9_mid_training_then_another_worker_resumes_without_gaps(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir)
    _make_run(conn, max_steps=8, save_steps=2)
    job_id = queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")
    cmd = [sys.executable, "-m", "tandem.cli", "worker", "--database-url", db_url, "--runs-dir", str(tmp_path / "runs"),
           "--heartbeat", "0.3", "--stale-after", "3", "--poll", "0.5"]
    logs = [open(tmp_path / f"worker-{i}.log", "w") for i in (1, 2)]
    first = subprocess.Popen(cmd, stdout=logs[0], stderr=subprocess.STDOUT)
    try:
        _wait(lambda: conn.execute("SELECT count(*) AS n FROM run_metrics").fetchone()["n"] >= 3, 180, "3 steps")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = conn.execute("SELECT max(step) AS s FROM run_metrics").fetchone()["s"]
        assert killed_at < 8
        second = subprocess.Popen(cmd, stdout=logs[1], stderr=subprocess.STDOUT)
        try:
            try:
                _wait(lambda: queue.get(conn, job_id)["status"] in ("SUCCEEDED", "FAILED"), 300, "the resumed run")
            finally:
                for f in logs:
                    f.flush()
            job = queue.get(conn, job_id)
            assert job["status"] == "SUCCEEDED", (job["error"], (tmp_path / "worker-2.log").read_text()[-3000:])
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait()
    finally:
        if first.poll() is None:
            first.kill()
    steps = [r["step"] for r in conn.execute("SELECT step FROM run_metrics WHERE run_id = 'run1' ORDER BY step")]
    assert steps == list(range(1, 9))
    job = queue.get(conn, job_id)
    assert job["attempts"] == 2 and job["result"]["resumedFrom"] in (2, 4, 6)


def test_evaluate_generate_traces_and_verify_responses(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=6)
    conn.execute("""INSERT INTO checkpoints (id, base_model_id, step, path, format, sha256, size_bytes)
                    VALUES ('c0', 'm1', 0, %s, 'hf-safetensors', 'x', 1)""", (str(fixture_model_dir),))
    worker = Worker(_settings(db_url, tmp_path))

    # generate traces: one solo trace per problem, each with a verifier result
    problem_ids = [r["id"] for r in conn.execute("SELECT id FROM problems ORDER BY id")]
    queue.enqueue(conn, "GENERATE_TRACES", {"checkpointId": "c0", "problemIds": problem_ids, "maxNewTokens": 12})
    assert worker.run_once() == "SUCCEEDED"
    traces = conn.execute("SELECT t.*, v.verdict FROM traces t JOIN verifier_results v ON v.trace_id = t.id").fetchall()
    assert len(traces) == 6 and all(t["author_spans"] is not None and t["verdict"] for t in traces)

    # evaluate: a report row with intervals
    conn.execute("""INSERT INTO evaluation_runs (id, checkpoint_id, junior_checkpoint_id, suites, settings)
                    VALUES ('e1', 'c0', 'c0', ARRAY['solo','drift'], %s)""",
                 (Jsonb({"datasetId": "d1", "k": 2, "max_new_tokens": 12}),))
    queue.enqueue(conn, "EVALUATE", {"evaluationRunId": "e1"}, evaluation_run_id="e1")
    assert worker.run_once() == "SUCCEEDED"
    report = conn.execute("SELECT * FROM evaluation_reports WHERE evaluation_run_id = 'e1'").fetchone()
    solo = report["metrics"]["solo_mean_at_k"]
    assert solo["low"] <= solo["value"] <= solo["high"] and report["metrics"]["drift_kl"]["value"] == pytest.approx(0, abs=1e-4)

    # verify responses: a participant's answer, judged by the same verifier
    conn.execute("""INSERT INTO studies (id, name, owner_id, dataset_id, handoff_rule, tasks_per_participant, time_limit_s,
                    consent_text, instructions, completion_code, url_params, assignment_rule)
                    VALUES ('s1', 'S', 'u1', 'd1', '{}', 1, 600, 'c', 'i', 'CODE', '{}', 'latin-square')""")
    conn.execute("INSERT INTO study_conditions (id, study_id, name, checkpoint_id) VALUES ('sc1', 's1', 'A', 'c0')")
    first_problem = conn.execute("SELECT id, answer FROM problems ORDER BY id LIMIT 1").fetchone()
    conn.execute("INSERT INTO study_items (id, study_id, condition_id, problem_id) VALUES ('i1', 's1', 'sc1', %s)",
                 (first_problem["id"],))
    conn.execute("INSERT INTO participants (id, study_id, token_hash) VALUES ('pa1', 's1', 'h')")
    conn.execute("INSERT INTO assignments (id, participant_id, item_id, position) VALUES ('a1', 'pa1', 'i1', 0)")
    conn.execute("""INSERT INTO responses (id, assignment_id, continuation, answer, elapsed_ms)
                    VALUES ('r1', 'a1', 'so', %s, 1000)""", (first_problem["answer"],))
    for _ in range(2):  # verifying twice stores one verdict
        queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": ["r1"]})
        assert worker.run_once() == "SUCCEEDED"
    verdicts = conn.execute("SELECT verdict FROM verifier_results WHERE response_id = 'r1'").fetchall()
    assert [v["verdict"] for v in verdicts] == ["CORRECT"]


def test_seed_is_idempotent_and_registers_model_checkpoint_and_datasets(db_url, conn, fixture_model_dir):
    from tandem.runner.seed import seed

    first = seed(db_url, fixture_model_dir, "fixture", n_train=12, n_eval=5)
    second = seed(db_url, fixture_model_dir, "fixture", n_train=12, n_eval=5)
    assert first == second
    counts = {r["name"]: r["n"] for r in conn.execute(
        "SELECT d.name, count(p.id) AS n FROM datasets d JOIN problems p ON p.dataset_id = d.id GROUP BY d.name")}
    assert counts == {"arithmetic-train": 12, "arithmetic-eval": 5}
    checkpoint = conn.execute("SELECT * FROM checkpoints WHERE id = %s", (first["checkpointId"],)).fetchone()
    assert checkpoint["run_id"] is None and checkpoint["step"] == 0 and checkpoint["size_bytes"] > 0
