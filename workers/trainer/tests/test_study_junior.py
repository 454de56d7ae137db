"""The junior on a study's items (STUDY_JUNIOR, runner/study_junior.py) against a real Postgres and the fixture
model: opening a study enqueues one job; the job has each non-live item's junior continue the participant's exact
starting point k times and stores how many the verifier judged correct; reruns add nothing; a failure leaves the
study as it is."""

from __future__ import annotations

import pytest
from test_runner import _make_run, _seed_domain, _settings
from test_studies import _checkpoints, _insert_study, _launch, _run, _study_row, step

from tandem import evaluate, verifier
from tandem.data import format_prompt
from tandem.runner import queue, study_junior
from tandem.runner.worker import Worker

K = 3


def _worker(db_url, tmp_path, kinds):
    w = Worker(_settings(db_url, tmp_path, kinds=kinds))
    yield w
    w.conn.close()


@pytest.fixture
def trace_worker(db_url, tmp_path):
    """Runs every kind but STUDY_JUNIOR, so a study's junior job waits until the test runs it."""
    yield from _worker(db_url, tmp_path, tuple(k for k in queue.KINDS if k != "STUDY_JUNIOR"))


@pytest.fixture
def junior_worker(db_url, tmp_path):
    yield from _worker(db_url, tmp_path, ("STUDY_JUNIOR",))


def _junior_jobs(conn, study_id: str) -> list[dict]:
    return conn.execute("SELECT * FROM jobs WHERE kind = 'STUDY_JUNIOR' AND study_id = %s ORDER BY created_at, id",
                        (study_id,)).fetchall()


def _junior_items(conn, study_id: str) -> list[dict]:
    return conn.execute(
        """SELECT i.id, i.prefix_text, i.junior_samples, i.junior_correct, i.junior_model, c.name AS condition, c.live,
                  p.problem, p.answer
           FROM study_items i JOIN study_conditions c ON c.id = i.condition_id JOIN problems p ON p.id = i.problem_id
           WHERE i.study_id = %s ORDER BY c.name, c.id, i.problem_id""",
        (study_id,),
    ).fetchall()


def _run_queued_junior(conn, worker, study_id: str) -> dict:
    """Run the study's queued STUDY_JUNIOR job (the only queued job) and return its row."""
    queued = [j for j in _junior_jobs(conn, study_id) if j["status"] == "QUEUED"]
    assert len(queued) == 1, queued
    assert worker.run_once() is not None
    return queue.get(conn, queued[0]["id"])


