"""Per-phase wall time: attribution of evaluations and reflections, overlap counted once."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.lm.base import Completion, Message
from gepa_cli.run.phase_clock import PhaseClock, PhasedEvaluator, PhasedLM


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def ex(eid: str) -> Example:
    return Example(eid, {"q": eid})


class SteppingEvaluator:
    """Advances the fake clock by one second per example it scores."""

    def __init__(self, now: FakeTime) -> None:
        self.now = now

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        self.now.t += len(examples)
        return [Rollout(e.id, 1.0, "") for e in examples]


class SteppingLM:
    name = "fake"

    def __init__(self, now: FakeTime, temperature: float = 0.0) -> None:
        self.now, self.temperature = now, temperature

    def complete(self, messages: Sequence[Message]) -> Completion:
        self.now.t += 5
        return Completion("```\nx\n```")

    def with_temperature(self, temperature: float) -> SteppingLM:
        return SteppingLM(self.now, temperature)


def test_evaluations_are_attributed_by_split_and_marks() -> None:
    now = FakeTime()
    clock = PhaseClock(now=now)
    val = [ex("v1"), ex("v2")]
    evaluator = PhasedEvaluator(SteppingEvaluator(now), clock, val)
    with clock.marking("seed"):
        evaluator.evaluate({}, val)
    evaluator.evaluate({}, [ex("t1"), ex("t2"), ex("t3")])
    evaluator.evaluate({}, val)
    evaluator.evaluate({}, [ex("v1")])  # a subsample of val (merge, staged) is val time
    with clock.marking("test"):
        evaluator.evaluate({}, [ex("x1"), ex("x2"), ex("x3"), ex("x4")])
    assert clock.seconds() == {
        "seed": 2.0, "minibatch": 3.0, "reflection": 0.0, "val": 3.0, "test": 4.0
    }  # fmt: skip


def test_reflection_time_survives_a_temperature_change() -> None:
    now = FakeTime()
    clock = PhaseClock(now=now)
    lm = PhasedLM(SteppingLM(now), clock)
    lm.complete([])
    hot = lm.with_temperature(1.0)
    hot.complete([])
    assert isinstance(hot, PhasedLM) and isinstance(hot.inner, SteppingLM)
    assert hot.inner.temperature == 1.0
    assert clock.seconds()["reflection"] == 10.0


def test_overlapping_calls_of_one_phase_count_once() -> None:
    now = FakeTime()
    clock = PhaseClock(now=now)
    with clock.timing("val"):
        now.t += 1
        with clock.timing("val"):  # a second concurrent call
            now.t += 2
        now.t += 1
    assert clock.seconds()["val"] == 4.0


def test_concurrent_threads_keep_consistent_counts() -> None:
    clock = PhaseClock()
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        for _ in range(200):
            with clock.timing("minibatch"):
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock._active["minibatch"] == 0
    assert clock.seconds()["minibatch"] >= 0.0


def test_resume_starts_from_the_checkpointed_seconds() -> None:
    now = FakeTime()
    clock = PhaseClock({"val": 7.5, "bogus": 3, "test": "x"}, now=now)
    with clock.timing("val"):
        now.t += 0.5
    assert clock.seconds()["val"] == 8.0
    assert "bogus" not in clock.seconds() and clock.seconds()["test"] == 0.0


def test_a_run_reports_its_phase_times_in_summary_and_checkpoint(tmp_path, monkeypatch) -> None:
    import json

    from cli_harness import idea_responder, write_experiment
    from openai_stub_server import StubServer

    from gepa_cli.config import load_config
    from gepa_cli.run.runner import start_run

    monkeypatch.setenv("E2E_KEY", "sk-test")
    with StubServer(idea_responder) as server:
        cfg = load_config(write_experiment(tmp_path, server.base_url))
        result = start_run(cfg, tmp_path, None, "none")
    phases = result.summary["phase_s"]
    assert set(phases) == {"seed", "minibatch", "reflection", "val", "test"}
    assert phases["seed"] > 0 and phases["minibatch"] > 0 and phases["reflection"] > 0
    assert phases["val"] > 0  # the accepted child was scored on val
    assert (phases["test"] > 0) == bool(result.summary["test"])
    assert sum(phases.values()) <= result.summary["elapsed_s"] + 1e-3
    checkpoint = json.loads((result.run_dir / "checkpoint.json").read_text())
    assert checkpoint["phase_s"] == {**phases, "test": 0.0}  # test is scored after it
