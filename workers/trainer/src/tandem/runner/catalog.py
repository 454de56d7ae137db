"""The catalog: base models with their checkpoint rows, and datasets with their problems.

Job kinds and payloads (JSON):
  VALIDATE_MODEL    {"baseModelId": str}
  IMPORT_DATASET    {"uploadId": str}
  GENERATE_DATASET  {"name": str, "n": int, "seed": int, "minSteps": int, "maxSteps": int, "createdById": str | null}
A bad model directory, a bad file or a taken name is the user's input, not a worker failure: those jobs
succeed with {"ok": false, ...} and record why (base_models.validation_error, dataset_uploads.errors) so
nothing is retried; only a job naming a row that does not exist fails (InvalidPayload).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from psycopg.types.json import Jsonb

from .. import limits
from ..data import DatasetError, RowError, file_too_large, generate_problems, parse_dataset
from .payload import InvalidPayload, require
from .queue import new_id

WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"
# Files that hold a vocabulary; tokenizer_config.json alone does not (transformers then builds an empty tokenizer).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "spiece.model",
                   "sentencepiece.bpe.model")
MAX_GENERATED_PROBLEMS = 100_000
MAX_GENERATED_STEPS = 20


# ---------------------------------------------------------------- checkpoints


def weights_files(path: Path) -> list[Path]:
    """The safetensors file(s) of a model directory: model.safetensors, or the shards its index names; [] if none."""
    single = path / WEIGHTS_FILE
    if single.is_file():
        return [single]
    index = path / WEIGHTS_INDEX
    if index.is_file():
        return [path / name for name in sorted(set(json.loads(index.read_text())["weight_map"].values()))]
    return []


def files_sha256(files: list[Path]) -> str:
    """sha256 of the files' bytes, concatenated in the given order."""
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def record_checkpoint(conn, run_id: str | None, step: int, path: Path, base_model_id: str | None = None) -> str:
    """Insert or refresh a checkpoint row (sha256 of the weights, size of the directory). A run's checkpoint is
    keyed by (run, step); a base model's own weights (run_id None) by the base model: one row each."""
    weights = weights_files(path)
    if not weights:
        raise FileNotFoundError(f"{path}: no {WEIGHTS_FILE} (or {WEIGHTS_INDEX})")
    sha256, size = files_sha256(weights), dir_size(path)
    if run_id is None:
        existing = conn.execute(
            "SELECT id FROM checkpoints WHERE base_model_id = %s AND run_id IS NULL ORDER BY created_at, id LIMIT 1",
            (base_model_id,),
        ).fetchone()
        if existing:
            conn.execute("UPDATE checkpoints SET step = %s, path = %s, sha256 = %s, size_bytes = %s WHERE id = %s",
                         (step, str(path), sha256, size, existing["id"]))
            return existing["id"]
    row = conn.execute(
        """INSERT INTO checkpoints (id, run_id, base_model_id, step, path, format, sha256, size_bytes)
           VALUES (%s, %s, %s, %s, %s, 'hf-safetensors', %s, %s)
           ON CONFLICT (run_id, step, format) DO UPDATE
             SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes
           RETURNING id""",
        (new_id("c"), run_id, base_model_id, step, str(path), sha256, size),
    ).fetchone()
    return row["id"]


# ---------------------------------------------------------------- VALIDATE_MODEL


class ModelInvalid(ValueError):
    """A model directory that cannot be trained or evaluated; the message names the path and the cause."""


def outside_roots(path_text: str, roots: tuple[Path, ...] | None = None) -> str | None:
    """Why a model path may not be used, or None when it lies inside a model root (limits.model_roots). The path
    is resolved first (`..` and symlinks), so neither leads out; so are the directory's own entries (a
    config.json that links to /etc is outside too). The reason names the roots, never the path or where it
    leads, so a refusal says nothing about the file system outside the roots."""
    roots = roots if roots is not None else limits.model_roots()
    where = ", ".join(str(r) for r in roots) or "(none configured)"
    refused = (f"the path is outside the model roots this worker loads models from ({where}); put the model "
               f"directory under one of them, or ask an operator to add a root ({limits.MODEL_ROOTS_ENV})")
    if not path_text.startswith("/") or "\x00" in path_text:
        return refused
    path = Path(path_text).resolve()
    if not any(path.is_relative_to(root) for root in roots):
        return refused
    if path.is_dir():
        for entry in path.iterdir():
            if entry.is_symlink() and not any(entry.resolve().is_relative_to(root) for root in roots):
                return f"{entry.name} links outside the model roots ({where}); copy the file into the directory"
    return None


