"""A reflection reply that copies an example shown to it, input and feedback, into the
instruction is `unusable`, and the retry says so (seen in bench-quality runs: 2 of 80
banking77 proposals, one of which became a run's final prompt)."""

from __future__ import annotations

from engine_fakes import ScriptedReflector

from gepa_cli.engine.reflect_phase import reflect_module
from gepa_cli.engine.reflection_retry import classify_reply
from gepa_cli.engine.reply_checks import echoes_examples, shown_pairs
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.types import ModuleCall, Rollout

PARENT = "Classify the customer's banking query into one intent label."
QUERY = "I would like to know why my purchases from this morning are still pending."
FEEDBACK = "Wrong: the correct label is 'pending_card_payment', but the response chose 'x'."
ROLLOUTS = [Rollout("v1", 0.0, FEEDBACK, "x", (ModuleCall("intent", QUERY, "x"),))]
SHOWN = shown_pairs("intent", ROLLOUTS)
ECHO = f"""### Task
{PARENT} Reply with the label only.

### Example 1
**Input:**
{QUERY}

Output: [pending_card_payment].

Feedback: {FEEDBACK}
"""


def test_an_example_copied_with_its_feedback_is_unusable() -> None:
    assert SHOWN == [(QUERY, FEEDBACK)]
    assert echoes_examples(ECHO, SHOWN)
    assert classify_reply(ECHO, PARENT, SHOWN) == "unusable"


def test_few_shot_examples_and_feedback_words_of_the_domain_stay_new() -> None:
    few_shot = f"{PARENT}\n\nExample 1\nInput: {QUERY}\nOutput: pending_card_payment"
    assert classify_reply(few_shot, PARENT, SHOWN) == "new"
    domain = f"{PARENT}\n\nExample 1\nInput: Feedback type: bug\nFeedback: ticket closed"
    assert classify_reply(domain, PARENT, SHOWN) == "new"


def test_a_parent_that_already_holds_the_example_is_not_called_an_echo() -> None:
    child = ECHO + "\n- Pending purchases are pending_card_payment."
    assert classify_reply(child, ECHO, SHOWN) == "new"


def test_an_echo_is_retried_with_a_request_that_names_it() -> None:
    replies = iter([f"```\n{ECHO}```", "```\nClassify by what the query asks about.\n```"])
    reflector = ScriptedReflector(lambda prompt: next(replies))
    result = reflect_module(
        EngineSettings(reflection_retries=2), reflector, "intent", PARENT, ROLLOUTS
    )
    assert result.instruction == "Classify by what the query asks about."
    assert [a.outcome for a in result.attempts] == ["unusable", "new"]
    assert "copied the examples and their feedback" in reflector.prompts[1]
