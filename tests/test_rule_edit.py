"""After a reflection reply that copied the parent's instruction, the retry asks only for
rules to add and splices them into the parent (`engine/rule_edit.py`): the embedded 1.5B
model copied banking77's 2,500-character instruction back in 30 of 50 calls."""

from __future__ import annotations

import json
from collections.abc import Sequence

from engine_fakes import IdeaEvaluator, ScriptedReflector, examples

from gepa_cli.engine import events as ev
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.reflect_phase import ReflectionResult, reflect_module
from gepa_cli.engine.rule_edit import apply_rules_reply, is_rewrite, rules_in, splice_rules
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.state import EngineState
from gepa_cli.engine.types import ModuleCall, Rollout
from gepa_cli.lm.base import Completion, Message

LABELS = ", ".join(f"label_{n}" for n in range(77))
PARENT = (
    "**Task:** Classify the customer's banking query into one intent label.\n"
    f"**Allowed outputs:** {LABELS}\n"
    "**Rules:**\n"
    "- If the query asks about a card that has not arrived, answer card_arrival.\n"
    "- If the query mentions a PIN, answer pin_blocked.\n"
    "\n"
    "Reply with the label only."
)
FEEDBACK = "Wrong: the correct label is 'pending_card_payment', but the response chose 'x'."
ROLLOUTS = [
    Rollout("v1", 0.0, FEEDBACK, "x", (ModuleCall("intent", "Why is my payment pending?", "x"),))
]
NEW_RULE = "If the query asks why a card payment is still pending, answer pending_card_payment."


def reflect_with(
    replies: list[str], rules_first: bool = False
) -> tuple[ReflectionResult, list[str]]:
    """Reflect on PARENT with a model that gives `replies` in turn; the result and the last
    message of every request."""
    answers = iter(replies)
    reflector = ScriptedReflector(lambda prompt: next(answers))
    settings = EngineSettings(reflection_retries=2)
    result = reflect_module(
        settings, reflector, "intent", PARENT, ROLLOUTS, rules_first=rules_first
    )
    return result, reflector.prompts


def test_rules_go_after_the_last_item_of_the_rules_section() -> None:
    spliced = splice_rules(PARENT, [NEW_RULE])
    lines = spliced.splitlines()
    assert lines[lines.index("- If the query mentions a PIN, answer pin_blocked.") + 1] == (
        f"- {NEW_RULE}"
    )
    assert spliced.endswith("\n\nReply with the label only.")
    assert spliced.replace(f"- {NEW_RULE}\n", "") == PARENT


def test_a_parent_without_a_rules_section_gets_one_at_its_end() -> None:
    parent = "Classify the query. Reply with the label only."
    assert splice_rules(parent, [NEW_RULE]) == f"{parent}\n\nRules:\n- {NEW_RULE}"


def test_rules_the_parent_already_holds_are_not_added_again() -> None:
    held = "if the query mentions a pin answer pin_blocked"
    assert splice_rules(PARENT, [held]) == PARENT
    both = splice_rules(PARENT, [held, NEW_RULE])
    assert both.count("pin_blocked") == 1
    assert both == splice_rules(PARENT, [NEW_RULE])


def test_rules_are_read_from_bullets_numbers_or_plain_lines() -> None:
    assert rules_in(f"Here are the rules:\n- {NEW_RULE}\n* Second rule here.") == [
        NEW_RULE,
        "Second rule here.",
    ]
    assert rules_in(f"1. {NEW_RULE}\n2) Another rule.") == [NEW_RULE, "Another rule."]
    assert rules_in(f"{NEW_RULE}\nok") == [NEW_RULE]  # too short to be a rule


def test_at_most_three_fresh_rules_are_spliced_after_skipping_held_ones() -> None:
    held = "- If the query mentions a PIN, answer pin_blocked."
    reply = "\n".join([held, held, *(f"- Rule number {n} is new." for n in range(5))])
    spliced = splice_rules(PARENT, rules_in(reply))
    assert [line for line in spliced.splitlines() if line not in PARENT.splitlines()] == [
        f"- Rule number {n} is new." for n in range(3)
    ]


def test_a_whole_instruction_in_reply_to_a_rules_request_is_a_rewrite() -> None:
    assert is_rewrite(PARENT.replace("pin_blocked", "change_pin"), PARENT)
    assert is_rewrite("Classify it.\nRules:\n- One rule here.", PARENT)
    assert is_rewrite("\n".join(f"- label_{n}" for n in range(40)), PARENT)
    assert not is_rewrite(f"New rules:\n- {NEW_RULE}", PARENT)
    short = "Classify the query."
    assert not is_rewrite(f"- {NEW_RULE}", short)  # items are rules even on a short parent
    assert is_rewrite("Classify the banking query by the intent it asks about.", short)
    assert apply_rules_reply("Classify it.\nRules:\n- One rule.", PARENT) == (
        "Classify it.\nRules:\n- One rule."
    )
    assert apply_rules_reply(None, PARENT) is None
    assert apply_rules_reply("- ok", PARENT) is None


def test_a_copied_parent_is_retried_with_a_rules_request_and_spliced() -> None:
    result, prompts = reflect_with([f"```\n{PARENT}\n```", f"```\n- {NEW_RULE}\n```"])
    assert [(a.outcome, a.request) for a in result.attempts] == [
        ("unchanged", "rewrite"),
        ("new", "rules"),
    ]
    assert result.instruction == splice_rules(PARENT, [NEW_RULE])
    assert "Do not write the instruction again" in prompts[1]
    assert "pending_card_payment" in prompts[1]  # the failing example is shown


