"""The mixed-effects model of a study, fitted by the worker (docs/statistics.md, "Mixed-effects model of a study").

Job kind and payload (JSON):
  STUDY_ANALYSIS  {"studyId": str}

STUDY_ANALYSIS reads the study's rows of study_response_rows that the model sees (a verdict, participant not
excluded), fits tandem.analysis.analysis.fit_mixed_model (the same file as analysis.py in the analysis bundle, so
the bundle reproduces the stored numbers) and inserts one study_analyses row: the result, or (too few data) the
error saying why; the job succeeds either way. It is enqueued after a VERIFY_RESPONSES job that verified responses
of the study, and on demand by the web app (studies.refitModel); at most one is QUEUED per study
(`enqueue_study_analysis`).
"""

from __future__ import annotations

import math

from psycopg.types.json import Jsonb

from ..analysis.analysis import NotEnoughData, fit_mixed_model, load_rows
from . import queue
from .payload import InvalidPayload, require

VIEW_COLUMNS = ("participant_id", "problem_id", "condition_name", "algorithm", "correct", "excluded")


def enqueue_study_analysis(conn, study_id: str, created_by_id: str | None = None) -> str | None:
    """Enqueue a STUDY_ANALYSIS job for the study unless one is already QUEUED (running ones do not count: they
    may have read the responses before the newest). Returns the new job's id, or None. The study row is locked
    first, as the web app's refit does (apps/web/src/server/studies/dashboard.ts, enqueueStudyAnalysis), so two
    enqueuers at once queue one job."""
    with conn.transaction():
        conn.execute("SELECT id FROM studies WHERE id = %s FOR UPDATE", (study_id,))
        queued = conn.execute(
            "SELECT id FROM jobs WHERE kind = 'STUDY_ANALYSIS' AND status = 'QUEUED' AND study_id = %s LIMIT 1",
            (study_id,),
        ).fetchone()
        if queued is not None:
            return None
        return queue.enqueue(conn, "STUDY_ANALYSIS", {"studyId": study_id}, study_id=study_id,
                             created_by_id=created_by_id)


def enqueue_for_responses(conn, response_ids: list[str]) -> list[str]:
    """A STUDY_ANALYSIS per study that the given (now verified) responses belong to; returns the new job ids."""
    studies = conn.execute(
        """SELECT DISTINCT pa.study_id FROM responses r JOIN assignments a ON a.id = r.assignment_id
           JOIN participants pa ON pa.id = a.participant_id WHERE r.id = ANY(%s) ORDER BY pa.study_id""",
        (response_ids,),
    ).fetchall()
    return [job for s in studies if (job := enqueue_study_analysis(conn, s["study_id"])) is not None]


def _json_safe(value):
    """JSON has no NaN or infinity: such a number (an estimate without a finite value) is stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def study_analysis_job(ctx) -> dict:
    import pandas as pd

    study_id = require(ctx.job.payload, "studyId", str)
    if ctx.conn.execute("SELECT 1 FROM studies WHERE id = %s", (study_id,)).fetchone() is None:
        raise InvalidPayload(f"study {study_id} does not exist")
    ctx.progress(0.1, "reading responses")
    rows = ctx.conn.execute(
        f"""SELECT {', '.join(VIEW_COLUMNS)} FROM study_response_rows
            WHERE study_id = %s AND correct IS NOT NULL AND NOT excluded
            ORDER BY participant_ordinal, task_position""",
        (study_id,),
    ).fetchall()
    model_rows = load_rows(pd.DataFrame(rows, columns=list(VIEW_COLUMNS)))
    ctx.progress(0.3, f"fitting the mixed-effects model to {len(model_rows)} responses")
    result, error = None, None
    try:
        result = _json_safe(fit_mixed_model(model_rows))
    except NotEnoughData as e:
        error = str(e)
    analysis_id = queue.new_id("sa")
    ctx.conn.execute(
        "INSERT INTO study_analyses (id, study_id, response_count, result, error) VALUES (%s, %s, %s, %s, %s)",
        (analysis_id, study_id, len(model_rows), Jsonb(result) if result is not None else None, error),
    )
    return {"studyAnalysisId": analysis_id, "responses": len(model_rows)} | ({"error": error} if error else {})