def require_within_roots(path_text: str, what: str):
    """Raise InvalidPayload (the job fails at once, nothing loaded) when `what`'s path is outside the model roots."""
    reason = outside_roots(path_text)
    if reason:
        raise InvalidPayload(f"{what}: {reason}")


# A path in an error message from a library (transformers, safetensors): kept when it is inside a root, else
# replaced, so an error cannot carry a path outside the roots back to the console.
_PATH_IN_TEXT = re.compile(r"(?<![\w.~-])/[^\s'\"`,;:()\[\]{}<>]+")


def redact_paths(text: str, roots: tuple[Path, ...] | None = None) -> str:
    roots = roots if roots is not None else limits.model_roots()

    def keep_or_hide(match: re.Match) -> str:
        path = Path(os.path.normpath(match.group(0)))
        return match.group(0) if any(path.is_relative_to(root) for root in roots) else "<a path outside the model roots>"

    return _PATH_IN_TEXT.sub(keep_or_hide, text)


def _cause(e: Exception, limit: int = 300) -> str:
    text = redact_paths(" ".join(str(e).split()) or type(e).__name__)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inspect_model(path_text: str) -> dict:
    """What a model directory holds, read without loading its weights: config (AutoConfig), a causal LM built on
    the meta device, tokenizer (AutoTokenizer) and the safetensors headers. Raises ModelInvalid with the cause."""
    import torch
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    refused = outside_roots(path_text)
    if refused:  # before anything else touches the path: its existence is not to be learned from the answer
        raise ModelInvalid(refused)
    path = Path(path_text)

    def invalid(cause: str) -> ModelInvalid:
        return ModelInvalid(f"{path_text}: {cause}")

    if not path.exists():
        raise invalid("no such directory on the worker")
    if not path.is_dir():
        raise invalid("not a directory")
    if not (path / "config.json").is_file():
        raise invalid("no config.json, so this is not a Hugging Face model directory")
    try:
        config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    except Exception as e:  # transformers raises ValueError, OSError, KeyError, JSONDecodeError ...
        raise invalid(f"config.json cannot be loaded: {_cause(e)}") from None
    try:
        with torch.device("meta"):  # shapes only, no memory for the weights
            model = AutoModelForCausalLM.from_config(config)
    except Exception as e:
        raise invalid(f"transformers cannot build a causal language model from config.json "
                      f"(model_type {getattr(config, 'model_type', None)!r}): {_cause(e)}") from None
    text_config = config.get_text_config()

    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise invalid(f"no tokenizer: none of {', '.join(TOKENIZER_FILES)} is in the directory")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except Exception as e:
        raise invalid(f"the tokenizer cannot be loaded: {_cause(e)}") from None
    if tokenizer.eos_token_id is None:
        raise invalid("the tokenizer has no end-of-text (eos) token, so generation could never stop")
    if len(tokenizer) > text_config.vocab_size:
        raise invalid(f"the tokenizer has {len(tokenizer)} tokens but config.json's vocab_size is "
                      f"{text_config.vocab_size}: token ids would fall outside the embedding")

    try:
        files = weights_files(path)
    except (ValueError, KeyError, OSError) as e:
        raise invalid(f"{WEIGHTS_INDEX} cannot be read: {_cause(e)}") from None
    if not files:
        if any(path.glob("pytorch_model*.bin")):
            raise invalid(f"the weights are in pytorch_model*.bin only; save them as safetensors "
                          f"(model.save_pretrained(dir)) to register the model")
        raise invalid(f"no weights file ({WEIGHTS_FILE}, or a sharded {WEIGHTS_INDEX})")
    prefix = model.base_model_prefix + "." if model.base_model_prefix else ""
    expected = {name.removeprefix(prefix): tuple(t.shape) for name, t in model.state_dict().items()}
    num_parameters, matched = 0, 0
    for file in files:
        if not file.is_file():
            raise invalid(f"weights file {file.name} (named in {WEIGHTS_INDEX}) is missing")
        try:
            with safe_open(str(file), framework="pt") as weights:
                shapes = {name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()}
        except Exception as e:
            raise invalid(f"{file.name} is not a readable safetensors file: {_cause(e)}") from None
        for name, shape in shapes.items():
            num_parameters += _product(shape)
            want = expected.get(name.removeprefix(prefix))
            if want is not None:
                matched += 1
                if want != shape:
                    raise invalid(f"the weights do not fit config.json: {name} has shape {list(shape)} in "
                                  f"{file.name}, config.json implies {list(want)}")
    if not matched:
        raise invalid(f"the weights hold none of the parameters config.json describes "
                      f"(e.g. {next(iter(expected), '?')})")

    return {
        "architecture": (getattr(config, "architectures", None) or [type(model).__name__])[0],
        "model_type": config.model_type,
        "num_parameters": num_parameters,
        "vocab_size": text_config.vocab_size,
        "hidden_size": getattr(text_config, "hidden_size", None),
        "num_hidden_layers": getattr(text_config, "num_hidden_layers", None),
        "max_position_embeddings": getattr(text_config, "max_position_embeddings", None),
        "tokenizer_class": type(tokenizer).__name__,
        "eos_token": tokenizer.eos_token,
    }


