"""Scripted stand-ins for the engine's collaborators (evaluator and reflection LM)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.lm.base import Completion, LMError, Message


class IdeaEvaluator:
    """Scores 1 on an example when the instruction of `module` contains the
    example's required idea (its `data["idea"]`), else 0 with feedback naming it."""

    def __init__(self, module: str = "solve") -> None:
        self.module = module
        self.calls: list[tuple[dict[str, str], tuple[str, ...]]] = []

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        self.calls.append((dict(prompts), tuple(ex.id for ex in examples)))
        return [self._one(prompts, ex) for ex in examples]

    def _one(self, prompts: Prompts, ex: Example) -> Rollout:
        idea = ex.data["idea"]
        ok = idea in prompts[self.module]
        feedback = "Correct." if ok else f"Wrong: the rule '{idea}' was not followed."
        return Rollout(ex.id, 1.0 if ok else 0.0, feedback, output="x")

    @property
    def evaluated(self) -> int:
        return sum(len(ids) for _, ids in self.calls)


class ScriptedReflector:
    """A reflection LM whose reply is computed from the meta-prompt."""

    name = "scripted-reflector"

    def __init__(self, respond: Callable[[str], str]) -> None:
        self.respond = respond
        self.prompts: list[str] = []

    def complete(self, messages: Sequence[Message]) -> Completion:
        text = messages[-1]["content"]
        self.prompts.append(text)
        first = next((m["content"] for m in messages if m["role"] == "user"), text)
        reply = self.respond(first)  # a retry is answered as its original request
        if reply == "!fail":
            raise LMError("reflection server down")
        return Completion(reply)


def learn_rules(prompt: str, limit: int | None = None) -> str:
    """Adds the rules named in the feedback of the meta-prompt to the instruction
    (at most `limit` new ones per reflection)."""
    instruction = prompt.split("```\n", 1)[1].split("\n```", 1)[0]
    added = 0
    for part in prompt.split("the rule '")[1:]:
        rule = part.split("'", 1)[0]
        if rule not in instruction and (limit is None or added < limit):
            instruction += f" Rule: {rule}."
            added += 1
    return f"```\n{instruction}\n```"


def learn_one_rule(prompt: str) -> str:
    return learn_rules(prompt, limit=1)


def examples(prefix: str, ideas: Sequence[str]) -> list[Example]:
    return [Example(f"{prefix}{i}", {"idea": idea}) for i, idea in enumerate(ideas)]
