"""The catalog jobs against a real Postgres: VALIDATE_MODEL, IMPORT_DATASET and GENERATE_DATASET, each with the
user's bad input recorded as a clear reason (the job succeeds, nothing half-written) and good input stored whole."""

from __future__ import annotations

import io
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tandem.runner import queue
from tandem.runner.worker import Worker, WorkerSettings


@pytest.fixture
def worker(db_url, tmp_path):
    w = Worker(WorkerSettings(db_url, tmp_path / "runs", heartbeat_s=0.3, stale_after_s=5, poll_s=0.5,
                              backoff_base_s=0.2))
    yield w
    w.conn.close()


@pytest.fixture
def user(conn):
    conn.execute("INSERT INTO users (id, email, name, password_hash, role) VALUES ('u1', 'r@x.org', 'R', 'x', 'RESEARCHER')")
    return "u1"


def _run(conn, worker, kind: str, payload: dict) -> dict:
    job_id = queue.enqueue(conn, kind, payload)
    worker.run_once()
    return queue.get(conn, job_id)


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


# ---------------------------------------------------------------- VALIDATE_MODEL


def _register(conn, model_id: str, path) -> str:
    conn.execute("INSERT INTO base_models (id, name, path) VALUES (%s, %s, %s)", (model_id, model_id, str(path)))
    return model_id


def test_a_valid_model_gets_its_info_and_one_checkpoint_row(conn, worker, fixture_model_dir):
    _register(conn, "m1", fixture_model_dir)
    job = _run(conn, worker, "VALIDATE_MODEL", {"baseModelId": "m1"})
    assert job["status"] == "SUCCEEDED" and job["result"]["ok"] is True
    model = conn.execute("SELECT * FROM base_models WHERE id = 'm1'").fetchone()
    assert model["validated_at"] is not None and model["validation_error"] is None
    info = model["info"]
    assert info == job["result"]["info"]
    assert info["architecture"] == "Qwen3ForCausalLM" and info["model_type"] == "qwen3"
    assert info["vocab_size"] == 384 and info["hidden_size"] == 32 and info["num_hidden_layers"] == 2
    assert info["eos_token"] == "<|endoftext|>" and info["tokenizer_class"] and info["max_position_embeddings"] == 512
    from tandem.models import load_model

    assert info["num_parameters"] == load_model(fixture_model_dir).num_parameters()

    # validating again (the console's re-validate) refreshes the same checkpoint row
    assert _run(conn, worker, "VALIDATE_MODEL", {"baseModelId": "m1"})["result"]["ok"] is True
    checkpoints = conn.execute("SELECT * FROM checkpoints").fetchall()
    assert len(checkpoints) == 1
    c = checkpoints[0]
    assert c["id"] == job["result"]["checkpointId"] and c["base_model_id"] == "m1" and c["run_id"] is None
    assert c["step"] == 0 and c["path"] == str(fixture_model_dir) and len(c["sha256"]) == 64 and c["size_bytes"] > 0


def _copy_without(src, dst, *names):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*names))
    return dst


def test_a_model_without_a_tokenizer_is_refused_with_a_clear_reason(conn, worker, fixture_model_dir, tmp_path):
    path = _copy_without(fixture_model_dir, tmp_path / "no-tokenizer", "tokenizer*")
    _register(conn, "m1", path)
    job = _run(conn, worker, "VALIDATE_MODEL", {"baseModelId": "m1"})
    assert job["status"] == "SUCCEEDED" and job["attempts"] == 1  # a bad model is not retried
    model = conn.execute("SELECT * FROM base_models WHERE id = 'm1'").fetchone()
    assert model["validated_at"] is None and model["validation_error"] == job["result"]["error"]
    assert model["validation_error"].startswith(f"{path}: no tokenizer: none of tokenizer.json")
    assert job["result"]["ok"] is False and _count(conn, "checkpoints") == 0


