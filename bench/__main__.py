"""`python -m bench`: every benchmark of issue 6, side by side in one run, written to
bench/RESULTS.md (rendered by `bench.report`).

Run it from the bench venv, which holds both gepa-cli and the reference `gepa`
package (`make bench` creates it). Each tool runs in a subprocess of its own
against a simulated OpenAI-compatible server hosted by this process; see
bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ours import critical_path, write_config
from bench.report import machine_info, render
from bench.scaling import (
    EARLY_ITERATION,
    LATE_ITERATION,
    SCALING_BUDGET,
    SCALING_WORKLOAD,
    ours_window,
    reference_window,
)
from bench.servers import (
    BenchServer,
    Workload,
    busy_seconds,
    count_requests,
    make_responder,
    write_workload,
)

SMALL_WORKLOAD = Workload(train=60, val=20, learnable_kinds=12, unlearnable_kinds=3, help_one_in=3)
BUDGET = 200
CONCURRENCY = 16
LATENCY_S = 0.2
SECTIONS = ("overhead", "latency", "scaling", "embedded", "quickstart")
EMBEDDED_MODELS = ("smollm2-135m", "qwen2.5-coder-1.5b")
TOOL_TIMEOUT_S = 600
"""No single run may take longer (keeps `make bench` bounded on a busy machine)."""


@dataclass
class Bench:
    """Where runs go, which interpreter runs them, and the commands issued."""

    work: Path
    commands: list[str] = field(default_factory=list)
    counter: int = 0

    def tool(
        self,
        name: str,
        module: str,
        args: list[str],
        python: str = sys.executable,
        timeout_s: float = TOOL_TIMEOUT_S,
    ) -> Any:
        """Run `python -m module args` (its output JSON is the last arg); return the JSON."""
        self.counter += 1
        log = self.work / "logs" / f"{self.counter:02d}-{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = [python, "-m", module, *args]
        shown = os.path.relpath(python) if python.startswith(os.getcwd()) else python
        self.commands.append(shlex.join([shown, *argv[1:]]))
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        with log.open("w") as handle:
            try:
                done = subprocess.run(
                    argv,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    check=False,
                    timeout=timeout_s,
                )
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"{name} took over {timeout_s:g} s; log {log}") from None
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} failed (exit {done.returncode}); log {log}:\n{tail}")
        return json.loads(Path(args[-1]).read_text())


def with_server_time(record: dict[str, Any], server: BenchServer) -> dict[str, Any]:
    """Add the time spent inside the server and the request count during the run."""
    intervals = server.intervals()
    busy = busy_seconds(intervals, record["start"], record["end"])
    record["server_busy_s"] = busy
    record["requests"] = count_requests(intervals, record["start"], record["end"])
    arrivals = [a for a, _ in intervals if record["start"] <= a <= record["end"]]
    record["startup_s"] = min(arrivals) - record["start"] if arrivals else None
    record["overhead_ms_per_call"] = 1000 * (record["wall_s"] - busy) / record["metric_calls"]
    record["cpu_ms_per_call"] = 1000 * record["cpu_s"] / record["metric_calls"]
    return record


def run_ours(
    bench: Bench,
    name: str,
    splits: dict[str, Path],
    server: BenchServer,
    budget: int,
    parallel: int = 1,
) -> dict[str, Any]:
    root = bench.work / name
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(
        root, splits, server.base_url, budget, CONCURRENCY, parallel_proposals=parallel
    )
    record = bench.tool(name, "bench.ours", [str(config), str(root / "result.json")])
    record["persist_total_s"] = sum(c["persist_s"] for c in record["checkpoints"])
    return with_server_time(record, server)


def run_reference(
    bench: Bench,
    name: str,
    splits: dict[str, Path],
    server: BenchServer,
    budget: int,
    workers: int,
) -> dict[str, Any]:
    root = bench.work / name
    root.mkdir(parents=True, exist_ok=True)
    args = [str(splits["train"]), str(splits["val"]), server.base_url, str(budget)]
    args += [str(root / "run"), "--workers", str(workers), str(root / "result.json")]
    record = bench.tool(name, "bench.reference_adapter", args)
    record["persist_total_s"] = sum(seconds for _, seconds in record["state_saves"])
    return with_server_time(record, server)


def overhead_section(bench: Bench, reps: int) -> dict[str, Any]:
    splits = write_workload(bench.work / "overhead-data", SMALL_WORKLOAD)
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "reference": [], "reference_t16": []}
    with BenchServer(make_responder(SMALL_WORKLOAD)) as server:
        for rep in range(1, reps + 1):
            runs["ours"].append(run_ours(bench, f"overhead-ours-{rep}", splits, server, BUDGET))
            for key, workers in (("reference", 1), ("reference_t16", CONCURRENCY)):
                name = f"overhead-{key}-{rep}"
                runs[key].append(run_reference(bench, name, splits, server, BUDGET, workers))
    return {"workload": SMALL_WORKLOAD, "budget": BUDGET, "runs": runs}


def latency_section(bench: Bench) -> dict[str, Any]:
    splits = write_workload(bench.work / "latency-data", SMALL_WORKLOAD)
    with BenchServer(make_responder(SMALL_WORKLOAD), LATENCY_S) as server:
        ours = run_ours(bench, "latency-ours", splits, server, BUDGET)
        ours_k4 = run_ours(bench, "latency-ours-k4", splits, server, BUDGET, parallel=4)
        ref_t16 = run_reference(bench, "latency-reference-t16", splits, server, BUDGET, 16)
        ref = run_reference(bench, "latency-reference", splits, server, BUDGET, 1)
    rounds = critical_path(Path(ours["run_dir"]) / "events.jsonl", CONCURRENCY)
    return {
        "workload": SMALL_WORKLOAD,
        "budget": BUDGET,
        "latency_s": LATENCY_S,
        "ours": ours,
        "ours_k4": ours_k4,
        "reference": ref,
        "reference_t16": ref_t16,
        "rounds": rounds,
        "bound_s": sum(rounds.values()) * LATENCY_S,
    }


def scaling_section(bench: Bench, with_reference: bool) -> dict[str, Any]:
    splits = write_workload(bench.work / "scaling-data", SCALING_WORKLOAD)
    result: dict[str, Any] = {"workload": SCALING_WORKLOAD, "budget": SCALING_BUDGET}
    with BenchServer(make_responder(SCALING_WORKLOAD)) as server:
        ours = run_ours(bench, "scaling-ours", splits, server, SCALING_BUDGET)
        result["ours"] = ours
        result["ours_windows"] = {
            mark: ours_window(ours["checkpoints"], mark)
            for mark in (EARLY_ITERATION, LATE_ITERATION)
        }
        if with_reference:
            ref = run_reference(bench, "scaling-reference", splits, server, SCALING_BUDGET, 1)
            result["reference"] = ref
            result["reference_windows"] = {
                mark: reference_window(ref["iteration_starts"], ref["state_saves"], mark)
                for mark in (EARLY_ITERATION, LATE_ITERATION)
            }
    return result


def embedded_section(bench: Bench, product_python: str, models: list[str]) -> dict[str, Any]:
    """One process per model, so a model that fails or times out loses only its own rows."""
    rows: list[dict[str, Any]] = []
    errors = []
    for model in models:
        out = bench.work / f"embedded-{model}.json"
        args = ["slots", "--models", model, "--", str(out)]
        try:
            rows += bench.tool(f"embedded-{model}", "bench.scaling", args, python=product_python)
        except RuntimeError as exc:
            errors.append(str(exc).splitlines()[0])
    return {"rows": rows, "errors": errors}


QUICKSTART_TIMEOUT_S = 2400
"""One quickstart run on the embedded Qwen (the features-off one is the slow one)."""


def quickstart_section(bench: Bench, product_python: str, budget: int) -> dict[str, Any]:
    """The quickstart with the speed features on and off, one process per variant."""
    rows: list[dict[str, Any]] = []
    for variant in ("on", "off"):
        out = bench.work / f"quickstart-{variant}.json"
        args = ["--budget", str(budget), "--variants", variant, "--work", str(bench.work)]
        try:
            result = bench.tool(
                f"quickstart-{variant}", "bench.quickstart_onoff", [*args, "--out", str(out)],
                python=product_python, timeout_s=QUICKSTART_TIMEOUT_S,
            )  # fmt: skip
            rows += result["rows"]
        except RuntimeError as exc:
            rows.append({"variant": variant, "error": str(exc).splitlines()[0]})
    return {"budget": budget, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the overhead runs")
    parser.add_argument(
        "--product-python",
        default=".venv/bin/python",
        help="interpreter with xllamacpp and the models (embedded section)",
    )
    parser.add_argument("--models", nargs="+", default=list(EMBEDDED_MODELS))
    parser.add_argument("--no-reference-scaling", action="store_true")
    parser.add_argument("--quickstart-budget", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("gepa") is None:
        sys.exit("bench: the reference package `gepa` is not installed here; run `make bench`")
    bench = Bench(Path(tempfile.mkdtemp(prefix="gepa-bench-")))
    results: dict[str, Any] = {"machine": machine_info(args.product_python), "loads": {}}
    started = time.monotonic()
    for section in args.only:
        load_before = os.getloadavg()[0]
        if section == "overhead":
            results[section] = overhead_section(bench, args.reps)
        elif section == "latency":
            results[section] = latency_section(bench)
        elif section == "scaling":
            results[section] = scaling_section(bench, not args.no_reference_scaling)
        elif section == "embedded":
            results[section] = embedded_section(bench, args.product_python, args.models)
        else:
            results[section] = quickstart_section(
                bench, args.product_python, args.quickstart_budget
            )
        results["loads"][section] = (load_before, os.getloadavg()[0])
    results["total_s"] = time.monotonic() - started
    results["commands"] = bench.commands
    results["work_dir"] = str(bench.work)
    args.out.write_text(render(results), encoding="utf-8")
    (bench.work / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"bench: wrote {args.out} (raw records in {bench.work})", file=sys.stderr)


if __name__ == "__main__":
    main()
