"""The study's preregistration snapshot, frozen when the study opens (docs/studies.md "Preregistration snapshot").

At launch the web app writes studies.preregistration_draft: the design as it defines it (study settings, conditions,
problems, handoff rule, assignment rule, exclusion rules, attention checks, outcomes, pay, power plan, planned
analysis). `freeze`, called by GENERATE_STUDY_TRACES in the transaction that opens the study, adds what only the
opened study knows, from the database:
  conditions  per condition its checkpoint's checkpointSha256 (sha256 of its weights), checkpointStep, runId,
              runName, algorithm (null for a base model's own checkpoint), over the draft's entry of that name;
  problems    [{id, externalId}] of the study's items;
  items       [{condition, problemId, traceId, handoffStep, prefixSha256}] (live items: nulls; prefixSha256 is
              the sha256 of the prefix text the participant reads);
  frozenAt    the opening transaction's time (ISO 8601, UTC);
  designFrom  "draft", or "database" for a study launched without a draft (before drafts existed, or rows
              inserted directly), whose design part is read from the study's columns.
It stores preregistration_json = `canonical_json(snapshot)`, preregistration_sha256 = sha256 hex of that text's
UTF-8 bytes, and preregistration_markdown = `render_markdown(snapshot)`. Frozen once: a study that has a snapshot
keeps it (a retry, or items generated again later, never rewrite it).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timezone
from typing import Any

from .payload import InvalidPayload

# ---------------------------------------------------------------- pure functions


def canonical_json(obj: Any) -> str:
    """The one text of a JSON value: keys sorted, no whitespace, UTF-8 characters as they are; NaN is refused."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def design_from_database(study: dict, problems: list[dict]) -> dict:
    """The design part of a snapshot for a study without a draft: the study's own columns, in the draft's shape."""
    return {
        "version": 1,
        "study": {"id": study["id"], "name": study["name"], "seed": study["seed"],
                  "tasksPerParticipant": study["tasks_per_participant"], "timeLimitSeconds": study["time_limit_s"],
                  "sessionTimeLimitSeconds": study["session_time_limit_s"], "temperature": study["temperature"],
                  "maxNewTokens": study["max_new_tokens"], "juniorSamples": study["junior_samples"],
                  "minSecondsPerTask": study["min_seconds_per_task"], "maxParticipants": study["max_participants"]},
        "conditions": [],
        "problems": problems,
        "handoffRule": study["handoff_rule"],
        "assignment": {"rule": study["assignment_rule"], "refillDropouts": study["refill_dropouts"]},
        "exclusions": [],
        "attentionChecks": study["attention_checks"],
        "outcomes": {"completed": {"code": study["completion_code"], "redirectUrl": study["redirect_url"]},
                     "screenedOut": {"code": study["screened_out_code"],
                                     "redirectUrl": study["screened_out_redirect_url"]},
                     "timedOut": {"code": study["timed_out_code"], "redirectUrl": study["timed_out_redirect_url"]}},
        "pay": {"currency": study["currency"], "basePayCents": study["base_pay_cents"],
                "bonusPerCorrectCents": study["bonus_per_correct_cents"], "bonusCapCents": study["bonus_cap_cents"]},
        "powerPlan": study["power_plan"],
        "analysis": None,
    }


def build_snapshot(design: dict, design_from: str, conditions: list[dict], problems: list[dict], items: list[dict],
                   frozen_at: str) -> dict:
    """The snapshot: the design (the web's draft, or `design_from_database`) with the database's conditions (each
    over the design's entry of the same name), items and freezing time. The design's problems (in launch's order)
    stay when they are exactly the items' problems; otherwise the database's replace them."""
    drafted = {c.get("name"): c for c in design.get("conditions") or [] if isinstance(c, dict)}
    designed = design.get("problems")
    same = isinstance(designed, list) and all(isinstance(p, dict) for p in designed) and \
        sorted(p.get("id") or "" for p in designed) == sorted(p["id"] for p in problems)
    return {
        **design,
        "conditions": [{**drafted.get(c["name"], {}), **c} for c in conditions],
        "problems": designed if same else problems,
        "items": items,
        "frozenAt": frozen_at,
        "designFrom": design_from,
    }


def _cell(value: Any) -> str:
    """A Markdown table cell: — for nothing, pipes escaped, one line."""
    if value is None or value == "":
        return "—"
    text = value if isinstance(value, str) else canonical_json(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)]


