"""Trace generation, shared by the job kinds that make traces: GENERATE_TRACES (here), EVALUATE's examples
(handlers.py), GENERATE_STUDY_TRACES (studies.py) and the junior on a study's items (study_junior.py). Every
runner module imports it at module top; it imports none of them, so there is no import circle.

Kind and payload (JSON):
  GENERATE_TRACES   {"checkpointId": str, "problemIds": [str], "seed": int = 0, "temperature": float = 1.0,
                     "maxNewTokens": int = 96, "pJunior": float = 0}

A trace is stored with author_spans [{author, text, start, end}], settings {suite, schedule, p_junior, granularity,
temperature, max_new_tokens, junior} (`trace_settings`), seed, word_surprisal [{start, end, nats}]
(evaluate.word_surprisal; character offsets into the text) and a verifier_results row (`insert_trace`).
A checkpoint's junior is its run's junior model, else its run's base model, else the base model itself
(`default_junior_path`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from .catalog import require_within_roots
from .payload import InvalidPayload, require
from .queue import new_id

# ---------------------------------------------------------------- storing traces and verdicts


def default_junior_path(conn, checkpoint_id: str) -> str | None:
    """A checkpoint's junior: its run's junior model, else its run's base model, else (a base model's own
    checkpoint) that model itself."""
    row = conn.execute(
        """SELECT b.path FROM checkpoints c LEFT JOIN training_runs r ON r.id = c.run_id
           LEFT JOIN base_models b ON b.id = coalesce(r.junior_model_id, r.base_model_id, c.base_model_id)
           WHERE c.id = %s""",
        (checkpoint_id,),
    ).fetchone()
    if row and row["path"]:
        require_within_roots(row["path"], f"the junior model of checkpoint {checkpoint_id}")
    return row["path"] if row else None


def trace_settings(suite: str | None, schedule: str, p_junior: float | None, granularity: str | None,
                   temperature: float, max_new_tokens: int, junior: str | None) -> dict:
    """How a trace was made: suite (None outside an evaluation), author schedule ("solo", "coin_flip",
    "alternate", "senior_first_k=K", "senior_fraction=F"), and the generation settings."""
    return {"suite": suite, "schedule": schedule, "p_junior": p_junior, "granularity": granularity,
            "temperature": temperature, "max_new_tokens": max_new_tokens, "junior": junior}


def pg_safe(value: Any) -> Any:
    """Model text may contain NUL, which Postgres text and jsonb cannot hold: U+FFFD takes its place (one
    character for one, so author-span and word offsets stay valid)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {k: pg_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [pg_safe(v) for v in value]
    return value


def insert_verdict(conn, verdict, trace_id: str | None = None, response_id: str | None = None) -> str:
    """A verifier_results row for a trace or a participant's response; "" when the response already has one."""
    row = conn.execute(
        """INSERT INTO verifier_results (id, verifier, version, extracted_answer, verdict, details, trace_id, response_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (response_id) DO NOTHING RETURNING id""",
        (new_id("v"), verdict.verifier, verdict.version, pg_safe(verdict.extracted), verdict.verdict.upper(),
         pg_safe(verdict.details), trace_id, response_id),
    ).fetchone()
    return row["id"] if row else ""


def insert_trace(conn, *, checkpoint_id: str, problem_id: str, text: str, author_spans: list[dict], settings: dict,
                 seed: int, verdict, word_surprisal: list[dict] | None = None,
                 evaluation_run_id: str | None = None) -> str:
    """A trace and its verifier_results row."""
    trace_id = new_id("t")
    conn.execute(
        """INSERT INTO traces (id, checkpoint_id, problem_id, text, author_spans, settings, seed, word_surprisal,
                               evaluation_run_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (trace_id, checkpoint_id, problem_id, pg_safe(text), Jsonb(pg_safe(author_spans)), Jsonb(pg_safe(settings)), seed,
         Jsonb(word_surprisal) if word_surprisal is not None else None, evaluation_run_id),
    )
    insert_verdict(conn, verdict, trace_id=trace_id)
    return trace_id


# ---------------------------------------------------------------- GENERATE_TRACES

TRACE_BATCH = 16  # problems per rollout batch


def _trace_arguments(payload) -> dict:
    problem_ids = require(payload, "problemIds", list)
    if not problem_ids or not all(isinstance(p, str) for p in problem_ids):
        raise InvalidPayload("payload.problemIds must be a non-empty list of problem ids")
    args = {
        "checkpoint_id": require(payload, "checkpointId", str),
        "problem_ids": problem_ids,
        "seed": require(payload, "seed", int, 0),
        "temperature": require(payload, "temperature", float, 1.0),
        "max_new_tokens": require(payload, "maxNewTokens", int, 96),
        "p_junior": require(payload, "pJunior", float, 0.0),
    }
    if not 0.0 <= args["temperature"] <= 100.0:
        raise InvalidPayload(f"payload.temperature must be between 0 and 100, got {args['temperature']}")
    if args["max_new_tokens"] < 1:
        raise InvalidPayload(f"payload.maxNewTokens must be >= 1, got {args['max_new_tokens']}")
    if not 0.0 <= args["p_junior"] <= 1.0:
        raise InvalidPayload(f"payload.pJunior must be between 0 and 1, got {args['p_junior']}")
    return args


def generate_traces(conn, checkpoint_id: str, problem_ids: list[str], *, seed: int, temperature: float,
                    max_new_tokens: int, p_junior: float, progress: Callable[[float, str], None],
                    on_stored: Callable[[list[str]], None] | None = None) -> list[str]:
    """One trace per problem id (in the given order): the checkpoint alone, or with p_junior > 0 co-written with
    its junior by a word-level coin flip; the junior's per-word surprisal of every trace, teacher-forced. Returns
    the trace ids. `on_stored(trace_ids)` runs in the transaction that stores the traces, so what a caller records
    about them commits with them or not at all."""
    from ..boundaries import token_flags
    from ..data import format_prompt
    from ..evaluate import EvalSettings, batched_rollout, token_stats, word_surprisal
    from ..models import IncompatibleJunior, check_same_tokenizer, load_model, load_model_and_tokenizer, load_tokenizer
    from ..rollout import CoinFlip, tandem_rollout
    from ..verifier import verify_model_output

    checkpoint = conn.execute("SELECT path FROM checkpoints WHERE id = %s", (checkpoint_id,)).fetchone()
    if checkpoint is None:
        raise InvalidPayload(f"checkpoint {checkpoint_id} does not exist")
    junior_path = default_junior_path(conn, checkpoint_id)
    if p_junior > 0 and not junior_path:
        raise InvalidPayload(f"payload.pJunior > 0 needs a junior, but checkpoint {checkpoint_id} belongs to no run "
                             "or base model")
    rows = conn.execute("SELECT id, problem, answer FROM problems WHERE id = ANY(%s)", (problem_ids,)).fetchall()
    by_id = {r["id"]: r for r in rows}
    missing = [p for p in problem_ids if p not in by_id]
    if missing:
        raise InvalidPayload(f"unknown problem ids: {missing[:5]}")
    problems = [by_id[p] for p in problem_ids]

    senior, tokenizer = load_model_and_tokenizer(checkpoint["path"])
    junior = None
    if junior_path:
        try:
            check_same_tokenizer(tokenizer, load_tokenizer(junior_path), checkpoint["path"], junior_path)
        except IncompatibleJunior as e:
            raise InvalidPayload(str(e)) from None
        same = Path(junior_path).resolve() == Path(checkpoint["path"]).resolve()
        junior = senior if same else load_model(junior_path)
    settings = EvalSettings(k=1, p_junior=p_junior, temperature=temperature, max_new_tokens=max_new_tokens,
                            seed=seed, batch_size=TRACE_BATCH).validate()
    flags = token_flags(tokenizer, senior.config.vocab_size)
    progress(0.1, f"generating {len(problems)} traces")
    result = batched_rollout(
        lambda prompts, g: tandem_rollout(senior, junior if p_junior > 0 else None, tokenizer, prompts, 1,
                                          settings.generation(), CoinFlip(p_junior), "word", flags, g),
        [format_prompt(p["problem"]) for p in problems], 1, settings, next(senior.parameters()).device,
    )
    surprisal = [None] * len(problems)
    if junior is not None:
        progress(0.7, "junior surprisal")
        junior_logprobs = token_stats([junior], result.prompt_ids, result.completion_ids, batch_size=8).logprobs[0]
        surprisal = [word_surprisal(tokenizer, ids, lps) for ids, lps in zip(result.completion_ids, junior_logprobs)]
    trace_settings_json = trace_settings(None, "coin_flip" if p_junior > 0 else "solo", p_junior,
                                         "word" if p_junior > 0 else None, temperature, max_new_tokens, junior_path)
    verdicts = [verify_model_output(text, p["answer"]) for text, p in zip(result.texts, problems)]
    trace_ids = []
    with conn.transaction():
        for i, problem in enumerate(problems):
            trace_ids.append(insert_trace(
                conn, checkpoint_id=checkpoint_id, problem_id=problem["id"], text=result.texts[i],
                author_spans=result.author_spans(tokenizer, i), settings=trace_settings_json, seed=seed,
                verdict=verdicts[i], word_surprisal=surprisal[i],
            ))
        if on_stored is not None:
            on_stored(trace_ids)
    return trace_ids


def generate_traces_job(ctx) -> dict:
    args = _trace_arguments(ctx.job.payload)
    return {"traceIds": generate_traces(ctx.conn, progress=ctx.progress, **args)}
