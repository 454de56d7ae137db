"""Problem generator and dataset loader: seeded, disjoint splits, all-or-nothing loading with line numbers."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tandem.boundaries import split_steps
from tandem.data import DatasetError, arithmetic_splits, generate_problems, load_dataset, write_jsonl
from tandem.verifier import verify_model_output


def test_generator_is_seeded_and_solutions_verify():
    a, b = generate_problems(50, seed=4, max_steps=4), generate_problems(50, seed=4, max_steps=4)
    assert a == b and a != generate_problems(50, seed=5, max_steps=4)
    for p in a:
        assert verify_model_output(p["solution"], p["answer"]).verdict == "correct"
        assert int(p["answer"]) >= 0
        # one step per line: a start line, >= one line per operation, the boxed answer line
        assert len(split_steps(p["solution"])) >= p["difficulty"] + 2
    assert {p["difficulty"] for p in a} == {1, 2, 3, 4}


def test_splits_are_disjoint():
    s = arithmetic_splits(n_train=500, n_eval=100, seed=0)
    assert not {p["problem"] for p in s.train} & {p["problem"] for p in s.eval}
    assert len(s.eval) > 90


def test_load_jsonl_and_parquet(tmp_path):
    rows = [{"problem": "1+1?", "answer": "2", "id": "a"}, {"problem": "Half of one?", "answer": "1/2", "solution": "x"}]
    j = write_jsonl(rows, tmp_path / "d.jsonl")
    loaded = load_dataset(j)
    assert [p["answer"] for p in loaded] == ["2", "1/2"] and loaded[1]["id"] == "row-2"
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    assert [p["problem"] for p in load_dataset(tmp_path / "d.parquet")] == ["1+1?", "Half of one?"]


def test_bad_rows_are_all_reported_with_line_numbers_and_nothing_loads(tmp_path):
    lines = [
        json.dumps({"problem": "ok", "answer": "3"}),
        "{not json",
        json.dumps({"problem": "no answer"}),
        "",
        json.dumps({"problem": "", "answer": "1"}),
        json.dumps({"problem": "p", "answer": "\\frac{"}),
        json.dumps(["a", "list"]),
        json.dumps({"problem": "dup", "answer": "1", "id": "x"}),
        json.dumps({"problem": "dup", "answer": "1", "id": "x"}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as e:
        load_dataset(path)
    lines_reported = [line for line, _ in e.value.errors]
    assert lines_reported == [2, 3, 5, 6, 7, 9]
    message = str(e.value)
    assert f"{path}:2: invalid JSON" in message and "missing field 'answer'" in message
    assert "field 'problem' is empty" in message and "cannot be parsed" in message and "duplicate id" in message


def test_unsupported_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DatasetError, match="file not found"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "d.csv").write_text("problem,answer\n")
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_dataset(tmp_path / "d.csv")
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(DatasetError, match="not a readable Parquet"):
        load_dataset(tmp_path / "x.parquet")
    pq.write_table(pa.Table.from_pylist([{"question": "q", "answer": "1"}]), tmp_path / "cols.parquet")
    with pytest.raises(DatasetError, match="missing column"):
        load_dataset(tmp_path / "cols.parquet")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DatasetError, match="no rows"):
        load_dataset(tmp_path / "empty.jsonl")
