"""`search.rollouts_per_example: n`: n rollouts per evaluation, each a metric call, the
budget still exact; the mean score; disagreeing rollouts shown to the reflection; the
cache keys of rollout 0 unchanged and of the others apart; a resume replays them."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cli_harness import idea_responder, is_task_request, write_experiment
from engine_fakes import IdeaEvaluator, ScriptedReflector, examples, learn_one_rule
from openai_stub_server import StubServer
from typer.testing import CliRunner

from gepa_cli.cli.app import app
from gepa_cli.config import ConfigError, ModelSpec, load_config, load_config_dict
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.lm.base import LM
from gepa_cli.lm.cache import CachedLM, ResponseCache, key_for
from gepa_cli.lm.scripted import ScriptedLM
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.run.evaluator import ConcurrentEvaluator
from gepa_cli.run.rollouts import combine_rollouts, repeat_warning
from gepa_cli.run.runner import resume_run, start_run
from gepa_cli.tasks.base import Score, TaskOutput

# --- the engine: metric calls and the budget ----------------------------------------------


def _engine(budget: int | None, n: int) -> tuple[GepaEngine, IdeaEvaluator]:
    ideas = ["alpha", "beta", "gamma", "delta"]
    evaluator = IdeaEvaluator()
    settings = EngineSettings(
        seed=1, minibatch_size=2, max_metric_calls=budget, rollouts_per_example=n
    )
    engine = GepaEngine(
        settings, ["solve"], examples("t", ideas * 2), examples("v", ideas), evaluator,
        ScriptedReflector(learn_one_rule),
    )  # fmt: skip
    return engine, evaluator


def _run(engine: GepaEngine) -> None:
    engine.score_seed({"solve": "Solve it."})
    while engine.stop_reason() is None:
        engine.step()


@pytest.mark.parametrize("budget", [12, 40, 61, 100])
def test_three_rollouts_charge_three_calls_per_example_and_never_exceed_the_budget(budget):
    engine, evaluator = _engine(budget, 3)
    _run(engine)
    assert engine.state.metric_calls == 3 * evaluator.evaluated
    assert engine.state.metric_calls <= budget
    assert engine.stop_reason() in ("max_metric_calls", "perfect_val", "stalled")


def test_one_rollout_charges_as_before():
    three, _ = _engine(100, 3)
    one, evaluator = _engine(100, 1)
    _run(one)
    assert one.state.metric_calls == evaluator.evaluated
    three.score_seed({"solve": "Solve it."})
    assert three.state.metric_calls == 3 * 4  # the seed on the 4 val examples, 3 times


def test_the_seed_must_fit_with_its_rollouts():
    engine, _ = _engine(11, 3)  # 4 val examples x 3 rollouts = 12 > 11
    with pytest.raises(ValueError, match="x 3 rollouts"):
        engine.score_seed({"solve": "Solve it."})


def test_next_iteration_bound_counts_rollouts():
    # after the seed (12 calls) an iteration may cost (2*2 + 4) * 3 = 24 calls at most
    engine, _ = _engine(12 + 23, 3)
    engine.score_seed({"solve": "Solve it."})
    assert engine.stop_reason() == "max_metric_calls"
    engine, _ = _engine(12 + 24, 3)
    engine.score_seed({"solve": "Solve it."})
    assert engine.stop_reason() is None


# --- combining rollouts --------------------------------------------------------------------


def test_mean_score_and_the_first_output():
    rollouts = [Rollout("e", s, f"fb{i}", output=f"out{i}") for i, s in enumerate([1, 0, 0.5])]
    combined = combine_rollouts(rollouts)
    assert combined.score == pytest.approx(0.5)
    assert combined.output == "out0" and combined.example_id == "e"
    assert combined.error is None


def test_disagreement_is_listed_in_the_feedback_and_bounded():
    long = "word " * 500
    rollouts = [
        Rollout("e", 1.0, "Correct.", output="alpha", module_feedback={"m": "m ok"}),
        Rollout("e", 0.0, long, output=long),
        Rollout("e", 0.0, "Wrong: it is alpha.", output="beta"),
    ]
    feedback = combine_rollouts(rollouts).feedback
    assert "3 rollouts of this example disagree" in feedback
    assert "rollout 1: score 1; output: alpha; feedback: Correct." in feedback
    assert "rollout 3: score 0; output: beta; feedback: Wrong: it is alpha." in feedback
    assert feedback.endswith("Correct.")  # then the first rollout's own feedback
    assert len(feedback) < 1000  # the long rollout is cut
    assert "disagree" in combine_rollouts(rollouts).module_feedback["m"]


def test_agreeing_rollouts_keep_the_feedback_and_many_are_summarized():
    same = [Rollout("e", 1.0, "Correct.", output="alpha")] * 3
    assert combine_rollouts(same).feedback == "Correct."
    many = [Rollout("e", float(i % 2), "f", output=str(i)) for i in range(9)]
    feedback = combine_rollouts(many).feedback
    assert "... and 5 more rollouts" in feedback and len(feedback) < 1500


def test_failed_rollouts_count_in_the_mean_and_only_all_failed_is_a_failure():
    down = Rollout("e", 0.0, "the program failed: LMError: down", error="LMError: down")
    combined = combine_rollouts([Rollout("e", 1.0, "ok", output="a"), down])
    assert combined.score == 0.5 and combined.error is None
    assert "LMError: down" in combined.feedback  # the failure is shown to the reflection
    assert combine_rollouts([down, down]).error == "all 2 rollouts failed: LMError: down"


def test_one_rollout_is_returned_unchanged():
    rollout = Rollout("e", 0.3, "fb", output="o", error="boom")
    assert combine_rollouts([rollout]) is rollout


# --- the cache key of each rollout -----------------------------------------------------------


def _todays_key(model: str, messages: Sequence[Any], params: dict[str, Any], index: int) -> str:
    """The key formula before rollouts existed (a copy, so a change to key_for shows)."""
    request = {"model": model, "messages": messages, "params": params, "sample_index": index}
    text = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_rollout_zero_keeps_todays_key_and_the_others_differ():
    messages = [{"role": "user", "content": "item 3"}]
    params = {"temperature": 0.7, "endpoint": "http://x/v1"}
    today = _todays_key("m", messages, params, 0)
    assert key_for("m", messages, params, 0) == today
    assert key_for("m", messages, params, 0, rollout=0) == today
    keys = {key_for("m", messages, params, 0, rollout=i) for i in range(3)}
    assert len(keys) == 3
    assert key_for("m", messages, params, 1) == _todays_key("m", messages, params, 1)


def test_each_rollout_view_is_cached_apart_and_replayed(tmp_path: Path):
    inner = ScriptedLM(lambda messages: f"reply {len(inner.calls)}")
    messages = [{"role": "user", "content": "same"}]
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        lm = CachedLM(inner, cache, UsageMeter())
        first = [lm.for_rollout(i).complete(messages).text for i in range(3)]
        assert len(set(first)) == 3 and len(inner.calls) == 3
        replay = CachedLM(inner, cache, UsageMeter())  # a new process: counters from 0
        again = [replay.for_rollout(i).complete(messages).text for i in range(3)]
        assert again == first and len(inner.calls) == 3
        plain = CachedLM(inner, cache, UsageMeter())
        assert plain.complete(messages).text == first[0]  # rollout 0 is the plain model


# --- the evaluator ---------------------------------------------------------------------------


class EchoTask:
    """Asks the model once; scores 1 when the reply is 'right'."""

    modules = ("m",)
    required_fields = ()

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        text = lm.complete([{"role": "user", "content": f"{prompts['m']} {example.id}"}]).text
        return TaskOutput(text, ())

    def score(self, example: Example, output: TaskOutput) -> Score:
        ok = output.output == "right"
        return Score(1.0 if ok else 0.0, "Correct." if ok else "Wrong: say right.")


def test_evaluator_runs_n_rollouts_per_example_and_averages(tmp_path: Path):
    replies = iter(["right", "wrong", "right", "right", "right", "right"])
    lock = threading.Lock()

    def reply(messages: Any) -> str:
        with lock:
            return next(replies)

    inner = ScriptedLM(reply)
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        lm = CachedLM(inner, cache, UsageMeter())
        with ConcurrentEvaluator(EchoTask(), lm, 1, rollouts_per_example=3) as evaluator:
            out = evaluator.evaluate({"m": "say"}, [Example("a", {}), Example("b", {})])
    assert len(inner.calls) == 6
    assert [r.score for r in out] == [pytest.approx(2 / 3), 1.0]
    assert "disagree" in out[0].feedback and "disagree" not in out[1].feedback
    assert out[0].output == "right"


# --- a whole run, through the response cache ---------------------------------------------------


def _task_requests(server: StubServer) -> int:
    return sum(1 for r in server.requests if is_task_request(r.body))


def test_a_run_with_three_rollouts_is_exact_and_resumes_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("E2E_KEY", "sk-test")
    with StubServer(idea_responder) as server:
        config = write_experiment(
            tmp_path, server.base_url, search__rollouts_per_example=3,
            models__task__temperature=0.7, budget__max_metric_calls=90,
        )  # fmt: skip
        cfg = load_config(config)
        result = start_run(cfg, config.parent, tmp_path / "run", "none")
        summary = result.summary
        sent = len(server.requests)
        tasks = _task_requests(server)
        assert summary["metric_calls"] <= 90 and summary["metric_calls"] % 3 == 0
        test_calls = 3 * 4 * (1 if summary["best_candidate"] == summary["seed_candidate"] else 2)
        assert tasks == summary["metric_calls"] + test_calls  # one request per rollout
        again = resume_run(tmp_path / "run", [], "none")
        assert len(server.requests) == sent  # everything, test rollouts too, from the cache
        assert again.summary["test"] == summary["test"]
        assert again.summary["metric_calls"] == summary["metric_calls"]


def test_one_rollout_run_is_unchanged(tmp_path, monkeypatch):
    """n = 1 explicitly and the default give the same requests, events and summary."""
    monkeypatch.setenv("E2E_KEY", "sk-test")
    outcomes = []
    for n, name in ((None, "default"), (1, "one")):
        root = tmp_path / name
        root.mkdir()
        with StubServer(idea_responder) as server:
            extra = {} if n is None else {"search__rollouts_per_example": n}
            config = write_experiment(root, server.base_url, **extra)
            result = start_run(load_config(config), config.parent, root / "run", "none")
            bodies = [json.dumps(r.body, sort_keys=True) for r in server.requests]
        timed = ("elapsed_s", "phase_s", "reflections")
        summary = {k: v for k, v in result.summary.items() if k not in timed}
        events = [
            {k: v for k, v in json.loads(line).items() if k not in ("time", "seconds")}
            for line in (root / "run" / "events.jsonl").read_text().splitlines()
        ]
        outcomes.append((sorted(bodies), events, summary))
    assert outcomes[0] == outcomes[1]


# --- config ----------------------------------------------------------------------------------


def test_rollouts_below_one_are_a_config_error_naming_the_key(tmp_path: Path):
    raw = {
        "name": "x",
        "task": {
            "type": "qa",
            "data": {"train": "t.jsonl", "val": "v.jsonl"},
            "prompts": {"a": "b"},
        },
        "models": {"task": {"model": "openai/m"}},
        "search": {"rollouts_per_example": 0},
    }
    with pytest.raises(ConfigError, match=r"\[search.rollouts_per_example\] must be >= 1"):
        load_config_dict(raw, tmp_path, "x.yaml")


def test_rollouts_below_one_exit_2_through_the_cli(tmp_path: Path):
    config = write_experiment(tmp_path, "http://127.0.0.1:9/v1")
    result = CliRunner().invoke(
        app, ["validate", str(config), "--set", "search.rollouts_per_example=0"],
        env={"GEPA_DEBUG": "", "E2E_KEY": "sk-x"},
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "search.rollouts_per_example" in result.stderr
    assert "Traceback" not in result.output


def test_repeats_of_a_deterministic_task_model_are_warned_about():
    cold = ModelSpec(model="openai/m")
    assert repeat_warning(1, cold) is None
    warning = repeat_warning(3, cold)
    assert warning is not None and "temperature is 0" in warning and "\n" not in warning
    assert repeat_warning(3, ModelSpec(model="openai/m", temperature=0.7)) is None
    assert "seed is fixed" in (
        repeat_warning(3, ModelSpec(model="openai/m", temperature=1, seed=4)) or ""
    )
