"""The reflection phase of an iteration: for every (proposal, module) job, ask the
reflection model for a new instruction, and ask again with a changed request (a hotter
model, the previous reply named, the failing examples first) while the reply is
`unchanged` or `unusable`, up to `reflection_retries` times. A retry after a copy of the
parent's instruction asks only for rules, which are spliced into it (`rule_edit`).

Jobs run through the engine's `MapFn` and change no state: each returns what happened,
and the mutation step records it in proposal order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gepa_cli.engine.reflection import build_reflection_messages, extract_instruction
from gepa_cli.engine.reflection_retry import (
    asks_for_rules,
    build_retry_messages,
    build_rules_first_messages,
    judge_reply,
    outcome_of,
)
from gepa_cli.engine.reply_checks import shown_pairs
from gepa_cli.engine.rule_edit import apply_rules_reply
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.types import Rollout
from gepa_cli.lm.base import LM, LMError


@dataclass(frozen=True)
class Attempt:
    """One reflection call: its outcome, the model's wall time, and what was asked:
    `rewrite` (a whole instruction) or `rules` (rules to splice into the parent)."""

    outcome: str
    seconds: float
    request: str = "rewrite"


@dataclass(frozen=True)
class ReflectionResult:
    """What one job produced: a new instruction (or None), every attempt, any LM failure."""

    instruction: str | None
    attempts: tuple[Attempt, ...]
    error: LMError | None = None


def retry_model(reflector: LM, temperature: float | None) -> LM:
    """The model for retries: the reflector at `temperature` when it can change it."""
    change = getattr(reflector, "with_temperature", None)
    if temperature is None or change is None:
        return reflector
    hotter: LM = change(temperature)
    return hotter


def reflect_module(
    settings: EngineSettings,
    reflector: LM,
    module: str,
    instruction: str,
    rollouts: Sequence[Rollout],
    tried: Callable[[str], bool] = lambda text: False,
    rules_first: bool = False,
) -> ReflectionResult:
    """Ask for a new instruction for `module`, retrying fruitless replies. A reply whose
    instruction `tried` reports as already proposed counts as `unchanged` (it gives nothing
    new to try) and is retried with a request that says so. With `rules_first` (the
    instruction was copied back before), the first request already asks only for rules."""
    first = build_reflection_messages(module, instruction, rollouts, settings.reflection_template)
    if rules_first:
        first = build_rules_first_messages(
            first, module, instruction, rollouts, settings.perfect_score
        )
    messages = first
    attempts: list[Attempt] = []
    hot = retry_model(reflector, settings.reflection_retry_temperature)
    shown = shown_pairs(module, rollouts)
    request = "rules" if rules_first else "rewrite"
    for attempt in range(1 + max(0, settings.reflection_retries)):
        model = reflector if attempt == 0 else hot
        try:
            completion = model.complete(messages)
        except LMError as exc:
            return ReflectionResult(None, tuple(attempts), exc)
        text = extract_instruction(completion.text)
        if request == "rules":
            text = apply_rules_reply(text, instruction)
        reason = judge_reply(text, instruction, shown)
        outcome = outcome_of(reason)
        repeat = outcome == "new" and text is not None and tried(text)
        attempts.append(Attempt("unchanged" if repeat else outcome, completion.latency_s, request))
        if outcome == "new" and not repeat:
            return ReflectionResult(text, tuple(attempts))
        reason = "tried" if repeat else reason
        # rules after a copied rewrite; a rewrite after rules that added nothing (a small
        # model can repeat held rules forever)
        request = "rules" if asks_for_rules(reason) and request == "rewrite" else "rewrite"
        messages = build_retry_messages(
            first, completion.text, reason, module, rollouts, settings.perfect_score,
            rules=request == "rules",
        )  # fmt: skip
    return ReflectionResult(None, tuple(attempts))
