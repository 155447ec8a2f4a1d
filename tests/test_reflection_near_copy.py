"""A reflection reply that is the parent's instruction again up to markdown, punctuation
and a few words in a long instruction is `unchanged` (bench-quality: 15 of 90 evaluated
proposals changed 0-6 words and none passed the minibatch)."""

from __future__ import annotations

from gepa_cli.engine.reflection_retry import classify_reply, near_copy

RULES = "\n".join(
    f"- If the input mentions \"{label}\", answer '{label}'."
    for label in ("card_swallowed", "pin_blocked", "top_up_reverted", "request_refund",
                  "card_arrival", "atm_support", "exchange_rate", "transfer_timing")
)  # fmt: skip
PARENT = (
    "Classify the customer's banking query into one intent label. Reply with the label "
    f"only.\n\nRules:\n{RULES}"
)


def test_reformatting_and_a_header_word_are_a_near_copy() -> None:
    assert len(PARENT.split()) >= 60
    dressed = "**Task:** " + PARENT.replace("Rules:", "**Rules:**")
    assert near_copy(dressed, PARENT)
    assert classify_reply(dressed, PARENT) == "unchanged"
    assert classify_reply(PARENT.replace("Rules:\n", ""), PARENT) == "unchanged"


def test_a_new_rule_or_a_rewrite_is_new() -> None:
    added = PARENT + "\n- If the card was never delivered, answer 'card_arrival'."
    assert not near_copy(added, PARENT)
    assert classify_reply(added, PARENT) == "new"
    rewrite = "Pick the intent label whose words best match what the customer asks about."
    assert classify_reply(rewrite, PARENT) == "new"


def test_in_a_short_instruction_every_word_counts() -> None:
    short = "Answer with the label only."
    assert classify_reply("Answer with the label name only.", short) == "new"
    assert classify_reply("**Answer with the label only!**", short) == "unchanged"