def test_a_model_that_turns_bad_loses_its_validation(conn, worker, fixture_model_dir, tmp_path):
    path = tmp_path / "model"
    shutil.copytree(fixture_model_dir, path)
    _register(conn, "m1", path)
    assert _run(conn, worker, "VALIDATE_MODEL", {"baseModelId": "m1"})["result"]["ok"] is True
    (path / "model.safetensors").write_bytes(b"truncated")
    job = _run(conn, worker, "VALIDATE_MODEL", {"baseModelId": "m1"})
    model = conn.execute("SELECT * FROM base_models WHERE id = 'm1'").fetchone()
    assert job["result"]["ok"] is False and model["validated_at"] is None
    assert model["validation_error"].startswith(f"{path}: model.safetensors is not a readable safetensors file")


@pytest.mark.parametrize("case, reason", [
    ("missing", "no such directory on the worker"),
    ("no-config", "no config.json, so this is not a Hugging Face model directory"),
    ("bad-config", "config.json cannot be loaded"),
    ("no-weights", "no weights file (model.safetensors, or a sharded model.safetensors.index.json)"),
    ("wrong-shapes", "the weights do not fit config.json: model.embed_tokens.weight has shape [384, 32]"),
])
def test_each_broken_model_directory_names_its_cause(conn, worker, fixture_model_dir, tmp_path, case, reason):
    path = tmp_path / case
    if case != "missing":
        shutil.copytree(fixture_model_dir, path)
    if case == "no-config":
        (path / "config.json").unlink()
    elif case == "bad-config":
        (path / "config.json").write_text("{not json")
    elif case == "no-weights":
        (path / "model.safetensors").unlink()
    elif case == "wrong-shapes":
        config = json.loads((path / "config.json").read_text())
        (path / "config.json").write_text(json.dumps({**config, "hidden_size": 64}))
    _register(conn, "m1", path)
    job = _run(conn, worker, "VALIDATE_MODEL", {"baseModelId": "m1"})
    error = conn.execute("SELECT validation_error FROM base_models WHERE id = 'm1'").fetchone()["validation_error"]
    assert job["status"] == "SUCCEEDED" and job["result"] == {"ok": False, "error": error}
    assert error.startswith(f"{path}: {reason}"), error


def test_an_unknown_model_id_fails_the_job(conn, worker):
    job = _run(conn, worker, "VALIDATE_MODEL", {"baseModelId": "nope"})
    assert job["status"] == "FAILED" and "base model nope does not exist" in job["error"]


# ---------------------------------------------------------------- IMPORT_DATASET


