"""The report's candidates section: the pool as a table, then each candidate's prompts
as line diffs against its first parent (merge children also name the parent a prompt
came from)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from gepa_cli.report.html_cells import (
    candidate_link,
    count_text,
    delta_span,
    html_table,
    score_text,
)
from gepa_cli.report.svg import esc, short_id
from gepa_cli.report.values import CandidateInfo, ReportData, ScoreMatrix


def candidates_section(data: ReportData) -> str:
    """The pool's table, then one section per candidate; empty without candidates."""
    if not data.candidates:
        return ""
    by_id = {c.id: c for c in data.candidates}
    rows = []
    for cand in data.candidates:
        parent = by_id.get(cand.parents[0]) if cand.parents else None
        rows.append(
            [
                candidate_link(cand.id),
                esc(cand.origin),
                " ".join(candidate_link(p) for p in cand.parents) or "—",
                "—" if cand.iteration is None else str(cand.iteration),
                score_text(cand.val_score) + (" (partial)" if cand.partial else ""),
                delta_span(cand.val_score, _parent_score(cand, parent, data.matrix)),
                count_text(cand.metric_calls_at_discovery),
                str(data.frontier_wins.get(cand.id, "")),
            ]
        )
    head = ["id", "origin", "parents", "iteration", "val", "vs parent", "found at call", "wins"]
    sections = "".join(_candidate_section(c, by_id, data.headline.best_id) for c in data.candidates)
    return "<h2>Candidates</h2>" + html_table(head, rows, numeric_from=3) + sections


def _parent_score(
    cand: CandidateInfo, parent: CandidateInfo | None, matrix: ScoreMatrix | None
) -> float | None:
    """The parent's val mean to compare `cand` with: for a partial candidate (scored on
    part of val), the parent's mean on the same examples, so the delta compares like with
    like; None when the score matrix cannot say."""
    if parent is None or not cand.partial:
        return parent.val_score if parent else None
    if matrix is None or cand.id not in matrix.candidate_ids:
        return None
    if parent.id not in matrix.candidate_ids:
        return None
    own = matrix.cells[matrix.candidate_ids.index(cand.id)]
    theirs = matrix.cells[matrix.candidate_ids.index(parent.id)]
    paired = [p for c, p in zip(own, theirs, strict=True) if c is not None and p is not None]
    return sum(paired) / len(paired) if paired else None


def _candidate_section(
    cand: CandidateInfo, by_id: dict[str, CandidateInfo], best_id: str | None
) -> str:
    parents = [by_id[p] for p in cand.parents if p in by_id]
    base = parents[0] if parents else None
    title = f"{esc(cand.origin)} {esc(cand.id)} · val {score_text(cand.val_score)}"
    if base is not None:
        title += f" · diff against parent {candidate_link(base.id)}"
    modules = "".join(
        _module_block(module, text, base, parents) for module, text in cand.prompts.items()
    )
    css = "candidate best" if cand.id == best_id else "candidate"
    return f'<section class="{css}" id="cand-{esc(cand.id)}"><h3>{title}</h3>{modules}</section>'


def _module_block(
    module: str, text: str, base: CandidateInfo | None, parents: Sequence[CandidateInfo]
) -> str:
    old = base.prompts.get(module) if base is not None else None
    if base is not None and old == text:
        return (
            f"<details><summary><b>{esc(module)}</b> "
            f'<span class="muted">unchanged from the parent</span></summary>'
            f"{prompt_diff(old, text)}</details>"
        )
    sources = [short_id(p.id) for p in parents[1:] if p.prompts.get(module) == text]
    origin = f" · same as parent {esc(', '.join(sources))}" if sources else ""
    if old is None:
        return f"<div><b>{esc(module)}</b>{origin}</div>{prompt_diff(None, text)}"
    added, removed = diff_counts(old, text)
    return (
        f'<div><b>{esc(module)}</b> <span class="up">+{added}</span> '
        f'<span class="down">−{removed}</span> lines{origin}</div>{prompt_diff(old, text)}'
    )


def diff_counts(old: str, new: str) -> tuple[int, int]:
    """Lines added and removed going from `old` to `new`."""
    added = removed = 0
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def prompt_diff(old: str | None, new: str) -> str:
    """`new` as a line diff against `old` (None: no parent, every line plain)."""
    new_lines = new.splitlines() or [""]
    if old is None:
        return '<pre class="diff">' + "".join(_line("ctx", "", s) for s in new_lines) + "</pre>"
    old_lines = old.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [_line("ctx", "  ", s) for s in new_lines[j1:j2]]
            continue
        out += [_line("del", "- ", s) for s in old_lines[i1:i2]]
        out += [_line("add", "+ ", s) for s in new_lines[j1:j2]]
    return '<pre class="diff">' + "".join(out) + "</pre>"


def _line(kind: str, marker: str, text: str) -> str:
    return f'<span class="line {kind}">{marker}{esc(text)}</span>'
