"""A reflection reply that copies the request's examples and their feedback into the
instruction is `unusable`, and the retry says so (seen in bench-quality runs: 2 of 80
banking77 proposals, one of which became a run's final prompt)."""

from __future__ import annotations

from engine_fakes import ScriptedReflector

from gepa_cli.engine.reflect_phase import reflect_module
from gepa_cli.engine.reflection_retry import classify_reply, echoes_examples, retry_reason
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.types import Rollout

PARENT = "Classify the customer's banking query into one intent label."
ECHO = """### Task
Classify the customer's banking query into one intent label. Reply with the label only.

### Example 1
Input:
I would like to know why my purchases from this morning are still pending.

Output: [pending_card_payment].

Feedback: Wrong: the correct label is 'pending_card_payment', but the response chose 'x'.
"""
RULES = """Classify the query into one intent label.
- If the query is about a card that has not arrived, answer card_arrival.
Feedback: the label must be copied exactly."""
FEW_SHOT = """Classify the query into one intent label.

**Example 1:**
**Input:** Atm took my card
**Output:** card_swallowed"""


def test_an_echoed_example_with_its_feedback_is_unusable() -> None:
    assert echoes_examples(ECHO)
    assert classify_reply(ECHO, PARENT) == "unusable"
    assert retry_reason(ECHO, "unusable", already_tried=False) == "echo"


def test_rules_and_few_shot_examples_without_feedback_stay_new() -> None:
    assert classify_reply(RULES, PARENT) == "new"
    assert classify_reply(FEW_SHOT, PARENT) == "new"
    assert retry_reason(RULES, "new", already_tried=True) == "tried"


def test_an_echo_is_retried_with_a_request_that_names_it() -> None:
    replies = iter([f"```\n{ECHO}```", "```\nClassify by what the query asks about.\n```"])
    reflector = ScriptedReflector(lambda prompt: next(replies))
    rollouts = [Rollout("v1", 0.0, "Wrong: the correct label is 'pending_card_payment'.")]
    result = reflect_module(
        EngineSettings(reflection_retries=2), reflector, "intent", PARENT, rollouts
    )
    assert result.instruction == "Classify by what the query asks about."
    assert [a.outcome for a in result.attempts] == ["unusable", "new"]
    assert "copied the examples and their feedback" in reflector.prompts[1]