def _product(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def validate_model_job(ctx) -> dict:
    model_id = require(ctx.job.payload, "baseModelId", str)
    model = ctx.conn.execute("SELECT id, path FROM base_models WHERE id = %s", (model_id,)).fetchone()
    if model is None:
        raise InvalidPayload(f"base model {model_id} does not exist")
    ctx.progress(0.1, "reading config, tokenizer and weight headers")
    try:
        info = inspect_model(model["path"])
    except ModelInvalid as e:
        ctx.log(str(e))
        ctx.conn.execute("UPDATE base_models SET validation_error = %s, validated_at = NULL WHERE id = %s",
                         (str(e), model_id))
        return {"ok": False, "error": str(e)}
    ctx.progress(0.5, "hashing the weights")
    with ctx.conn.transaction():
        ctx.conn.execute("SELECT id FROM base_models WHERE id = %s FOR UPDATE", (model_id,))  # one checkpoint row per model
        checkpoint_id = record_checkpoint(ctx.conn, None, 0, Path(model["path"]), base_model_id=model_id)
        ctx.conn.execute(
            "UPDATE base_models SET info = %s, validated_at = now(), validation_error = NULL WHERE id = %s",
            (Jsonb(info), model_id),
        )
    return {"ok": True, "info": info, "checkpointId": checkpoint_id}


# ---------------------------------------------------------------- datasets


def insert_problems(conn, dataset_id: str, problems: list[dict]):
    """The one place problems are inserted; an (dataset, external id) already there is kept."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO problems (id, dataset_id, external_id, problem, answer, solution, difficulty)
               VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (dataset_id, external_id) DO NOTHING""",
            [(new_id("p"), dataset_id, p["id"], p["problem"], p["answer"], p.get("solution"), p.get("difficulty"))
             for p in problems],
        )


def create_dataset(conn, name: str, source: str, problems: list[dict], created_by_id: str | None) -> str | None:
    """A new dataset with its problems, or None when the name is taken. Call inside a transaction."""
    row = conn.execute(
        """INSERT INTO datasets (id, name, source, row_count, created_by_id) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (name) DO NOTHING RETURNING id""",
        (new_id("d"), name, source, len(problems), created_by_id),
    ).fetchone()
    if row is None:
        return None
    insert_problems(conn, row["id"], problems)
    return row["id"]


def _name_taken(name: str) -> str:
    return f"a dataset named {name!r} already exists; choose another name"