@pytest.fixture
def open_study(conn, trace_worker, fixture_model_dir):
    """Study s1 opened by GENERATE_STUDY_TRACES: conditions A (the base model's checkpoint) and B (a GRPO run's),
    three problems, the handoff after step 1, k = 3 junior samples; then a live condition L beside them."""
    _seed_domain(conn, fixture_model_dir, n_problems=4)
    _make_run(conn, "run1")
    _checkpoints(conn, fixture_model_dir, run_id="run1")
    _insert_study(conn, "s1", step(1))
    conn.execute("UPDATE studies SET junior_samples = %s WHERE id = 's1'", (K,))
    problems = _launch(conn, "s1")
    opened = _run(conn, trace_worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert opened["status"] == "SUCCEEDED", opened["error"]
    # a live condition's items have no prefix (the senior writes while the participant watches); its checkpoint's
    # ONNX export exists already, so opening the study again exports nothing (test_studies.py tests the export)
    conn.execute("""INSERT INTO checkpoints (id, run_id, base_model_id, step, path, format, sha256, size_bytes)
                    VALUES ('c1-onnx', NULL, 'm1', 0, %s, 'onnx', 'y', 1)""", (str(fixture_model_dir),))
    conn.execute("INSERT INTO study_conditions (id, study_id, name, checkpoint_id, live) VALUES ('s1-L', 's1', 'L', "
                 "'c1', true)")
    for p in problems:
        conn.execute("INSERT INTO study_items (id, study_id, condition_id, problem_id) VALUES (%s, 's1', 's1-L', %s)",
                     (f"s1-L-{p}", p))
    return "s1"


def test_the_junior_continues_each_non_live_item_k_times_and_a_rerun_adds_nothing(conn, junior_worker, open_study,
                                                                                   fixture_model_dir, monkeypatch):
    judged = []  # (text, expected, reward) in the order the job judged them
    real = verifier.verify_model_output

    def spy(text, expected, *args, **kwargs):
        verdict = real(text, expected, *args, **kwargs)
        judged.append((text, expected, verdict.reward))
        return verdict

    monkeypatch.setattr(verifier, "verify_model_output", spy)
    job = _run_queued_junior(conn, junior_worker, "s1")
    assert job["status"] == "SUCCEEDED", job["error"]
    assert job["result"] == {"items": 6, "alreadyDone": 0, "samples": K}

    items = _junior_items(conn, "s1")
    fixed = [i for i in items if not i["live"]]
    assert len(fixed) == 6 and all(i["prefix_text"] is not None for i in fixed)
    assert len(judged) == K * len(fixed)
    for n, item in enumerate(fixed):  # conditions by name, items by problem, k samples each
        samples = judged[n * K:(n + 1) * K]
        assert all(text.startswith(item["prefix_text"]) and expected == item["answer"] for text, expected, _ in samples)
        assert item["junior_samples"] == K and 0 <= item["junior_correct"] <= K
        assert item["junior_correct"] == sum(reward for _, _, reward in samples)
        # both checkpoints' junior is the base model (c1 is its own checkpoint; run1 was trained from it)
        assert item["junior_model"] == str(fixture_model_dir)
    live = [i for i in items if i["live"]]
    assert live and all(i["junior_samples"] is None and i["junior_correct"] is None and i["junior_model"] is None
                        for i in live)
    logs = [r["line"] for r in conn.execute("SELECT line FROM job_logs WHERE job_id = %s", (job["id"],))]
    assert any(line.startswith("condition A: ") and f"of {3 * K} junior samples correct" in line for line in logs)
    assert any(line.startswith("condition B: ") for line in logs)

    # a rerun judges nothing and changes nothing
    judged.clear()
    queue.enqueue(conn, "STUDY_JUNIOR", {"studyId": "s1"}, study_id="s1")
    again = _run_queued_junior(conn, junior_worker, "s1")
    assert again["status"] == "SUCCEEDED" and again["result"] == {"items": 0, "alreadyDone": 6, "samples": K}
    assert judged == [] and _junior_items(conn, "s1") == items


def test_the_verdict_is_on_the_prefix_and_the_continuation(conn, junior_worker, open_study):
    """A prefix that already ends in a boxed answer, continued by one token (which cannot close a second box): every
    sample carries the prefix's answer, so the right one gives k correct and a wrong one none."""
    conn.execute("UPDATE studies SET max_new_tokens = 1 WHERE id = 's1'")
    a_items = [i for i in _junior_items(conn, "s1") if i["condition"] == "A"]
    right, wrong = a_items[0], a_items[1]
    conn.execute("UPDATE study_items SET prefix_text = %s WHERE id = %s", (f"So \\boxed{{{right['answer']}}}\n",
                                                                           right["id"]))
    conn.execute("UPDATE study_items SET prefix_text = %s WHERE id = %s", (f"So \\boxed{{{wrong['answer']}1}}\n",
                                                                           wrong["id"]))
    assert _run_queued_junior(conn, junior_worker, "s1")["status"] == "SUCCEEDED"
    items = {i["id"]: i for i in _junior_items(conn, "s1")}
    assert items[right["id"]]["junior_correct"] == K and items[wrong["id"]]["junior_correct"] == 0


def test_the_junior_starts_from_the_participants_exact_text(conn, junior_worker, open_study, monkeypatch):
    seen = []  # (tokenizer, rows, settings) per call
    real = evaluate.continue_prefixes

    def spy(model, tokenizer, rows, settings, flags=None):
        seen.append((tokenizer, rows, settings))
        return real(model, tokenizer, rows, settings, flags)

    monkeypatch.setattr(evaluate, "continue_prefixes", spy)
    assert _run_queued_junior(conn, junior_worker, "s1")["status"] == "SUCCEEDED"
    study = _study_row(conn, "s1")
    assert len(seen) == 2  # one batched call per condition
    fixed = [i for i in _junior_items(conn, "s1") if not i["live"]]
    rows = [r for _, call_rows, _ in seen for r in call_rows]
    for n, item in enumerate(fixed):
        tokenizer = seen[0][0]
        for row in rows[n * K:(n + 1) * K]:
            assert tokenizer.decode(row, skip_special_tokens=True, clean_up_tokenization_spaces=False) == \
                format_prompt(item["problem"]) + item["prefix_text"]
    for _, _, settings in seen:
        assert (settings.k, settings.seed, settings.temperature, settings.max_new_tokens) == (
            K, study["seed"], study["temperature"], study["max_new_tokens"])


def test_opening_a_study_enqueues_one_junior_job_and_a_new_prefix_another(conn, trace_worker, junior_worker,
                                                                             open_study):
    jobs = _junior_jobs(conn, "s1")
    assert len(jobs) == 1 and jobs[0]["status"] == "QUEUED" and jobs[0]["payload"] == {"studyId": "s1"}
    assert jobs[0]["created_by_id"] == "u1"

    # GENERATE_STUDY_TRACES again while the job waits: no second one
    conn.execute("UPDATE studies SET status = 'GENERATING' WHERE id = 's1'")
    assert _run(conn, trace_worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})["status"] == "SUCCEEDED"
    assert len(_junior_jobs(conn, "s1")) == 1
    assert _run_queued_junior(conn, junior_worker, "s1")["status"] == "SUCCEEDED"

    # every item done: opening again enqueues nothing
    conn.execute("UPDATE studies SET status = 'GENERATING' WHERE id = 's1'")
    assert _run(conn, trace_worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})["status"] == "SUCCEEDED"
    assert [j["status"] for j in _junior_jobs(conn, "s1")] == ["SUCCEEDED"]
    before = {i["id"]: i for i in _junior_items(conn, "s1")}

    # one item's trace changed, so its prefix does: only its junior result is voided, and one job is enqueued
    changed = "s1-A-" + conn.execute("SELECT min(problem_id) AS p FROM study_items").fetchone()["p"]
    conn.execute("UPDATE traces SET text = 'A new first line.\nmore' WHERE id = (SELECT trace_id FROM study_items "
                 "WHERE id = %s)", (changed,))
    conn.execute("UPDATE studies SET status = 'GENERATING' WHERE id = 's1'")
    assert _run(conn, trace_worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})["status"] == "SUCCEEDED"
    after = {i["id"]: i for i in _junior_items(conn, "s1")}
    assert after[changed]["prefix_text"] == "A new first line.\n" and after[changed]["junior_samples"] is None
    assert all(after[i] == before[i] for i in before if i != changed)
    assert [j["status"] for j in _junior_jobs(conn, "s1")] == ["SUCCEEDED", "QUEUED"]
    job = _run_queued_junior(conn, junior_worker, "s1")
    assert job["result"] == {"items": 1, "alreadyDone": 5, "samples": K}
    assert _junior_items(conn, "s1") and all(i["junior_samples"] == K for i in _junior_items(conn, "s1")
                                             if not i["live"])


