"""Problem generator and dataset loader: seeded, disjoint splits, all-or-nothing loading with line numbers."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tandem.boundaries import split_steps
from tandem.data import (
    DatasetError, RowError, arithmetic_splits, generate_problems, load_dataset, parse_dataset, write_jsonl,
)
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
    reported = [(err.line, err.field) for err in e.value.errors]
    assert reported == [(2, None), (3, "answer"), (5, "problem"), (6, "answer"), (7, None), (9, "id")]
    message = str(e.value)
    assert f"{path}:2: invalid JSON" in message and "missing field 'answer'" in message
    assert "field 'problem' is empty" in message and "cannot be parsed" in message and "duplicate id" in message


def test_unsupported_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DatasetError, match="file not found"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "d.txt").write_text("problem,answer\n")
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_dataset(tmp_path / "d.txt")
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(DatasetError, match="not a readable Parquet"):
        load_dataset(tmp_path / "x.parquet")
    pq.write_table(pa.Table.from_pylist([{"question": "q", "answer": "1"}]), tmp_path / "cols.parquet")
    with pytest.raises(DatasetError, match="missing column"):
        load_dataset(tmp_path / "cols.parquet")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DatasetError, match="no rows"):
        load_dataset(tmp_path / "empty.jsonl")


# ---------------------------------------------------------------- CSV, fields, and what a person counts as a line


def test_csv_loads_with_quoted_multiline_cells_and_optional_columns(tmp_path):
    text = (
        "id,problem,answer,solution,difficulty\n"
        'a,"Two lines:\nwhat is 1+1?",2,"1+1 = 2\nThe answer is \\boxed{2}.",1\n'
        "b,Half of one?,1/2,,\n"
        "\n"  # a blank line is skipped
        ',"He said ""three""",3,,7\n'
    )
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    problems = load_dataset(tmp_path / "d.csv")
    assert [p["id"] for p in problems] == ["a", "b", "row-7"]  # record a spans lines 2-4, line 6 is blank
    assert problems[0]["problem"] == "Two lines:\nwhat is 1+1?" and problems[0]["difficulty"] == 1
    assert "solution" not in problems[1] and "difficulty" not in problems[1]
    assert problems[2] == {"id": "row-7", "problem": 'He said "three"', "answer": "3", "difficulty": 7}


def test_csv_bad_rows_name_the_physical_line_and_the_field():
    text = (
        "problem,answer,difficulty\n"  # line 1
        '"a cell over\ntwo lines",\\frac{,1\n'  # lines 2-3: unparseable answer
        ",4,\n"  # line 4: empty problem
        "ok,5,x\n"  # line 5: difficulty not a whole number
        "too,many,cells,here\n"  # line 6
        '"fine",6,2\n'  # line 7
        ",,-1\n"  # line 8: three problems at once
    )
    with pytest.raises(DatasetError) as e:
        parse_dataset(text.encode(), "csv", "upload.csv")
    assert [(err.line, err.field) for err in e.value.errors] == [
        (2, "answer"), (4, "problem"), (5, "difficulty"), (6, None), (8, "problem"), (8, "answer"), (8, "difficulty"),
    ]
    assert "upload.csv:2: field 'answer'" in str(e.value)
    assert e.value.errors[3].reason == "row has 4 cells, the header has 3 columns"


@pytest.mark.parametrize("content, reason", [
    (b"question,solution\nq,s\n", "missing column(s) ['problem', 'answer']"),
    (b"problem;answer\n1+1;2\n", "columns must be separated by commas"),
    (b"problem,answer,answer\nq,1,2\n", "duplicate column(s) ['answer']"),
    (b"problem,answer\n", "no rows"),
    (b"", "no rows"),
    (b"problem,answer\nq,1\n\xff\xfe,2\n", "not UTF-8 text"),
])
def test_csv_whole_file_problems_are_line_0(content, reason):
    with pytest.raises(DatasetError) as e:
        parse_dataset(content, "csv")
    assert [(err.line, err.field) for err in e.value.errors] == [(0, None)] and reason in e.value.errors[0].reason


def test_unclosed_quote_names_the_line_where_the_record_starts():
    with pytest.raises(DatasetError) as e:
        parse_dataset(b'problem,answer\nq,1\n"never closed,2\nr,3\n', "csv")
    assert e.value.errors == [RowError(3, None, "malformed CSV: unexpected end of data")]


