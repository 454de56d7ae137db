"""Handoff studies against a real Postgres: GENERATE_STUDY_TRACES (a solo trace per item, cut at the handoff rule,
then the study opens; idempotent on retry) and EXPORT_STUDY (the study_response_rows view as Parquet), plus the
handoff rule itself (boundaries.handoff_prefix) and the runner's module layout (studies.py reaches trace generation
through traces.py, never through handlers.py). The junior's job and the preregistration that opening the study
starts: test_study_junior.py, test_preregistration.py."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from datetime import timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg.types.json import Jsonb
from test_runner import _make_run, _seed_domain, _settings

from tandem.boundaries import check_handoff_rule, handoff_prefix, handoff_steps_kept, split_steps
from tandem.evaluate import step_prefix_tokens
from tandem.runner import queue
from tandem.runner.worker import Worker

# ---------------------------------------------------------------- the handoff rule


def step(k):
    return {"kind": "step", "k": k}


def fraction(f):
    return {"kind": "fraction", "f": f}


def test_handoff_prefix_keeps_whole_steps():
    text = "a b.\nc\n\nd"  # steps "a b.\n", "c\n\n", "d" (unfinished, still a step)
    assert handoff_prefix(text, step(0)) == ("", 0)
    assert handoff_prefix(text, step(1)) == ("a b.\n", 1)
    assert handoff_prefix(text, step(2)) == ("a b.\nc\n\n", 2)
    assert handoff_prefix(text, step(3)) == (text, 3)
    assert handoff_prefix(text, step(99)) == (text, 3)  # k beyond the trace: all of it
    assert handoff_prefix(text, fraction(0.5)) == ("a b.\nc\n\n", 2)  # floor(1.5 + 0.5) = 2 of 3
    assert handoff_prefix(text, fraction(0.1)) == ("", 0)  # floor(0.3 + 0.5) = 0
    assert handoff_prefix(text, fraction(1)) == (text, 3)
    assert handoff_prefix("x\ny", step(2)) == ("x\ny", 2)  # the unfinished last line counts
    assert handoff_prefix("", step(3)) == ("", 0) and handoff_prefix("", fraction(1.0)) == ("", 0)


@pytest.mark.parametrize("text", ["", "one line", "a\nb\nc", "a\nb\nc\n", "\n\nlead\n", "x\n\n\ny\nz"])
@pytest.mark.parametrize("rule", [step(0), step(1), step(2), step(10), fraction(0.0), fraction(0.25),
                                  fraction(0.5), fraction(0.75), fraction(1.0)])
def test_handoff_prefix_is_the_first_steps_of_the_text(text, rule):
    steps = split_steps(text)
    prefix, kept = handoff_prefix(text, rule)
    assert kept == handoff_steps_kept(rule, len(steps)) and 0 <= kept <= len(steps)
    assert prefix == "".join(steps[:kept]) and prefix + "".join(steps[kept:]) == text
    assert split_steps(prefix) == steps[:kept]  # cut between steps, never inside one


def test_the_fraction_rule_is_the_evaluations_handoff_fraction():
    tokens = ["a", " b", ".\n", "c", "\n", "d"]
    for f in (0.0, 0.1, 0.25, 0.5, 0.75, 1.0):
        assert "".join(tokens[: step_prefix_tokens(tokens, f)]) == handoff_prefix("".join(tokens), fraction(f))[0]


def test_handoff_rules_are_checked_by_field():
    assert check_handoff_rule(step(2.0)) == step(2)  # JSON does not tell 2 from 2.0
    assert check_handoff_rule(fraction(1)) == fraction(1.0)
    bad = [(step(-1), "handoff_rule.k must be a whole number >= 0, got -1"), (step(1.5), "handoff_rule.k"),
           (step(True), "handoff_rule.k"), (step("2"), "handoff_rule.k"), ({"kind": "step"}, "handoff_rule.k"),
           (fraction(1.5), "handoff_rule.f must be a number in [0, 1], got 1.5"), (fraction(None), "handoff_rule.f"),
           (fraction(float("nan")), "handoff_rule.f"), ({"kind": "half"}, "handoff_rule.kind"),
           ({}, "handoff_rule.kind"), ([], "handoff_rule must be an object"), (None, "handoff_rule must be an object")]
    for rule, reason in bad:
        with pytest.raises(ValueError, match=reason.replace("[", r"\[").replace("]", r"\]")):
            check_handoff_rule(rule)


# ---------------------------------------------------------------- GENERATE_STUDY_TRACES


def _insert_study(conn, study_id: str, rule, *, status: str = "GENERATING", seed: int = 7,
                  temperature: float = 0.7, max_new_tokens: int = 16, salt: str = "salt") -> str:
    conn.execute(
        """INSERT INTO studies (id, name, status, owner_id, dataset_id, problem_count, seed, handoff_rule, temperature,
                                max_new_tokens, tasks_per_participant, time_limit_s, consent_text, instructions,
                                practice, completion_code, url_params, hash_salt, generation_error)
           VALUES (%s, %s, %s, 'u1', 'd1', 3, %s, %s, %s, %s, 2, 600, 'c', 'i', %s, 'CODE',
                   ARRAY['PROLIFIC_PID', 'STUDY_ID', 'SESSION_ID'], %s, 'an earlier launch failed')""",
        (study_id, f"study {study_id}", status, seed, Jsonb(rule), temperature, max_new_tokens,
         Jsonb({"problem": "1 + 1?", "reasoning": "1 + 1 = 2\n", "answer": "2"}), salt),
    )
    return study_id


def _checkpoints(conn, model_dir, run_id: str | None = None):
    """Two checkpoints (c1 of the base model, c2 of run_id if given) pointing at the fixture model."""
    for checkpoint_id, run in (("c1", None), ("c2", run_id)):
        conn.execute("""INSERT INTO checkpoints (id, run_id, base_model_id, step, path, format, sha256, size_bytes)
                        VALUES (%s, %s, %s, %s, %s, 'hf-safetensors', 'x', 1)""",
                     (checkpoint_id, run, None if run else "m1", 2 if run else 0, str(model_dir)))


def _launch(conn, study_id: str, n_problems: int = 3) -> list[str]:
    """What launch leaves: two conditions, one item per (condition, problem) without a trace. Returns the problems."""
    problems = [r["id"] for r in conn.execute("SELECT id FROM problems ORDER BY id LIMIT %s", (n_problems,))]
    for condition, checkpoint in ((f"{study_id}-A", "c1"), (f"{study_id}-B", "c2")):
        conn.execute("INSERT INTO study_conditions (id, study_id, name, checkpoint_id) VALUES (%s, %s, %s, %s)",
                     (condition, study_id, condition[-1], checkpoint))
        for p in problems:
            conn.execute("INSERT INTO study_items (id, study_id, condition_id, problem_id) VALUES (%s, %s, %s, %s)",
                         (f"{condition}-{p}", study_id, condition, p))
    return problems


def _items(conn, study_id: str) -> list[dict]:
    return conn.execute(
        """SELECT i.*, c.checkpoint_id AS condition_checkpoint, t.text, t.checkpoint_id, t.problem_id AS trace_problem,
                  t.seed, t.settings, v.verdict
           FROM study_items i JOIN study_conditions c ON c.id = i.condition_id
           LEFT JOIN traces t ON t.id = i.trace_id LEFT JOIN verifier_results v ON v.trace_id = t.id
           WHERE i.study_id = %s ORDER BY i.id""",
        (study_id,),
    ).fetchall()


def _study_row(conn, study_id: str) -> dict:
    return conn.execute("SELECT * FROM studies WHERE id = %s", (study_id,)).fetchone()


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def _run(conn, worker, kind: str, payload: dict) -> dict:
    job_id = queue.enqueue(conn, kind, payload)
    worker.run_once()
    return queue.get(conn, job_id)


@pytest.fixture
def worker(db_url, tmp_path):
    """A worker that runs one job per call and leaves the junior's job (enqueued when a study opens) queued:
    test_study_junior.py runs that one."""
    w = Worker(_settings(db_url, tmp_path, kinds=tuple(k for k in queue.KINDS if k != "STUDY_JUNIOR")))
    yield w
    w.conn.close()


def test_study_traces_are_generated_cut_at_the_handoff_and_the_study_opens(conn, worker, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=4)
    _checkpoints(conn, fixture_model_dir)
    _insert_study(conn, "s1", step(1))
    problems = _launch(conn, "s1")

    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert job["status"] == "SUCCEEDED", job["error"]
    assert job["result"] == {"traces": 6, "items": 6} and job["progress"] == 1.0
    assert _count(conn, "traces") == 6 and _count(conn, "verifier_results") == 6
    items = _items(conn, "s1")
    assert sorted((i["condition_id"], i["problem_id"]) for i in items) == sorted(
        (c, p) for c in ("s1-A", "s1-B") for p in problems)
    for item in items:
        assert item["trace_id"] and item["checkpoint_id"] == item["condition_checkpoint"]
        assert item["trace_problem"] == item["problem_id"] and item["seed"] == 7 and item["verdict"]
        assert item["settings"] == {"suite": None, "schedule": "solo", "p_junior": 0.0, "granularity": None,
                                    "temperature": 0.7, "max_new_tokens": 16, "junior": str(fixture_model_dir)}
        steps = split_steps(item["text"])
        assert item["handoff_step"] == min(1, len(steps))
        assert item["prefix_text"] == "".join(steps[:item["handoff_step"]])
        assert item["text"].startswith(item["prefix_text"])
    study = _study_row(conn, "s1")
    assert study["status"] == "OPEN" and study["opened_at"] is not None and study["generation_error"] is None

    # a retry generates nothing and keeps every trace
    again = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert again["status"] == "SUCCEEDED" and again["result"] == {"traces": 0, "items": 6}
    assert _count(conn, "traces") == 6
    assert [(i["trace_id"], i["prefix_text"]) for i in _items(conn, "s1")] == [(i["trace_id"], i["prefix_text"])
                                                                                for i in items]
    assert _study_row(conn, "s1")["opened_at"] == study["opened_at"]  # opened once

    # an item that lost its trace (a run that stopped half-way) is the only one generated again
    conn.execute("UPDATE study_items SET trace_id = NULL, prefix_text = NULL, handoff_step = NULL WHERE id = %s",
                 (items[0]["id"],))
    conn.execute("UPDATE studies SET status = 'GENERATING' WHERE id = 's1'")
    third = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert third["status"] == "SUCCEEDED" and third["result"] == {"traces": 1, "items": 6}
    assert _count(conn, "traces") == 7
    refilled = _items(conn, "s1")
    assert refilled[0]["trace_id"] not in {i["trace_id"] for i in items} and refilled[0]["prefix_text"] is not None
    assert [i["trace_id"] for i in refilled[1:]] == [i["trace_id"] for i in items[1:]]


def test_a_live_condition_gets_an_onnx_export_and_no_traces(conn, worker, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    _checkpoints(conn, fixture_model_dir)
    _insert_study(conn, "s5", step(1))
    _launch(conn, "s5", n_problems=2)
    conn.execute("UPDATE study_conditions SET live = true WHERE id = 's5-B'")

    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s5"})
    assert job["status"] == "SUCCEEDED", job["error"]
    assert job["result"] == {"traces": 2, "items": 4, "liveConditions": 1}
    items = {i["id"]: i for i in _items(conn, "s5")}
    assert all(items[f"s5-A-{p}"]["trace_id"] and items[f"s5-A-{p}"]["prefix_text"] is not None
               for p in [i["problem_id"] for i in items.values()])
    live = [i for i in items.values() if i["condition_id"] == "s5-B"]
    assert live and all(i["trace_id"] is None and i["prefix_text"] is None for i in live)
    export = conn.execute("SELECT * FROM checkpoints WHERE format = 'onnx'").fetchall()
    assert len(export) == 1 and export[0]["base_model_id"] == "m1" and export[0]["step"] == 0
    manifest = json.loads((Path(export[0]["path"]) / "onnx_manifest.json").read_text())
    assert manifest["format"] == "tandem-onnx-kv/1"
    assert _study_row(conn, "s5")["status"] == "OPEN"

    # a retry finds the export and makes no second one
    conn.execute("UPDATE studies SET status = 'GENERATING' WHERE id = 's5'")
    again = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s5"})
    assert again["status"] == "SUCCEEDED" and again["result"]["traces"] == 0
    assert conn.execute("SELECT count(*) AS n FROM checkpoints WHERE format = 'onnx'").fetchone()["n"] == 1


def test_a_study_closed_meanwhile_stays_closed_and_its_items_are_cut_by_fraction(conn, worker, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    _checkpoints(conn, fixture_model_dir)
    _insert_study(conn, "s1", fraction(0.5), status="CLOSED")
    problems = _launch(conn, "s1", n_problems=2)
    # an item whose trace is already there (three lines, which the fixture model rarely writes) keeps it
    text = "First, 3 + 4 = 7.\nThen 7 * 2 = 14.\nSo \\boxed{14}"
    conn.execute("""INSERT INTO traces (id, checkpoint_id, problem_id, text, author_spans, settings, seed)
                    VALUES ('t0', 'c1', %s, %s, '[]', '{}', 7)""", (problems[0], text))
    conn.execute("UPDATE study_items SET trace_id = 't0' WHERE id = %s", (f"s1-A-{problems[0]}",))
    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert job["status"] == "SUCCEEDED" and job["result"] == {"traces": 3, "items": 4}
    study = _study_row(conn, "s1")
    assert study["status"] == "CLOSED" and study["opened_at"] is None
    items = _items(conn, "s1")
    for item in items:
        steps = split_steps(item["text"])
        assert item["handoff_step"] == int(0.5 * len(steps) + 0.5)
        assert item["prefix_text"] == "".join(steps[:item["handoff_step"]])
    kept = next(i for i in items if i["trace_id"] == "t0")
    assert kept["handoff_step"] == 2 and kept["prefix_text"] == "First, 3 + 4 = 7.\nThen 7 * 2 = 14.\n"


@pytest.mark.parametrize("rule, field", [
    (step(-1), "handoff_rule.k must be a whole number >= 0, got -1"),
    (fraction(2), "handoff_rule.f must be a number in [0, 1], got 2"),
    ({"kind": "middle"}, "handoff_rule.kind"),
    ({}, "handoff_rule.kind"),
])
def test_an_invalid_handoff_rule_fails_the_job_and_returns_the_study_to_draft(conn, worker, fixture_model_dir, rule,
                                                                               field):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    _checkpoints(conn, fixture_model_dir)
    _insert_study(conn, "s1", rule)
    _launch(conn, "s1")
    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert job["status"] == "FAILED" and job["attempts"] == 1  # invalid: not retried
    assert f"study s1: {field}" in job["error"]
    study = _study_row(conn, "s1")
    assert study["status"] == "DRAFT" and f"study s1: {field}" in study["generation_error"]
    assert _count(conn, "traces") == 0 and all(i["trace_id"] is None for i in _items(conn, "s1"))


def test_generate_study_traces_names_a_missing_study_and_leaves_other_statuses(conn, worker, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "nope"})
    assert job["status"] == "FAILED" and "study nope does not exist" in job["error"]
    _insert_study(conn, "s1", step(-1), status="OPEN")  # only a GENERATING study goes back to DRAFT
    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert job["status"] == "FAILED" and _study_row(conn, "s1")["status"] == "OPEN"
    _insert_study(conn, "s2", step(1))  # launched without items
    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s2"})
    assert job["status"] == "FAILED" and "study s2 has no items" in job["error"]
    assert _study_row(conn, "s2")["status"] == "DRAFT"


# ---------------------------------------------------------------- no import circle

STUDY_MODULES = ("studies.py", "traces.py", "study_junior.py", "preregistration.py")


def test_studies_import_without_handlers_in_a_fresh_interpreter():
    code = ("import sys, tandem.runner.studies; "
            "assert 'tandem.runner.handlers' not in sys.modules, 'studies imported handlers'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module", STUDY_MODULES)
def test_the_study_modules_do_not_import_handlers(module):
    import tandem.runner

    tree = ast.parse((Path(tandem.runner.__file__).parent / module).read_text())
    imported = set()
    for node in ast.walk(tree):  # module level and inside functions
        if isinstance(node, ast.ImportFrom):
            imported |= {node.module or ""} | {f"{node.module or ''}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    assert imported and not [m for m in imported if "handlers" in m.split(".")]


# ---------------------------------------------------------------- EXPORT_STUDY


def _responses(conn, study_id: str):
    """Traces for the study's items, and three participants arriving out of ordinal order: one with a unicode
    external id who answered both tasks (one verified correct, one not yet verified), one without an external id who
    failed the attention check, and one who has not answered yet (no rows)."""
    items = conn.execute("SELECT * FROM study_items WHERE study_id = %s ORDER BY id", (study_id,)).fetchall()
    for n, item in enumerate(items):
        checkpoint = conn.execute("SELECT checkpoint_id FROM study_conditions WHERE id = %s",
                                  (item["condition_id"],)).fetchone()["checkpoint_id"]
        conn.execute("""INSERT INTO traces (id, checkpoint_id, problem_id, text, author_spans, settings, seed)
                        VALUES (%s, %s, %s, 'one\ntwo\n', '[]', '{}', 7)""",
                     (f"t{n}", checkpoint, item["problem_id"]))
        conn.execute("UPDATE study_items SET trace_id = %s, prefix_text = 'one\n', handoff_step = 1 WHERE id = %s",
                     (f"t{n}", item["id"]))
    participants = [("pa2", 2, "PID-late", {}, "[]"),
                    ("pa1", 1, None, {"SESSION_ID": "s-9"}, '[{"checkId": "a1", "answer": "x", "correct": false}]'),
                    ("pa0", 0, "PID-\u00e9\u00df0", {"PROLIFIC_PID": "PID-\u00e9\u00df0", "STUDY_ID": "st", "n": 1.5},
                     '[{"checkId": "a1", "answer": "y", "correct": true}]')]
    for pid, ordinal, external, params, attention in participants:
        conn.execute("""INSERT INTO participants (id, study_id, ordinal, external_id, token_hash, url_params, attention,
                                                  completed_at)
                        VALUES (%s, %s, %s, %s, %s, %s, %s, CASE WHEN %s < 2 THEN now() END)""",
                     (pid, study_id, ordinal, external, f"h-{study_id}-{pid}", Jsonb(params), attention, ordinal))
    for pid in ("pa1", "pa0"):
        for position, item in enumerate(items[:2] if pid == "pa0" else items[1:3]):
            assignment = f"a-{pid}-{position}"
            conn.execute("""INSERT INTO assignments (id, participant_id, item_id, position, started_at)
                            VALUES (%s, %s, %s, %s, now() - interval '1 minute')""",
                         (assignment, pid, item["id"], position))
            conn.execute("""INSERT INTO responses (id, assignment_id, continuation, answer, ease_rating, confidence,
                                                   elapsed_ms, timed_out)
                            VALUES (%s, %s, 'so \u2212 it is', '42', %s, 4, %s, %s)""",
                         (f"r-{pid}-{position}", assignment, 3 if position == 0 else None, 20000 + position,
                          pid == "pa1" and position == 1))
    conn.execute("""INSERT INTO verifier_results (id, verifier, version, extracted_answer, verdict, details, response_id)
                    VALUES ('v1', 'math-verify', '0.9.0', '42', 'CORRECT', 'equal', 'r-pa0-0')""")


def _insert_export(conn, export_id: str, study_id: str, id_mode: str, fmt: str = "PARQUET"):
    conn.execute("INSERT INTO study_exports (id, study_id, format, id_mode) VALUES (%s, %s, %s, %s)",
                 (export_id, study_id, fmt, id_mode))


def _read_export(conn, export_id: str) -> tuple[dict, pa.Table]:
    row = conn.execute("SELECT * FROM study_exports WHERE id = %s", (export_id,)).fetchone()
    return row, pq.read_table(pa.BufferReader(bytes(row["content"])))


def _view(conn, study_id: str) -> tuple[list[str], list[dict]]:
    cur = conn.execute("SELECT * FROM study_response_rows WHERE study_id = %s "
                       "ORDER BY participant_ordinal, task_position", (study_id,))
    return [c.name for c in cur.description], cur.fetchall()


@pytest.fixture
def study_with_responses(conn, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    _make_run(conn, "run1", learning_rate=1e-5, note="caf\u00e9")
    _checkpoints(conn, fixture_model_dir, run_id="run1")
    _insert_study(conn, "s1", fraction(0.5), status="OPEN")
    _launch(conn, "s1", n_problems=2)
    _responses(conn, "s1")
    return "s1"


def test_export_writes_the_view_as_parquet_with_raw_or_hashed_ids(conn, worker, study_with_responses):
    columns, view = _view(conn, "s1")
    expected_columns = [c for c in columns if c not in ("participant_external_id_hash", "url_params_public")]
    assert len(view) == 4 and "participant_external_id" in expected_columns and "url_params_public" in columns
    tables = {}
    for mode in ("raw", "hashed"):
        _insert_export(conn, f"e-{mode}", "s1", mode)
        job = _run(conn, worker, "EXPORT_STUDY", {"exportId": f"e-{mode}"})
        assert job["status"] == "SUCCEEDED", job["error"]
        row, table = _read_export(conn, f"e-{mode}")
        assert row["status"] == "READY" and row["row_count"] == 4 == table.num_rows and row["error"] is None
        assert job["result"] == {"exportId": f"e-{mode}", "rows": 4, "bytes": len(row["content"])}
        assert table.column_names == expected_columns
        tables[mode] = table.to_pylist()

    raw, hashed = tables["raw"], tables["hashed"]
    assert [(r["participant_ordinal"], r["task_position"]) for r in raw] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [r["participant_external_id"] for r in raw] == [v["participant_external_id"] for v in view]
    assert [r["participant_external_id"] for r in hashed] == [v["participant_external_id_hash"] for v in view]
    assert raw[0]["participant_external_id"] == "PID-\u00e9\u00df0"
    assert hashed[0]["participant_external_id"] != raw[0]["participant_external_id"]
    assert len(hashed[0]["participant_external_id"]) == 64 and hashed[2]["participant_external_id"] is None
    # hashed url_params: the link's parameters less the identifying one (PROLIFIC_PID); SESSION_ID, STUDY_ID stay
    assert [json.loads(h["url_params"]) for h in hashed] == [v["url_params_public"] for v in view]
    assert json.loads(hashed[0]["url_params"]) == {"STUDY_ID": "st", "n": 1.5}
    assert json.loads(hashed[2]["url_params"]) == {"SESSION_ID": "s-9"}
    assert not any("PID-" in (h["url_params"] or "") for h in hashed)
    for r, h in zip(raw, hashed):  # everything but the ids is the same
        assert {k: v for k, v in r.items() if k not in ("participant_external_id", "url_params")} == \
               {k: v for k, v in h.items() if k not in ("participant_external_id", "url_params")}

    for r, v in zip(raw, view):
        for name in expected_columns:
            if name in ("handoff_rule", "url_params", "run_config"):  # JSON text that round-trips
                assert (r[name] is None) == (v[name] is None)
                if v[name] is not None:
                    assert json.loads(r[name]) == v[name]
                    assert r[name] == json.dumps(v[name], separators=(",", ":"), ensure_ascii=False)
            elif name in ("participant_completed_at", "started_at", "submitted_at"):
                assert r[name] == (v[name].replace(tzinfo=timezone.utc) if v[name] else None)
            elif name != "participant_external_id":
                assert r[name] == v[name], name
    assert json.loads(raw[0]["handoff_rule"]) == {"kind": "fraction", "f": 0.5}
    assert json.loads(raw[0]["url_params"])["PROLIFIC_PID"] == "PID-\u00e9\u00df0"
    assert any(r["run_config"] and json.loads(r["run_config"])["note"] == "caf\u00e9" for r in raw)
    assert [r["excluded"] for r in raw] == [False, False, True, True]  # pa1 failed the attention check
    assert [r["correct"] for r in raw] == [True, None, None, None] and raw[3]["timed_out"] is True
    assert [r["manual_exclusion"] for r in raw] == [None] * 4

    schema = pq.read_schema(pa.BufferReader(bytes(_read_export(conn, "e-raw")[0]["content"])))
    assert schema.field("participant_ordinal").type == pa.int64() and schema.field("elapsed_ms").type == pa.int64()
    assert schema.field("excluded").type == pa.bool_() and schema.field("correct").type == pa.bool_()
    assert schema.field("submitted_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("run_config").type == pa.string() and schema.field("handoff_rule").type == pa.string()


def test_export_columns_never_export_the_stand_ins_and_read_them_only_when_hashed():
    from psycopg.postgres import types as pg_types
    from tandem.runner.study_exports import export_columns

    class Column:
        def __init__(self, name, type_name):
            self.name, self.type_code = name, pg_types.get(type_name).oid

    view = [Column("participant_external_id", "text"), Column("participant_external_id_hash", "text"),
            Column("url_params", "jsonb"), Column("excluded", "bool"), Column("url_params_public", "jsonb"),
            Column("manual_note", "text")]
    names = ["participant_external_id", "url_params", "excluded", "manual_note"]
    assert export_columns(view, "raw") == list(zip(names, [0, 2, 3, 5], ["text", "jsonb", "bool", "text"]))
    assert export_columns(view, "hashed") == list(zip(names, [1, 4, 3, 5], ["text", "jsonb", "bool", "text"]))


def test_a_manual_exclusion_is_exported_like_the_rules(conn, worker, study_with_responses):
    conn.execute("""UPDATE participants SET manual_exclusion = 'tester', manual_note = 'my own try-out',
                    manual_set_at = now() WHERE id = 'pa0'""")
    _insert_export(conn, "e-manual", "s1", "hashed")
    assert _run(conn, worker, "EXPORT_STUDY", {"exportId": "e-manual"})["status"] == "SUCCEEDED"
    rows = _read_export(conn, "e-manual")[1].to_pylist()
    assert [r["excluded"] for r in rows] == [True, True, True, True]
    assert [r["manual_exclusion"] for r in rows] == ["tester", "tester", None, None]
    assert [r["manual_note"] for r in rows] == ["my own try-out", "my own try-out", None, None]
    assert rows[0]["exclusion_reason"] == "tester (marked by the researcher: my own try-out)"
    assert rows[2]["exclusion_reason"] == "failed attention check"


def test_export_reads_in_batches(conn, worker, study_with_responses, monkeypatch):
    from tandem.runner import study_exports

    _insert_export(conn, "e-big", "s1", "raw")
    assert _run(conn, worker, "EXPORT_STUDY", {"exportId": "e-big"})["status"] == "SUCCEEDED"
    whole = _read_export(conn, "e-big")[1]
    monkeypatch.setattr(study_exports, "EXPORT_BATCH", 1)
    _insert_export(conn, "e-small", "s1", "raw")
    job = _run(conn, worker, "EXPORT_STUDY", {"exportId": "e-small"})
    assert job["status"] == "SUCCEEDED"
    row, table = _read_export(conn, "e-small")
    assert pq.ParquetFile(pa.BufferReader(bytes(row["content"]))).num_row_groups == 4
    assert table.equals(whole)


def test_an_empty_study_exports_every_column_and_no_rows(conn, worker, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    _checkpoints(conn, fixture_model_dir)
    _insert_study(conn, "s1", step(1), status="OPEN")
    _launch(conn, "s1")
    columns, view = _view(conn, "s1")
    assert view == []
    _insert_export(conn, "e1", "s1", "hashed")
    job = _run(conn, worker, "EXPORT_STUDY", {"exportId": "e1"})
    assert job["status"] == "SUCCEEDED" and job["result"]["rows"] == 0
    row, table = _read_export(conn, "e1")
    assert row["status"] == "READY" and row["row_count"] == 0 and table.num_rows == 0
    assert table.column_names == [c for c in columns if c not in ("participant_external_id_hash", "url_params_public")]
    assert table.schema.field("task_position").type == pa.int64()
    assert table.schema.field("participant_completed_at").type == pa.timestamp("us", tz="UTC")


def test_a_bad_export_fails_at_once_with_its_reason(conn, worker, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    _insert_study(conn, "s1", step(1), status="OPEN")
    job = _run(conn, worker, "EXPORT_STUDY", {"exportId": "nope"})
    assert job["status"] == "FAILED" and "study export nope does not exist" in job["error"]
    _insert_export(conn, "e1", "s1", "salted")
    job = _run(conn, worker, "EXPORT_STUDY", {"exportId": "e1"})
    assert job["status"] == "FAILED" and job["attempts"] == 1
    assert "study export e1: id_mode must be 'raw' or 'hashed', got 'salted'" in job["error"]
    row = conn.execute("SELECT * FROM study_exports WHERE id = 'e1'").fetchone()
    assert row["status"] == "FAILED" and "id_mode must be 'raw' or 'hashed'" in row["error"] and row["content"] is None
    _insert_export(conn, "e2", "s1", "raw", fmt="CSV")
    job = _run(conn, worker, "EXPORT_STUDY", {"exportId": "e2"})
    assert job["status"] == "FAILED" and "format CSV is written by the web app" in job["error"]
