"""Wrappers a small reflection model puts around its instruction are taken off: a caption
heading, a JSON object (as the quality benchmark's replies showed); anything else stays."""

from __future__ import annotations

import json

from gepa_cli.engine.instruction_text import clean_instruction
from gepa_cli.engine.reflection import extract_instruction

RULES = ["- If it mentions an invoice, answer billing.", "If it asks to delete data, answer legal."]


def test_a_caption_heading_is_dropped_but_a_heading_with_content_is_kept() -> None:
    assert clean_instruction("### New Instruction\nRoute the message.") == "Route the message."
    assert clean_instruction("## Improved prompt:\nRoute it.") == "Route it."
    assert clean_instruction("### New Instruction for the Assistant\nRoute.") == "Route."
    kept = "### Billing rules\nRoute the message."
    assert clean_instruction(kept) == kept
    assert clean_instruction("Route.\n### New Instruction\nx") == "Route.\n### New Instruction\nx"


def test_the_default_layout_written_as_json_becomes_plain_text() -> None:
    reply = json.dumps({"task": "Route the message.", "rules": RULES, "output": "One word."})
    assert clean_instruction(reply) == (
        "Route the message.\nRules:\n- If it mentions an invoice, answer billing.\n"
        "- If it asks to delete data, answer legal.\nOne word."
    )


def test_an_instruction_under_one_key_is_unwrapped() -> None:
    assert clean_instruction('{"new_instruction": "Route it.\\nBe brief."}') == (
        "Route it.\nBe brief."
    )
    both = {"improved_instruction": "Route it.", "why": "clearer"}
    assert clean_instruction(json.dumps(both)) == "Route it."


def test_other_json_is_left_as_it_was() -> None:
    for text in (
        '{"price": 3.5, "name": "x"}',
        '{"task": "Route.", "rules": [{"if": "a"}]}',
        '{"task": "Route.", "rules": ["- If it',
        "[1, 2]",
        "{}",
    ):
        assert clean_instruction(text) == text


def test_extraction_applies_both_inside_a_fence() -> None:
    reply = (
        "Here:\n```json\n### New Instruction\n" + json.dumps({"instruction": "Route."}) + "\n```"
    )
    assert extract_instruction(reply) == "Route."