def import_dataset_job(ctx) -> dict:
    upload_id = require(ctx.job.payload, "uploadId", str)
    bounds = limits.UPLOAD
    # The file's size first, without its bytes: an oversized row is refused before it is read into memory.
    upload = ctx.conn.execute(
        """SELECT u.id, u.name, u.filename, u.format, octet_length(u.content) AS content_bytes, u.status, u.dataset_id,
                  u.created_by_id, d.row_count
           FROM dataset_uploads u LEFT JOIN datasets d ON d.id = u.dataset_id WHERE u.id = %s""",
        (upload_id,),
    ).fetchone()
    if upload is None:
        raise InvalidPayload(f"dataset upload {upload_id} does not exist")
    if upload["status"] == "IMPORTED":  # a retry after the import committed
        return {"ok": True, "datasetId": upload["dataset_id"], "rowCount": upload["row_count"]}
    ctx.progress(0.1, "validating rows")
    name = upload["name"].strip()
    if upload["content_bytes"] > bounds.max_bytes:
        problems, errors = [], [file_too_large(upload["content_bytes"], bounds.max_bytes)]
    else:
        content = ctx.conn.execute("SELECT content FROM dataset_uploads WHERE id = %s", (upload_id,)).fetchone()["content"]
        try:
            problems, errors = parse_dataset(bytes(content), upload["format"], upload["filename"], bounds), []
        except DatasetError as e:
            problems, errors = [], list(e.errors)
        del content
    if not name:
        errors.insert(0, RowError(0, None, "the dataset has no name"))
    ctx.progress(0.6, f"{len(problems)} rows valid, {len(errors)} problems")
    with ctx.conn.transaction():
        dataset_id = create_dataset(ctx.conn, name, "upload", problems, upload["created_by_id"]) if not errors else None
        if dataset_id is None and name:
            if ctx.conn.execute("SELECT 1 FROM datasets WHERE name = %s", (name,)).fetchone():
                errors.insert(0, RowError(0, None, _name_taken(name)))
        if dataset_id is None:
            ctx.conn.execute(
                "UPDATE dataset_uploads SET status = 'FAILED', errors = %s, dataset_id = NULL WHERE id = %s",
                (Jsonb([e.to_dict() for e in errors]), upload_id),
            )
            return {"ok": False, "errorCount": len(errors)}
        ctx.conn.execute(
            "UPDATE dataset_uploads SET status = 'IMPORTED', errors = '[]', dataset_id = %s WHERE id = %s",
            (dataset_id, upload_id),
        )
    ctx.log(f"imported {len(problems)} problems as dataset {name!r} ({dataset_id})")
    return {"ok": True, "datasetId": dataset_id, "rowCount": len(problems)}


def _generate_arguments(payload) -> tuple[str, int, int, int, int, str | None]:
    name = require(payload, "name", str).strip()
    n, seed = require(payload, "n", int), require(payload, "seed", int)
    min_steps, max_steps = require(payload, "minSteps", int), require(payload, "maxSteps", int)
    created_by = payload.get("createdById")
    if not name:
        raise InvalidPayload("payload.name is empty")
    if not 1 <= n <= MAX_GENERATED_PROBLEMS:
        raise InvalidPayload(f"payload.n must be between 1 and {MAX_GENERATED_PROBLEMS}, got {n}")
    if not 1 <= min_steps <= max_steps <= MAX_GENERATED_STEPS:
        raise InvalidPayload(f"payload.minSteps and maxSteps must satisfy 1 <= minSteps <= maxSteps <= "
                             f"{MAX_GENERATED_STEPS}, got {min_steps} and {max_steps}")
    if created_by is not None and not isinstance(created_by, str):
        raise InvalidPayload(f"payload.createdById must be str or null, got {type(created_by).__name__}")
    return name, n, seed, min_steps, max_steps, created_by


def generate_dataset_job(ctx) -> dict:
    try:
        name, n, seed, min_steps, max_steps, created_by = _generate_arguments(ctx.job.payload)
        if created_by and not ctx.conn.execute("SELECT 1 FROM users WHERE id = %s", (created_by,)).fetchone():
            raise InvalidPayload(f"payload.createdById: user {created_by} does not exist")
    except InvalidPayload as e:
        return {"ok": False, "error": str(e)}
    ctx.progress(0.1, f"generating {n} problems")
    problems = generate_problems(n, seed, min_steps, max_steps)
    with ctx.conn.transaction():
        dataset_id = create_dataset(ctx.conn, name, "generated", problems, created_by)
    if dataset_id is None:
        return {"ok": False, "error": _name_taken(name)}
    ctx.log(f"generated {n} problems as dataset {name!r} ({dataset_id})")
    return {"ok": True, "datasetId": dataset_id, "rowCount": len(problems)}


