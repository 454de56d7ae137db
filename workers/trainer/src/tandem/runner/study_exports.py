"""Study exports written by the worker (DESIGN.md section 6).

Job kind and payload (JSON):
  EXPORT_STUDY  {"exportId": str}

EXPORT_STUDY writes the study_response_rows view (one row per response) as Parquet into study_exports.content,
with the same column rules as the web app's CSV and JSONL exports (`export_columns`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from psycopg.postgres import types as pg_types
from psycopg.rows import tuple_row

from .payload import InvalidPayload, require

# ---------------------------------------------------------------- EXPORT_STUDY

EXPORT_BATCH = 1000  # view rows per fetch and per Parquet row group: memory stays flat in the number of rows
ID_MODES = ("raw", "hashed")
RAW_ID, HASHED_ID, URL_PARAMS = "participant_external_id", "participant_external_id_hash", "url_params"


def json_text(value: Any) -> str | None:
    """A JSON column as text the way the web app's CSV writes it (JSON.stringify: Postgres's key order, no spaces,
    non-ASCII kept)."""
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _utc(value: datetime | None) -> datetime | None:
    """Prisma writes timestamp (without time zone) columns in UTC; say so."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _same(value):
    return value


def _column_type(pa, name: str, type_name: str) -> tuple[Any, Callable[[Any], Any]]:
    """The Arrow type of a view column by its Postgres type, and how a value is converted to it."""
    if type_name in ("text", "varchar", "bpchar", "name"):
        return pa.string(), _same
    if type_name in ("int2", "int4", "int8"):
        return pa.int64(), _same
    if type_name in ("float4", "float8", "numeric"):
        return pa.float64(), lambda v: None if v is None else float(v)
    if type_name == "bool":
        return pa.bool_(), _same
    if type_name in ("timestamp", "timestamptz"):
        return pa.timestamp("us", tz="UTC"), _utc
    if type_name in ("json", "jsonb"):
        return pa.string(), json_text
    raise TypeError(f"study_response_rows.{name} has type {type_name}, which the Parquet export does not map")


def export_columns(description, id_mode: str) -> list[tuple[str, int, str]]:
    """(output name, index of the view column it is read from, Postgres type name) per exported column: the view's
    columns in order, except that participant_external_id carries the salted hash when id_mode is "hashed" (and
    url_params, which repeats the raw ids, is empty then; source index -1), and participant_external_id_hash itself
    is never exported. The web app's CSV/JSONL follow the same rules (apps/web/src/server/studies/export.ts)."""
    names = [c.name for c in description]
    columns = []
    for i, c in enumerate(description):
        if c.name == HASHED_ID:
            continue
        if c.name == URL_PARAMS and id_mode == "hashed":  # it repeats the raw ids: empty, as in the web exports
            columns.append((c.name, -1, "jsonb"))
            continue
        source = names.index(HASHED_ID) if c.name == RAW_ID and id_mode == "hashed" else i
        info = pg_types.get(description[source].type_code)
        columns.append((c.name, source, info.name if info else str(description[source].type_code)))
    return columns


def write_parquet(cur, id_mode: str) -> tuple[bytes, int]:
    """The executed cursor's rows as a Parquet file (one row group per fetched batch) and their number. The
    schema comes from the cursor's column types, so a study without responses still gives every column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = export_columns(cur.description, id_mode)
    types = [_column_type(pa, name, type_name) for name, _, type_name in columns]
    schema = pa.schema([pa.field(name, arrow_type) for (name, _, _), (arrow_type, _) in zip(columns, types)])
    sink = pa.BufferOutputStream()
    count = 0
    with pq.ParquetWriter(sink, schema) as writer:
        while rows := cur.fetchmany(EXPORT_BATCH):
            arrays = [pa.array([None if source < 0 else convert(row[source]) for row in rows], type=arrow_type)
                      for (_, source, _), (arrow_type, convert) in zip(columns, types)]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            count += len(rows)
    return sink.getvalue().to_pybytes(), count


def export_study_job(ctx) -> dict:
    export_id = require(ctx.job.payload, "exportId", str)
    export = ctx.conn.execute("SELECT study_id, format::text AS format, id_mode FROM study_exports WHERE id = %s",
                              (export_id,)).fetchone()
    if export is None:
        raise InvalidPayload(f"study export {export_id} does not exist")
    if export["format"] != "PARQUET":
        raise InvalidPayload(f"study export {export_id}: format {export['format']} is written by the web app; "
                             "the worker writes PARQUET")
    if export["id_mode"] not in ID_MODES:
        raise InvalidPayload(f"study export {export_id}: id_mode must be 'raw' or 'hashed', got {export['id_mode']!r}")
    ctx.progress(0.1, "reading responses")
    with ctx.conn.transaction():  # a server-side cursor lives in a transaction
        with ctx.conn.cursor(name=f"export_{export_id}", row_factory=tuple_row) as cur:
            cur.itersize = EXPORT_BATCH
            cur.execute("SELECT * FROM study_response_rows WHERE study_id = %s "
                        "ORDER BY participant_ordinal, task_position", (export["study_id"],))
            content, count = write_parquet(cur, export["id_mode"])
    ctx.conn.execute(
        "UPDATE study_exports SET content = %s, row_count = %s, status = 'READY', error = NULL WHERE id = %s",
        (content, count, export_id),
    )
    return {"exportId": export_id, "rows": count, "bytes": len(content)}