def _upload(conn, content: bytes, fmt: str, name: str = "my-data", upload_id: str = "up1", user: str | None = "u1") -> str:
    conn.execute(
        """INSERT INTO dataset_uploads (id, name, filename, format, content, size_bytes, created_by_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (upload_id, name, f"data.{fmt}", fmt, content, len(content), user),
    )
    return upload_id


def _parquet_bytes(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


BAD_JSONL = "\n".join([
    json.dumps({"problem": "fine", "answer": "1"}),
    "{broken",
    json.dumps({"problem": "no answer"}),
    "",
    json.dumps({"problem": "", "answer": "\\frac{"}),
    json.dumps({"problem": "p", "answer": "2", "difficulty": "hard"}),
]).encode()
BAD_JSONL_ERRORS = [(2, None), (3, "answer"), (5, "problem"), (5, "answer"), (6, "difficulty")]

BAD_CSV = (
    "problem,answer,difficulty\n"
    '"fine, with a comma",1,1\n'
    '"two\nlines",\\frac{,2\n'  # lines 3-4
    ",3,\n"  # line 5
    "x,4,1.5\n"  # line 6
).encode()
BAD_CSV_ERRORS = [(3, "answer"), (5, "problem"), (6, "difficulty")]

BAD_PARQUET = _parquet_bytes([
    {"problem": "fine", "answer": "1"},
    {"problem": None, "answer": "2"},
    {"problem": "p", "answer": "1 +"},
])
BAD_PARQUET_ERRORS = [(2, "problem"), (3, "answer")]


@pytest.mark.parametrize("fmt, content, expected", [
    ("jsonl", BAD_JSONL, BAD_JSONL_ERRORS),
    ("csv", BAD_CSV, BAD_CSV_ERRORS),
    ("parquet", BAD_PARQUET, BAD_PARQUET_ERRORS),
])
def test_an_upload_with_bad_rows_reports_every_one_and_creates_nothing(conn, worker, user, fmt, content, expected):
    _upload(conn, content, fmt)
    job = _run(conn, worker, "IMPORT_DATASET", {"uploadId": "up1"})
    assert job["status"] == "SUCCEEDED" and job["result"] == {"ok": False, "errorCount": len(expected)}
    upload = conn.execute("SELECT * FROM dataset_uploads WHERE id = 'up1'").fetchone()
    assert upload["status"] == "FAILED" and upload["dataset_id"] is None
    assert [(e["line"], e["field"]) for e in upload["errors"]] == expected
    assert all(isinstance(e["reason"], str) and e["reason"] for e in upload["errors"])
    assert _count(conn, "datasets") == 0 and _count(conn, "problems") == 0


def test_a_good_csv_upload_creates_the_dataset_and_all_its_problems(conn, worker, user):
    rows = ["id,problem,answer,solution,difficulty"] + [f"q{i},What is {i} + {i}?,{2 * i},{i} + {i} = {2 * i},{i % 3}"
                                                         for i in range(1, 41)]
    rows.append('q41,"A problem\nover two lines",1/2,,')
    _upload(conn, ("\n".join(rows) + "\n").encode(), "csv")
    job = _run(conn, worker, "IMPORT_DATASET", {"uploadId": "up1"})
    upload = conn.execute("SELECT * FROM dataset_uploads WHERE id = 'up1'").fetchone()
    assert job["status"] == "SUCCEEDED" and job["result"] == {"ok": True, "datasetId": upload["dataset_id"], "rowCount": 41}
    assert upload["status"] == "IMPORTED" and upload["errors"] == []
    dataset = conn.execute("SELECT * FROM datasets WHERE id = %s", (upload["dataset_id"],)).fetchone()
    assert dataset["name"] == "my-data" and dataset["source"] == "upload" and dataset["row_count"] == 41
    assert dataset["created_by_id"] == "u1"
    problems = {p["external_id"]: p for p in conn.execute("SELECT * FROM problems WHERE dataset_id = %s", (dataset["id"],))}
    assert len(problems) == 41
    assert problems["q7"]["answer"] == "14" and problems["q7"]["solution"] == "7 + 7 = 14" and problems["q7"]["difficulty"] == 1
    assert problems["q41"]["problem"] == "A problem\nover two lines" and problems["q41"]["difficulty"] is None

    # a retry of a job that already imported changes nothing
    again = _run(conn, worker, "IMPORT_DATASET", {"uploadId": "up1"})
    assert again["result"] == job["result"] and _count(conn, "problems") == 41


def test_a_taken_name_is_a_whole_file_error(conn, worker, user):
    conn.execute("INSERT INTO datasets (id, name, source, row_count) VALUES ('d0', 'my-data', 'generated', 0)")
    _upload(conn, b'{"problem": "1+1?", "answer": "2"}\n', "jsonl")
    job = _run(conn, worker, "IMPORT_DATASET", {"uploadId": "up1"})
    upload = conn.execute("SELECT * FROM dataset_uploads WHERE id = 'up1'").fetchone()
    assert job["result"] == {"ok": False, "errorCount": 1} and upload["status"] == "FAILED"
    assert upload["errors"] == [{"line": 0, "field": None,
                                 "reason": "a dataset named 'my-data' already exists; choose another name"}]
    assert _count(conn, "datasets") == 1 and _count(conn, "problems") == 0


@pytest.mark.parametrize("fmt, content, reason", [
    ("parquet", b"not parquet at all", "not a readable Parquet file"),
    ("csv", b"question,reply\nq,1\n", "missing column(s) ['problem', 'answer']"),
    ("jsonl", b"\n\n", "no rows"),
])
def test_unreadable_files_are_line_0(conn, worker, user, fmt, content, reason):
    _upload(conn, content, fmt)
    _run(conn, worker, "IMPORT_DATASET", {"uploadId": "up1"})
    errors = conn.execute("SELECT errors FROM dataset_uploads WHERE id = 'up1'").fetchone()["errors"]
    assert len(errors) == 1 and errors[0]["line"] == 0 and errors[0]["field"] is None and reason in errors[0]["reason"]


def test_an_import_that_crashes_for_good_leaves_the_upload_failed_not_pending(conn, worker, user, monkeypatch):
    def crash(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr("tandem.runner.catalog.parse_dataset", crash)
    _upload(conn, b'{"problem": "1+1?", "answer": "2"}\n', "jsonl")
    job_id = queue.enqueue(conn, "IMPORT_DATASET", {"uploadId": "up1"}, max_attempts=1)
    assert worker.run_once() == "FAILED" and "out of memory" in queue.get(conn, job_id)["error"]
    upload = conn.execute("SELECT * FROM dataset_uploads WHERE id = 'up1'").fetchone()
    assert upload["status"] == "FAILED" and upload["errors"] == [
        {"line": 0, "field": None, "reason": "the import could not run: MemoryError: out of memory"}]


def test_an_unknown_upload_fails_the_job(conn, worker):
    job = _run(conn, worker, "IMPORT_DATASET", {"uploadId": "nope"})
    assert job["status"] == "FAILED" and "dataset upload nope does not exist" in job["error"]


# ---------------------------------------------------------------- GENERATE_DATASET


def test_generate_dataset_stores_the_generated_problems(conn, worker, user):
    from tandem.data import generate_problems

    payload = {"name": "arith-3", "n": 12, "seed": 7, "minSteps": 1, "maxSteps": 3, "createdById": "u1"}
    job = _run(conn, worker, "GENERATE_DATASET", payload)
    dataset = conn.execute("SELECT * FROM datasets").fetchone()
    assert job["status"] == "SUCCEEDED" and job["result"] == {"ok": True, "datasetId": dataset["id"], "rowCount": 12}
    assert dataset["name"] == "arith-3" and dataset["source"] == "generated" and dataset["row_count"] == 12
    assert dataset["created_by_id"] == "u1"
    stored = {p["external_id"]: p for p in conn.execute("SELECT * FROM problems WHERE dataset_id = %s", (dataset["id"],))}
    for p in generate_problems(12, 7, 1, 3):
        row = stored[p["id"]]
        assert (row["problem"], row["answer"], row["solution"], row["difficulty"]) == (
            p["problem"], p["answer"], p["solution"], p["difficulty"])


@pytest.mark.parametrize("payload, reason", [
    ({"name": "taken", "n": 5, "seed": 0, "minSteps": 1, "maxSteps": 2, "createdById": "u1"},
     "a dataset named 'taken' already exists"),
    ({"name": "new", "n": 0, "seed": 0, "minSteps": 1, "maxSteps": 2, "createdById": "u1"}, "payload.n must be between"),
    ({"name": "new", "n": 5, "seed": 0, "minSteps": 3, "maxSteps": 2, "createdById": "u1"}, "1 <= minSteps <= maxSteps"),
    ({"name": " ", "n": 5, "seed": 0, "minSteps": 1, "maxSteps": 2, "createdById": "u1"}, "payload.name is empty"),
    ({"name": "new", "n": "5", "seed": 0, "minSteps": 1, "maxSteps": 2}, "payload.n must be int, got str"),
    ({"name": "new", "n": 5, "seed": 0, "minSteps": 1, "maxSteps": 2, "createdById": "ghost"}, "user ghost does not exist"),
])
def test_generate_dataset_with_a_taken_name_or_bad_arguments_creates_nothing(conn, worker, user, payload, reason):
    conn.execute("INSERT INTO datasets (id, name, source, row_count) VALUES ('d0', 'taken', 'generated', 0)")
    job = _run(conn, worker, "GENERATE_DATASET", payload)
    assert job["status"] == "SUCCEEDED" and job["result"]["ok"] is False and reason in job["result"]["error"]
    assert _count(conn, "datasets") == 1 and _count(conn, "problems") == 0
