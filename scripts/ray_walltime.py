"""Wall time of one `python:` task with CPU-heavy rollouts (about 1 s of pure-Python
CPU each) on `runtime.executor: threads` vs `ray` with the same CPU count.

    .venv/bin/python scripts/ray_walltime.py [--spins 13000000] [--budget 40] [--cpus 2]

The model is the tests' simulated OpenAI-compatible server (answers in milliseconds), so
the time is the rollouts' CPU plus each executor's overhead. `threads` runs with
max_concurrency = CPUs; `ray` starts a private local Ray (address: local), which takes
all of this machine's CPUs (compare on a machine with --cpus CPUs); its start-up and
shut-down are included. Needs gepa-cli[ray].
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fault_server import SECRET, FaultServer, write_ideas_experiment  # noqa: E402


def run_once(executor: str, spins: int, budget: int, cpus: int) -> tuple[float, dict]:
    root = Path(tempfile.mkdtemp(prefix=f"gepa-walltime-{executor}-"))
    with FaultServer() as server:
        config = write_ideas_experiment(
            root, server.base_url,
            task__type=f"python:{ROOT / 'tests/fixtures/busy_task.py'}:BusyLabelTask",
            task__options={"spins": spins}, budget__max_metric_calls=budget,
            runtime__max_concurrency=cpus, runtime__executor=executor,
            runtime__ray={"address": "local"},
        )  # fmt: skip
        env = {"FAULT_KEY": SECRET}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "gepa_cli", "run", str(config), "--display", "none"],
            cwd=root, capture_output=True, text=True, env={**_env(), **env}, check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{executor} run failed:\n{done.stderr}")
    summary = json.loads((Path(done.stdout.strip().splitlines()[-1]) / "summary.json").read_text())
    return wall, summary


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spins", type=int, default=13_000_000)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    for executor in ("threads", "ray"):
        wall, summary = run_once(executor, args.spins, args.budget, args.cpus)
        print(
            f"{executor:8s} wall {wall:6.1f} s | metric calls {summary['metric_calls']} "
            f"| iterations {summary['iterations']} | best {summary['best_val_score']:.3f} "
            f"| stopped {summary['stopped_because']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
