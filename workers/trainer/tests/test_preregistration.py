"""The preregistration snapshot (runner/preregistration.py): canonical JSON and its SHA-256, the Markdown rendering
(pure), and the freeze in the transaction that opens a study (real Postgres, the fixture model): the draft plus the
database's checkpoint hashes and items, frozen once."""

from __future__ import annotations

import hashlib
import json

import pytest
from psycopg.types.json import Jsonb
from test_runner import _make_run, _seed_domain, _settings
from test_studies import _checkpoints, _insert_study, _launch, _run, step

from tandem.runner import queue
from tandem.runner.preregistration import (build_snapshot, canonical_json, handoff_rule_text, render_markdown,
                                           sha256_hex)
from tandem.runner.worker import Worker

# ---------------------------------------------------------------- pure functions


def test_canonical_json_is_independent_of_key_order_and_compact():
    a = {"b": [1, {"y": "caf\u00e9", "x": None}], "a": 0.5, "c": True}
    b = {"c": True, "a": 0.5, "b": [1, {"x": None, "y": "caf\u00e9"}]}
    assert canonical_json(a) == canonical_json(b) == '{"a":0.5,"b":[1,{"x":null,"y":"caf\u00e9"}],"c":true}'
    assert json.loads(canonical_json(a)) == a
    with pytest.raises(ValueError):
        canonical_json({"p": float("nan")})


