"""Study exports written by the worker (DESIGN.md section 6; docs/studies.md, "Analysis bundle").

Job kind and payload (JSON):
  EXPORT_STUDY  {"exportId": str, "codebook": [{"name": str, "type": str, "description": str}] (BUNDLE only)}

EXPORT_STUDY writes the study_response_rows view (one row per response) into study_exports.content, with the same
column rules as the web app's CSV and JSONL exports (`export_columns`), as
- PARQUET: the rows as a Parquet file;
- BUNDLE: a zip for a paper's supplement: responses.csv (the same Arrow table as the Parquet export, as CSV),
  codebook.json and codebook.md (the codebook the web app sends), preregistration.json and preregistration.md (the
  frozen snapshot, if the study has one), analysis.py and analysis.R (the dashboard's mixed-effects model, which
  read responses.csv), and README.md (what each file is, the preregistration's SHA-256, how to run the scripts).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from psycopg.postgres import types as pg_types
from psycopg.rows import tuple_row

from .payload import InvalidPayload, require

# ---------------------------------------------------------------- EXPORT_STUDY

EXPORT_BATCH = 1000  # view rows per fetch and per Parquet row group: memory stays flat in the number of rows
ID_MODES = ("raw", "hashed")
RAW_ID, HASHED_ID, URL_PARAMS = "participant_external_id", "participant_external_id_hash", "url_params"
PUBLIC_URL_PARAMS = "url_params_public"  # url_params less the identifying parameter (the study's first one)
# view columns that stand in for another when id_mode is "hashed" and are never exported under their own name
HASHED_STAND_INS = {RAW_ID: HASHED_ID, URL_PARAMS: PUBLIC_URL_PARAMS}


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
    columns in order, except that when id_mode is "hashed" participant_external_id carries the salted hash and
    url_params carries url_params_public (the parameters less the identifying one: SESSION_ID is no personal data);
    participant_external_id_hash and url_params_public are never exported under their own names. The web app's
    CSV/JSONL follow the same rule (apps/web/src/server/studies/export.ts exportSourceColumn)."""
    names = [c.name for c in description]
    columns = []
    for i, c in enumerate(description):
        if c.name in HASHED_STAND_INS.values():
            continue
        source = names.index(HASHED_STAND_INS[c.name]) if id_mode == "hashed" and c.name in HASHED_STAND_INS else i
        info = pg_types.get(description[source].type_code)
        columns.append((c.name, source, info.name if info else str(description[source].type_code)))
    return columns