def test_a_byte_order_mark_and_crlf_line_ends_are_accepted():
    problems = parse_dataset("\ufeffproblem,answer\r\n1+1?,2\r\n".encode(), "csv")
    assert problems == [{"id": "row-2", "problem": "1+1?", "answer": "2"}]
    assert parse_dataset(b'{"problem": "p", "answer": 1}\r\n', "jsonl")[0]["answer"] == "1"


def test_parquet_bad_rows_count_rows_from_1(tmp_path):
    rows = [
        {"problem": "ok", "answer": "1", "difficulty": 2},
        {"problem": None, "answer": "2", "difficulty": None},
        {"problem": "p", "answer": "\\frac{", "difficulty": -3},
        {"problem": "nul\x00byte", "answer": "4", "difficulty": 1},
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    with pytest.raises(DatasetError) as e:
        load_dataset(tmp_path / "d.parquet")
    assert [(err.line, err.field) for err in e.value.errors] == [(2, "problem"), (3, "answer"), (3, "difficulty"),
                                                                 (4, "problem")]


def test_unknown_format_is_a_whole_file_error():
    with pytest.raises(DatasetError) as e:
        parse_dataset(b"problem,answer\n", "xlsx")
    assert e.value.errors[0].line == 0 and "unsupported format 'xlsx'" in e.value.errors[0].reason


# ---------------------------------------------------------------- digit chains and fixed splits

from tandem.data import (  # noqa: E402
    CHAIN_STYLES, PRETRAIN_SEED, PRETRAIN_SIZE, chain_solution, generate_chain_problems, task_split,
)
from tandem.verifier import verify_model_output  # noqa: E402


def test_chain_solution_computes_left_to_right_mod_10_in_both_styles():
    ops = [("+", 5), ("*", 3), ("-", 8), ("+", 6)]  # 7+5=12->2, 2*3=6, 6-8=-2->8, 8+6=14->4
    legible, answer = chain_solution(7, ops, "legible")
    compressed, same = chain_solution(7, ops, "compressed")
    assert answer == same == 4
    assert legible.splitlines() == ["7 + 5 = 2", "2 * 3 = 6", "6 - 8 = 8", "8 + 6 = 4", "The answer is \\boxed{4}."]
    assert compressed.splitlines() == ["7 2 6 8 4", "The answer is \\boxed{4}."]
    with pytest.raises(ValueError, match="style"):
        chain_solution(7, ops, "terse")


def test_generated_chains_are_verified_correct_and_cycle_difficulty():
    problems = generate_chain_problems(40, seed=3, min_steps=3, max_steps=6, style="mixed")
    assert [p["difficulty"] for p in problems[:8]] == [3, 4, 5, 6, 3, 4, 5, 6]
    for p in problems:
        assert verify_model_output(p["solution"], p["answer"]).verdict == "correct"
        assert p["problem"].count(" ") >= 2 * p["difficulty"]  # "d op d op d ..." then the instruction


def test_mixed_style_is_half_and_half_and_texts_do_not_depend_on_style():
    mixed = generate_chain_problems(2000, seed=0, style="mixed")
    legible = generate_chain_problems(2000, seed=0, style="legible")
    assert [p["problem"] for p in mixed] == [p["problem"] for p in legible]
    share = sum("=" in p["solution"].splitlines()[0] for p in mixed) / len(mixed)
    assert 0.45 < share < 0.55, share
    assert {("=" in p["solution"].splitlines()[0]) for p in mixed} == {True, False}
    assert len(CHAIN_STYLES) == 2


@pytest.mark.parametrize("task", ["digit_chains", "arithmetic"])
def test_task_splits_are_fixed_and_disjoint_from_pretraining_and_training(task):
    train = task_split(task, "train", 500)
    validation = task_split(task, "validation", 200)
    evaluation = task_split(task, "eval", 200)
    assert train == task_split(task, "train", 500)  # no run seed: every seed of every arm sees the same problems
    assert len(train) == 500 and len(validation) == 200 and len(evaluation) == 200
    texts = lambda ps: {p["problem"] for p in ps}  # noqa: E731
    generate = generate_chain_problems if task == "digit_chains" else generate_problems
    pretraining = texts(generate(PRETRAIN_SIZE, PRETRAIN_SEED))
    assert not texts(evaluation) & (texts(train) | pretraining | texts(validation))
    assert not texts(validation) & (texts(train) | pretraining)
    assert not texts(train) & pretraining
    assert len({p["id"] for p in train + validation + evaluation}) == 900


def test_task_split_rejects_unknown_names():
    with pytest.raises(ValueError, match="split"):
        task_split("digit_chains", "test", 5)
    with pytest.raises(ValueError, match="unknown task"):
        task_split("sudoku", "train", 5)
