"""Problems: the seeded arithmetic word-problem generator and the loader for user datasets.

A problem is a dict with `id`, `problem`, `answer` and optionally `solution` (reference reasoning, one step
per line, ending in `\\boxed{answer}`). Difficulty of a generated problem = its number of operations.
Nothing is ever fetched from a hub: user datasets are read from local JSONL or Parquet files.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

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


# ---------------------------------------------------------------- user datasets


class DatasetError(ValueError):
    """A dataset file was rejected; `errors` lists (line, reason) for every bad row (line = 1-based row number)."""

    def __init__(self, path: Path, errors: list[tuple[int, str]]):
        self.path, self.errors = path, errors
        shown = "\n".join(f"  {path}:{line}: {reason}" for line, reason in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{path}: {len(errors)} bad row(s), nothing loaded:\n{shown}{more}")


REQUIRED = ("problem", "answer")
OPTIONAL = ("solution", "id")


def _check_row(row: object, line: int) -> tuple[dict | None, str | None]:
    from .verifier import check_expected

    if not isinstance(row, dict):
        return None, f"row is a {type(row).__name__}, expected an object with 'problem' and 'answer'"
    for field in REQUIRED:
        value = row.get(field)
        if value is None:
            return None, f"missing field '{field}'"
        if isinstance(value, (int, float)) and not isinstance(value, bool) and field == "answer":
            value = str(value)
        if not isinstance(value, str):
            return None, f"field '{field}' must be a string, got {type(value).__name__}"
        if not value.strip():
            return None, f"field '{field}' is empty"
    answer = str(row["answer"]).strip()
    reason = check_expected(answer)
    if reason:
        return None, f"field 'answer' ({answer[:40]!r}) cannot be parsed as math: {reason}"
    for field in OPTIONAL:
        if row.get(field) is not None and not isinstance(row[field], (str, int)):
            return None, f"field '{field}' must be a string, got {type(row[field]).__name__}"
    out = {"id": str(row.get("id") or f"row-{line}"), "problem": row["problem"].strip(), "answer": answer}
    if row.get("solution"):
        out["solution"] = str(row["solution"])
    return out, None


def load_dataset(path: str | Path) -> list[dict]:
    """Load a local JSONL or Parquet dataset, all rows or none: any bad row raises DatasetError naming them all."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, [(0, "file not found")])
    rows: list[tuple[int, object]] = []
    errors: list[tuple[int, str]] = []
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        with path.open(encoding="utf-8", errors="strict") as f:
            try:
                for line_no, text in enumerate(f, start=1):
                    if not text.strip():
                        continue
                    try:
                        rows.append((line_no, json.loads(text)))
                    except json.JSONDecodeError as e:
                        errors.append((line_no, f"invalid JSON: {e.msg} at column {e.colno}"))
            except UnicodeDecodeError as e:
                raise DatasetError(path, [(0, f"not UTF-8 text: {e.reason} at byte {e.start}")]) from None
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as e:  # pyarrow raises several types for corrupt files
            raise DatasetError(path, [(0, f"not a readable Parquet file: {e}")]) from None
        missing = [f for f in REQUIRED if f not in table.column_names]
        if missing:
            raise DatasetError(path, [(0, f"missing column(s) {missing}; columns are {table.column_names}")])
        rows = list(enumerate(table.to_pylist(), start=1))
    else:
        raise DatasetError(path, [(0, f"unsupported file type '{suffix}' (use .jsonl or .parquet)")])

    problems, ids = [], set()
    for line_no, row in rows:
        problem, reason = _check_row(row, line_no)
        if reason:
            errors.append((line_no, reason))
            continue
        if problem["id"] in ids:
            errors.append((line_no, f"duplicate id {problem['id']!r}"))
            continue
        ids.add(problem["id"])
        problems.append(problem)
    if errors:
        raise DatasetError(path, sorted(errors))
    if not problems:
        raise DatasetError(path, [(0, "no rows")])
    return problems


def write_jsonl(problems: list[dict], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for p in problems:
            f.write(json.dumps(p) + "\n")
    return path