def arrow_batches(cur, id_mode: str) -> tuple[Any, Iterator[Any]]:
    """The executed cursor's rows as Arrow: the schema (from the cursor's column types, so a study without responses
    still has every column) and its record batches, one per fetched batch. Parquet and the bundle's CSV both write
    these, so they follow one column rule."""
    import pyarrow as pa

    columns = export_columns(cur.description, id_mode)
    types = [_column_type(pa, name, type_name) for name, _, type_name in columns]
    schema = pa.schema([pa.field(name, arrow_type) for (name, _, _), (arrow_type, _) in zip(columns, types)])

    def batches():
        while rows := cur.fetchmany(EXPORT_BATCH):
            arrays = [pa.array([convert(row[source]) for row in rows], type=arrow_type)
                      for (_, source, _), (arrow_type, convert) in zip(columns, types)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return schema, batches()


def _write_batches(open_writer, schema, batches: Iterator[Any]) -> tuple[bytes, int]:
    """Batches written through an Arrow writer (Parquet's or CSV's) into memory: the bytes and the number of rows."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    count = 0
    with open_writer(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            count += batch.num_rows
    return sink.getvalue().to_pybytes(), count


def write_parquet(cur, id_mode: str) -> tuple[bytes, int]:
    """The executed cursor's rows as a Parquet file (one row group per fetched batch) and their number."""
    import pyarrow.parquet as pq

    return _write_batches(pq.ParquetWriter, *arrow_batches(cur, id_mode))


def write_csv(schema, batches: Iterator[Any]) -> tuple[bytes, int]:
    """arrow_batches' rows as CSV (pyarrow.csv: a header row; strings quoted; an empty field is null; booleans
    true/false; timestamps ISO 8601 in UTC) and their number."""
    import pyarrow.csv as pa_csv

    return _write_batches(pa_csv.CSVWriter, schema, batches)


# ---------------------------------------------------------------- BUNDLE

BUNDLE_SCRIPTS = ("analysis.py", "analysis.R")


def check_codebook(value) -> list[dict] | None:
    """The payload's codebook: a list of {name, type, description} strings (None when absent)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidPayload(f"payload.codebook must be a list of {{name, type, description}}, got {type(value).__name__}")
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("name", "type", "description")):
            raise InvalidPayload(f"payload.codebook[{i}] must have string name, type and description, got {entry!r}")
    return [{k: entry[k] for k in ("name", "type", "description")} for entry in value]


def codebook_for(columns: list[tuple[str, str]], codebook: list[dict] | None) -> list[dict]:
    """One entry per exported column, in the CSV's order: the codebook's, or (a column it does not describe) the
    column's Arrow type and a note saying so."""
    described = {entry["name"]: entry for entry in codebook or []}
    return [described.get(name, {"name": name, "type": arrow_type,
                                 "description": "(not described by the codebook this export was made with)"})
            for name, arrow_type in columns]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_codebook_markdown(study_name: str, entries: list[dict]) -> str:
    lines = [f"# Codebook: {study_name}", "", "One row of responses.csv per response. Columns in file order.", "",
             "| column | type | description |", "| --- | --- | --- |"]
    lines += [f"| `{e['name']}` | {_md_cell(e['type'])} | {_md_cell(e['description'])} |" for e in entries]
    return "\n".join(lines) + "\n"


def render_readme(study: dict, export: dict, rows: int, has_preregistration: bool) -> str:
    sha = study["preregistration_sha256"]
    ids = ("participant_external_id holds the ids as given (e.g. Prolific PIDs)" if export["id_mode"] == "raw" else
           "participant_external_id holds a salted SHA-256 of each id, and url_params holds the link's parameters "
           "less the identifying one (e.g. STUDY_ID, SESSION_ID): no raw id is in this bundle")
    files = [("responses.csv", f"{rows} rows, one per response (the study_response_rows view, as the Parquet "
                               "export); empty field = null; true/false; times in UTC"),
             ("codebook.json, codebook.md", "what each column of responses.csv means, in file order")]
    if has_preregistration:
        files.append(("preregistration.json, preregistration.md", "the design as frozen when the study opened "
                      "(canonical JSON; its SHA-256 is below) and a readable rendering of it"))
    files += [("analysis.py", "the dashboard's mixed-effects model (Python: numpy, pandas, scipy, statsmodels)"),
              ("analysis.R", "the same model with lme4::glmer (R)"),
              ("README.md", "this file")]
    lines = [f"# {study['name']}: analysis bundle", "",
             f"- study id: `{study['id']}`",
             f"- exported: {export['created_at'].strftime('%Y-%m-%d %H:%M:%S')} UTC (export `{export['id']}`)",
             f"- participant ids: {export['id_mode']}: {ids}"]
    if sha:
        lines.append(f"- preregistration SHA-256: `{sha}` (of the bytes of preregistration.json; check with "
                     "`sha256sum preregistration.json`)")
    else:
        lines.append("- preregistration: none frozen for this study (it opened before snapshots existed, or has "
                     "not opened)")
    lines += ["", "## Files", "", "| file | what it is |", "| --- | --- |"]
    lines += [f"| {name} | {what} |" for name, what in files]
    lines += ["", "## Reproduce the dashboard's model", "",
              "The model: correct ~ condition + (1 | participant) + (1 | problem), logistic, fitted by maximum "
              "likelihood with the Laplace approximation, on responses with a verdict from participants not "
              "excluded. The reference condition is the first by name whose algorithm is GRPO, else the first by "
              "name. Accuracy per condition is the probability of a correct answer at random effects 0 (the "
              "typical participant on the typical problem), with a 95% Wald interval; effects are odds ratios "
              "against the reference.", "",
              "```sh", "pip install numpy pandas scipy statsmodels",
              "python analysis.py responses.csv          # a table: the dashboard's numbers",
              "python analysis.py responses.csv --json   # the result as the dashboard stores it", "```", "",
              "```sh", "Rscript -e 'install.packages(c(\"lme4\", \"emmeans\"))'   # emmeans is optional",
              "Rscript analysis.R responses.csv", "```", "",
              "analysis.R fits the same model by the same criterion with lme4::glmer, so its estimates agree with "
              "analysis.py's to about three decimals (the two optimisers stop at slightly different points), not "
              "to the last digit. Its standard errors are up to a few percent smaller: glmer's take the random-effect "
              "SDs as known, analysis.py's also carry the SDs' uncertainty (docs/statistics.md in Tandem Lab).", ""]
    return "\n".join(lines)


def bundle_script(name: str) -> bytes:
    """analysis.py or analysis.R as shipped with the worker (tandem/analysis)."""
    return resources.files("tandem.analysis").joinpath(name).read_bytes()


def write_bundle(cur, study: dict, export: dict, codebook: list[dict] | None) -> tuple[bytes, int]:
    """The analysis bundle (zip) of the executed cursor's rows, and their number."""
    schema, batches = arrow_batches(cur, export["id_mode"])
    csv_bytes, count = write_csv(schema, batches)
    entries = codebook_for([(f.name, str(f.type)) for f in schema], codebook)
    files: list[tuple[str, bytes]] = [
        ("README.md", render_readme(study, export, count, study["preregistration_json"] is not None).encode()),
        ("responses.csv", csv_bytes),
        ("codebook.json", (json.dumps(entries, indent=2, ensure_ascii=False) + "\n").encode()),
        ("codebook.md", render_codebook_markdown(study["name"], entries).encode()),
    ]
    if study["preregistration_json"] is not None:
        files.append(("preregistration.json", study["preregistration_json"].encode("utf-8")))
        files.append(("preregistration.md", (study["preregistration_markdown"] or "").encode("utf-8")))
    files += [(name, bundle_script(name)) for name in BUNDLE_SCRIPTS]
    sink = io.BytesIO()
    stamp = export["created_at"].timetuple()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, content)
    return sink.getvalue(), count


