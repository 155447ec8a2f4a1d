"""The paper's rules exactly (float tolerance, twins, round robin, merges due) and reflection
outcomes with bounded retries, against scripted fakes."""

from __future__ import annotations

import random
from collections.abc import Sequence

from engine_fakes import IdeaEvaluator, ScriptedReflector, examples, learn_one_rule

from gepa_cli.engine import events as ev
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.mutation import pair_key
from gepa_cli.engine.pareto import per_example_fronts
from gepa_cli.engine.reflection_retry import classify_reply
from gepa_cli.engine.scores import at_least, improves, ties
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.state import Candidate, EngineState
from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.lm.base import Completion, Message

IDEAS = ["carry the one", "round down", "units"]


def engine_with(evaluator, reflector, log: list, **settings) -> GepaEngine:
    modules = settings.pop("modules", ["solve"])
    kw = {"seed": 0, "max_metric_calls": 200, **settings}
    return GepaEngine(
        EngineSettings(**kw), modules,
        examples("t", IDEAS * 2), examples("v", IDEAS), evaluator, reflector, emit=log.append,
    )  # fmt: skip


# --- float tolerance -----------------------------------------------------------------------


def test_score_comparisons_ignore_float_noise() -> None:
    assert 0.1 + 0.2 > 0.3  # what a plain comparison says
    assert not improves(0.1 + 0.2, 0.3) and improves(0.31, 0.3)
    assert ties(0.1 + 0.2, 0.3) and at_least(0.3, 0.1 + 0.2)
    assert not at_least(0.29, 0.3)


class NoisyEvaluator:
    """The parent scores 0.3 on one example; the child 0.1 and 0.2 on two (same sum, in
    reals; 0.30000000000000004 in floats)."""

    def evaluate(self, prompts: Prompts, batch: Sequence[Example]) -> list[Rollout]:
        child = "child" in prompts["solve"]
        scores = [0.1, 0.2, 0.0] if child else [0.3, 0.0, 0.0]
        return [Rollout(ex.id, scores[i % 3], "feedback", output="x") for i, ex in enumerate(batch)]


def test_a_child_equal_up_to_float_noise_is_rejected() -> None:
    log: list = []
    engine = engine_with(NoisyEvaluator(), ScriptedReflector(lambda _: "```\nchild\n```"), log)
    engine.score_seed({"solve": "parent"})
    engine.step()
    decided = [e for e in log if isinstance(e, ev.ProposalEvaluated)]
    assert len(decided) == 1 and decided[0].child_minibatch_score > 0.3
    assert not decided[0].accepted


def test_front_ties_within_float_noise_share_the_example() -> None:
    scores = {"a": {"e": 0.1 + 0.2}, "b": {"e": 0.3}}
    assert per_example_fronts(["a", "b"], scores)[0].candidate_ids == ("a", "b")


# --- round robin and merges ---------------------------------------------------------------


class PerfectEvaluator:
    def evaluate(self, prompts: Prompts, batch: Sequence[Example]) -> list[Rollout]:
        return [Rollout(ex.id, 1.0 if ex.id.startswith("t") else 0.0, "ok") for ex in batch]


def test_the_module_pointer_stays_on_an_all_perfect_skip() -> None:
    log: list = []
    engine = engine_with(
        PerfectEvaluator(), ScriptedReflector(learn_one_rule), log, modules=["a", "b"]
    )
    engine.score_seed({"a": "x", "b": "y"})
    engine.step()
    assert [e.reason for e in log if isinstance(e, ev.IterationSkipped)] == ["all_perfect"]
    assert engine.state.module_pointer[engine.state.seed_id()] == 0


def test_merges_due_never_exceed_the_merges_left() -> None:
    log: list = []
    engine = engine_with(
        IdeaEvaluator(), ScriptedReflector(learn_one_rule), log,
        parallel_proposals=3, merge_enabled=True, merge_max_invocations=2,
    )  # fmt: skip
    engine.score_seed({"solve": "Solve it."})
    engine.mutation.run(engine.mutation.plan_within_budget(1))
    accepted = [e for e in log if isinstance(e, ev.ProposalEvaluated) and e.accepted]
    assert len(accepted) == 3
    assert engine.state.merges_due == 2


# --- reflection outcomes and retries -------------------------------------------------------


def test_replies_are_classified() -> None:
    parent = "Solve the problem."
    assert classify_reply("Solve the problem.", parent) == "unchanged"
    assert classify_reply("  solve the   PROBLEM. ", parent) == "unchanged"
    assert classify_reply(None, parent) == "unusable"
    assert classify_reply("Certainly! Please provide the inputs.", parent) == "unusable"
    assert classify_reply("I'm sorry, I cannot help with that.", parent) == "unusable"
    assert classify_reply("Please provide the examples you want me to use.", parent) == "unusable"
    assert classify_reply("Solve it; carry the one.", parent) == "new"