def _bullets(value: Any, depth: int = 0) -> list[str]:
    """Any JSON value as a Markdown list: objects as `key: value`, nested values indented."""
    pad = "  " * depth
    if isinstance(value, dict):
        lines = []
        for key, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines += [f"{pad}- {key}:", *_bullets(v, depth + 1)]
            else:
                lines.append(f"{pad}- {key}: {_cell(v)}")
        return lines
    if isinstance(value, list):
        lines = []
        for v in value:
            if isinstance(v, (dict, list)) and v:  # the entry's first line on its own bullet, the rest under it
                first, *rest = _bullets(v, depth + 1)
                lines += [f"{pad}- {first.lstrip()[2:]}", *rest]
            else:
                lines.append(f"{pad}- {_cell(v)}")
        return lines
    return [f"{pad}- {_cell(value)}"]


def handoff_rule_text(rule: Any) -> str:
    """The handoff rule in words (boundaries.handoff_steps_kept)."""
    if isinstance(rule, dict) and rule.get("kind") == "step":
        return (f"After step {rule.get('k')}: the participant reads the first min({rule.get('k')}, s) steps (lines) "
                "of the senior's s-step solo trace and continues from there.")
    if isinstance(rule, dict) and rule.get("kind") == "fraction":
        return (f"Fraction {rule.get('f')}: the participant reads the first ⌊{rule.get('f')}·s + ½⌋ steps (lines) "
                "of the senior's s-step solo trace and continues from there.")
    return f"As recorded: {_cell(rule)}"


def _money(cents: Any, currency: str, none: str = "—") -> str:
    return none if cents is None else f"{cents / 100:.2f} {currency}"


def render_markdown(snapshot: dict) -> str:
    """The snapshot for people to read; the JSON text (`canonical_json`) is what the SHA-256 names."""
    study = snapshot.get("study") or {}
    sha = sha256_hex(canonical_json(snapshot))
    lines = [f"# Preregistration: {study.get('name', '')}".rstrip(), "",
             f"SHA-256 of preregistration.json (its UTF-8 bytes, canonical JSON): `{sha}`. "
             f"Frozen {snapshot.get('frozenAt')} when the study opened; design from the {snapshot.get('designFrom')}.",
             "", "## Study", "", *_bullets(study), "", "## Conditions", ""]
    lines += _table(["condition", "checkpoint", "step", "run", "algorithm", "live", "checkpoint SHA-256"],
                    [[c.get("name"), c.get("checkpointId"), c.get("checkpointStep"), c.get("runName") or c.get("runId"),
                      c.get("algorithm"), "yes" if c.get("live") else "no", c.get("checkpointSha256")]
                     for c in snapshot.get("conditions") or []])
    lines += ["", "## Handoff rule", "", handoff_rule_text(snapshot.get("handoffRule")), "", "## Assignment", ""]
    assignment = snapshot.get("assignment") or {}
    lines.append(assignment.get("text") or f"Rule: {_cell(assignment.get('rule'))}.")
    if "refillDropouts" in assignment:
        lines += ["", assignment.get("refillText") or
                  f"Dropouts' cells refilled by later arrivals: {'yes' if assignment['refillDropouts'] else 'no'}."]
    lines += ["", "## Exclusion rules", ""]
    lines += _bullets(snapshot["exclusions"]) if snapshot.get("exclusions") else [
        f"Not drafted; the rules of the view study_participant_status apply (minimum seconds per task: "
        f"{_cell(study.get('minSecondsPerTask'))})."]
    lines += ["", "## Attention checks", "", *(_bullets(snapshot["attentionChecks"]) if snapshot.get("attentionChecks")
                                               else ["None."])]
    outcomes = snapshot.get("outcomes") or {}
    lines += ["", "## Outcomes and completion codes", ""]
    lines += _table(["outcome", "code", "redirect"], [[name, o.get("code"), o.get("redirectUrl")]
                                                      for name, o in outcomes.items() if isinstance(o, dict)])
    if outcomes.get("rules"):
        lines += ["", *_bullets(outcomes["rules"])]
    pay = snapshot.get("pay") or {}
    currency = pay.get("currency") or ""
    lines += ["", "## Pay", "", f"- base pay: {_money(pay.get('basePayCents'), currency)}",
              f"- bonus per verified correct answer: {_money(pay.get('bonusPerCorrectCents'), currency)}",
              f"- bonus cap per participant: {_money(pay.get('bonusCapCents'), currency, none='none')}"]
    lines += ["", "## Power plan", "", *(_bullets(snapshot["powerPlan"]) if snapshot.get("powerPlan") else ["None."])]
    lines += ["", "## Planned analysis", "", *(_bullets(snapshot["analysis"]) if snapshot.get("analysis") else
                                               ["Not drafted."])]
    external = {p.get("id"): p.get("externalId") for p in snapshot.get("problems") or []}
    lines += ["", "## Items", ""]
    lines += _table(["condition", "problem", "trace", "handoff step", "prefix SHA-256"],
                    [[i.get("condition"), external.get(i.get("problemId")) or i.get("problemId"), i.get("traceId"),
                      i.get("handoffStep"), i.get("prefixSha256")] for i in snapshot.get("items") or []])
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- freezing, in the opening transaction


