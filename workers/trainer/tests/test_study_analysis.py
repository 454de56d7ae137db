"""The mixed-effects model of a study (tandem/analysis/analysis.py) and the STUDY_ANALYSIS job: lme4's published
fit reproduced, a simulated study's known condition effect recovered within its interval, the rows the model
sees, the job's row (result or error), VERIFY_RESPONSES enqueueing one fit per study, and the analysis bundle's
analysis.py giving the stored numbers."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from psycopg.types.json import Jsonb
from test_runner import _make_run, _seed_domain, _settings

from tandem.analysis.analysis import NotEnoughData, _fit, fit_mixed_model, load_rows, reference_condition
from tandem.runner import queue
from tandem.runner.worker import Worker

TRUE_LOG_ODDS_RATIO = 0.9
PARTICIPANT_SD, PROBLEM_SD = 0.8, 0.6


def expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def simulate(seed: int, log_odds_ratio: float = TRUE_LOG_ODDS_RATIO, participants: int = 120, problems: int = 8,
             base: float = 0.0) -> pd.DataFrame:
    """A two-condition study run as a Latin square: every participant takes every problem, half in each condition
    (condition = (participant + problem) mod 2); logit P(correct) = base + log_odds_ratio * [TRL] + u + v."""
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, PARTICIPANT_SD, participants)
    v = rng.normal(0.0, PROBLEM_SD, problems)
    rows = []
    for i in range(participants):
        for j in range(problems):
            trl = (i + j) % 2 == 1
            p = expit(base + log_odds_ratio * trl + u[i] + v[j])
            rows.append({"participant_id": f"pa{i:03d}", "participant_ordinal": i, "task_position": j,
                         "problem_id": f"q{j}", "condition_name": "TRL" if trl else "GRPO",
                         "algorithm": "TRL" if trl else "GRPO", "correct": bool(rng.random() < p), "excluded": False})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the model, without a database


CBPP = [(1, 2, 14, 1), (1, 3, 12, 2), (1, 4, 9, 3), (1, 0, 5, 4), (2, 3, 22, 1), (2, 1, 18, 2), (2, 1, 21, 3),
        (3, 8, 22, 1), (3, 2, 16, 2), (3, 0, 16, 3), (3, 2, 20, 4), (4, 2, 10, 1), (4, 0, 10, 2), (4, 2, 9, 3),
        (4, 0, 6, 4), (5, 5, 18, 1), (5, 0, 25, 2), (5, 0, 24, 3), (5, 1, 4, 4), (6, 3, 17, 1), (6, 0, 17, 2),
        (6, 0, 18, 3), (6, 1, 20, 4), (7, 8, 16, 1), (7, 1, 10, 2), (7, 3, 9, 3), (7, 0, 5, 4), (8, 12, 34, 1),
        (9, 2, 9, 1), (9, 0, 6, 2), (9, 0, 8, 3), (9, 0, 6, 4), (10, 1, 22, 1), (10, 1, 22, 2), (10, 0, 18, 3),
        (10, 2, 22, 4), (11, 0, 25, 1), (11, 5, 27, 2), (11, 3, 22, 3), (11, 1, 22, 4), (12, 2, 10, 1),
        (12, 1, 8, 2), (12, 0, 6, 3), (12, 0, 5, 4), (13, 1, 21, 1), (13, 2, 24, 2), (13, 0, 19, 3),
        (13, 0, 23, 4), (14, 11, 19, 1), (14, 0, 2, 2), (14, 0, 3, 3), (14, 0, 2, 4), (15, 1, 19, 1),
        (15, 1, 15, 2), (15, 1, 15, 3), (15, 0, 15, 4)]  # lme4's cbpp: herd, incidence, size, period


def test_the_laplace_fit_reproduces_lme4_on_cbpp():
    """lme4's documented fit, glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial):
    fixed effects -1.3983, -0.9919, -1.1282, -1.5797 (SE 0.2312, 0.3032, 0.3228, 0.4220), herd SD 0.6421, deviance
    184.1 for the binomial rows, i.e. -2 log L = 555.0 for the same data as 842 Bernoulli rows."""
    y, herd, period = [], [], []
    for h, incidence, size, p in CBPP:
        for k in range(size):
            y.append(1.0 if k < incidence else 0.0)
            herd.append(h - 1)
            period.append(p)
    period = np.array(period)
    X = np.column_stack([np.ones(len(y))] + [(period == k).astype(float) for k in (2, 3, 4)])
    beta, sds, cov, deviance, warnings = _fit(np.array(y), X, [np.array(herd)])
    assert beta == pytest.approx([-1.3983, -0.9919, -1.1282, -1.5797], abs=1e-3)
    assert sds[0] == pytest.approx(0.6421, abs=1e-3)
    assert deviance == pytest.approx(555.0, abs=0.05)
    # glmer's SEs treat the SD as known; ours also carry its uncertainty, so they are slightly (< 2%) larger
    se = np.sqrt(np.diag(cov))
    assert se == pytest.approx([0.2312, 0.3032, 0.3228, 0.4220], rel=0.02)
    assert np.all(se >= np.array([0.2312, 0.3032, 0.3228, 0.4220]) * 0.999)
    assert warnings == []


def test_a_known_condition_effect_is_recovered_within_its_interval():
    result = fit_mixed_model(load_rows(simulate(seed=0)))
    assert result["responses"] == 960 and result["participants"] == 120 and result["problems"] == 8
    assert result["reference"] == "GRPO" and [c["condition"] for c in result["conditions"]] == ["GRPO", "TRL"]
    (effect,) = result["effects"]
    assert effect["condition"] == "TRL" and effect["versus"] == "GRPO"
    assert effect["low"] < math.exp(TRUE_LOG_ODDS_RATIO) < effect["high"]
    assert effect["oddsRatio"] == pytest.approx(math.exp(effect["logOdds"]))
    assert effect["low"] == pytest.approx(math.exp(effect["logOdds"] - 1.959964 * effect["se"]), rel=1e-6)
    assert effect["p"] < 1e-4  # a real effect of this size in 960 responses is not missed
    # accuracy is the probability at random effects 0: the true one is expit(0) for GRPO, expit(0.9) for TRL
    grpo, trl = result["conditions"]
    assert grpo["low"] < 0.5 < grpo["high"] and trl["low"] < expit(TRUE_LOG_ODDS_RATIO) < trl["high"]
    assert grpo["accuracy"] == pytest.approx(expit(grpo["logOdds"]))
    sds = result["randomEffects"]
    assert 0.4 < sds["participantSd"] < 1.2 and 0.2 < sds["problemSd"] < 1.2
    assert result["warnings"] == []
    assert "maximum likelihood" in result["method"] and "Laplace" in result["method"]
    assert result["formula"] == "correct ~ C(condition) + (1|participant) + (1|problem)"


def test_no_effect_gives_an_interval_containing_one():
    result = fit_mixed_model(load_rows(simulate(seed=1, log_odds_ratio=0.0)))
    (effect,) = result["effects"]
    assert effect["low"] < 1.0 < effect["high"] and effect["p"] > 0.05


@pytest.mark.slow
def test_the_interval_covers_the_true_odds_ratio_about_95_percent_of_the_time():
    covered = sum(
        (lambda e: e["low"] < math.exp(TRUE_LOG_ODDS_RATIO) < e["high"])(
            fit_mixed_model(load_rows(simulate(seed=100 + s)))["effects"][0])
        for s in range(40))
    assert covered >= 34  # 95% nominal; Laplace on 8 binary answers per person is a little liberal


def test_the_fit_is_deterministic_and_does_not_depend_on_row_order():
    data = simulate(seed=2, participants=40)
    first = fit_mixed_model(load_rows(data))
    assert fit_mixed_model(load_rows(data)) == first
    shuffled = data.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert fit_mixed_model(load_rows(shuffled)) == first


def test_load_rows_keeps_verified_responses_of_included_participants_from_csv_text():
    csv = ("participant_id,problem_id,condition_name,algorithm,correct,excluded,other\n"
           "p1,q1,A,GRPO,true,false,x\n"
           "p1,q2,B,TRL,false,false,x\n"
           "p2,q1,B,TRL,,false,x\n"          # not verified yet
           "p3,q1,A,GRPO,true,true,x\n"      # excluded participant
           "p4,q2,A,,1,0,x\n")               # a base-model checkpoint: no algorithm
    rows = load_rows(io.StringIO(csv))
    assert list(rows.columns) == ["participant_id", "problem_id", "condition_name", "algorithm", "correct"]
    assert rows.to_dict("records") == [
        {"participant_id": "p1", "problem_id": "q1", "condition_name": "A", "algorithm": "GRPO", "correct": 1},
        {"participant_id": "p4", "problem_id": "q2", "condition_name": "A", "algorithm": "", "correct": 1},
        {"participant_id": "p1", "problem_id": "q2", "condition_name": "B", "algorithm": "TRL", "correct": 0}]
    with pytest.raises(ValueError, match="no column 'excluded'"):
        load_rows(io.StringIO("participant_id,problem_id,condition_name,algorithm,correct\n"))
    with pytest.raises(ValueError, match="column 'correct': 'maybe' is not true or false"):
        load_rows(io.StringIO(csv.replace("p1,q1,A,GRPO,true", "p1,q1,A,GRPO,maybe")))


def test_the_reference_is_the_first_grpo_condition_else_the_first_by_name():
    frame = pd.DataFrame({"condition_name": ["b", "a", "c", "d"], "algorithm": ["TRL", "TRL", "GRPO", "GRPO"]})
    assert reference_condition(frame) == "c"
    assert reference_condition(frame.assign(algorithm=["TRL", "TRL", "", ""])) == "a"


def test_too_few_data_is_an_error_naming_why():
    data = simulate(seed=4, participants=10)
    with pytest.raises(NotEnoughData, match="no verified responses"):
        fit_mixed_model(load_rows(data.iloc[0:0]))
    with pytest.raises(NotEnoughData, match="in 1 condition \\(GRPO\\)"):
        fit_mixed_model(load_rows(data[data["condition_name"] == "GRPO"]))
    with pytest.raises(NotEnoughData, match="all 80 verified responses are correct"):
        fit_mixed_model(load_rows(data.assign(correct=True)))


def test_warnings_say_what_is_poorly_determined():
    data = simulate(seed=5, participants=30, problems=4)
    data.loc[data["condition_name"] == "TRL", "correct"] = True
    result = fit_mixed_model(load_rows(data))
    assert any("condition TRL: every verified response is correct" in w for w in result["warnings"])
    assert any("only 4 problems" in w for w in result["warnings"])
    json.dumps(result, allow_nan=False)  # storable as JSON: no NaN or infinity


# ---------------------------------------------------------------- in Postgres: the job, the enqueue, the bundle


def _run(conn, worker, kind: str, payload: dict) -> dict:
    job_id = queue.enqueue(conn, kind, payload)
    worker.run_once()
    return queue.get(conn, job_id)


@pytest.fixture
def worker(db_url, tmp_path):
    w = Worker(_settings(db_url, tmp_path))
    yield w
    w.conn.close()


def insert_study(conn, model_dir, data: pd.DataFrame, study_id: str = "s1", *, verdicts: bool = True) -> str:
    """A study whose conditions are checkpoints of a GRPO run and a TRL run, with the simulated rows as
    participants, assignments, responses and (verdicts=True) verifier results."""
    if conn.execute("SELECT 1 FROM users WHERE id = 'u1'").fetchone() is None:
        _seed_domain(conn, model_dir, n_problems=int(data["problem_id"].nunique()))
        _make_run(conn, "runG")
        _make_run(conn, "runT", p_junior=0.5)
        for checkpoint, run in (("cG", "runG"), ("cT", "runT")):
            conn.execute("""INSERT INTO checkpoints (id, run_id, step, path, format, sha256, size_bytes)
                            VALUES (%s, %s, 4, %s, 'hf-safetensors', 'x', 1)""", (checkpoint, run, str(model_dir)))
    conn.execute(
        """INSERT INTO studies (id, name, status, owner_id, dataset_id, problem_count, handoff_rule,
                                tasks_per_participant, time_limit_s, consent_text, instructions, practice,
                                completion_code, url_params, hash_salt)
           VALUES (%s, %s, 'OPEN', 'u1', 'd1', %s, '{"kind": "step", "k": 1}', %s, 600, 'c', 'i', %s, 'CODE',
                   ARRAY['PROLIFIC_PID'], 'salt')""",
        (study_id, f"study {study_id}", int(data["problem_id"].nunique()), int(data["task_position"].max()) + 1,
         Jsonb({"problem": "1 + 1?", "reasoning": "1 + 1 = 2\n", "answer": "2"})),
    )
    problems = [r["id"] for r in conn.execute("SELECT id FROM problems ORDER BY id")]
    problem_of = {q: problems[k] for k, q in enumerate(sorted(data["problem_id"].unique()))}
    for name, checkpoint in (("GRPO", "cG"), ("TRL", "cT")):
        conn.execute("INSERT INTO study_conditions (id, study_id, name, checkpoint_id) VALUES (%s, %s, %s, %s)",
                     (f"{study_id}-{name}", study_id, name, checkpoint))
        with conn.cursor() as cur:
            cur.executemany("""INSERT INTO study_items (id, study_id, condition_id, problem_id, prefix_text, handoff_step)
                               VALUES (%s, %s, %s, %s, 'one\n', 1)""",
                            [(f"{study_id}-{name}-{q}", study_id, f"{study_id}-{name}", p) for q, p in problem_of.items()])
    participants = data.drop_duplicates("participant_id")
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO participants (id, study_id, ordinal, external_id, token_hash, url_params, completed_at)
               VALUES (%s, %s, %s, %s, %s, %s, now())""",
            [(f"{study_id}-{r.participant_id}", study_id, int(r.participant_ordinal), f"PROLIFIC-{r.participant_id}",
              f"h-{study_id}-{r.participant_id}", Jsonb({"PROLIFIC_PID": f"PROLIFIC-{r.participant_id}"}))
             for r in participants.itertuples()])
        rows = list(data.itertuples())
        cur.executemany(
            """INSERT INTO assignments (id, participant_id, item_id, position, started_at)
               VALUES (%s, %s, %s, %s, now() - interval '1 minute')""",
            [(f"{study_id}-a{r.Index}", f"{study_id}-{r.participant_id}",
              f"{study_id}-{r.condition_name}-{r.problem_id}", int(r.task_position)) for r in rows])
        cur.executemany(
            """INSERT INTO responses (id, assignment_id, continuation, answer, elapsed_ms)
               VALUES (%s, %s, 'so', %s, 30000)""",
            [(f"{study_id}-r{r.Index}", f"{study_id}-a{r.Index}", "right" if r.correct else "wrong") for r in rows])
        if verdicts:
            cur.executemany(
                """INSERT INTO verifier_results (id, verifier, version, extracted_answer, verdict, details, response_id)
                   VALUES (%s, 'math-verify', '0.9.0', 'x', %s, '', %s)""",
                [(f"{study_id}-v{r.Index}", "CORRECT" if r.correct else "INCORRECT", f"{study_id}-r{r.Index}")
                 for r in rows])
    return study_id


