"""`make bench-quality`: how much GEPA improves a prompt per rollout, on the embedded Qwen 1.5B.

    python -m bench.quality [--minutes N] [--only TASK[,TASK]] [--seeds 0,1] [--render-only]

Runs `gepa run` for every (task, cell, seed) of the plan below, scaled to fit a 2-core
CPU, each into `bench/.quality-runs/<task>/<cell>/seed<N>/`. It is resumable: a run with a
`summary.json` is reused, a run with only a checkpoint is resumed (`gepa resume`), so the
benchmark can be stopped and started again and only the missing work is done. Runs go
in priority order (every task's default cell first, then the ablations on the fast
tasks, then the second seed) until `--minutes` runs out; the rest stay "not run" in the
table. `bench/QUALITY.md` is written after every run (rendered by `bench.quality_report`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.quality_report import render
from bench.quality_results import INTERRUPTED, RunResult, load_reference

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "bench" / ".quality-runs"
OUT = ROOT / "bench" / "QUALITY.md"


@dataclass(frozen=True)
class TaskPlan:
    """One task kind, scaled to this machine: its config and the overrides that shrink it."""

    name: str
    config: str
    overrides: tuple[str, ...]
    fast: bool  # cheap enough for every ablation cell


def _splits(train: int, val: int, test: int) -> tuple[str, ...]:
    return (f"task.data.train.limit={train}", f"task.data.val.limit={val}",
            f"task.data.test.limit={test}")  # fmt: skip


TASKS = (
    TaskPlan("quickstart", "configs/quickstart.yaml",
             ("budget.max_metric_calls=120", "budget.max_time=null"), fast=True),
    TaskPlan("banking77", "configs/banking77.yaml",
             (*_splits(30, 15, 40), "budget.max_metric_calls=120"), fast=True),
    TaskPlan("gsm8k", "configs/gsm8k.yaml",
             (*_splits(15, 8, 15), "budget.max_metric_calls=50",
              "models.task.max_tokens=256"), fast=False),
    TaskPlan("ifeval", "configs/ifeval.yaml",
             (*_splits(15, 8, 15), "budget.max_metric_calls=50",
              "models.task.max_tokens=200"), fast=False),
    TaskPlan("hotpotqa", "configs/hotpotqa.yaml",
             (*_splits(12, 6, 10), "budget.max_metric_calls=40", "search.merge.enabled=false",
              "models.task.max_tokens=96"), fast=False),
)  # fmt: skip

SELECT_SPLIT = (
    'task.data.select={"path": "${GEPA_DATA:-../../shared/data}/banking77/banking77_test.jsonl",'
    ' "offset": 3, "stride": 77, "limit": 40}'
)
"""banking77's select split: every 77th row from offset 3, so no row of train/val/test."""
SELECT_TASKS = ("banking77",)
"""The select cell runs only where SELECT_SPLIT's data is the task's own."""
MERGE_TASKS = ("hotpotqa",)
"""The merge cell runs only on programs of several modules: a merge takes each module from
one of two descendants of a common ancestor, so with one module it can only rebuild a
candidate that exists, and never fires (banking77's merge run: 0 merges in 8 iterations)."""

CELLS = {
    "default": ("search.candidate_selection=pareto",),
    "current_best": ("search.candidate_selection=current_best",),
    "merge": ("search.merge.enabled=true", "search.merge.max_invocations=3"),
    "paper_prompt": ("search.reflection_prompt=paper",),
    "reflect_t0": ("models.reflection.temperature=0",),
    "reflect_t1": ("models.reflection.temperature=1.0",),
    "staged": ("search.val_policy=staged",),
    "select": (SELECT_SPLIT,),
}
"""Cells: the default (Pareto selection, the default meta-prompt, reflection at 0.7), and one
change each: `current_best` selection, merge on, the paper's meta-prompt, and the reflection
model at temperature 0 and 1.0 (for the fruitless-reflection rate at both ends), and staged
validation (`search.val_policy: staged`, against the default's `full`), and a select split
(`task.data.select`: the final candidate chosen off val, for the val-vs-select gap)."""
EARLY_CELLS = ("paper_prompt", "staged", "select")
"""Cells run on both seeds of the fast tasks before the other ablations."""
COMMON = ("models.reflection.temperature=0.7", "runtime.max_concurrency=2")
REFERENCE_TASK = "banking77"
"""The task also run through the reference library (bench/quality_reference.py)."""


