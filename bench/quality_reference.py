"""The reference library (`gepa==0.1.4`) on the quality benchmark's banking77 cell: the same
splits, the same embedded Qwen (started with `gepa serve`), the same budget, the same
messages and metric feedback (gepa-cli's `ClassifyTask`), its own reflection prompt.

    .venv-bench/bin/python -m bench.quality_reference [--seed N] [--budget 120]

Writes `bench/.quality-runs/banking77/reference/seed<N>/result.json`, which
`bench.quality_report` reads beside gepa-cli's own runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import openai
import yaml

from bench.reference_adapter import MODULE as MODULE_OF_REFERENCE
from bench.reference_adapter import RoutingAdapter, Trace
from gepa_cli.engine.types import Example
from gepa_cli.tasks.base import TaskOutput
from gepa_cli.tasks.classify import ClassifyTask

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("GEPA_DATA", ROOT.parent / "shared" / "data")) / "banking77"
MODEL = "qwen2.5-coder-1.5b"
SPLITS = {"train": (0, 30), "val": (1, 15), "test": (2, 40)}
STRIDE = 77
"""As configs/banking77.yaml (the file is sorted by label): every 77th row from the offset."""


def read_split(name: str) -> list[dict[str, Any]]:
    offset, limit = SPLITS[name]
    lines = (DATA / "banking77_test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[offset::STRIDE][:limit]]


class IntentAdapter(RoutingAdapter):
    """The routing adapter with banking77's module, labels and the embedded model."""

    def __init__(self, client: openai.OpenAI, labels: list[str]) -> None:
        super().__init__(client, workers=2)
        self.metric = ClassifyTask("intent", labels)

    def evaluate(
        self, batch: list[dict[str, Any]], candidate: dict[str, str], capture_traces: bool = False
    ) -> Any:
        return super().evaluate(batch, {MODULE_OF_REFERENCE: candidate["intent"]}, capture_traces)

    def _run_one(self, instruction: str, row: dict[str, Any]) -> tuple[float, Trace]:
        example = Example(row["id"], row)
        try:
            reply = self.client.chat.completions.create(
                model=MODEL, temperature=0, max_tokens=16,
                messages=[{"role": "system", "content": instruction},
                          {"role": "user", "content": row["input"]}],
            )  # fmt: skip
            text = reply.choices[0].message.content or ""
        except openai.OpenAIError as exc:
            return 0.0, Trace(row["input"], "", f"The program failed on this example: {exc}")
        verdict = self.metric.score(example, TaskOutput(text))
        return verdict.score, Trace(row["input"], text, verdict.feedback)


def reflect(client: openai.OpenAI, prompt: Any) -> str:
    """The reflection LM as the reference calls it: prompt -> text."""
    messages: Any = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    reply = client.chat.completions.create(
        model=MODEL, messages=messages, temperature=0.7, max_tokens=600
    )
    return reply.choices[0].message.content or ""


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gepa"), "serve", "--model", MODEL, "--slots", "2"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def mean_on(adapter: IntentAdapter, rows: list[dict[str, Any]], instruction: str) -> float:
    batch = adapter.evaluate(rows, {"intent": instruction})
    return sum(batch.scores) / len(batch.scores)


def run(seed: int, budget: int, out: Path) -> dict[str, Any]:
    import gepa

    config = yaml.safe_load((ROOT / "configs" / "banking77.yaml").read_text())
    seed_prompt = config["task"]["prompts"]["intent"]
    labels = json.loads((DATA / "labels.json").read_text())
    server, base_url = start_server()
    try:
        client = openai.OpenAI(base_url=base_url, api_key="no-key", max_retries=2, timeout=600)
        adapter = IntentAdapter(client, labels)
        started = time.monotonic()
        result = gepa.optimize(
            seed_candidate={"intent": seed_prompt}, trainset=read_split("train"),
            valset=read_split("val"), adapter=adapter,
            reflection_lm=lambda prompt: reflect(client, prompt),
            reflection_minibatch_size=3, max_metric_calls=budget, run_dir=str(out / "gepa"),
            seed=seed,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        best = result.candidates[result.best_idx]["intent"]
        test = read_split("test")
        test_scores = {
            "seed": mean_on(adapter, test, seed_prompt),
            "best": mean_on(adapter, test, best),
        }
        return {
            "seed_val_score": result.val_aggregate_scores[0],
            "best_val_score": result.val_aggregate_scores[result.best_idx],
            "test": {**test_scores, "n": len(test)},
            "metric_calls": result.total_metric_calls, "max_metric_calls": budget,
            "calls_to_best": result.discovery_eval_counts[result.best_idx],
            "candidates": len(result.candidates), "elapsed_s": elapsed, "best_prompt": best,
        }  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=120)
    args = parser.parse_args()
    out = ROOT / "bench" / ".quality-runs" / "banking77" / "reference" / f"seed{args.seed}"
    if (out / "result.json").is_file():
        return
    out.mkdir(parents=True, exist_ok=True)
    record = run(args.seed, args.budget, out)
    (out / "result.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