def analyses(conn, study_id: str) -> list[dict]:
    return conn.execute("SELECT * FROM study_analyses WHERE study_id = %s ORDER BY created_at, id",
                        (study_id,)).fetchall()


def test_the_job_stores_the_fit_and_the_bundles_analysis_py_reproduces_it(conn, worker, fixture_model_dir, tmp_path):
    data = simulate(seed=0)
    insert_study(conn, fixture_model_dir, data)
    job = _run(conn, worker, "STUDY_ANALYSIS", {"studyId": "s1"})
    assert job["status"] == "SUCCEEDED", job["error"]
    (row,) = analyses(conn, "s1")
    assert job["result"] == {"studyAnalysisId": row["id"], "responses": 960}
    assert row["response_count"] == 960 and row["error"] is None
    stored = row["result"]
    # the job modelled the rows the simulation made (their ids are the database's, so compare the numbers)
    direct = fit_mixed_model(load_rows(data))
    assert stored["effects"][0]["logOdds"] == pytest.approx(direct["effects"][0]["logOdds"], rel=1e-6)
    assert stored["randomEffects"]["participantSd"] == pytest.approx(direct["randomEffects"]["participantSd"], rel=1e-5)
    (effect,) = stored["effects"]
    assert effect["low"] < math.exp(TRUE_LOG_ODDS_RATIO) < effect["high"]

    conn.execute("INSERT INTO study_exports (id, study_id, format, id_mode) VALUES ('e1', 's1', 'BUNDLE', 'hashed')")
    export = _run(conn, worker, "EXPORT_STUDY", {"exportId": "e1"})
    assert export["status"] == "SUCCEEDED", export["error"]
    content = conn.execute("SELECT content FROM study_exports WHERE id = 'e1'").fetchone()["content"]
    out = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(bytes(content))).extractall(out)
    ran = subprocess.run([sys.executable, "analysis.py", "responses.csv", "--json"], cwd=out, capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    reproduced = json.loads(ran.stdout)
    _assert_same_numbers(reproduced, stored)
    table = subprocess.run([sys.executable, "analysis.py", "responses.csv"], cwd=out, capture_output=True, text=True,
                           timeout=300)
    assert table.returncode == 0 and f"{effect['oddsRatio']:.4f}" in table.stdout


def _assert_same_numbers(got, want, path="result"):
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), path
        for key in want:
            _assert_same_numbers(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_same_numbers(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), path
    else:
        assert got == want, path


def test_too_few_data_leaves_an_error_row_and_the_job_succeeds(conn, worker, fixture_model_dir):
    data = simulate(seed=6, participants=4)
    insert_study(conn, fixture_model_dir, data[data["condition_name"] == "GRPO"])
    job = _run(conn, worker, "STUDY_ANALYSIS", {"studyId": "s1"})
    assert job["status"] == "SUCCEEDED", job["error"]
    (row,) = analyses(conn, "s1")
    assert row["result"] is None and "in 1 condition (GRPO)" in row["error"] and row["response_count"] == 16
    assert job["result"]["error"] == row["error"]
    missing = _run(conn, worker, "STUDY_ANALYSIS", {"studyId": "nope"})
    assert missing["status"] == "FAILED" and "study nope does not exist" in missing["error"]


def test_excluded_participants_and_unverified_responses_are_not_modelled(conn, worker, fixture_model_dir):
    data = simulate(seed=7, participants=30)
    insert_study(conn, fixture_model_dir, data)
    conn.execute("""UPDATE participants SET attention = '[{"checkId": "a", "answer": "x", "correct": false}]'
                    WHERE id IN ('s1-pa000', 's1-pa001')""")
    conn.execute("DELETE FROM verifier_results WHERE response_id IN ('s1-r100', 's1-r101')")
    assert _run(conn, worker, "STUDY_ANALYSIS", {"studyId": "s1"})["status"] == "SUCCEEDED"
    (row,) = analyses(conn, "s1")
    assert row["response_count"] == 240 - 16 - 2 == row["result"]["responses"]
    assert row["result"]["participants"] == 28


def test_verify_responses_enqueues_one_fit_per_study_while_one_is_queued(conn, worker, fixture_model_dir):
    data = simulate(seed=8, participants=6)
    insert_study(conn, fixture_model_dir, data, verdicts=False)
    insert_study(conn, fixture_model_dir, data, "s2", verdicts=False)
    fits = lambda: conn.execute("SELECT * FROM jobs WHERE kind = 'STUDY_ANALYSIS' ORDER BY created_at").fetchall()

    first = _run(conn, worker, "VERIFY_RESPONSES", {"responseIds": ["s1-r0", "s1-r1", "s2-r0"]})
    assert first["status"] == "SUCCEEDED" and first["result"]["verified"] == 3
    queued = fits()
    assert sorted(j["study_id"] for j in queued) == ["s1", "s2"] and all(j["status"] == "QUEUED" for j in queued)
    assert [j["payload"] for j in queued if j["study_id"] == "s1"] == [{"studyId": "s1"}]
    assert sorted(first["result"]["studyAnalysisJobs"]) == sorted(j["id"] for j in queued)

    # more verdicts for s1 while its fit is still queued: no second one
    conn.execute("UPDATE jobs SET run_after = now() + interval '1 hour' WHERE kind = 'STUDY_ANALYSIS'")
    second = _run(conn, worker, "VERIFY_RESPONSES", {"responseIds": ["s1-r2", "s1-r3"]})
    assert second["status"] == "SUCCEEDED" and second["result"] == {"verified": 2}
    assert len(fits()) == 2

    # nothing newly verified: nothing enqueued
    assert _run(conn, worker, "VERIFY_RESPONSES", {"responseIds": ["s1-r2"]})["result"] == {"verified": 0}
    assert len(fits()) == 2

    # once the fit has run, new verdicts enqueue the next one
    conn.execute("UPDATE jobs SET run_after = now() WHERE kind = 'STUDY_ANALYSIS'")
    assert worker.run_once() == "SUCCEEDED" and worker.run_once() == "SUCCEEDED"
    assert {a["study_id"] for a in conn.execute("SELECT study_id FROM study_analyses").fetchall()} == {"s1", "s2"}
    _run(conn, worker, "VERIFY_RESPONSES", {"responseIds": ["s1-r4"]})
    assert [j["status"] for j in fits() if j["study_id"] == "s1"] == ["SUCCEEDED", "QUEUED"]
