"""The streaming cut: after a closed fence and its grace, and in a runaway repetition."""

from __future__ import annotations

from gepa_cli.engine.reflection import extract_instruction
from gepa_cli.lm.reply_cut import (
    FENCE_GRACE_CHARS,
    ReplyCut,
    fence_is_over,
    long_loop_end,
    runaway_start,
)


def stream(cut: ReplyCut, text: str, piece: int = 3) -> int:
    """Feed `text` in pieces; how many characters were fed when the cut said stop."""
    for at in range(0, len(text), piece):
        if cut.feed(text[at : at + piece]):
            return at + piece
    return len(text)


INSTRUCTION = "Route the message.\nRules:\n- If it mentions an invoice, answer billing."
COMMENTARY = "\n\nThis instruction is better because it states the rule explicitly. " * 10


def test_commentary_after_the_closing_fence_is_cut_after_the_grace() -> None:
    reply = f"Here it is:\n```\n{INSTRUCTION}\n```{COMMENTARY}"
    cut = ReplyCut()
    fed = stream(cut, reply)
    assert cut.reason == "fence"
    closing = reply.index("```", reply.index(INSTRUCTION))
    assert fed < len(reply) and fed <= closing + 4 + FENCE_GRACE_CHARS + 3
    assert extract_instruction(cut.text) == INSTRUCTION


def test_a_tiny_fenced_example_with_the_instruction_around_it_is_not_cut() -> None:
    reply = f"{INSTRUCTION}\nAnswer like this:\n```\nbilling\n```\n" + "- Another rule.\n" * 20
    cut = ReplyCut(runaway=False)
    assert stream(cut, reply) == len(reply) and cut.reason is None


def test_a_second_fenced_block_inside_the_grace_is_not_cut() -> None:
    reply = f"```\n{INSTRUCTION}\nOutput like:\n```\nbilling\n```\nthen stop.\n```"
    cut = ReplyCut()
    assert stream(cut, reply) == len(reply) and cut.reason is None
    assert not fence_is_over(reply)


def test_an_open_fence_or_no_fence_never_cuts_on_fences() -> None:
    assert not fence_is_over("```\n" + INSTRUCTION + COMMENTARY)
    assert not fence_is_over(INSTRUCTION + COMMENTARY)
    cut = ReplyCut(runaway=False)
    assert stream(cut, INSTRUCTION + COMMENTARY) == len(INSTRUCTION + COMMENTARY)


def test_a_runaway_label_list_is_cut_and_trimmed_to_one_copy() -> None:
    head = "Classify the intent. Labels: 'card_arrival', "
    reply = head + "'unsupported_transaction_type', " * 60
    cut = ReplyCut()
    fed = stream(cut, reply, piece=5)
    assert cut.reason == "runaway" and fed < len(reply) // 2
    assert cut.text.startswith(head + "'unsupported_transaction_type'")
    assert len(cut.text) <= len(head + "'unsupported_transaction_type', ") + 5  # one copy


def test_repeated_lines_are_a_runaway() -> None:
    text = "Rules:\n" + "- answer billing\n" * 9
    start = runaway_start(text)
    assert start is not None and text[:start] == "Rules:\n- answer billing\n"


def test_ordinary_text_rules_and_short_stutters_are_not_runaways() -> None:
    assert runaway_start("| a | b |\n|" + "---|" * 30) is None
    assert runaway_start("Rules:\n" + "-" * 80) is None
    assert runaway_start("ok " * 8) is None  # 24 characters: below the minimum run
    assert runaway_start(INSTRUCTION + COMMENTARY[:60]) is None
    assert runaway_start("- answer billing\n" * 7) is None  # 7 copies, not 8


def test_cut_can_be_switched_off() -> None:
    reply = "x " + "'unsupported_transaction_type', " * 60
    cut = ReplyCut(fence=False, runaway=False)
    assert stream(cut, reply) == len(reply) and cut.text == reply


LOOP_HEAD = "```\nRoute the message to one team: billing, legal or general. "
LOOP_CYCLE = (
    "If the message is about deleting personal data, it should go to the legal team. "
    "If the message is about a refund or payment, it should go to the billing team. "
)


def test_a_reflection_looping_over_long_sentences_is_cut_to_one_cycle() -> None:
    """The quality benchmark's runaway: a two-sentence cycle of about 160 characters, too
    long for the line-sized runaway check, repeated until max_tokens."""
    reply = LOOP_HEAD + LOOP_CYCLE * 10
    assert runaway_start(reply) is None  # the short-unit check alone misses it
    cut = ReplyCut(long_loops=True)
    fed = stream(cut, reply, piece=7)
    assert cut.reason == "runaway" and fed < len(LOOP_HEAD) + 4 * len(LOOP_CYCLE)
    assert cut.text == LOOP_HEAD + LOOP_CYCLE.rstrip()
    assert extract_instruction(cut.text) == (LOOP_HEAD + LOOP_CYCLE).removeprefix("```\n").strip()


def test_a_long_loop_caught_mid_sentence_still_ends_at_a_sentence_boundary() -> None:
    text = LOOP_HEAD + LOOP_CYCLE * 3 + LOOP_CYCLE[:37]
    end = long_loop_end(text)
    assert end is not None and text[:end].endswith("team.")
    kept = text[:end]
    assert "legal team." in kept and "billing team." in kept
    assert kept.count("deleting personal data") == 1 and kept.count("refund or payment") == 1


def test_two_copies_or_varied_sentences_are_not_a_long_loop() -> None:
    assert long_loop_end(LOOP_HEAD + LOOP_CYCLE * 2) is None
    varied = "".join(
        f"If the message is about topic {n}, it should go to the team numbered {n}. "
        for n in range(12)
    )
    assert long_loop_end(LOOP_HEAD + varied) is None


def test_long_loops_are_cut_only_when_asked() -> None:
    reply = LOOP_HEAD + LOOP_CYCLE * 10
    cut = ReplyCut()
    assert stream(cut, reply) == len(reply) and cut.reason is None
