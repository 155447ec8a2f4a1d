"""Review of issue 16 (staged validation, select split, repeated rollouts): tests of the
bugs found, each fixed or marked xfail with the fix it needs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from cli_harness import is_task_request, write_experiment
from openai_stub_server import StubServer

from gepa_cli.config import load_config
from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.report.data import score_curves
from gepa_cli.report.values import CandidateInfo
from gepa_cli.run.eval_candidate import resolve_target, run_eval
from gepa_cli.run.runner import start_run
from gepa_cli.run.stopping import EvaluationWatch

# --- gepa eval and rollouts_per_example ------------------------------------------------------


def first_answer_right() -> Any:
    """Task calls: the right label the first time a request is seen, the wrong one after
    (a noisy model whose rollouts disagree). Reflections: irrelevant, never accepted."""
    seen: set[str] = set()
    lock = threading.Lock()

    def respond(body: dict[str, Any]) -> str:
        messages = body["messages"]
        if not is_task_request(body):
            return "```\nLabel the item as alpha or beta, carefully.\n```"
        key = repr(messages)
        n = int(messages[-1]["content"].split()[-1])
        right = "alpha" if n % 2 == 0 else "beta"
        with lock:
            first = key not in seen
            seen.add(key)
        return right if first else ("beta" if right == "alpha" else "alpha")

    return respond


def test_gepa_eval_scores_a_candidate_as_the_run_did_with_its_rollouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """summary.json's test score is the mean of n rollouts per example; `gepa eval` on the
    same candidate and split (answered from the run's cache) must give the same number,
    not the mean of rollout 0 alone."""
    monkeypatch.setenv("E2E_KEY", "sk-test")
    with StubServer(first_answer_right()) as server:
        config = write_experiment(
            tmp_path, server.base_url, search__rollouts_per_example=2,
            models__task__temperature=0.7, budget__max_metric_calls=40,
            runtime__max_concurrency=1,
        )  # fmt: skip
        result = start_run(load_config(config), config.parent, tmp_path / "run", "none")
        test = result.summary["test"]
        assert test["best"] == 0.5  # per example: rollout 0 right, rollout 1 wrong
        sent = len(server.requests)
        evaluated = run_eval(resolve_target(tmp_path / "run", "best", []), "test")
        assert len(server.requests) == sent  # every rollout replayed from the cache
    assert evaluated["mean"] == test["best"]


# --- repeated rollouts with errors ----------------------------------------------------------


class MostlyFineRollouts:
    """Each example's n = 3 rollouts combined as `ConcurrentEvaluator` does: one of the
    three failed, two succeeded."""

    def evaluate(self, prompts: Prompts, examples: list[Example]) -> list[Rollout]:
        from gepa_cli.run.rollouts import combine_rollouts

        out = []
        for ex in examples:
            ok = Rollout(ex.id, 1.0, "Correct.", output="alpha")
            failed = Rollout(ex.id, 0.0, "The program failed", error="LMError: timeout")
            out.append(combine_rollouts([ok, failed, ok]))
        return out


def test_an_example_whose_rollouts_mostly_succeeded_is_no_outage() -> None:
    watch = EvaluationWatch(MostlyFineRollouts())
    watch.evaluate({"m": "x"}, [Example(f"v{i}", {}) for i in range(5)])
    assert watch.outage() is None


# --- report.html: partial candidates -------------------------------------------------------


def _candidate(cid: str, score: float, calls: int, partial: bool = False) -> CandidateInfo:
    return CandidateInfo(
        id=cid, parents=(), origin="mutation", iteration=1, prompts={"m": cid},
        val_score=score, metric_calls_at_discovery=calls, partial=partial,
    )  # fmt: skip


def test_the_score_curves_without_events_ignore_partial_candidates() -> None:
    """Without events.jsonl the curves come from candidates.jsonl: a partial candidate's
    val_score is a mean over the first stage only (here 1.0 on 2 examples) and must not
    raise the 'best val' curve, as it never joins the pool's complete candidates."""
    candidates = [
        _candidate("seed", 0.5, 0),
        _candidate("part", 1.0, 20, partial=True),
        _candidate("full", 0.6, 40),
    ]
    best, mean = score_curves([], candidates)
    assert [p.value for p in best] == [0.5, 0.6]
    assert [p.value for p in mean] == [0.5, pytest.approx(0.55)]