# ---------------------------------------------------------------- EXPORT_STUDY

WRITTEN_BY_THE_WORKER = ("PARQUET", "BUNDLE")


def export_study_job(ctx) -> dict:
    export_id = require(ctx.job.payload, "exportId", str)
    export = ctx.conn.execute(
        "SELECT id, study_id, format::text AS format, id_mode, created_at FROM study_exports WHERE id = %s",
        (export_id,)).fetchone()
    if export is None:
        raise InvalidPayload(f"study export {export_id} does not exist")
    if export["format"] not in WRITTEN_BY_THE_WORKER:
        raise InvalidPayload(f"study export {export_id}: format {export['format']} is written by the web app; "
                             "the worker writes PARQUET and BUNDLE")
    if export["id_mode"] not in ID_MODES:
        raise InvalidPayload(f"study export {export_id}: id_mode must be 'raw' or 'hashed', got {export['id_mode']!r}")
    codebook = check_codebook(ctx.job.payload.get("codebook"))
    study = ctx.conn.execute(
        """SELECT id, name, preregistration_json, preregistration_markdown, preregistration_sha256
           FROM studies WHERE id = %s""", (export["study_id"],)).fetchone()
    ctx.progress(0.1, "reading responses")
    with ctx.conn.transaction():  # a server-side cursor lives in a transaction
        with ctx.conn.cursor(name=f"export_{export_id}", row_factory=tuple_row) as cur:
            cur.itersize = EXPORT_BATCH
            cur.execute("SELECT * FROM study_response_rows WHERE study_id = %s "
                        "ORDER BY participant_ordinal, task_position", (export["study_id"],))
            if export["format"] == "BUNDLE":
                content, count = write_bundle(cur, study, export, codebook)
            else:
                content, count = write_parquet(cur, export["id_mode"])
    ctx.conn.execute(
        "UPDATE study_exports SET content = %s, row_count = %s, status = 'READY', error = NULL WHERE id = %s",
        (content, count, export_id),
    )
    return {"exportId": export_id, "rows": count, "bytes": len(content)}
