"""Measure how often the reflection meta-prompt works on the embedded model.

For N minibatches of the quickstart's training set, the seed is run on the
minibatch, the reflection LM is asked for a new instruction, and the child is run
on the same minibatch. Reported: how often the reply held a usable instruction
(fenced or not), how often it was not a refusal/echo, and how often the child
scored strictly higher than the seed (what GEPA needs to accept it).

    .venv/bin/python -m bench.reflection_success [--trials 10] [--template FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gepa_cli.config import load_config
from gepa_cli.engine.reflection import build_reflection_messages, extract_instruction
from gepa_cli.engine.sampler import minibatch
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.run.evaluator import ConcurrentEvaluator
from gepa_cli.run.models import build_models
from gepa_cli.run.runner import load_task_and_data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="configs/quickstart.yaml")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--template", type=Path, default=None)
    parser.add_argument("--dump", type=Path, default=None, help="append raw replies here")
    args = parser.parse_args()
    cfg = load_config(Path(args.config))
    task, splits = load_task_and_data(cfg)
    models, _ = build_models(cfg, UsageMeter(), None)
    evaluator = ConcurrentEvaluator(task, models.task, cfg.runtime.max_concurrency)
    template = args.template.read_text() if args.template else None
    module = task.modules[0]
    seed = dict(cfg.task.prompts)
    fenced = usable = improved = 0
    start = time.monotonic()
    for trial in range(1, args.trials + 1):
        ids = minibatch(sorted(ex.id for ex in splits.train), 3, 100, trial)
        batch = [ex for ex in splits.train if ex.id in ids]
        parent = evaluator.evaluate(seed, batch)
        messages = build_reflection_messages(module, seed[module], parent, template)
        reply = models.reflection.complete(messages).text
        if args.dump:
            with open(args.dump, "a", encoding="utf-8") as out:
                out.write(f"===== trial {trial}\n{reply}\n")
        text = extract_instruction(reply)
        fenced += "```" in reply
        if text is None or text.strip() == seed[module].strip():
            print(f"trial {trial}: unusable reply {reply[:80]!r}")
            continue
        usable += 1
        child = evaluator.evaluate({module: text}, batch)
        p, c = sum(r.score for r in parent), sum(r.score for r in child)
        improved += c > p
        print(f"trial {trial}: parent {p} child {c} | {text[:160]!r}")
    took = time.monotonic() - start
    n = args.trials
    print(
        f"fenced {fenced}/{n}, usable {usable}/{n}, child better {improved}/{n} "
        f"({took:.0f} s, {took / n:.1f} s per trial)"
    )
    evaluator.close()


if __name__ == "__main__":
    main()
