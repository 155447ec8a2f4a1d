"""Drives the reference library (`gepa` on PyPI, 0.1.4) on the benchmark workload
through its public API, `gepa.optimize(...)`, with an adapter equivalent to
gepa-cli's `classify` task: the same messages (instruction as system message,
ticket as user message), the same metric and feedback text (gepa-cli's own
`ClassifyTask.score`), the same openai client against the same local server.

    python -m bench.reference_adapter TRAIN VAL BASE_URL BUDGET RUN_DIR OUT.json [--workers N]

`--workers 1` (default) evaluates a batch one example after another, as the
library's adapter contract does unless the user parallelises it; `--workers N`
runs a batch's examples on N threads (an adapter a user would write for speed).
Runs in the bench venv (`.venv-bench`), which holds the reference package.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from bench.servers import LABELS, SEED_INSTRUCTION
from gepa_cli.engine.types import Example
from gepa_cli.tasks.base import TaskOutput
from gepa_cli.tasks.classify import ClassifyTask

MODULE = "route"


@dataclass(frozen=True)
class Trace:
    """What the adapter keeps per example for the reflective dataset."""

    ticket: str
    reply: str
    feedback: str


class RoutingAdapter:
    """A GEPAAdapter for the ticket-routing workload (evaluate + make_reflective_dataset)."""

    propose_new_texts = None  # use the library's own reflection prompt and proposer

    def __init__(self, client: openai.OpenAI, workers: int) -> None:
        self.client = client
        self.metric = ClassifyTask(MODULE, LABELS)
        self.pool = ThreadPoolExecutor(workers) if workers > 1 else None

    def evaluate(
        self, batch: list[dict[str, Any]], candidate: dict[str, str], capture_traces: bool = False
    ) -> Any:
        from gepa import EvaluationBatch

        instruction = candidate[MODULE]
        if self.pool is None:
            traces = [self._run_one(instruction, row) for row in batch]
        else:
            traces = list(self.pool.map(lambda row: self._run_one(instruction, row), batch))
        scores = [score for score, _ in traces]
        return EvaluationBatch(
            outputs=[t.reply for _, t in traces],
            scores=scores,
            trajectories=[t for _, t in traces] if capture_traces else None,
        )

    def make_reflective_dataset(
        self, candidate: dict[str, str], eval_batch: Any, components_to_update: list[str]
    ) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        records = [
            {"Inputs": t.ticket, "Generated Outputs": t.reply, "Feedback": t.feedback}
            for t in eval_batch.trajectories
        ]
        return {component: records for component in components_to_update}

    def _run_one(self, instruction: str, row: dict[str, Any]) -> tuple[float, Trace]:
        example = Example(row["id"], row)
        try:
            reply = self.client.chat.completions.create(
                model="sim",
                messages=[
                    {"role": "system", "content": instruction},
                    {"role": "user", "content": row["input"]},
                ],
                temperature=0,
            )
            text = reply.choices[0].message.content or ""
        except openai.OpenAIError as exc:
            return 0.0, Trace(row["input"], "", f"The program failed on this example: {exc}")
        verdict = self.metric.score(example, TaskOutput(text))
        return verdict.score, Trace(row["input"], text, verdict.feedback)


class Reflector:
    """The reflection LM as the callable the reference expects: prompt -> text."""

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client

    def __call__(self, prompt: str | list[dict[str, Any]]) -> str:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        reply = self.client.chat.completions.create(
            model="sim",
            messages=messages,  # type: ignore[arg-type]
            temperature=1.0,
        )
        return reply.choices[0].message.content or ""


class IterationClock:
    """A gepa callback that timestamps iteration starts; also times GEPAState.save."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.saves: list[tuple[int, float]] = []

    def on_iteration_start(self, event: Any) -> None:
        self.starts.append(time.monotonic())

    def wrap_state_save(self) -> None:
        from gepa.core.state import GEPAState

        original = GEPAState.save

        def save(state: Any, *args: Any, **kwargs: Any) -> None:
            started = time.monotonic()
            original(state, *args, **kwargs)
            self.saves.append((int(state.i), time.monotonic() - started))

        setattr(GEPAState, "save", save)  # noqa: B010 (patching a class from outside)


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run(args: argparse.Namespace) -> dict[str, Any]:
    import gepa

    clock = IterationClock()
    clock.wrap_state_save()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu_started = time.process_time()
    started = time.monotonic()  # like start_run: building the client and reading data count
    client = openai.OpenAI(base_url=args.base_url, api_key="no-key", max_retries=1, timeout=60)
    adapter = RoutingAdapter(client, args.workers)
    options: dict[str, Any] = {  # the library's defaults otherwise (merge off, no cache)
        "seed_candidate": {MODULE: SEED_INSTRUCTION},
        "trainset": read_rows(args.train),
        "valset": read_rows(args.val),
        "adapter": adapter,
        "reflection_lm": Reflector(client),
        "reflection_minibatch_size": 3,
        "max_metric_calls": args.budget,
        "run_dir": str(args.run_dir),
        "seed": 0,
        "callbacks": [clock],
    }
    result = gepa.optimize(**options)
    ended = time.monotonic()
    cpu_s = time.process_time() - cpu_started
    return {
        "tool": "gepa (reference)",
        "workers": args.workers,
        "start": started,
        "end": ended,
        "wall_s": ended - started,
        "cpu_s": cpu_s,
        "metric_calls": result.total_metric_calls,
        "iterations": len(clock.starts),
        "candidates": len(result.candidates),
        "best_val_score": result.val_aggregate_scores[result.best_idx],
        "peak_rss_mb_before_run": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "iteration_starts": clock.starts,
        "state_saves": clock.saves,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("val", type=Path)
    parser.add_argument("base_url")
    parser.add_argument("budget", type=int)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    record = run(args)
    args.out.write_text(json.dumps(record, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