def freeze(conn, study_id: str) -> dict | None:
    """Freeze the study's snapshot unless it has one (call inside the transaction that opens the study; it locks
    the study row). Returns the new snapshot, or None when the study was frozen already."""
    study = conn.execute(
        """SELECT id, name, seed, tasks_per_participant, time_limit_s, session_time_limit_s, temperature,
                  max_new_tokens, junior_samples, min_seconds_per_task, max_participants, handoff_rule,
                  assignment_rule::text AS assignment_rule, refill_dropouts, attention_checks, completion_code,
                  redirect_url, screened_out_code, screened_out_redirect_url, timed_out_code, timed_out_redirect_url,
                  currency, base_pay_cents, bonus_per_correct_cents, bonus_cap_cents, power_plan,
                  preregistration_draft, preregistration_json, now() AS frozen_at
           FROM studies WHERE id = %s FOR UPDATE""",
        (study_id,),
    ).fetchone()
    if study["preregistration_json"] is not None:
        return None
    draft = study["preregistration_draft"]
    if draft is not None and not isinstance(draft, dict):
        raise InvalidPayload(f"study {study_id}: preregistration_draft must be a JSON object, "
                             f"got {type(draft).__name__}")
    conditions = conn.execute(
        """SELECT c.name, c.checkpoint_id AS "checkpointId", c.live, ck.sha256 AS "checkpointSha256",
                  ck.step AS "checkpointStep", r.id AS "runId", r.name AS "runName", r.algorithm::text AS algorithm
           FROM study_conditions c JOIN checkpoints ck ON ck.id = c.checkpoint_id
           LEFT JOIN training_runs r ON r.id = ck.run_id
           WHERE c.study_id = %s ORDER BY c.name""",
        (study_id,),
    ).fetchall()
    rows = conn.execute(
        """SELECT c.name AS condition, i.problem_id, p.external_id, i.trace_id, i.handoff_step, i.prefix_text
           FROM study_items i JOIN study_conditions c ON c.id = i.condition_id JOIN problems p ON p.id = i.problem_id
           WHERE i.study_id = %s ORDER BY c.name, p.external_id, i.problem_id""",
        (study_id,),
    ).fetchall()
    problems = sorted({(r["external_id"], r["problem_id"]) for r in rows})
    problems = [{"id": problem_id, "externalId": external_id} for external_id, problem_id in problems]
    items = [{"condition": r["condition"], "problemId": r["problem_id"], "traceId": r["trace_id"],
              "handoffStep": r["handoff_step"],
              "prefixSha256": None if r["prefix_text"] is None else sha256_hex(r["prefix_text"])} for r in rows]
    frozen_at = study["frozen_at"].astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if draft is not None:
        snapshot = build_snapshot(draft, "draft", conditions, problems, items, frozen_at)
    else:
        snapshot = build_snapshot(design_from_database(study, problems), "database", conditions, problems, items,
                                  frozen_at)
    text = canonical_json(snapshot)
    conn.execute(
        """UPDATE studies SET preregistration_json = %s, preregistration_markdown = %s, preregistration_sha256 = %s
           WHERE id = %s AND preregistration_json IS NULL""",
        (text, render_markdown(snapshot), sha256_hex(text), study_id),
    )
    return snapshot