# ---------------------------------------------------------------- EXPORT_ONNX

PARITY_PROMPTS = ("What is 3 + 4?", "Tom has 12 apples and buys 30 more, then eats 5. How many are left?", "1")
PARITY_TOLERANCE = 1e-3  # largest absolute logit difference an export may have against PyTorch


def export_checkpoint(conn, checkpoint_id: str, runs_dir, progress=lambda f, m: None, log=lambda m: None) -> dict:
    """A checkpoint exported to ONNX with its KV cache (tandem.onnx_export) into <runs>/onnx/<checkpoint id>,
    checked against PyTorch (logits and greedy tokens), and recorded as the same run's and step's 'onnx'
    checkpoint. An export that does not match raises and records nothing. (EXPORT_ONNX, and live study
    conditions at launch.)"""
    from ..onnx_export import MODEL_FILE, export_onnx, parity

    source = conn.execute("SELECT id, run_id, base_model_id, step, path, format FROM checkpoints WHERE id = %s",
                          (checkpoint_id,)).fetchone()
    if source is None:
        raise InvalidPayload(f"checkpoint {checkpoint_id} does not exist")
    if source["format"] != "hf-safetensors":
        raise InvalidPayload(f"checkpoint {checkpoint_id} is {source['format']}; only hf-safetensors checkpoints export")
    out = Path(runs_dir) / "onnx" / checkpoint_id
    progress(0.1, "exporting to ONNX")
    manifest = export_onnx(Path(source["path"]), out)
    progress(0.7, "checking against PyTorch")
    check = parity(Path(source["path"]), out, list(PARITY_PROMPTS), max_new_tokens=16)
    log(f"parity: max |logit diff| {check['max_abs_logit_diff']:.2e}, greedy tokens equal: {check['greedy_equal']}")
    if check["max_abs_logit_diff"] > PARITY_TOLERANCE or not check["greedy_equal"]:
        raise RuntimeError(f"the ONNX export does not match PyTorch: {check}")
    existing = onnx_export_of(conn, checkpoint_id)
    values = (str(out), manifest["sha256"], dir_size(out))
    if existing:
        conn.execute("UPDATE checkpoints SET path = %s, sha256 = %s, size_bytes = %s WHERE id = %s",
                     (*values, existing["id"]))
        row = existing
    else:
        row = conn.execute(
            """INSERT INTO checkpoints (id, run_id, base_model_id, step, path, format, sha256, size_bytes)
               VALUES (%s, %s, %s, %s, %s, 'onnx', %s, %s) RETURNING id""",
            (new_id("c"), source["run_id"], source["base_model_id"], source["step"], *values),
        ).fetchone()
    return {"checkpointId": row["id"], "path": str(out), "bytes": (out / MODEL_FILE).stat().st_size, "parity": check}


def onnx_export_of(conn, checkpoint_id: str) -> dict | None:
    """The 'onnx' checkpoint row of a checkpoint (same run or base model, same step), if it was exported. One per
    source: a base model's own weights have no run, so there is no unique key to conflict on. The web app finds
    it the same way (apps/web/src/server/studies/live-session.ts)."""
    return conn.execute(
        """SELECT o.id, o.path FROM checkpoints o JOIN checkpoints c ON c.id = %s
           WHERE o.format = 'onnx' AND o.step = c.step
             AND o.run_id IS NOT DISTINCT FROM c.run_id AND o.base_model_id IS NOT DISTINCT FROM c.base_model_id""",
        (checkpoint_id,),
    ).fetchone()


def export_onnx_job(ctx) -> dict:
    return export_checkpoint(ctx.conn, require(ctx.job.payload, "checkpointId", str), ctx.runs_dir,
                             progress=ctx.progress, log=ctx.log)
