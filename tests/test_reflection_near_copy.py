"""A reflection reply that is the parent's instruction again up to markdown, sentence
punctuation and header words is `unchanged` (bench-quality: 6 of 99 evaluated proposals,
none of which passed the minibatch); any other changed word or format character is new."""

from __future__ import annotations

from gepa_cli.engine.reflection_retry import classify_reply
from gepa_cli.engine.reply_checks import near_copy

RULES = "\n".join(
    f"- If the input mentions \"{label}\", answer '{label}'."
    for label in ("card_swallowed", "pin_blocked", "top_up_reverted", "request_refund",
                  "card_arrival", "atm_support", "exchange_rate", "transfer_timing")
)  # fmt: skip
PARENT = (
    "Classify the customer's banking query into one intent label. Reply with the label "
    f"only.\n\nRules:\n{RULES}"
)


def test_reformatting_and_header_words_are_a_near_copy() -> None:
    dressed = "**Task:** " + PARENT.replace("Rules:", "### Rules").replace("only.", "only!")
    assert near_copy(dressed, PARENT)
    assert classify_reply(dressed, PARENT) == "unchanged"
    assert classify_reply(PARENT.replace("Rules:\n", ""), PARENT) == "unchanged"
    assert classify_reply("New instruction:\n" + PARENT, PARENT) == "unchanged"


def test_one_changed_label_number_or_negation_is_new() -> None:
    relabeled = PARENT.replace("answer 'pin_blocked'", "answer 'change_pin'")
    assert len(relabeled.split()) == len(PARENT.split())
    assert classify_reply(relabeled, PARENT) == "new"
    contract = PARENT.replace("the label only", "the label and a reason")
    assert classify_reply(contract, PARENT) == "new"
    assert classify_reply(PARENT.replace("Reply with", "Do not reply without"), PARENT) == "new"
    assert classify_reply(PARENT + "\n- Never explain.", PARENT) == "new"


def test_format_punctuation_counts_in_a_short_instruction() -> None:
    assert classify_reply("Output: [label]", "Output: label") == "new"
    assert classify_reply('Reply as {"label": X}', 'Reply as ["label", X]') == "new"
    assert classify_reply("**Answer with the label only!**", "Answer with the label only.") == (
        "unchanged"
    )