def test_the_sha_is_of_the_utf8_bytes():
    text = canonical_json({"name": "\u00e9tude \u2212 1"})
    assert sha256_hex(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert sha256_hex(text) != hashlib.sha256(text.encode("utf-16")).hexdigest() and len(sha256_hex(text)) == 64


def _snapshot() -> dict:
    design = {
        "version": 1,
        "study": {"id": "s1", "name": "Legibility pilot", "seed": 7, "tasksPerParticipant": 4},
        "conditions": [{"name": "TRL", "checkpointId": "old", "live": False, "note": "drafted"}],
        "handoffRule": {"kind": "fraction", "f": 0.5},
        "assignment": {"rule": "LATIN_SQUARE", "text": "Cyclic Latin square: participant n takes row n mod N.",
                       "refillDropouts": True, "refillText": "A dropout's row goes to the next arrival."},
        "exclusions": ["Any wrong attention check.", "Median seconds per task under 10."],
        "attentionChecks": [{"id": "a1", "afterTask": 1, "prompt": "Pick blue", "options": ["red", "blue"],
                             "correct": "blue"}],
        "outcomes": {"completed": {"code": "C0DE", "redirectUrl": "https://app.prolific.com/done"},
                     "screenedOut": {"code": "SCR33N", "redirectUrl": None},
                     "rules": ["Two failed attention checks screen a participant out."]},
        "pay": {"currency": "GBP", "basePayCents": 150, "bonusPerCorrectCents": 25, "bonusCapCents": None},
        "powerPlan": {"alpha": 0.05, "power": 0.8, "accuracies": {"TRL": 0.6, "GRPO": 0.45}},
        "analysis": {"primary": "TRL − GRPO accuracy", "model": "correct ~ condition + (1|participant) + (1|problem)"},
    }
    conditions = [{"name": "GRPO", "checkpointId": "ck-g", "live": False, "checkpointSha256": "a" * 64,
                   "checkpointStep": 200, "runId": "run-g", "runName": "grpo | seed 1", "algorithm": "GRPO"},
                  {"name": "TRL", "checkpointId": "ck-t", "live": True, "checkpointSha256": "b" * 64,
                   "checkpointStep": 200, "runId": "run-t", "runName": "trl", "algorithm": "TRL"}]
    problems = [{"id": "p1", "externalId": "arith-001"}]
    items = [{"condition": "GRPO", "problemId": "p1", "traceId": "t1", "handoffStep": 2, "prefixSha256": "c" * 64},
             {"condition": "TRL", "problemId": "p1", "traceId": None, "handoffStep": None, "prefixSha256": None}]
    return build_snapshot(design, "draft", conditions, problems, items, "2026-12-06T10:00:00.000Z")


def test_the_snapshot_takes_conditions_from_the_database_over_the_drafts_entry():
    snapshot = _snapshot()
    trl = next(c for c in snapshot["conditions"] if c["name"] == "TRL")
    assert trl["checkpointId"] == "ck-t" and trl["note"] == "drafted" and trl["checkpointSha256"] == "b" * 64
    assert [c["name"] for c in snapshot["conditions"]] == ["GRPO", "TRL"]
    assert snapshot["frozenAt"] == "2026-12-06T10:00:00.000Z" and snapshot["designFrom"] == "draft"
    assert snapshot["powerPlan"]["accuracies"] == {"TRL": 0.6, "GRPO": 0.45}
    # the design's problems stay in launch's order when they are the items' problems; otherwise the database's
    design = {"problems": [{"id": "p2", "externalId": "b"}, {"id": "p1", "externalId": "a"}]}
    database = [{"id": "p1", "externalId": "a"}, {"id": "p2", "externalId": "b"}]
    assert build_snapshot(design, "draft", [], database, [], "t")["problems"] == design["problems"]
    assert build_snapshot(design, "draft", [], database[:1], [], "t")["problems"] == database[:1]


def test_the_markdown_names_the_sha_and_every_part_of_the_design():
    snapshot = _snapshot()
    md = render_markdown(snapshot)
    assert md.startswith("# Preregistration: Legibility pilot\n")
    assert f"`{sha256_hex(canonical_json(snapshot))}`" in md
    assert f"| GRPO | ck-g | 200 | grpo \\| seed 1 | GRPO | no | {'a' * 64} |" in md  # a pipe in a cell is escaped
    assert f"| TRL | ck-t | 200 | trl | TRL | yes | {'b' * 64} |" in md
    assert "Fraction 0.5: the participant reads the first ⌊0.5·s + ½⌋ steps" in md
    assert "Cyclic Latin square: participant n takes row n mod N." in md
    assert "A dropout's row goes to the next arrival." in md
    assert "- Any wrong attention check.\n- Median seconds per task under 10." in md
    assert "- prompt: Pick blue" in md
    assert "| completed | C0DE | https://app.prolific.com/done |" in md and "| screenedOut | SCR33N | — |" in md
    assert "- Two failed attention checks screen a participant out." in md
    assert "- base pay: 1.50 GBP" in md and "- bonus per verified correct answer: 0.25 GBP" in md
    assert "- bonus cap per participant: none" in md
    assert "- alpha: 0.05" in md and "  - TRL: 0.6" in md
    assert "- model: correct ~ condition + (1\\|participant) + (1\\|problem)" in md
    assert f"| GRPO | arith-001 | t1 | 2 | {'c' * 64} |" in md and "| TRL | arith-001 | — | — | — |" in md


def test_the_handoff_rule_in_words():
    assert handoff_rule_text({"kind": "step", "k": 2}).startswith("After step 2: the participant reads the first "
                                                                  "min(2, s) steps")
    assert handoff_rule_text({"kind": "other"}) == 'As recorded: {"kind":"other"}'


# ---------------------------------------------------------------- the freeze when the study opens


@pytest.fixture
def worker(db_url, tmp_path):
    w = Worker(_settings(db_url, tmp_path, kinds=tuple(k for k in queue.KINDS if k != "STUDY_JUNIOR")))
    yield w
    w.conn.close()


DRAFT = {"version": 1, "study": {"id": "s1", "name": "study s1", "seed": 7},
         "conditions": [{"name": "A", "checkpointId": "c1", "live": False}],
         "exclusions": ["Any wrong attention check."], "powerPlan": {"alpha": 0.05, "power": 0.8},
         "analysis": {"primary": "accuracy by condition"}}


def _open(conn, worker, fixture_model_dir, draft: dict | None) -> list[str]:
    """Study s1 with conditions A (base checkpoint c1), B (run1's c2) and live L (c1, exported already), opened."""
    _seed_domain(conn, fixture_model_dir, n_problems=3)
    _make_run(conn, "run1")
    _checkpoints(conn, fixture_model_dir, run_id="run1")
    conn.execute("UPDATE checkpoints SET sha256 = 'sha-of-' || id")
    conn.execute("""INSERT INTO checkpoints (id, run_id, base_model_id, step, path, format, sha256, size_bytes)
                    VALUES ('c1-onnx', NULL, 'm1', 0, %s, 'onnx', 'y', 1)""", (str(fixture_model_dir),))
    _insert_study(conn, "s1", step(1))
    if draft is not None:
        conn.execute("UPDATE studies SET preregistration_draft = %s WHERE id = 's1'", (Jsonb(draft),))
    problems = _launch(conn, "s1", n_problems=2)
    conn.execute("INSERT INTO study_conditions (id, study_id, name, checkpoint_id, live) VALUES ('s1-L', 's1', 'L', "
                 "'c1', true)")
    for p in problems:
        conn.execute("INSERT INTO study_items (id, study_id, condition_id, problem_id) VALUES (%s, 's1', 's1-L', %s)",
                     (f"s1-L-{p}", p))
    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert job["status"] == "SUCCEEDED", job["error"]
    return problems


def _frozen(conn) -> tuple[dict, dict]:
    row = conn.execute("SELECT status, preregistration_json, preregistration_markdown, preregistration_sha256 "
                       "FROM studies WHERE id = 's1'").fetchone()
    return row, json.loads(row["preregistration_json"])


def test_opening_freezes_the_draft_with_checkpoint_hashes_and_items(conn, worker, fixture_model_dir):
    _open(conn, worker, fixture_model_dir, DRAFT)
    row, snapshot = _frozen(conn)
    assert row["status"] == "OPEN"
    text = row["preregistration_json"]
    assert row["preregistration_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert canonical_json(snapshot) == text  # stored as canonical JSON
    assert snapshot["designFrom"] == "draft" and snapshot["frozenAt"].endswith("Z")
    assert {k: snapshot[k] for k in ("version", "study", "exclusions", "powerPlan", "analysis")} == \
           {k: DRAFT[k] for k in ("version", "study", "exclusions", "powerPlan", "analysis")}

    conditions = {c["name"]: c for c in snapshot["conditions"]}
    assert conditions["A"] == {"name": "A", "checkpointId": "c1", "live": False, "checkpointSha256": "sha-of-c1",
                               "checkpointStep": 0, "runId": None, "runName": None, "algorithm": None}
    assert conditions["B"]["checkpointSha256"] == "sha-of-c2" and conditions["B"]["runId"] == "run1"
    assert conditions["B"]["algorithm"] == "GRPO" and conditions["L"]["live"] is True

    items = conn.execute(
        """SELECT c.name, i.problem_id, i.trace_id, i.handoff_step, i.prefix_text, c.live FROM study_items i
           JOIN study_conditions c ON c.id = i.condition_id WHERE i.study_id = 's1'""").fetchall()
    assert all(i["trace_id"] for i in items if not i["live"])
    frozen = {(i["condition"], i["problemId"]): i for i in snapshot["items"]}
    assert set(frozen) == {(i["name"], i["problem_id"]) for i in items}
    for i in items:
        entry = frozen[(i["name"], i["problem_id"])]
        assert entry["traceId"] == i["trace_id"] and entry["handoffStep"] == i["handoff_step"]
        assert entry["prefixSha256"] == (None if i["live"] else hashlib.sha256(i["prefix_text"].encode()).hexdigest())
    assert sorted(p["id"] for p in snapshot["problems"]) == sorted({i["problem_id"] for i in items})

    md = row["preregistration_markdown"]
    assert row["preregistration_sha256"] in md and "sha-of-c2" in md
    assert all(i["trace_id"] in md for i in items if not i["live"])


def test_a_retry_keeps_the_frozen_snapshot(conn, worker, fixture_model_dir):
    _open(conn, worker, fixture_model_dir, DRAFT)
    before, _ = _frozen(conn)
    # the study generated again with one item's trace replaced: the snapshot stays as frozen
    conn.execute("UPDATE study_items SET trace_id = NULL, prefix_text = NULL, handoff_step = NULL "
                 "WHERE id = (SELECT min(id) FROM study_items WHERE condition_id = 's1-A')")
    conn.execute("UPDATE studies SET status = 'GENERATING', preregistration_draft = '{\"version\": 2}' WHERE id = 's1'")
    job = _run(conn, worker, "GENERATE_STUDY_TRACES", {"studyId": "s1"})
    assert job["status"] == "SUCCEEDED" and job["result"]["traces"] == 1
    after, _ = _frozen(conn)
    assert after == {**before, "status": "OPEN"}


def test_a_study_without_a_draft_is_frozen_from_the_database(conn, worker, fixture_model_dir):
    problems = _open(conn, worker, fixture_model_dir, None)
    row, snapshot = _frozen(conn)
    assert row["preregistration_sha256"] == sha256_hex(row["preregistration_json"])
    assert snapshot["designFrom"] == "database"
    assert snapshot["study"]["name"] == "study s1" and snapshot["study"]["seed"] == 7
    assert snapshot["handoffRule"] == {"kind": "step", "k": 1} and snapshot["assignment"]["rule"] == "LATIN_SQUARE"
    assert snapshot["outcomes"]["completed"]["code"] == "CODE" and snapshot["pay"]["currency"] == "GBP"
    assert [c["name"] for c in snapshot["conditions"]] == ["A", "B", "L"]
    assert len(snapshot["items"]) == 3 * len(problems)
    assert "Not drafted; the rules of the view study_participant_status apply" in row["preregistration_markdown"]
