"""The junior on a study's items (docs/studies.md "The junior on the study's items"): is the frozen junior a valid
proxy for people?

Job kind and payload (JSON):
  STUDY_JUNIOR  {"studyId": str}

Enqueued by GENERATE_STUDY_TRACES in the transaction that opens the study (`enqueue_study_junior`: one QUEUED job
per study at a time, and none when every item is done). For every non-live item with a prefix, the junior of the
item's condition checkpoint (`traces.default_junior_path`) starts where the participant starts: the formatted
prompt followed by prefix_text, exactly what the participant read. It draws k = studies.junior_samples
continuations at the study's temperature and max_new_tokens, seeded with the study's seed, through the path the
evaluation's handoff-fraction curve uses (`evaluate.continue_prefixes`; one condition's items in batches of
`traces.TRACE_BATCH`, the conditions sharing one random stream as the evaluation's suites do).

Judging: `verify_model_output(prefix_text + continuation)`, as the handoff-fraction curve judges the junior's
prefix + continuation. A participant's answer is judged by `verify_human_answer`, which reads a separate answer
field whole; the junior has no such field, and its answer is the single \\boxed{} answer of its text, which is
how every model output is judged. The prefix is part of that text because it is part of what the participant
continued. Consequence: a prefix that already holds the senior's \\boxed{} answer (a cut after the last line) is
judged correct only if the junior adds no second box, as in the evaluation's curve.

Each item gets junior_samples (k), junior_correct (how many of the k the verifier judged correct) and junior_model
(the junior's path). Idempotent: items that already have junior_samples are skipped, and an item whose prefix was
cut again meanwhile is not written (re-cutting clears its junior columns; studies.py). Live items keep NULL: they
have no fixed prefix. A failure fails this job only: the study stays as it is.
"""

from __future__ import annotations

from .payload import InvalidPayload, require
from .queue import enqueue
from .traces import TRACE_BATCH, default_junior_path


def enqueue_study_junior(conn, study_id: str) -> str | None:
    """One STUDY_JUNIOR job for the study, when a non-live item with a prefix has no junior result yet and no
    such job is QUEUED already (call inside the transaction that opens the study). Returns the job id or None."""
    pending = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM study_items i JOIN study_conditions c ON c.id = i.condition_id
                          WHERE i.study_id = %(id)s AND NOT c.live AND i.prefix_text IS NOT NULL
                            AND i.junior_samples IS NULL)
              AND NOT EXISTS (SELECT 1 FROM jobs WHERE kind = 'STUDY_JUNIOR' AND status = 'QUEUED'
                              AND study_id = %(id)s) AS due""",
        {"id": study_id},
    ).fetchone()["due"]
    if not pending:
        return None
    created_by = conn.execute("SELECT owner_id FROM studies WHERE id = %s", (study_id,)).fetchone()["owner_id"]
    return enqueue(conn, "STUDY_JUNIOR", {"studyId": study_id}, study_id=study_id, created_by_id=created_by)


def _pending_items(conn, study_id: str) -> list[dict]:
    return conn.execute(
        """SELECT i.id, i.prefix_text, i.junior_samples, c.id AS condition_id, c.name AS condition_name,
                  c.checkpoint_id, p.problem, p.answer
           FROM study_items i JOIN study_conditions c ON c.id = i.condition_id JOIN problems p ON p.id = i.problem_id
           WHERE i.study_id = %s AND NOT c.live AND i.prefix_text IS NOT NULL
           ORDER BY c.name, c.id, i.problem_id""",
        (study_id,),
    ).fetchall()


def junior_outcomes(junior, tokenizer, items: list[dict], *, k: int, seed: int, temperature: float,
                    max_new_tokens: int) -> list[int]:
    """How many of k continuations the verifier judged correct, per item ({problem, answer, prefix_text}): the
    junior continuing the formatted prompt followed by the item's prefix text, judged on prefix + continuation."""
    from ..data import format_prompt
    from ..evaluate import EvalSettings, continue_prefixes
    from ..verifier import verify_model_output

    settings = EvalSettings(k=k, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed,
                            batch_size=TRACE_BATCH).validate()
    # The prompt's tokens are those the senior was given; the prefix is encoded on its own, as text the participant
    # read (its characters, not the senior's tokens).
    rows = [tokenizer.encode(format_prompt(item["problem"])) + tokenizer.encode(item["prefix_text"],
                                                                               add_special_tokens=False)
            for item in items for _ in range(k)]
    result = continue_prefixes(junior, tokenizer, rows, settings)
    correct = []
    for n, item in enumerate(items):
        texts = result.texts[n * k:(n + 1) * k]
        correct.append(int(sum(verify_model_output(item["prefix_text"] + text, item["answer"]).reward
                               for text in texts)))
    return correct


def study_junior_job(ctx) -> dict:
    from ..models import load_model_and_tokenizer

    study_id = require(ctx.job.payload, "studyId", str)
    study = ctx.conn.execute(
        "SELECT id, seed, temperature, max_new_tokens, junior_samples FROM studies WHERE id = %s", (study_id,)
    ).fetchone()
    if study is None:
        raise InvalidPayload(f"study {study_id} does not exist")
    k = study["junior_samples"]
    if k < 1:
        raise InvalidPayload(f"study {study_id}: junior_samples must be >= 1, got {k}")
    items = _pending_items(ctx.conn, study_id)
    done = [i for i in items if i["junior_samples"] is not None]
    by_condition: dict[str, list[dict]] = {}
    for item in items:
        if item["junior_samples"] is None:
            by_condition.setdefault(item["condition_id"], []).append(item)
    juniors = {}  # condition id -> the junior's path; checked before any generation
    for condition_id, pending in by_condition.items():
        path = default_junior_path(ctx.conn, pending[0]["checkpoint_id"])
        if not path:
            raise InvalidPayload(f"study {study_id}: condition {pending[0]['condition_name']}'s checkpoint "
                                 f"{pending[0]['checkpoint_id']} has no junior (no run and no base model)")
        juniors[condition_id] = path

    loaded: dict[str, tuple] = {}  # conditions usually share their junior (the base model): load it once
    filled = 0
    for n, (condition_id, pending) in enumerate(by_condition.items()):
        name, path = pending[0]["condition_name"], juniors[condition_id]
        ctx.progress(n / len(by_condition), f"condition {name}: the junior continues {len(pending)} items, "
                                            f"{k} samples each")
        if path not in loaded:
            loaded[path] = load_model_and_tokenizer(path)
        correct = junior_outcomes(*loaded[path], pending, k=k, seed=study["seed"], temperature=study["temperature"],
                                  max_new_tokens=study["max_new_tokens"])
        with ctx.conn.transaction(), ctx.conn.cursor() as cur:
            for item, c in zip(pending, correct):
                # Written only if the item still has the prefix the junior continued and no result.
                cur.execute(
                    """UPDATE study_items SET junior_samples = %s, junior_correct = %s, junior_model = %s
                       WHERE id = %s AND junior_samples IS NULL AND prefix_text = %s""",
                    (k, c, path, item["id"], item["prefix_text"]),
                )
                filled += cur.rowcount
        ctx.log(f"condition {name}: {sum(correct)} of {k * len(pending)} junior samples correct")
    return {"items": filled, "alreadyDone": len(done), "samples": k}