def plan(seeds: list[int], only: set[str] | None) -> list[tuple[TaskPlan, str, int]]:
    """Every run in priority order: each task's default cell on the first seed; the fast
    tasks' default and staged cells on every seed; the select cell; the paper meta-prompt
    on the fast tasks; the reference task at reflection temperatures 0 and 1; the fast
    tasks' current_best cells on the first seed; the reference library on every seed; the
    merge cell of the multi-module task; then the fast tasks' early cells on every seed;
    then every other cell of the fast tasks; then the slow tasks' defaults on the other
    seeds, and their ablations last."""
    tasks = [t for t in TASKS if only is None or t.name in only]
    fast = sorted((t for t in tasks if t.fast), key=lambda t: t.name != REFERENCE_TASK)
    slow = [t for t in tasks if not t.fast]
    first, rest = seeds[0], seeds[1:]
    order: list[tuple[TaskPlan, str, int]] = [(t, "default", first) for t in tasks]
    order += [(t, c, s) for t in fast for s in seeds for c in ("default", "staged")]
    order += [(t, "select", first) for t in fast if t.name in SELECT_TASKS]
    order += [(t, "paper_prompt", s) for s in seeds for t in fast]
    order += [(t, c, first) for t in fast[:1] for c in ("reflect_t0", "reflect_t1")]
    order += [(t, "current_best", first) for t in fast]
    order += [(t, "reference", s) for t in fast[:1] for s in seeds]
    order += [(t, "merge", first) for t in tasks if t.name in MERGE_TASKS]
    order += [(t, c, s) for t in fast for s in seeds for c in ("default", *EARLY_CELLS)]
    for t in fast:
        for s in seeds:
            cells = ["reference", *CELLS] if t.name == REFERENCE_TASK else list(CELLS)
            order += [(t, c, s) for c in cells]
    order += [(t, "default", s) for s in rest for t in slow]
    order += [(t, c, s) for s in seeds for t in slow for c in CELLS if c != "default"]
    unique: dict[tuple[str, str, int], tuple[TaskPlan, str, int]] = {}
    for task, cell, seed in order:
        if (cell == "select" and task.name not in SELECT_TASKS) or (
            cell == "merge" and task.name not in MERGE_TASKS
        ):
            continue
        unique.setdefault((task.name, cell, seed), (task, cell, seed))
    return list(unique.values())


def run_dir(task: TaskPlan, cell: str, seed: int) -> Path:
    return RUNS / task.name / cell / f"seed{seed}"


def _gepa(*args: str) -> int:
    env = {
        **os.environ,
        "GEPA_DATA": os.environ.get("GEPA_DATA", str(ROOT.parent / "shared" / "data")),
    }
    command = [sys.executable, "-m", "gepa_cli", *args, "--display", "plain"]
    print("bench-quality: gepa " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def ensure_reference(seed: int) -> None:
    """The reference library on the same banking77 cell (skipped without .venv-bench)."""
    python = ROOT / ".venv-bench" / "bin" / "python"
    if not python.is_file():
        print("bench-quality: no .venv-bench; the reference run is skipped", file=sys.stderr)
        return
    command = [str(python), "-m", "bench.quality_reference", "--seed", str(seed)]
    print("bench-quality: " + " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, cwd=ROOT, check=False)


def ensure_run(task: TaskPlan, cell: str, seed: int) -> None:
    """Run, resume or reuse one (task, cell, seed)."""
    if cell == "reference":
        ensure_reference(seed)
        return
    where = run_dir(task, cell, seed)
    if (where / "summary.json").is_file():
        summary = json.loads((where / "summary.json").read_text())
        if summary.get("stopped_because") not in INTERRUPTED:
            return
    if (where / "checkpoint.json").is_file():
        _gepa("resume", str(where))
        return
    where.parent.mkdir(parents=True, exist_ok=True)
    sets = [*task.overrides, *COMMON, *CELLS[cell], f"seed={seed}"]
    _gepa("run", task.config, "--run-dir", str(where), *[a for s in sets for a in ("--set", s)])


def _val_limit(task: TaskPlan) -> int:
    """The task's val size, from its `task.data.val.limit=N` override."""
    prefix = "task.data.val.limit="
    return next((int(o[len(prefix) :]) for o in task.overrides if o.startswith(prefix)), 0)


def collect() -> list[RunResult]:
    results = []
    for path in sorted(RUNS.glob("*/reference/seed*/result.json")):
        name = path.parts[-4]
        plan_of = next((t for t in TASKS if t.name == name), None)
        if plan_of is None:
            continue  # a task no longer in the plan
        val = _val_limit(plan_of)
        if (ref := load_reference(name, int(path.parts[-2][4:]), path, val)) is not None:
            results.append(ref)
    for task in TASKS:
        for cell in CELLS:
            for seed_dir in sorted((RUNS / task.name / cell).glob("seed*")):
                result = RunResult.load(task.name, cell, int(seed_dir.name[4:]), seed_dir)
                if result is not None:
                    results.append(result)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=150.0)
    parser.add_argument("--only", default="")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    seeds = [int(s) for s in args.seeds.split(",")]
    deadline = time.monotonic() + args.minutes * 60
    todo = [] if args.render_only else plan(seeds, only)
    for task, cell, seed in todo:
        if time.monotonic() > deadline:
            print("bench-quality: out of time; the rest stays 'not run'", file=sys.stderr)
            break
        ensure_run(task, cell, seed)
        OUT.write_text(render(collect(), [t.name for t in TASKS], list(CELLS), seeds))
    OUT.write_text(render(collect(), [t.name for t in TASKS], list(CELLS), seeds))
    print(f"bench-quality: wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
