"""What `gepa show-frontier` and `gepa export-prompt` show: the Pareto frontier of
a run as a Rich table or JSON data, and a candidate's prompts as text, JSON or
YAML. Everything is read from the run directory's files, never from the engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from rich.table import Table
from rich.text import Text

from gepa_cli.rundir.directory import RunDir, RunDirError

EXPORT_FORMATS = ("text", "json", "yaml")
_EXAMPLE_IDS_SHOWN = 6
_CHOICES_SHOWN = 10


# --- frontier --------------------------------------------------------------------------


def frontier_json(rundir: RunDir) -> dict[str, Any]:
    """The frontier with each non-dominated candidate's origin and parents (for --json)."""
    frontier = rundir.read_frontier()
    examples, members = frontier.get("examples"), frontier.get("non_dominated")
    if not isinstance(examples, list) or not isinstance(members, list):
        raise RunDirError(f"{rundir.path / 'frontier.json'}: lacks 'examples'/'non_dominated'")
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


def frontier_table(rundir: RunDir) -> Table:
    """The non-dominated candidates, then which candidates win which val examples."""
    data = frontier_json(rundir)
    examples = data["examples"]
    layout = Table.grid()
    heading = (
        f"Pareto frontier of {data['run_dir']}: {len(data['non_dominated'])} non-dominated "
        f"of {data['candidates']} candidates"
    )
    layout.add_row(Text(heading, style="bold"))
    layout.add_row(_candidates_table(data))
    layout.add_row("")
    layout.add_row(Text(f"Winners per val example ({len(examples)} examples)", style="bold"))
    layout.add_row(_winners_table(examples))
    return layout


def _candidates_table(data: Mapping[str, Any]) -> Table:
    table = Table()
    for name in ("id", "origin", "parents"):
        table.add_column(name, no_wrap=True)
    table.add_column("wins", justify="right")
    table.add_column("mean val", justify="right")
    table.add_column("best", justify="center")
    rows = list(data["non_dominated"])
    best = data["best_candidate"]
    if best is not None and all(m["id"] != best for m in rows):
        note = "(not on the frontier)"
        rows.append(
            {"id": best, "note": note, "best": True, "mean_val_score": data["best_val_score"]}
        )
    for m in rows:
        mean = m.get("mean_val_score")
        table.add_row(
            m["id"],
            m.get("note") or m.get("origin", ""),
            ", ".join(m.get("parents", [])) or "-",
            str(m.get("wins", 0)),
            "-" if mean is None else f"{mean:.3f}",
            Text("best", style="bold green") if m.get("best") else "",
        )
    return table


def _winners_table(examples: Sequence[Mapping[str, Any]]) -> Table:
    """Val examples grouped by the set of candidates that win them: one row per set."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for ex in examples:
        groups.setdefault(tuple(ex.get("candidates", [])), []).append(ex)
    table = Table()
    table.add_column("winning candidates")
    table.add_column("examples", justify="right")
    table.add_column("best score", justify="right")
    table.add_column("example ids")
    for winners, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        scores = [float(ex["best_score"]) for ex in members]
        low, high = min(scores), max(scores)
        score_text = f"{low:.3f}" if low == high else f"{low:.3f}-{high:.3f}"
        ids = [str(ex["example_id"]) for ex in members]
        shown = ", ".join(ids[:_EXAMPLE_IDS_SHOWN])
        if len(ids) > _EXAMPLE_IDS_SHOWN:
            shown += f", ... (+{len(ids) - _EXAMPLE_IDS_SHOWN})"
        table.add_row(", ".join(winners), str(len(members)), score_text, shown)
    return table


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
    """The best candidate as frontier.json names it, else the highest mean (earliest on ties)."""
    if not records:
        raise RunDirError(f"{rundir.path}: no candidates yet")
    try:
        best_id = rundir.read_frontier().get("best_candidate")
    except RunDirError:
        best_id = None
    for record in records:
        if record["id"] == best_id:
            return record
    best = records[0]
    for record in records[1:]:
        if float(record.get("val_score", 0.0)) > float(best.get("val_score", 0.0)):
            best = record
    return best


class _BlockStyleDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks so exported prompts stay readable."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockStyleDumper.add_representer(str, _represent_str)