class StubbornReflector:
    """Replies with the parent's instruction `stubborn` times, then adds a rule; records the
    temperature of every call."""

    name = "stubborn"

    def __init__(self, stubborn: int, temperature: float = 0.0) -> None:
        self.stubborn = stubborn
        self.temperature = temperature
        self.calls: list[tuple[float, int]] = []
        self.shared = self  # the hotter copies count into the same record

    def with_temperature(self, temperature: float) -> StubbornReflector:
        hot = StubbornReflector(self.stubborn, temperature)
        hot.shared = self.shared
        return hot

    def complete(self, messages: Sequence[Message]) -> Completion:
        record = self.shared
        record.calls.append((self.temperature, len(messages)))
        if len(record.calls) <= record.stubborn:
            return Completion("```\nSolve it.\n```", latency_s=2.5)
        return Completion("```\nSolve it. Rule: carry the one.\n```", latency_s=1.0)


def test_an_unchanged_reply_is_retried_hotter_with_a_changed_request() -> None:
    log: list = []
    reflector = StubbornReflector(stubborn=1)
    engine = engine_with(
        IdeaEvaluator(), reflector, log, reflection_retries=2, reflection_retry_temperature=1.0
    )
    engine.score_seed({"solve": "Solve it."})
    calls_before = engine.state.metric_calls
    engine.step()
    assert reflector.calls == [(0.0, 2), (1.0, 4)]  # retry: hotter, previous reply + follow-up
    outcomes = [(e.outcome, e.attempt) for e in log if isinstance(e, ev.ReflectionAttempted)]
    assert outcomes == [("unchanged", 0), ("new", 1)]
    decided = [e for e in log if isinstance(e, ev.ProposalEvaluated)]
    assert len(decided) == 1  # the retry's instruction was tried on the minibatch
    val = len(IDEAS) if decided[0].accepted else 0
    assert engine.state.metric_calls - calls_before == 3 + 3 + val  # retries cost none
    summary = engine.state.reflection_summary()
    assert summary == {"calls": 2, "new": 1, "unchanged": 1, "unusable": 0, "retries": 1,
                       "rules": 1, "rules_new": 1}  # fmt: skip
    requests = [e.request for e in log if isinstance(e, ev.ReflectionAttempted)]
    assert requests == ["rewrite", "rules"]  # after a copy, only rules are asked for
    seconds = [e.seconds for e in log if isinstance(e, ev.ReflectionAttempted)]
    assert seconds == [2.5, 1.0]  # the model's wall time, reported for the runner to add up


def test_retries_cost_lm_calls_never_metric_calls() -> None:
    log: list = []
    for retries in (0, 2):
        engine = engine_with(IdeaEvaluator(), StubbornReflector(stubborn=99), log,
                             reflection_retries=retries)  # fmt: skip
        engine.score_seed({"solve": "Solve it."})
        engine.step()
        assert engine.state.metric_calls == 3 + 3  # seed on val + parent minibatch
        assert engine.state.reflections["calls"] == 1 + retries


def test_a_spent_parent_minibatch_pair_is_not_drawn_again_until_the_pool_changes() -> None:
    log: list = []
    engine = engine_with(IdeaEvaluator(), StubbornReflector(stubborn=99), log,
                         reflection_retries=1, candidate_selection="current_best")  # fmt: skip
    engine.score_seed({"solve": "Solve it."})
    engine.step()
    skipped = [e for e in log if isinstance(e, ev.IterationSkipped)]
    assert [e.reason for e in skipped] == ["unchanged"]
    started = next(e for e in log if isinstance(e, ev.IterationStarted))
    batch = [ex for ex in examples("t", IDEAS * 2) if ex.id in started.minibatch]
    assert pair_key(engine.state.seed_id(), batch) in engine.state.exhausted
    other = Candidate("x" * 12, {"solve": "other"}, (), "mutation", 1, 0)
    engine.state.candidates.append(other)  # in the pool without clearing `exhausted`
    engine.state.val_scores[other.id] = {"v0": 0.0, "v1": 0.0, "v2": 0.0}
    seed_id = engine.state.seed_id()
    for seed in range(5):  # current_best would draw the seed (the earliest best) every time
        assert engine.mutation._draw_parent(random.Random(seed), batch) == other.id
    engine.state.exhausted.clear()
    assert engine.mutation._draw_parent(random.Random(0), batch) == seed_id
    engine.state.exhausted.add(pair_key(seed_id, batch))
    engine.state.add_candidate(Candidate("y" * 12, {"solve": "y"}, (), "mutation", 2, 0), {})
    assert not engine.state.exhausted  # a new candidate: every pair is worth another try


