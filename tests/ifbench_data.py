"""IFBench-format data of this project's own (the real set is not shipped): rows with `id`,
`input`, `instruction_id_list` and `kwargs`, one per case of the IFBench checker table."""

from __future__ import annotations

import json
from pathlib import Path

from test_ifbench import CASES


def write_ifbench_rows(path: Path, rows: int, bad_id: str | None = None) -> Path:
    """`rows` rows cycling through every IFBench id; with `bad_id`, the last row uses it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(rows):
        name, kwargs, _, _ = CASES[i % len(CASES)]
        ids, kw = [name], [kwargs]
        if bad_id is not None and i == rows - 1:
            ids, kw = [bad_id], [{}]
        row = {"id": f"own-{i}", "input": f"Write a short note about topic {i}.",
               "instruction_id_list": ids, "kwargs": kw}  # fmt: skip
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