def test_rules_already_held_count_as_unchanged_and_a_rewrite_is_asked_next() -> None:
    held = "- If the query mentions a PIN, answer pin_blocked."
    replies = [f"```\n{PARENT}\n```", f"```\n{held}\n```", "Please provide the inputs."]
    result, prompts = reflect_with(replies)
    assert result.instruction is None
    assert [(a.outcome, a.request) for a in result.attempts] == [
        ("unchanged", "rewrite"),
        ("unchanged", "rules"),
        ("unusable", "rewrite"),  # rules that added nothing: a rewrite is asked for next
    ]
    assert "Do not write the instruction again" not in prompts[2]


def test_an_unusable_reply_is_retried_with_a_rewrite_request() -> None:
    result, prompts = reflect_with(
        ["Please provide the inputs.", "```\nClassify by what is asked.\n```"]
    )
    assert [(a.outcome, a.request) for a in result.attempts] == [
        ("unusable", "rewrite"),
        ("new", "rewrite"),
    ]
    assert result.instruction == "Classify by what is asked."


def test_an_instruction_already_tried_is_retried_with_a_rules_request() -> None:
    earlier = PARENT.replace("pin_blocked", "change_pin")
    answers = iter([f"```\n{earlier}\n```", f"```\n- {NEW_RULE}\n```"])
    reflector = ScriptedReflector(lambda prompt: next(answers))
    result = reflect_module(
        EngineSettings(reflection_retries=2), reflector, "intent", PARENT, ROLLOUTS,
        tried=lambda text: text == earlier,
    )  # fmt: skip
    assert [(a.outcome, a.request) for a in result.attempts] == [
        ("unchanged", "rewrite"),
        ("new", "rules"),
    ]
    assert "already tried" in reflector.prompts[1]
    assert result.instruction == splice_rules(PARENT, [NEW_RULE])


class CopyingReflector:
    """Copies the current instruction back when asked for a rewrite; gives a new, useless
    rule when asked for rules. Records which kind each request was."""

    name = "copying"

    def __init__(self, rule: str = "Useless rule number") -> None:
        self.kinds: list[str] = []
        self.rule = rule

    def complete(self, messages: Sequence[Message]) -> Completion:
        last = messages[-1]["content"]
        if "Do not write the instruction again" in last:
            self.kinds.append("rules")
            return Completion(f"```\n- {self.rule} {len(self.kinds)}.\n```")
        self.kinds.append("rewrite")
        current = next(m["content"] for m in messages if m["role"] == "user")
        return Completion("```\n" + current.split("```\n", 1)[1].split("\n```", 1)[0] + "\n```")


def copying_engine(reflector: CopyingReflector, log: list) -> GepaEngine:
    """An engine on three ideas, its seed scored, reflecting with `reflector`."""
    ideas = ["carry the one", "round down", "units"]
    engine = GepaEngine(
        EngineSettings(seed=0, max_metric_calls=200, reflection_retries=2), ["solve"],
        examples("t", ideas * 2), examples("v", ideas), IdeaEvaluator(), reflector,
        emit=log.append,
    )  # fmt: skip
    engine.score_seed({"solve": "Solve it."})
    return engine


def test_an_instruction_copied_once_is_asked_for_rules_first_afterwards() -> None:
    log: list = []
    reflector = CopyingReflector()
    engine = copying_engine(reflector, log)
    seed_id = engine.state.candidates[0].id
    engine.step()
    engine.step()
    assert reflector.kinds == ["rewrite", "rules", "rules"]  # copied once: rules first after
    children = [cid for cid in engine.state.tried_children]
    assert len(children) == 2
    assert engine.state.copy_prone == {f"{cid}:solve" for cid in [seed_id, *children]}
    restored = EngineState.from_json(json.loads(json.dumps(engine.state.to_json())))
    assert restored.copy_prone == engine.state.copy_prone  # kept across resume
    attempts = [(e.iteration, e.request) for e in log if isinstance(e, ev.ReflectionAttempted)]
    assert attempts == [(1, "rewrite"), (1, "rules"), (2, "rules")]


def test_the_rules_first_request_shows_the_instruction_and_asks_only_for_rules() -> None:
    result, prompts = reflect_with([f"```\n- {NEW_RULE}\n```"], rules_first=True)
    assert [(a.outcome, a.request) for a in result.attempts] == [("new", "rules")]
    assert result.instruction == splice_rules(PARENT, [NEW_RULE])
    assert PARENT in prompts[0] and "you copied it back" in prompts[0]
    assert "Do not write the instruction again" in prompts[0]
    assert "Write an improved instruction" not in prompts[0]


def test_a_child_of_a_copied_instruction_is_asked_for_rules_first() -> None:
    log: list = []
    reflector = CopyingReflector(rule="Always carry the one and round down")
    engine = copying_engine(reflector, log)
    engine.step()  # the seed is copied, then a rule is spliced in: a better child
    child = engine.state.candidates[-1]
    assert len(engine.state.candidates) == 2 and "carry the one" in child.prompts["solve"]
    on_child: list[ev.ReflectionAttempted] = []
    for _ in range(8):
        engine.step()
        on_child = [e for e in log if isinstance(e, ev.ReflectionAttempted)
                    and e.parent_id == child.id]  # fmt: skip
        if on_child:
            break
    assert on_child and on_child[0].request == "rules"  # never asked to rewrite: rules first
