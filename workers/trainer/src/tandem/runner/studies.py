"""Handoff studies (DESIGN.md section 6): the senior traces participants continue.

Job kinds and payloads (JSON):
  GENERATE_STUDY_TRACES  {"studyId": str}

GENERATE_STUDY_TRACES runs after launch, which set the study GENERATING and made one study_items row per
(condition, problem). Each item gets a SOLO trace of its condition's checkpoint (the study's seed, temperature
and max_new_tokens; `traces.generate_traces`, so the trace has its verifier result and settings like any
other), and that trace cut at the study's handoff rule (`boundaries.handoff_prefix`): prefix_text is what the
participant reads, handoff_step its number of steps. A trace is linked to its item in the transaction that stores
it, so a retry generates only what is missing.
Then one transaction cuts every item, opens the study, freezes its preregistration (`preregistration.freeze`:
once; a retry keeps it) and enqueues the junior on the study's items (`study_junior.enqueue_study_junior`). An
item whose prefix changes when cut again loses its junior result, so the junior continues the new prefix.
A LIVE condition's items get no trace: the senior writes while the participant watches (workers/live, from the
checkpoint's ONNX export). The job exports each live condition's checkpoint that has no export yet
(`catalog.export_checkpoint`, checked against PyTorch), so a launched live study always has one.
(EXPORT_STUDY lives in study_exports.py, STUDY_JUNIOR in study_junior.py.)
"""

from __future__ import annotations

from collections.abc import Callable

from ..boundaries import check_handoff_rule, handoff_prefix
from .catalog import export_checkpoint, onnx_export_of
from .payload import InvalidPayload, require
from .preregistration import freeze
from .study_junior import enqueue_study_junior
from .traces import generate_traces

# ---------------------------------------------------------------- GENERATE_STUDY_TRACES


def _study(conn, study_id: str) -> dict:
    """The study's generation settings, checked: a rule or setting that does not fit is the researcher's input."""
    study = conn.execute(
        "SELECT id, status, seed, temperature, max_new_tokens, handoff_rule FROM studies WHERE id = %s", (study_id,)
    ).fetchone()
    if study is None:
        raise InvalidPayload(f"study {study_id} does not exist")
    try:
        study["handoff_rule"] = check_handoff_rule(study["handoff_rule"])
    except ValueError as e:
        raise InvalidPayload(f"study {study_id}: {e}") from None
    if not 0.0 <= study["temperature"] <= 100.0:
        raise InvalidPayload(f"study {study_id}: temperature must be between 0 and 100, got {study['temperature']}")
    if study["max_new_tokens"] < 1:
        raise InvalidPayload(f"study {study_id}: max_new_tokens must be >= 1, got {study['max_new_tokens']}")
    return study


def _link_traces(conn, item_ids: list[str]) -> Callable[[list[str]], None]:
    """Sets each item's trace (one trace id per item id, in order), unless the item already has one."""

    def link(trace_ids: list[str]):
        with conn.cursor() as cur:
            cur.executemany("UPDATE study_items SET trace_id = %s WHERE id = %s AND trace_id IS NULL",
                            list(zip(trace_ids, item_ids)))

    return link


def generate_study_traces_job(ctx) -> dict:
    study_id = require(ctx.job.payload, "studyId", str)
    study = _study(ctx.conn, study_id)
    items = ctx.conn.execute(
        """SELECT i.id, i.problem_id, i.trace_id, c.id AS condition_id, c.name AS condition_name, c.checkpoint_id,
                  c.live
           FROM study_items i JOIN study_conditions c ON c.id = i.condition_id
           WHERE i.study_id = %s ORDER BY c.name, c.id, i.problem_id""",
        (study_id,),
    ).fetchall()
    if not items:
        raise InvalidPayload(f"study {study_id} has no items (launching a study makes one per condition and problem)")

    live = {i["checkpoint_id"]: i["condition_name"] for i in items if i["live"]}
    for checkpoint_id, name in live.items():
        if onnx_export_of(ctx.conn, checkpoint_id) is None:
            ctx.progress(0.0, f"condition {name} is live: exporting its checkpoint to ONNX")
            with ctx.conn.transaction():
                export_checkpoint(ctx.conn, checkpoint_id, ctx.runs_dir, log=ctx.log)
    total = len(items)
    items = [i for i in items if not i["live"]]

    todo: dict[str, list[dict]] = {}  # condition id -> its items without a trace
    for item in items:
        if item["trace_id"] is None:
            todo.setdefault(item["condition_id"], []).append(item)
    generated = 0
    for n, pending in enumerate(todo.values()):
        name = pending[0]["condition_name"]

        def progress(fraction: float, message: str, n=n, name=name):
            ctx.progress(0.9 * (n + fraction) / len(todo), f"condition {name}: {message}")

        generated += len(generate_traces(
            ctx.conn, pending[0]["checkpoint_id"], [i["problem_id"] for i in pending], seed=study["seed"],
            temperature=study["temperature"], max_new_tokens=study["max_new_tokens"], p_junior=0.0,
            progress=progress, on_stored=_link_traces(ctx.conn, [i["id"] for i in pending]),
        ))

    ctx.progress(0.95, f"cutting {len(items)} traces at the handoff")
    with ctx.conn.transaction():
        traces = ctx.conn.execute(
            """SELECT i.id, t.text FROM study_items i JOIN traces t ON t.id = i.trace_id
               JOIN study_conditions c ON c.id = i.condition_id
               WHERE i.study_id = %s AND NOT c.live ORDER BY i.id FOR UPDATE OF i""",
            (study_id,),
        ).fetchall()
        if len(traces) != len(items):
            raise RuntimeError(f"study {study_id}: {len(items) - len(traces)} of {len(items)} items have no trace")
        cuts = []
        for t in traces:
            prefix, step = handoff_prefix(t["text"], study["handoff_rule"])
            cuts.append({"id": t["id"], "prefix": prefix, "step": step})
        with ctx.conn.cursor() as cur:  # a changed prefix voids the junior's result on the old one
            cur.executemany(
                """UPDATE study_items SET prefix_text = %(prefix)s, handoff_step = %(step)s,
                          junior_samples = CASE WHEN prefix_text = %(prefix)s THEN junior_samples END,
                          junior_correct = CASE WHEN prefix_text = %(prefix)s THEN junior_correct END,
                          junior_model = CASE WHEN prefix_text = %(prefix)s THEN junior_model END
                   WHERE id = %(id)s""",
                cuts,
            )
        ctx.conn.execute(
            """UPDATE studies SET status = 'OPEN', opened_at = now(), generation_error = NULL
               WHERE id = %s AND status = 'GENERATING'""",
            (study_id,),
        )
        freeze(ctx.conn, study_id)
        enqueue_study_junior(ctx.conn, study_id)
    result = {"traces": generated, "items": total}
    return result | {"liveConditions": len(live)} if live else result
