"""The job runner against a real Postgres: claiming, retries, stale leases, cancellation, kill -9 resume,
and each job kind writing its results into the domain tables."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb

from tandem.data import arithmetic_splits
from tandem.runner import handlers, queue
from tandem.runner.worker import Worker, WorkerSettings
from waiting import wait_until


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
    wait_until(lambda: worker.run_once() is not None, 5, "retry 2")
    wait_until(lambda: worker.run_once() is not None, 5, "retry 3")
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
    run = conn.execute("SELECT status, error FROM training_runs WHERE id = 'run1'").fetchone()
    assert run["status"] == "FAILED" and "num_generation: unknown field" in run["error"]  # the console can offer a resume


def test_stale_jobs_are_requeued_and_the_old_holder_loses_its_lease(db_url, conn):
    job_id = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []})
    assert queue.claim(conn, "dead-worker").id == job_id
    conn.execute("UPDATE jobs SET heartbeat_at = now() - interval '1 minute' WHERE id = %s", (job_id,))
    assert queue.requeue_stale(conn, stale_after_s=30, backoff_base=0) == [job_id]
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
    wait_until(lambda: conn.execute("SELECT count(*) AS n FROM run_metrics").fetchone()["n"] >= 2, 120, "two steps")
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
        wait_until(lambda: conn.execute("SELECT count(*) AS n FROM run_metrics").fetchone()["n"] >= 3, 180, "3 steps")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = conn.execute("SELECT max(step) AS s FROM run_metrics").fetchone()["s"]
        assert killed_at < 8
        second = subprocess.Popen(cmd, stdout=logs[1], stderr=subprocess.STDOUT)
        try:
            try:
                wait_until(lambda: queue.get(conn, job_id)["status"] in ("SUCCEEDED", "FAILED"), 300, "the resumed run")
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


def test_a_cancelled_run_resumes_under_a_new_train_job_with_each_step_once(db_url, conn, tmp_path, fixture_model_dir,
                                                                            monkeypatch):
    _seed_domain(conn, fixture_model_dir)
    _make_run(conn, max_steps=4, save_steps=50)  # no periodic checkpoint: the cancelled run saves its own
    first = queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")
    write_metric = handlers.insert_metric

    def cancel_after_step_1(c, run_id, row):  # the researcher presses cancel while step 1 is being logged
        write_metric(c, run_id, row)
        if row["step"] == 1:
            queue.request_cancel(conn, first)

    monkeypatch.setattr(handlers, "insert_metric", cancel_after_step_1)
    worker = Worker(_settings(db_url, tmp_path))
    assert worker.run_once() == "CANCELLED"
    run = conn.execute("SELECT * FROM training_runs WHERE id = 'run1'").fetchone()
    assert run["status"] == "CANCELLED" and run["current_step"] == 1 and run["finished_at"] is not None
    monkeypatch.setattr(handlers, "insert_metric", write_metric)

    second = queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")
    assert worker.run_once() == "SUCCEEDED"
    assert queue.get(conn, second)["result"]["resumedFrom"] == 1
    steps = [r["step"] for r in conn.execute("SELECT step FROM run_metrics WHERE run_id = 'run1' ORDER BY step")]
    assert steps == [1, 2, 3, 4]
    logged = [json.loads(line)["step"] for line in (tmp_path / "runs" / "run1" / "metrics.jsonl").read_text().splitlines()]
    assert logged == [1, 2, 3, 4]  # the run's own log agrees: nothing lost, nothing repeated
    run = conn.execute("SELECT * FROM training_runs WHERE id = 'run1'").fetchone()
    assert run["status"] == "SUCCEEDED" and run["current_step"] == 4 and run["error"] is None
    assert [c["step"] for c in conn.execute("SELECT step FROM checkpoints ORDER BY step")] == [1, 4]


def test_evaluate_stores_every_example_as_a_trace_of_the_evaluation(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=6)
    conn.execute("""INSERT INTO checkpoints (id, base_model_id, step, path, format, sha256, size_bytes)
                    VALUES ('c0', 'm1', 0, %s, 'hf-safetensors', 'x', 1)""", (str(fixture_model_dir),))
    settings = {"datasetId": "d1", "k": 2, "max_new_tokens": 16, "n_problems": 2, "handoff_points": [1],
                "handoff_fractions": [0.5], "n_examples": 2, "n_boot": 100, "seed": 3}
    conn.execute("""INSERT INTO evaluation_runs (id, checkpoint_id, suites, settings)
                    VALUES ('e1', 'c0', ARRAY['solo','tandem','handoff','legibility'], %s)""", (Jsonb(settings),))
    worker = Worker(_settings(db_url, tmp_path))
    for _ in range(2):  # evaluating again replaces the evaluation's traces
        job_id = queue.enqueue(conn, "EVALUATE", {"evaluationRunId": "e1"}, evaluation_run_id="e1")
        assert worker.run_once() == "SUCCEEDED"
    traces = conn.execute(
        """SELECT t.*, v.verdict, v.extracted_answer, p.external_id FROM traces t
           JOIN verifier_results v ON v.trace_id = t.id JOIN problems p ON p.id = t.problem_id
           WHERE t.evaluation_run_id = 'e1'"""
    ).fetchall()
    # n_examples (2) problems x (solo, coin_flip, alternate, senior_first_k=1, senior_fraction=0.5)
    assert len(traces) == 10 == queue.get(conn, job_id)["result"]["traceCount"]
    assert conn.execute("SELECT count(*) AS n FROM traces").fetchone()["n"] == 10
    first_two = [r["external_id"] for r in conn.execute("SELECT external_id FROM problems ORDER BY external_id LIMIT 2")]
    schedules = {}
    for t in traces:
        assert t["checkpoint_id"] == "c0" and t["external_id"] in first_two and t["seed"] == 3
        assert t["verdict"] in ("CORRECT", "INCORRECT", "UNPARSEABLE")
        assert "".join(s["text"] for s in t["author_spans"]) == t["text"]
        assert all(t["text"][s["start"]:s["end"]] == s["text"] for s in t["author_spans"])
        settings = t["settings"]
        assert settings["temperature"] == 1.0 and settings["max_new_tokens"] == 16
        assert settings["junior"] == str(fixture_model_dir)
        schedules.setdefault(settings["schedule"], []).append(t)
    assert {k: len(v) for k, v in schedules.items()} == {"solo": 2, "coin_flip": 2, "alternate": 2,
                                                         "senior_first_k=1": 2, "senior_fraction=0.5": 2}
    for t in schedules["solo"]:  # legibility ran: the junior's surprisal of every word of the senior's text
        assert [s["author"] for s in t["author_spans"]] == ["senior"]
        assert t["settings"]["suite"] == "solo" and t["settings"]["p_junior"] == 0.0
        words = t["word_surprisal"]
        assert words[0]["start"] == 0 and words[-1]["end"] == len(t["text"]) and all(w["nats"] > 0 for w in words)
        assert all(0 <= w["start"] < w["end"] <= len(t["text"]) for w in words)
    coin = schedules["coin_flip"][0]["settings"]
    assert coin["suite"] == "tandem" and coin["p_junior"] == 0.5 and coin["granularity"] == "word"
    assert all(t["word_surprisal"] is None for k in ("coin_flip", "alternate") for t in schedules[k])


def test_generate_traces_co_written_by_the_junior_with_its_surprisal(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    conn.execute("""INSERT INTO checkpoints (id, base_model_id, step, path, format, sha256, size_bytes)
                    VALUES ('c0', 'm1', 0, %s, 'hf-safetensors', 'x', 1)""", (str(fixture_model_dir),))
    problem_ids = [r["id"] for r in conn.execute("SELECT id FROM problems ORDER BY id DESC")]
    worker = Worker(_settings(db_url, tmp_path))
    job_id = queue.enqueue(conn, "GENERATE_TRACES", {"checkpointId": "c0", "problemIds": problem_ids, "maxNewTokens": 16,
                                                     "pJunior": 1, "seed": 5, "temperature": 0.7})
    assert worker.run_once() == "SUCCEEDED"
    trace_ids = queue.get(conn, job_id)["result"]["traceIds"]
    traces = [conn.execute("SELECT t.*, v.verdict FROM traces t JOIN verifier_results v ON v.trace_id = t.id "
                           "WHERE t.id = %s", (t,)).fetchone() for t in trace_ids]
    assert [t["problem_id"] for t in traces] == problem_ids  # in the order asked for
    for t in traces:
        assert t["text"] and {s["author"] for s in t["author_spans"]} == {"junior"}
        assert "".join(s["text"] for s in t["author_spans"]) == t["text"]
        assert t["settings"] == {"suite": None, "schedule": "coin_flip", "p_junior": 1.0, "granularity": "word",
                                 "temperature": 0.7, "max_new_tokens": 16, "junior": str(fixture_model_dir)}
        words = t["word_surprisal"]
        assert words[0]["start"] == 0 and words[-1]["end"] == len(t["text"])
        assert all(0 <= w["start"] < w["end"] <= len(t["text"]) and w["nats"] > 0 for w in words)
        assert t["seed"] == 5 and t["verdict"] and t["evaluation_run_id"] is None

    bad = queue.enqueue(conn, "GENERATE_TRACES", {"checkpointId": "c0", "problemIds": problem_ids, "pJunior": 1.5})
    assert worker.run_once() == "FAILED"
    assert "payload.pJunior must be between 0 and 1, got 1.5" in queue.get(conn, bad)["error"]


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
    conn.execute("""INSERT INTO studies (id, name, owner_id, dataset_id, problem_count, handoff_rule, tasks_per_participant,
                    time_limit_s, consent_text, instructions, practice, completion_code, url_params, hash_salt)
                    VALUES ('s1', 'S', 'u1', 'd1', 1, '{"kind": "step", "k": 1}', 1, 600, 'c', 'i', '{}', 'CODE', '{}',
                            'salt')""")
    conn.execute("INSERT INTO study_conditions (id, study_id, name, checkpoint_id) VALUES ('sc1', 's1', 'A', 'c0')")
    first_problem = conn.execute("SELECT id, answer FROM problems ORDER BY id LIMIT 1").fetchone()
    conn.execute("INSERT INTO study_items (id, study_id, condition_id, problem_id) VALUES ('i1', 's1', 'sc1', %s)",
                 (first_problem["id"],))
    conn.execute("INSERT INTO participants (id, study_id, ordinal, token_hash) VALUES ('pa1', 's1', 0, 'h')")
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


def test_seed_with_digit_chains_registers_the_weak_junior_and_the_fixed_splits(db_url, conn, fixture_model_dir, tmp_path):
    import shutil

    from tandem.data import task_split
    from tandem.runner.seed import DIGIT_CHAIN_SPLITS, seed

    model = tmp_path / "base"
    shutil.copytree(fixture_model_dir, model)
    shutil.copytree(fixture_model_dir, model / "weak-junior")
    result = seed(db_url, model, "tiny", n_train=12, n_eval=5, digit_chains=True)
    assert seed(db_url, model, "tiny", n_train=12, n_eval=5, digit_chains=True) == result
    names = {r["name"]: r["path"] for r in conn.execute("SELECT name, path FROM base_models")}
    assert names == {"tiny": str(model), "tiny-weak-junior": str(model / "weak-junior")}
    counts = {r["name"]: r["n"] for r in conn.execute(
        "SELECT d.name, count(p.id) AS n FROM datasets d JOIN problems p ON p.dataset_id = d.id GROUP BY d.name")}
    assert counts == {"arithmetic-train": 12, "arithmetic-eval": 5,
                      **{name: n for name, (_, n) in DIGIT_CHAIN_SPLITS.items()}}
    stored = conn.execute(
        """SELECT p.problem FROM problems p JOIN datasets d ON d.id = p.dataset_id
           WHERE d.name = 'digit-chains-eval' ORDER BY p.problem""").fetchall()
    assert [r["problem"] for r in stored] == sorted(p["problem"] for p in task_split("digit_chains", "eval", 200))


def test_pg_safe_replaces_nul_one_for_one():
    from tandem.runner.traces import pg_safe

    text = "a\x00b"
    assert pg_safe(text) == "a\ufffdb" and len(pg_safe(text)) == len(text)
    assert pg_safe({"t": ["x\x00", 1, None], "n": 2.5}) == {"t": ["x\ufffd", 1, None], "n": 2.5}