def test_reflection_counters_survive_a_checkpoint() -> None:
    state = EngineState()
    state.count_reflection("unusable", 0)
    state.count_reflection("new", 1)
    state.exhausted.add("abc:t0,t1")
    again = EngineState.from_json(state.to_json())
    assert again.reflection_summary() == state.reflection_summary()
    assert again.reflection_summary()["unusable"] == 1 and again.exhausted == {"abc:t0,t1"}


# --- wiring from the config ----------------------------------------------------------------


def test_the_paper_meta_prompt_and_retries_come_from_the_config(tmp_path) -> None:
    from cli_harness import write_experiment

    from gepa_cli.config import load_config
    from gepa_cli.engine.reflection import PAPER_TEMPLATE, build_reflection_messages
    from gepa_cli.run.engine_config import engine_settings, retry_temperature

    config = write_experiment(tmp_path, "http://127.0.0.1:9/v1")
    cfg = load_config(config, ["search.reflection_prompt=paper", "search.reflection_retries=4"])
    settings = engine_settings(cfg)
    assert settings.reflection_template == PAPER_TEMPLATE and settings.reflection_retries == 4
    messages = build_reflection_messages("solve", "Solve it.", [], settings.reflection_template)
    assert [m["role"] for m in messages] == ["user"]  # the paper's: one user message
    assert retry_temperature(0.0) == 1.0 and retry_temperature(1.0) == 1.2
    assert settings.reflection_retry_temperature == retry_temperature(
        cfg.models.reflection.temperature
    )


def test_a_run_retries_a_stubborn_reflection_hotter_through_the_cache(tmp_path, monkeypatch):
    import json

    from cli_harness import IDEA, SYSTEM_PROMPT, idea_responder, write_experiment
    from openai_stub_server import StubServer

    from gepa_cli.config import load_config
    from gepa_cli.run.runner import start_run

    temperatures: list[float] = []

    def stubborn_when_cold(body: dict) -> str:
        if body["messages"][0]["content"] == SYSTEM_PROMPT:
            temperatures.append(body["temperature"])
            if body["temperature"] < 1.0:  # the first request: the parent's text again
                return "```\nLabel the item as alpha or beta.\n```"
        return idea_responder(body)

    monkeypatch.setenv("E2E_KEY", "sk-test")
    with StubServer(stubborn_when_cold) as server:
        config = write_experiment(tmp_path, server.base_url)
        cfg = load_config(config, ["models.reflection.temperature=0.5"])
        result = start_run(cfg, tmp_path, None, "none")
    reflections = result.summary["reflections"]
    assert temperatures[:2] == [0.5, 1.0]  # retried hotter (min(1.2, max(0.5, 0.7) + 0.3))
    assert reflections["unchanged"] >= 1 and reflections["retries"] >= 1
    assert reflections["new"] >= 1 and result.summary["best_val_score"] == 1.0
    best = (result.run_dir / "best" / "label.txt").read_text()
    assert IDEA in best
    events = (result.run_dir / "events.jsonl").read_text().splitlines()
    attempts = [json.loads(e) for e in events if '"ReflectionAttempted"' in e]
    assert [(a["outcome"], a["attempt"]) for a in attempts[:2]] == [("unchanged", 0), ("new", 1)]
    assert [a["request"] for a in attempts[:2]] == ["rewrite", "rules"]
    assert reflections["rules"] >= 1 and reflections["rules_new"] >= 1
    report = (result.run_dir / "report.html").read_text()
    assert f"asked for rules: {reflections['rules_new']} new" in report


class RepeatingReflector:
    """Replies with instructions from a list, in order, whatever it is asked; records the
    last message of every request."""

    name = "repeating"

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.asked = list(replies), []

    def complete(self, messages: Sequence[Message]) -> Completion:
        self.asked.append(messages[-1]["content"])
        return Completion(f"```\n{self.replies.pop(0)}\n```")


def test_an_instruction_already_tried_is_retried_as_unchanged_with_a_request_that_says_so():
    log: list = []
    reflector = RepeatingReflector(["Try A.", "Try A.", "Try B."])
    engine = engine_with(IdeaEvaluator(), reflector, log)
    engine.score_seed({"solve": "Solve it."})
    engine.step()  # proposes "Try A." (rejected or accepted: either way, now known)
    engine.step()  # "Try A." again: retried; the retry gives "Try B."
    assert "already tried" in reflector.asked[2]
    attempts = [(e.iteration, e.outcome, e.attempt) for e in log
                if isinstance(e, ev.ReflectionAttempted)]  # fmt: skip
    assert attempts == [(1, "new", 0), (2, "unchanged", 0), (2, "new", 1)]
    proposed = [e.new_prompts["solve"] for e in log if isinstance(e, ev.ProposalEvaluated)]
    assert proposed == ["Try A.", "Try B."]  # "Try A." was never evaluated twice
    assert not [e for e in log if isinstance(e, ev.IterationSkipped) and e.reason == "known"]
