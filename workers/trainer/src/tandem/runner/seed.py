"""`tandem seed`: the demo's model and data rows — the tiny base model (built or reused) and the generated
arithmetic datasets — inserted idempotently, so the demo and tests can run it every time."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from psycopg.types.json import Jsonb

from ..base_model import FIXTURE_RECIPE, BaseModelRecipe, build_base
from ..data import arithmetic_splits
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


def seed(database_url: str, model_path: Path, name: str, n_train: int, n_eval: int, seed_value: int = 0) -> dict:
    conn = queue.connect(database_url)
    try:
        info_file = model_path / "build.json"
        info = json.loads(info_file.read_text()) if info_file.is_file() else {}
        model = conn.execute(
            """INSERT INTO base_models (id, name, path, info, validated_at) VALUES (%s, %s, %s, %s, now())
               ON CONFLICT (name) DO UPDATE SET path = EXCLUDED.path, info = EXCLUDED.info RETURNING id""",
            (new_id("m"), name, str(model_path), Jsonb(info)),
        ).fetchone()["id"]
        checkpoint = record_checkpoint(conn, None, 0, model_path, base_model_id=model)
        splits = arithmetic_splits(n_train=n_train, n_eval=n_eval, seed=seed_value)
        train = seed_dataset(conn, "arithmetic-train", splits.train)
        eval_ = seed_dataset(conn, "arithmetic-eval", splits.eval)
        return {"baseModelId": model, "checkpointId": checkpoint, "datasets": {"arithmetic-train": train, "arithmetic-eval": eval_}}
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
        result = seed(args.database_url, path, name, args.n_train, args.n_eval)
    except Exception as e:
        print(f"tandem seed: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0
