"""Minibatch sampling, budget arithmetic and the reflection prompt / extraction."""

from collections import Counter

import pytest

from gepa_cli.engine.budget import MetricBudget, iteration_cost_bound, proposals_affordable
from gepa_cli.engine.reflection import build_reflection_messages, extract_instruction
from gepa_cli.engine.sampler import minibatch
from gepa_cli.engine.types import ModuleCall, Rollout

IDS = [f"t{i}" for i in range(10)]


def test_each_epoch_covers_every_id_once():
    seen = Counter()
    for it in range(1, 6):  # 5 batches of 2 = one epoch of 10
        seen.update(minibatch(IDS, 2, seed=3, iteration=it))
    assert seen == Counter(IDS)


def test_minibatch_depends_only_on_seed_and_iteration():
    assert minibatch(IDS, 3, 0, 4) == minibatch(IDS, 3, 0, 4)
    assert minibatch(IDS, 3, 0, 4) != minibatch(IDS, 3, 1, 4)
    epochs = {tuple(minibatch(IDS, 10, 0, it)) for it in (1, 2, 3)}
    assert len(epochs) == 3  # reshuffled every epoch


def test_batch_crossing_epochs_has_no_duplicates_and_size_capped():
    for it in range(1, 30):
        batch = minibatch(IDS, 3, 5, it)
        assert len(batch) == len(set(batch)) == 3
    assert len(minibatch(IDS[:2], 5, 0, 1)) == 2


def test_budget_arithmetic():
    budget = MetricBudget(100)
    assert budget.fits(90, 10) and not budget.fits(91, 10)
    assert budget.remaining(120) == 0
    assert MetricBudget(None).fits(10**9, 10**9)
    assert iteration_cost_bound(2, 3, 20) == 25
    assert proposals_affordable(100, 20, 3) == 3  # (100-20) // 26
    assert proposals_affordable(10, 20, 3) == 0


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("```\nDo X.\nThen Y.\n```", "Do X.\nThen Y."),
        ("Sure! Here it is:\n```text\nDo X.\n```\nHope it helps.", "Do X."),
        ("```\nA\n```\nand\n```\nB\n```", "A\n```\nand\n```\nB"),
        ("```\nDo X, cut off", "Do X, cut off"),
        ("Just do X.", "Just do X."),
        ("New instruction: Do X.", "Do X."),
        ("```\n\n```", None),
        (
            "Rules:\n"
            + "- If the input mentions refunds, answer billing.\n" * 6
            + "```\nbilling\n```",
            "Rules:\n" + ("- If the input mentions refunds, answer billing.\n" * 6) + "billing",
        ),
        ("   ", None),
        # only a closing fence (20 of 187 fenced replies in the quality benchmark's caches):
        (
            "### Task\nClassify the query.\nRules:\n- Be brief.\n```",
            "### Task\nClassify the query.\nRules:\n- Be brief.",
        ),
        ("Do X.\n```\n", "Do X."),
    ],
)
def test_extract_instruction(reply, expected):
    assert extract_instruction(reply) == expected


def test_meta_prompt_shows_instruction_inputs_outputs_feedback_per_module():
    rollout = Rollout(
        "e1",
        0.0,
        "generic feedback",
        trace=(ModuleCall("query", "Q-IN", "Q-OUT"), ModuleCall("answer", "A-IN", "A-OUT")),
        module_feedback={"query": "query missed the page"},
    )
    messages = build_reflection_messages("query", "Write a query.", [rollout])
    body = messages[-1]["content"]
    assert messages[0]["role"] == "system"
    assert "Write a query." in body and "Q-IN" in body and "Q-OUT" in body
    assert "query missed the page" in body and "A-IN" not in body
    custom = build_reflection_messages("answer", "Ans.", [rollout], "M={module} I={instruction}")
    assert custom[-1]["content"] == "M=answer I=Ans."


def test_a_long_label_list_in_the_feedback_reaches_the_reflection_whole():
    """banking77's feedback lists 77 labels (about 1,900 characters): all must be shown,
    while a long input is still clipped."""
    labels = ", ".join(f"intent_label_number_{n:02d}" for n in range(77))
    feedback = f"Wrong: the response named none of the labels ({labels}); reply with the label."
    rollout = Rollout("e1", 0.0, feedback, trace=(ModuleCall("intent", "x" * 5000, "?"),))
    body = build_reflection_messages("intent", "Classify.", [rollout])[-1]["content"]
    assert len(feedback) > 1500 and feedback in body
    assert "x" * 1500 + " [...]" in body and "x" * 1501 not in body
    assert '"Allowed outputs:" followed by that complete list' in body
    huge = Rollout("e2", 0.0, "y" * 9000, trace=(ModuleCall("intent", "in", "out"),))
    assert "y" * 4001 not in build_reflection_messages("intent", "C.", [huge])[-1]["content"]