def test_an_item_cut_again_during_the_job_is_not_written(conn, junior_worker, open_study, db_url, monkeypatch):
    real = study_junior.junior_outcomes
    recut = "s1-B-" + conn.execute("SELECT min(problem_id) AS p FROM study_items").fetchone()["p"]

    def cut_meanwhile(*args, **kwargs):
        with queue.connect(db_url) as other:  # another transaction re-cuts the item while the junior writes
            other.execute("UPDATE study_items SET prefix_text = 'cut again\n' WHERE id = %s", (recut,))
        return real(*args, **kwargs)

    monkeypatch.setattr(study_junior, "junior_outcomes", cut_meanwhile)
    job = _run_queued_junior(conn, junior_worker, "s1")
    assert job["status"] == "SUCCEEDED" and job["result"]["items"] == 5
    items = {i["id"]: i for i in _junior_items(conn, "s1")}
    assert items[recut]["junior_samples"] is None and items[recut]["junior_model"] is None


def test_a_failing_junior_job_leaves_the_study_open(conn, junior_worker, open_study, monkeypatch):
    opened = _study_row(conn, "s1")
    assert opened["status"] == "OPEN"

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(study_junior, "junior_outcomes", broken)
    job = _run_queued_junior(conn, junior_worker, "s1")
    assert job["status"] == "QUEUED" and "out of memory" in job["error"]  # retried later
    conn.execute("UPDATE jobs SET status = 'CANCELLED' WHERE id = %s", (job["id"],))

    conn.execute("UPDATE studies SET junior_samples = 0 WHERE id = 's1'")
    queue.enqueue(conn, "STUDY_JUNIOR", {"studyId": "s1"}, study_id="s1")
    job = _run_queued_junior(conn, junior_worker, "s1")
    assert job["status"] == "FAILED" and job["attempts"] == 1
    assert "study s1: junior_samples must be >= 1, got 0" in job["error"]
    study = _study_row(conn, "s1")
    assert (study["status"], study["opened_at"], study["generation_error"]) == ("OPEN", opened["opened_at"], None)
    assert all(i["junior_samples"] is None for i in _junior_items(conn, "s1"))
