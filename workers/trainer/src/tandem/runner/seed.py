"""`tandem seed`: the demo's model and data rows — the tiny base model (built or reused), its weak junior, and the
generated datasets — inserted idempotently, so the demo and tests can run it every time.

Datasets: `arithmetic-train` / `arithmetic-eval` (the word problems, always) and, for the default base model,
`digit-chains-train` / `-validation` / `-eval`: the fixed splits `data.task_split` gives the CLI too, so a run
launched from the console trains and is evaluated on the same problems as `evidence/run_experiment.py`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from psycopg.types.json import Jsonb

from ..base_model import FIXTURE_RECIPE, WEAK_JUNIOR_DIR, BaseModelRecipe, build_base
from ..data import arithmetic_splits, task_split
from . import queue
from .catalog import insert_problems, record_checkpoint
from .queue import new_id


def seed_dataset(conn, name: str, problems: list[dict]) -> str:
    """A generated dataset under a fixed name: created, or completed with any problems it lacks."""
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO datasets (id, name, source, row_count) VALUES (%s, %s, 'generated', %s)
               ON CONFLICT (name) DO UPDATE SET row_count = EXCLUDED.row_count RETURNING id""",
            (new_id("d"), name, len(problems)),
        ).fetchone()
        insert_problems(conn, row["id"], problems)
    return row["id"]


# The digit-chain splits the demo seeds: the training split of configs/digit-chains.yaml and the held-out ones.
DIGIT_CHAIN_SPLITS = {"digit-chains-train": ("train", 4000), "digit-chains-validation": ("validation", 200),
                      "digit-chains-eval": ("eval", 200)}


def seed_model(conn, name: str, path: Path) -> tuple[str, str]:
    """A base model row (validated: the project built it) and its step-0 checkpoint row."""
    info_file = path / "build.json"
    info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    model = conn.execute(
        """INSERT INTO base_models (id, name, path, info, validated_at) VALUES (%s, %s, %s, %s, now())
           ON CONFLICT (name) DO UPDATE SET path = EXCLUDED.path, info = EXCLUDED.info RETURNING id""",
        (new_id("m"), name, str(path), Jsonb(info)),
    ).fetchone()["id"]
    return model, record_checkpoint(conn, None, 0, path, base_model_id=model)


def seed(database_url: str, model_path: Path, name: str, n_train: int, n_eval: int, seed_value: int = 0,
         digit_chains: bool = False) -> dict:
    conn = queue.connect(database_url)
    try:
        model, checkpoint = seed_model(conn, name, model_path)
        result = {"baseModelId": model, "checkpointId": checkpoint, "datasets": {}}
        weak = model_path / WEAK_JUNIOR_DIR
        if (weak / "config.json").is_file():
            result["weakJuniorId"], _ = seed_model(conn, f"{name}-weak-junior", weak)
        splits = arithmetic_splits(n_train=n_train, n_eval=n_eval, seed=seed_value)
        result["datasets"]["arithmetic-train"] = seed_dataset(conn, "arithmetic-train", splits.train)
        result["datasets"]["arithmetic-eval"] = seed_dataset(conn, "arithmetic-eval", splits.eval)
        if digit_chains:
            for dataset, (split, n) in DIGIT_CHAIN_SPLITS.items():
                result["datasets"][dataset] = seed_dataset(conn, dataset, task_split("digit_chains", split, n))
        return result
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tandem seed", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--fixture", action="store_true", help="the seconds-to-build fixture model (tests)")
    parser.add_argument("--model-path", help="register this model directory instead of building one")
    parser.add_argument("--name", help="base model name (default: tiny-base, or fixture with --fixture)")
    parser.add_argument("--n-train", type=int, default=256)
    parser.add_argument("--n-eval", type=int, default=150)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    if args.model_path:
        path = Path(args.model_path)
        if not (path / "config.json").is_file():
            parser.error(f"--model-path {path}: not a model directory (no config.json)")
    else:
        path = build_base(recipe=FIXTURE_RECIPE if args.fixture else BaseModelRecipe(),
                          evaluate_problems=0 if args.fixture else 200)
    name = args.name or ("fixture" if args.fixture else "tiny-base")
    try:
        result = seed(args.database_url, path, name, args.n_train, args.n_eval, digit_chains=not args.fixture)
    except Exception as e:
        print(f"tandem seed: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0
