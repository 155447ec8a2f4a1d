"""What `gepa show-frontier` and `gepa export-prompt` read: the Pareto frontier of a run
as JSON data (the table is drawn by `display/frontier_table.py`), and a candidate's
prompts as text, JSON or YAML. Everything comes from the run directory's files, never
from the engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from gepa_cli.rundir.directory import RunDir, RunDirError

EXPORT_FORMATS = ("text", "json", "yaml")
_CHOICES_SHOWN = 10


# --- frontier --------------------------------------------------------------------------


def frontier_json(rundir: RunDir) -> dict[str, Any]:
    """The frontier with each non-dominated candidate's origin and parents (for --json)."""
    frontier = rundir.read_frontier()  # checked: every part has the type written
    examples, members = frontier["examples"], frontier["non_dominated"]
    records = {r["id"]: r for r in rundir.load_candidates()}
    best = frontier.get("best_candidate")
    described = [
        {**_lineage(records.get(m["id"], {})), **m, "best": m["id"] == best} for m in members
    ]
    best_row = records.get(best, {}) if isinstance(best, str) else {}
    return {
        "run_dir": str(rundir.path),
        "best_candidate": best,
        "best_val_score": best_row.get("val_score"),
        "candidates": len(records),
        "non_dominated": described,
        "examples": examples,
    }


def _lineage(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "origin": record.get("origin", "?"),
        "parents": list(record.get("parents", [])),
        "iteration": record.get("iteration"),
    }


# --- prompt export -----------------------------------------------------------------------


def export_prompts(
    rundir: RunDir, candidate: str = "best", component: str | None = None, fmt: str = "text"
) -> str:
    """A candidate's prompts as text (## headers when several), or as a JSON or YAML
    mapping module -> instruction (the shape of the config's `task.prompts`).

    `candidate` is "best", a full id or a unique id prefix.
    """
    if fmt not in EXPORT_FORMATS:
        raise RunDirError(f"unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    records = rundir.load_candidates()
    if candidate == "best":
        record = best_record(rundir, records)
    else:
        record = resolve_candidate(records, candidate)
    prompts: dict[str, str] = dict(record.get("prompts", {}))
    if component is not None:
        if component not in prompts:
            raise RunDirError(
                f"unknown component {component!r} in candidate {record['id']}; "
                f"components: {', '.join(prompts) or '(none)'}"
            )
        prompts = {component: prompts[component]}
    if fmt == "text":
        if len(prompts) == 1:
            return next(iter(prompts.values()))
        return "\n\n".join(f"## {name}\n\n{text.rstrip()}" for name, text in prompts.items())
    if fmt == "json":
        return json.dumps(prompts, indent=2, ensure_ascii=False)
    return yaml.dump(prompts, Dumper=_BlockStyleDumper, sort_keys=False, allow_unicode=True)


def resolve_candidate(records: Sequence[Mapping[str, Any]], wanted: str) -> Mapping[str, Any]:
    """The record whose id is `wanted` or uniquely starts with it ("3f2a91.." works too)."""
    key = wanted.strip().rstrip(".").lower()
    exact = [r for r in records if r["id"] == key]
    matches = exact or ([r for r in records if r["id"].startswith(key)] if key else [])
    if len(matches) == 1:
        return matches[0]
    ids = [r["id"] for r in (matches or records)]
    listed = ", ".join(ids[:_CHOICES_SHOWN])
    if len(ids) > _CHOICES_SHOWN:
        listed += f", ... ({len(ids)} in all)"
    if matches:
        raise RunDirError(f"candidate {wanted!r} is ambiguous; it matches {listed}")
    raise RunDirError(f"unknown candidate {wanted!r}; candidates: {listed or '(none)'} or 'best'")


def best_record(rundir: RunDir, records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The final candidate: the one chosen on the select split (summary.json's
    `final_candidate`, with a select split), else the best candidate as frontier.json
    names it, else the highest mean (earliest on ties)."""
    if not records:
        raise RunDirError(f"{rundir.path}: no candidates yet")
    for best_id in (_final_candidate(rundir), _frontier_best(rundir)):
        for record in records:
            if best_id is not None and record["id"] == best_id:
                return record
    complete = [r for r in records if r.get("partial") is not True] or list(records)
    best = complete[0]  # a partial candidate's mean covers part of val: never the best
    for record in complete[1:]:
        if _val_score(record) > _val_score(best):
            best = record
    return best


def _final_candidate(rundir: RunDir) -> str | None:
    """summary.json's final candidate, if that summary is of the run as it stands: a resumed
    run rewrites best/ at every checkpoint, and its old summary no longer applies."""
    try:
        summary = rundir.read_summary()
        state, _ = rundir.load_checkpoint()
    except (RunDirError, ValueError):
        return None
    final = summary.get("final_candidate")
    if summary.get("metric_calls") != state.metric_calls:
        return None
    return final if isinstance(final, str) else None


def _frontier_best(rundir: RunDir) -> str | None:
    try:
        best = rundir.read_frontier().get("best_candidate")
    except RunDirError:
        return None
    return best if isinstance(best, str) else None


def _val_score(record: Mapping[str, Any]) -> float:
    score = record.get("val_score")
    return float(score) if isinstance(score, int | float) else float("-inf")


class _BlockStyleDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks so exported prompts stay readable."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockStyleDumper.add_representer(str, _represent_str)
