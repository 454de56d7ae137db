"""Problems: the seeded arithmetic word-problem generator and the loader for user datasets.

A problem is a dict with `id`, `problem`, `answer` and optionally `solution` (reference reasoning, one step
per line, ending in `\\boxed{answer}`). Difficulty of a generated problem = its number of operations.
Nothing is ever fetched from a hub: user datasets are read from local JSONL, CSV or Parquet files (or
the bytes of an upload), all rows or none.
"""

from __future__ import annotations

import functools
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .limits import UploadBounds

PROMPT_TEMPLATE = "Problem: {problem}\nSolution:\n"

NAMES = ["Mia", "Leo", "Ava", "Sam", "Zoe", "Max", "Ivy", "Ben", "Eva", "Tom", "Ana", "Kai", "Lily", "Omar", "Nina"]
ITEMS = ["apples", "pens", "books", "coins", "cards", "shells", "stamps", "marbles", "cookies", "stickers"]
CONTAINERS = ["boxes", "bags", "packs", "jars"]


def format_prompt(problem: str, template: str = PROMPT_TEMPLATE) -> str:
    return template.format(problem=problem)


def _operation(rng: random.Random, total: int, name: str, item: str) -> tuple[str, list[str], int]:
    """One step of the story: (sentence, solution lines, new total). Totals never go negative."""
    kind = rng.choice(["add", "add", "sub", "sub", "mul", "give_each"])
    other = rng.choice([n for n in NAMES if n != name])
    if kind == "sub" and total > 1:
        k = rng.randint(1, min(total - 1, 30))
        verb = rng.choice([f"gives {k} {item} to {other}", f"loses {k} {item}", f"uses {k} {item}"])
        return f"Then {name} {verb}.", [f"{total} - {k} = {total - k}"], total - k
    if kind == "mul":
        boxes, each = rng.randint(2, 5), rng.randint(2, 9)
        container = rng.choice(CONTAINERS)
        sentence = f"Then {name} buys {boxes} {container} with {each} {item} in each."
        return sentence, [f"{boxes} * {each} = {boxes * each}", f"{total} + {boxes * each} = {total + boxes * each}"], (
            total + boxes * each
        )
    if kind == "give_each" and total > 6:
        friends = rng.randint(2, 3)
        each = rng.randint(1, max(1, min(9, (total - 1) // friends)))
        sentence = f"Then {name} gives {each} {item} to each of {friends} friends."
        return sentence, [f"{friends} * {each} = {friends * each}", f"{total} - {friends * each} = {total - friends * each}"], (
            total - friends * each
        )
    k = rng.randint(1, 30)
    verb = rng.choice([f"buys {k} more {item}", f"finds {k} {item}", f"gets {k} {item} from {other}"])
    return f"Then {name} {verb}.", [f"{total} + {k} = {total + k}"], total + k


def generate_problem(rng: random.Random, steps: int, problem_id: str) -> dict:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    total = rng.randint(2, 40)
    sentences, lines = [f"{name} has {total} {item}."], [f"{name} starts with {total} {item}."]
    for _ in range(steps):
        sentence, step_lines, total = _operation(rng, total, name, item)
        sentences.append(sentence)
        lines.extend(step_lines)
    sentences.append(f"How many {item} does {name} have now?")
    lines.append(f"The answer is \\boxed{{{total}}}.")
    return {
        "id": problem_id,
        "problem": " ".join(sentences),
        "answer": str(total),
        "solution": "\n".join(lines),
        "difficulty": steps,
    }


def generate_problems(n: int, seed: int, min_steps: int = 1, max_steps: int = 3, prefix: str = "gen") -> list[dict]:
    """`n` problems from one seed; difficulty cycles evenly through min_steps..max_steps."""
    if n < 0 or min_steps < 1 or max_steps < min_steps:
        raise ValueError(f"bad generator arguments: n={n}, min_steps={min_steps}, max_steps={max_steps}")
    rng = random.Random(seed)
    span = max_steps - min_steps + 1
    return [generate_problem(rng, min_steps + i % span, f"{prefix}-{seed}-{i}") for i in range(n)]


@dataclass(frozen=True)
class Splits:
    train: list[dict]
    eval: list[dict]


def arithmetic_splits(n_train: int = 2000, n_eval: int = 200, seed: int = 0, max_steps: int = 3) -> Splits:
    """Train and eval from disjoint seeds; eval problems whose text also occurs in train are dropped."""
    train = generate_problems(n_train, seed, max_steps=max_steps, prefix="train")
    seen = {p["problem"] for p in train}
    eval_ = [p for p in generate_problems(n_eval, seed + 1_000_003, max_steps=max_steps, prefix="eval") if p["problem"] not in seen]
    return Splits(train, eval_)


# ---------------------------------------------------------------- digit chains (the default RL testbed)
#
# Why this task: in the word problems every number is one token, so each sum is a separate fact that RL can
# only memorise problem by problem (an update on "37 + 25" teaches nothing about "18 + 44"). Here every
# number is one digit and every step is "previous digit OP operand, last digit only": 300 facts (+, -, * on
# digits mod 10) and one procedure (find the next operation in the problem) shared by every problem, so what
# RL fixes on one problem transfers to the next. Two solution styles carry the same computation:
#   legible     one step per line, written out:     "7 + 5 = 2\n2 * 3 = 6\n..."
#   compressed  the running digits on one line:     "7 2 6 ..."
# The base model is pre-trained on both, half and half, chosen before any RL and favouring neither arm; which
# style a senior drifts to under GRPO or Tandem RL is something to measure, not something built in.

CHAIN_OPS = ("+", "-", "*")
CHAIN_STYLES = ("legible", "compressed")
_CHAIN_FN = {"+": lambda a, b: (a + b) % 10, "-": lambda a, b: (a - b) % 10, "*": lambda a, b: (a * b) % 10}


def chain_solution(start: int, ops: list[tuple[str, int]], style: str, slips: list[bool] | None = None) -> tuple[str, int]:
    """The worked solution of a digit chain in one style, and the answer it arrives at. A step marked in `slips`
    writes its result one too high (mod 10) and the chain goes on from the written digit, as a person's slip
    would: the text stays self-consistent, its answer is wrong."""
    if style not in CHAIN_STYLES:
        raise ValueError(f"style must be one of {CHAIN_STYLES}, got {style!r}")
    slips = slips or [False] * len(ops)
    value, lines, digits = start, [], [str(start)]
    for (op, operand), slip in zip(ops, slips, strict=True):
        new = (_CHAIN_FN[op](value, operand) + slip) % 10
        lines.append(f"{value} {op} {operand} = {new}")
        digits.append(str(new))
        value = new
    body = "\n".join(lines) if style == "legible" else " ".join(digits)
    return f"{body}\nThe answer is \\boxed{{{value}}}.", value


def generate_chain_problem(rng: random.Random, steps: int, problem_id: str, style: str = "legible",
                           slips: list[bool] | None = None) -> dict:
    """One chain; `answer` is always the true result, `solution` may carry slips (pre-training text only)."""
    start = rng.randint(0, 9)
    ops = [(rng.choice(CHAIN_OPS), rng.randint(0, 9)) for _ in range(steps)]
    _, answer = chain_solution(start, ops, style)
    solution, _ = chain_solution(start, ops, style, slips)
    expression = " ".join([str(start)] + [f"{op} {d}" for op, d in ops])
    return {
        "id": problem_id,
        "problem": f"{expression} (left to right, keep the last digit)",
        "answer": str(answer),
        "solution": solution,
        "difficulty": steps,
    }


def generate_chain_problems(n: int, seed: int, min_steps: int = 2, max_steps: int = 5, prefix: str = "chain",
                            style: str = "legible", slip_rate: float = 0.0) -> list[dict]:
    """`n` digit chains from one seed; difficulty (operations) cycles evenly through min_steps..max_steps. `style`
    is the reference solution's style; "mixed" draws legible or compressed per problem (for pre-training).
    `slip_rate`: the chance that a step of the reference solution slips (see chain_solution; pre-training only)."""
    if n < 0 or min_steps < 1 or max_steps < min_steps:
        raise ValueError(f"bad generator arguments: n={n}, min_steps={min_steps}, max_steps={max_steps}")
    if style not in CHAIN_STYLES + ("mixed",):
        raise ValueError(f"style must be one of {CHAIN_STYLES + ('mixed',)}, got {style!r}")
    if not 0.0 <= slip_rate < 1.0:
        raise ValueError(f"slip_rate must be in [0, 1), got {slip_rate}")
    # separate streams: the problem texts depend on the seed alone, not on the style or the slips
    rng, style_rng, slip_rng = random.Random(seed), random.Random(f"style-{seed}"), random.Random(f"slip-{seed}")
    span = max_steps - min_steps + 1
    out = []
    for i in range(n):
        s = style if style != "mixed" else CHAIN_STYLES[style_rng.random() < 0.5]
        steps = min_steps + i % span
        slips = [slip_rng.random() < slip_rate for _ in range(steps)]
        out.append(generate_chain_problem(rng, steps, f"{prefix}-{seed}-{i}", s, slips))
    return out


def chain_splits(n_train: int = 4000, n_eval: int = 200, seed: int = 0, min_steps: int = 2, max_steps: int = 5,
                 style: str = "legible", slip_rate: float = 0.0) -> Splits:
    """Train and eval digit chains from disjoint seeds; eval chains whose expression occurs in train are dropped.
    Slips (if any) are in the training solutions only."""
    train = generate_chain_problems(n_train, seed, min_steps, max_steps, "train", style, slip_rate)
    seen = {p["problem"] for p in train}
    eval_ = [p for p in generate_chain_problems(n_eval, seed + 1_000_003, min_steps, max_steps, "eval", style)
             if p["problem"] not in seen]
    return Splits(train, eval_)


# Generated tasks by name (a config's `dataset`).
TASKS = {"digit_chains": chain_splits, "arithmetic": arithmetic_splits}

# The data of every split comes from its own fixed seed, apart from any run's seed: a run's seed varies sampling
# and data order only, so seeds of one arm train on the same problems and every checkpoint is evaluated on the
# same held-out ones. Pre-training uses the base recipe's seed (0). Validation (choosing hyperparameters) and eval
# (the reported figures) exclude every problem text of pre-training and of the training split.
SPLIT_SEEDS = {"train": 1, "validation": 2, "eval": 3}
PRETRAIN_SEED, PRETRAIN_SIZE, MAX_TRAIN_SIZE = 0, 20000, 20000


def _generate(task: str, n: int, seed: int, prefix: str, style: str) -> list[dict]:
    if task == "digit_chains":
        return generate_chain_problems(n, seed, prefix=prefix, style=style)
    if task == "arithmetic":
        return generate_problems(n, seed, prefix=prefix)
    raise ValueError(f"unknown task {task!r}: use one of {sorted(TASKS)}")


@functools.lru_cache(maxsize=8)
def _texts_before(task: str, split: str) -> frozenset[str]:
    """Problem texts a split must not contain: pre-training's, and for validation and eval the training split's
    (at its largest). Cached: 40,000 problems are generated per (task, split), and a process asks for a split
    several times (an evaluation, its style count, the seed's three datasets)."""
    texts = {p["problem"] for p in _generate(task, PRETRAIN_SIZE, PRETRAIN_SEED, "pre", "legible")}
    if split != "train":
        texts |= {p["problem"] for p in _generate(task, MAX_TRAIN_SIZE, SPLIT_SEEDS["train"], "train", "legible")}
    return frozenset(texts)


def task_split(task: str, split: str, n: int, style: str = "legible") -> list[dict]:
    """`n` problems of a generated task's split ("train", "validation" or "eval"); see SPLIT_SEEDS."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, got {split!r}")
    if split == "train" and n > MAX_TRAIN_SIZE:
        raise ValueError(f"at most {MAX_TRAIN_SIZE} training problems per generated task, got {n}")
    exclude = set(_texts_before(task, split))
    out, batch = [], 0
    while len(out) < n:  # top up past excluded problems, deterministically
        more = _generate(task, 2 * (n - len(out)) + 8, SPLIT_SEEDS[split] + 7919 * batch, f"{split}{batch or ''}", style)
        out += [p for p in more if p["problem"] not in exclude][: n - len(out)]
        exclude |= {p["problem"] for p in out}
        batch += 1
    return out


# ---------------------------------------------------------------- user datasets


class RowError(NamedTuple):
    """One rejected row: `line` as a person counts it in the file (0 = the whole file), the field at fault or None."""

    line: int
    field: str | None
    reason: str

    def to_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "reason": self.reason}


class DatasetError(ValueError):
    """A dataset was rejected; `errors` lists a RowError for every bad row (and whole-file problems at line 0)."""

    def __init__(self, source: str | Path, errors: list[RowError]):
        self.path, self.errors = source, errors
        shown = "\n".join(f"  {source}:{e.line}: {e.reason}" for e in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{source}: {len(errors)} problem(s), nothing loaded:\n{shown}{more}")


REQUIRED = ("problem", "answer")
FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
INT32_MAX = 2**31 - 1  # difficulty is a Postgres integer


def _as_int(value: object) -> int | None:
    """An integer from JSON/Parquet (int, integral float) or CSV (decimal text); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None


def _check_row(row: object, line: int) -> tuple[dict | None, list[RowError]]:
    """The problem a row describes, or every reason it does not describe one."""
    from .verifier import check_expected

    if not isinstance(row, dict):
        return None, [RowError(line, None, f"row is a {type(row).__name__}, expected an object with 'problem' and 'answer'")]
    errors = []
    for field in REQUIRED:
        value = row.get(field)
        if value is None:
            errors.append(RowError(line, field, f"missing field '{field}'"))
        elif field == "answer" and isinstance(value, (int, float)) and not isinstance(value, bool):
            pass  # a numeric answer is read as its text
        elif not isinstance(value, str):
            errors.append(RowError(line, field, f"field '{field}' must be a string, got {type(value).__name__}"))
        elif not value.strip():
            errors.append(RowError(line, field, f"field '{field}' is empty"))
    answer = str(row.get("answer", "")).strip()
    if not any(e.field == "answer" for e in errors):
        reason = check_expected(answer)
        if reason:
            errors.append(RowError(line, "answer", f"field 'answer' ({answer[:40]!r}) cannot be parsed as math: {reason}"))
    for field in ("id", "solution"):
        value = row.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            errors.append(RowError(line, field, f"field '{field}' must be a string, got {type(value).__name__}"))
    for field in ("problem", "answer", "solution", "id"):
        if isinstance(row.get(field), str) and "\x00" in row[field]:  # Postgres text cannot hold it
            errors.append(RowError(line, field, f"field '{field}' contains a NUL character (\\x00)"))
    difficulty = row.get("difficulty")
    if difficulty == "":  # an empty CSV cell
        difficulty = None
    if difficulty is not None:
        as_int = _as_int(difficulty)
        if as_int is None or not 0 <= as_int <= INT32_MAX:
            errors.append(RowError(line, "difficulty", f"field 'difficulty' must be a whole number >= 0, got {difficulty!r}"))
        difficulty = as_int
    if errors:
        return None, errors
    out = {"id": str(row.get("id") or f"row-{line}"), "problem": row["problem"].strip(), "answer": answer}
    if row.get("solution"):
        out["solution"] = str(row["solution"])
    if difficulty is not None:
        out["difficulty"] = difficulty
    return out, []


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")  # a byte-order mark (spreadsheet exports) is not part of the data
    except UnicodeDecodeError as e:
        line = content[: e.start].count(b"\n") + 1
        raise DatasetError("", [RowError(0, None, f"not UTF-8 text: {e.reason} at byte {e.start} (line {line})")]) from None


def _too_many_rows(max_rows: int) -> DatasetError:
    return DatasetError("", [RowError(0, None, f"more than {max_rows} rows; the limit is {max_rows} rows per upload")])


def _jsonl_rows(content: bytes, bounds: UploadBounds | None = None) -> tuple[list[tuple[int, object]], list[RowError]]:
    rows, errors = [], []
    # split on \n only: that is what editors number; \r\n leaves a \r that JSON reads as whitespace
    for line_no, text in enumerate(_decode(content).split("\n"), start=1):
        if not text.strip():
            continue
        if bounds and len(rows) + len(errors) >= bounds.max_rows:
            raise _too_many_rows(bounds.max_rows)
        try:
            rows.append((line_no, json.loads(text)))
        except json.JSONDecodeError as e:
            errors.append(RowError(line_no, None, f"invalid JSON: {e.msg} at column {e.colno}"))
        except RecursionError:
            errors.append(RowError(line_no, None, "invalid JSON: nested too deeply"))
        except ValueError as e:  # e.g. an integer of more digits than Python converts
            errors.append(RowError(line_no, None, f"invalid JSON: {e}"))
    return rows, errors


def _csv_rows(content: bytes, bounds: UploadBounds | None = None) -> tuple[list[tuple[int, object]], list[RowError]]:
    """Rows keyed by the header's column names; a row's line is the physical line where its record starts
    (the header is line 1 when it is the file's first line; a quoted cell may span several lines)."""
    import csv

    reader = csv.reader(io.StringIO(_decode(content), newline=""), strict=True)
    header: list[str] | None = None
    rows, errors = [], []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # e.g. an unclosed quote: the rest of the file cannot be split into rows
            errors.append(RowError(start, None, f"malformed CSV: {e}"))
            break
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line
        if header is None:
            header = [c.strip() for c in cells]
            duplicates = sorted({c for c in header if header.count(c) > 1})
            missing = [f for f in REQUIRED if f not in header]
            if duplicates:
                errors.append(RowError(0, None, f"duplicate column(s) {duplicates} in the header"))
            if missing:
                hint = ""
                if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
                    hint = " (columns must be separated by commas)"
                errors.append(RowError(0, None, f"missing column(s) {missing}; the header has {header}{hint}"))
            if errors:
                return [], errors
            continue
        if bounds and len(rows) + len(errors) >= bounds.max_rows:
            raise _too_many_rows(bounds.max_rows)
        if len(cells) != len(header):
            errors.append(RowError(start, None, f"row has {len(cells)} cells, the header has {len(header)} columns"))
            continue
        rows.append((start, {name: (value if value != "" or name in REQUIRED else None)
                             for name, value in zip(header, cells)}))
    return rows, errors


FIELDS = (*REQUIRED, "id", "solution", "difficulty")  # the columns a row is read from; others are ignored


def _parquet_rows(content: bytes, bounds: UploadBounds | None = None) -> tuple[list[tuple[int, object]], list[RowError]]:
    """The rows of a Parquet file. With `bounds`, the footer's row count and decompressed page sizes are checked
    before any page is read, and the decoded text (dictionary-encoded values counted once per row) before any
    row becomes a Python object: a few kB of pages cannot expand into gigabytes of strings."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    def unreadable(e: Exception) -> tuple[list, list[RowError]]:
        return [], [RowError(0, None, f"not a readable Parquet file: {e}")]

    try:
        footer = pq.ParquetFile(io.BytesIO(content))
        schema = footer.schema_arrow
    except Exception as e:  # pyarrow raises several types for corrupt files
        return unreadable(e)
    missing = [f for f in REQUIRED if f not in schema.names]
    if missing:
        return [], [RowError(0, None, f"missing column(s) {missing}; columns are {schema.names}")]
    columns = [name for name in schema.names if name in FIELDS]
    text_columns = [name for name in columns if pa.types.is_string(schema.field(name).type)
                    or pa.types.is_large_string(schema.field(name).type) or pa.types.is_binary(schema.field(name).type)]
    if bounds:
        nested = [f"'{name}' ({schema.field(name).type})" for name in columns if pa.types.is_nested(schema.field(name).type)]
        if nested:
            return [], [RowError(0, None, f"column(s) {', '.join(nested)} hold lists or records; each row's "
                                          "fields must be text or numbers")]
        meta = footer.metadata
        if meta.num_rows > bounds.max_rows:
            raise _too_many_rows(bounds.max_rows)
        pages = sum(meta.row_group(g).column(c).total_uncompressed_size
                    for g in range(meta.num_row_groups) for c in range(meta.num_columns)
                    if meta.row_group(g).column(c).path_in_schema.split(".")[0] in columns)
        if pages > bounds.max_decoded_bytes:
            raise _too_much_text(bounds.max_decoded_bytes, f"its pages decompress to {pages} bytes")
    try:
        # Text columns stay dictionary-encoded while they are measured: one copy of each distinct value.
        table = pq.ParquetFile(io.BytesIO(content), read_dictionary=text_columns).read(columns=columns)
    except Exception as e:
        return unreadable(e)
    if bounds:
        if table.num_rows > bounds.max_rows:
            raise _too_many_rows(bounds.max_rows)
        decoded = 0
        for column in table.columns:
            for chunk in column.chunks:
                if pa.types.is_dictionary(chunk.type):
                    decoded += pc.sum(pc.binary_length(chunk.dictionary).take(chunk.indices)).as_py() or 0
                    decoded += chunk.indices.nbytes
                else:
                    decoded += chunk.nbytes
        if decoded > bounds.max_decoded_bytes:
            raise _too_much_text(bounds.max_decoded_bytes, f"its rows decode to {decoded} bytes")
    return list(enumerate(table.to_pylist(), start=1)), []


def file_too_large(size: int, max_bytes: int) -> RowError:
    return RowError(0, None, f"the file is {size} bytes; the limit is {max_bytes} bytes ({max_bytes / 2**20:g} MiB)")


def _too_much_text(max_bytes: int, what: str) -> DatasetError:
    return DatasetError("", [RowError(0, None, f"the file expands too far: {what}; the limit is {max_bytes} bytes "
                                               f"({max_bytes / 2**20:g} MiB) of decoded data per upload")])


READERS = {"jsonl": _jsonl_rows, "csv": _csv_rows, "parquet": _parquet_rows}


def parse_dataset(content: bytes, fmt: str, source: str | Path = "<upload>", bounds: UploadBounds | None = None) -> list[dict]:
    """Read a JSONL, CSV or Parquet dataset from bytes, all rows or none: any problem raises DatasetError naming
    every bad row (line, field, reason). Rows need `problem` and `answer` (an answer the verifier can parse);
    `id`, `solution` and `difficulty` (a whole number) are optional; a row without id gets `row-<line>`.
    `bounds` (uploads: limits.UPLOAD) caps the file's bytes, rows and decoded size; past one, nothing is read on."""
    if fmt not in READERS:
        raise DatasetError(source, [RowError(0, None, f"unsupported format {fmt!r} (use {', '.join(READERS)})")])
    if bounds and len(content) > bounds.max_bytes:
        raise DatasetError(source, [file_too_large(len(content), bounds.max_bytes)])
    try:
        rows, errors = READERS[fmt](content, bounds)
    except DatasetError as e:
        raise DatasetError(source, e.errors) from None
    problems, ids = [], set()
    for line_no, row in rows:
        problem, row_errors = _check_row(row, line_no)
        if row_errors:
            errors.extend(row_errors)
            continue
        if problem["id"] in ids:
            errors.append(RowError(line_no, "id", f"duplicate id {problem['id']!r}"))
            continue
        ids.add(problem["id"])
        problems.append(problem)
    if errors:
        raise DatasetError(source, sorted(errors, key=lambda e: e.line))
    if not problems:
        raise DatasetError(source, [RowError(0, None, "no rows")])
    return problems


def load_dataset(path: str | Path) -> list[dict]:
    """Load a local .jsonl, .csv or .parquet dataset (see parse_dataset), all rows or none."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, [RowError(0, None, "file not found")])
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DatasetError(path, [RowError(0, None, f"unsupported file type '{suffix}' (use .jsonl, .csv or .parquet)")])
    return parse_dataset(path.read_bytes(), FORMATS[suffix], path)


def write_jsonl(problems: list[dict], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for p in problems:
            f.write(json.dumps(p) + "\n")
    return path
