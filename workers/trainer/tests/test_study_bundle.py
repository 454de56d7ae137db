"""The analysis bundle (EXPORT_STUDY with format BUNDLE): every file, the README naming the preregistration's SHA-256,
responses.csv holding the Parquet export's rows (one column rule), the codebook, and hashed mode carrying no raw
participant id anywhere in the zip."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from test_study_analysis import _run, insert_study, simulate, worker  # noqa: F401 (worker is a fixture)

CODEBOOK = [{"name": "participant_external_id", "type": "text", "description": "the participant's id as given"},
            {"name": "correct", "type": "boolean", "description": "the verifier's verdict"}]
PREREGISTRATION = {"version": 1, "study": {"id": "s1"}, "conditions": [{"name": "GRPO"}, {"name": "TRL"}]}


def _freeze(conn, study_id: str = "s1") -> str:
    text = json.dumps(PREREGISTRATION, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sha = hashlib.sha256(text.encode()).hexdigest()
    conn.execute("""UPDATE studies SET preregistration_json = %s, preregistration_markdown = %s,
                    preregistration_sha256 = %s WHERE id = %s""", (text, "# Preregistration\n", sha, study_id))
    return sha


def _export(conn, worker, export_id: str, fmt: str, id_mode: str, **payload) -> bytes:
    conn.execute("INSERT INTO study_exports (id, study_id, format, id_mode) VALUES (%s, 's1', %s, %s)",
                 (export_id, fmt, id_mode))
    job = _run(conn, worker, "EXPORT_STUDY", {"exportId": export_id, **payload})
    assert job["status"] == "SUCCEEDED", job["error"]
    row = conn.execute("SELECT * FROM study_exports WHERE id = %s", (export_id,)).fetchone()
    assert row["status"] == "READY" and job["result"]["rows"] == row["row_count"]
    return bytes(row["content"])


@pytest.fixture
def study(conn, fixture_model_dir):
    insert_study(conn, fixture_model_dir, simulate(seed=3, participants=6))
    return "s1"


def test_the_bundle_has_every_file_and_the_readme_names_the_preregistration(conn, worker, study):
    sha = _freeze(conn)
    content = _export(conn, worker, "b1", "BUNDLE", "raw", codebook=CODEBOOK)
    bundle = zipfile.ZipFile(io.BytesIO(content))
    assert sorted(bundle.namelist()) == sorted(["README.md", "responses.csv", "codebook.json", "codebook.md",
                                                "preregistration.json", "preregistration.md", "analysis.py",
                                                "analysis.R"])
    readme = bundle.read("README.md").decode()
    assert sha in readme and "python analysis.py responses.csv" in readme and "Rscript analysis.R" in readme
    assert hashlib.sha256(bundle.read("preregistration.json")).hexdigest() == sha  # the cited bytes
    assert bundle.read("preregistration.md") == b"# Preregistration\n"
    from tandem.analysis import analysis

    assert bundle.read("analysis.py") == open(analysis.__file__, "rb").read()
    assert b"glmer(correct ~ condition + (1 | participant_id) + (1 | problem_id)" in bundle.read("analysis.R")

    # responses.csv: the Parquet export's table, column for column
    csv = pa_csv.read_csv(io.BytesIO(bundle.read("responses.csv")),
                          convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
    parquet = pq.read_table(pa.BufferReader(_export(conn, worker, "p1", "PARQUET", "raw")))
    assert csv.column_names == parquet.column_names and csv.num_rows == parquet.num_rows == 48
    for name in ("participant_id", "participant_external_id", "condition_name", "correct", "excluded",
                 "task_position", "preregistration_sha256"):
        assert csv.column(name).to_pylist() == parquet.column(name).to_pylist(), name

    # the codebook: the web app's entries where given, every other column named with its type
    codebook = json.loads(bundle.read("codebook.json"))
    assert [e["name"] for e in codebook] == csv.column_names
    assert next(e for e in codebook if e["name"] == "correct") == CODEBOOK[1]
    assert "not described" in next(e for e in codebook if e["name"] == "trace_id")["description"]
    assert "| `correct` | boolean | the verifier's verdict |" in bundle.read("codebook.md").decode()


def test_hashed_mode_carries_no_raw_participant_id_anywhere(conn, worker, study):
    _freeze(conn)
    raw_ids = [r["external_id"] for r in conn.execute("SELECT external_id FROM participants WHERE study_id = 's1'")]
    assert len(raw_ids) == 6 and all(raw_ids)
    bundle = zipfile.ZipFile(io.BytesIO(_export(conn, worker, "b2", "BUNDLE", "hashed", codebook=CODEBOOK)))
    for name in bundle.namelist():
        text = bundle.read(name).decode()
        assert not any(pid in text for pid in raw_ids), name
    csv = pa_csv.read_csv(io.BytesIO(bundle.read("responses.csv")))
    assert all(len(h) == 64 for h in csv.column("participant_external_id").to_pylist())
    assert "salted SHA-256" in bundle.read("README.md").decode()
    # and raw mode does carry them (the check above can fail)
    raw = zipfile.ZipFile(io.BytesIO(_export(conn, worker, "b3", "BUNDLE", "raw")))
    assert all(pid in raw.read("responses.csv").decode() for pid in raw_ids)


def test_a_study_without_a_snapshot_or_codebook_still_bundles(conn, worker, study):
    bundle = zipfile.ZipFile(io.BytesIO(_export(conn, worker, "b4", "BUNDLE", "raw")))
    assert "preregistration.json" not in bundle.namelist() and "analysis.py" in bundle.namelist()
    assert "no" in bundle.read("README.md").decode().split("preregistration")[1][:40]
    assert all("not described" in e["description"] for e in json.loads(bundle.read("codebook.json")))


def test_a_bad_codebook_fails_the_export_with_its_reason(conn, worker, study):
    conn.execute("INSERT INTO study_exports (id, study_id, format, id_mode) VALUES ('b5', 's1', 'BUNDLE', 'raw')")
    job = _run(conn, worker, "EXPORT_STUDY", {"exportId": "b5", "codebook": [{"name": "x", "type": 3}]})
    assert job["status"] == "FAILED" and job["attempts"] == 1
    assert "payload.codebook[0] must have string name, type and description" in job["error"]
    row = conn.execute("SELECT status, content FROM study_exports WHERE id = 'b5'").fetchone()
    assert row["status"] == "FAILED" and row["content"] is None
