"""`make bench` section 5: the quickstart on the embedded Qwen with the speed features on
and off, side by side in one invocation (same seed, same data, same budget).

"On" is the product as shipped: llama.cpp's prompt cache (each candidate's instruction is
the system message, so every task call of a candidate shares it as a prefix and the
server computes only the example), plus the reflection reply cut at its closing fence or
at a runaway repetition. "Off" sends `cache_prompt: false` to the server for every
request of both roles and turns the cut off (`models.<role>.stream_cut: false`), so every
prompt token is computed again and every reply runs to its end.

    python -m bench.quickstart_onoff [--budget 200] [--seed 0] [--variants on off] [--out F.json]

Reported per variant: wall time, time per phase (`summary.json` `phase_s`), prompt tokens
sent and computed per role, decode time, and the seed's and the best's test score.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "quickstart.yaml"
OFF = (
    'models.task.extra={"cache_prompt": false}',
    'models.reflection.extra={"cache_prompt": false}',
    "models.reflection.stream_cut=false",
    "models.task.stream_cut=false",
)
VARIANTS = {"on": (), "off": OFF}


def run_variant(python: str, name: str, budget: int, seed: int, work: Path) -> dict[str, Any]:
    """One quickstart run into `work/<name>`; its summary's figures."""
    run_dir = work / name
    sets = [f"budget.max_metric_calls={budget}", "budget.max_time=null", f"seed={seed}"]
    sets += VARIANTS[name]
    command = [python, "-m", "gepa_cli", "run", str(CONFIG), "--run-dir", str(run_dir)]
    command += [a for s in sets for a in ("--set", s)] + ["--display", "plain"]
    env = {
        **os.environ,
        "GEPA_DATA": os.environ.get("GEPA_DATA", str(ROOT.parent / "shared" / "data")),
    }
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    (work / f"{name}.log").write_text(done.stdout + done.stderr)  # the run's plain display
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"variant": name, "error": f"exit {done.returncode}: {tail[0]}"}
    summary = json.loads((run_dir / "summary.json").read_text())
    return {"variant": name, "wall_s": wall, **figures(summary)}


def figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run that the section reports."""
    tokens = summary.get("tokens", {})
    phases = summary.get("phase_s", {})
    elapsed = float(summary.get("elapsed_s") or 0.0)
    test = summary.get("test") or {}
    return {
        "elapsed_s": elapsed,
        "metric_calls": summary.get("metric_calls"),
        "phase_s": phases,
        "reflection_share": (phases.get("reflection", 0.0) / elapsed) if elapsed else None,
        "tokens": {
            role: {k: row.get(k, 0) for k in (
                "calls", "input_tokens", "prompt_tokens_computed", "output_tokens",
                "prefill_ms", "decode_ms")}
            for role, row in tokens.items()
        },
        "test_seed": test.get("seed"),
        "test_best": test.get("best"),
        "val_best": summary.get("best_val_score"),
        "reflections": summary.get("reflections", {}),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="gepa-onoff-"))
    rows = [run_variant(args.python, name, args.budget, args.seed, work) for name in args.variants]
    result = {"budget": args.budget, "seed": args.seed, "rows": rows, "work": str(work)}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
