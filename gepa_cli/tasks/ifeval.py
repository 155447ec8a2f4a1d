"""The `ifeval` task: one module answers a prompt that carries verifiable instructions.

It serves IFEval (25 instruction ids) and IFBench (58 more); the ids in each row's
`instruction_id_list` decide which rules apply (`instructions.CHECKERS` holds both sets).

Data fields: `input` (the prompt), `instruction_id_list` and `kwargs` (one dict of
parameters per instruction). Score = the fraction of instructions the reply satisfies;
the feedback lists each failed instruction with its parameters and what is wrong.
Option `mode`: `strict` (default) or `loose`, the benchmarks' loose variant (the same for
both), where an instruction also counts as followed if it holds once the reply's first
and/or last line, or its asterisks, are removed.

The checkers are this project's own (`ifeval_checks`, `ifbench_checks_*`) rather than the
`if-verifiable` package: that package imports `datasets` at import time and needs NLTK data
that cannot be installed offline. `check_example` refuses a row naming an unknown id or
kwargs that do not fit its checker (data loading calls it); at scoring time an id without a
checker still scores as failed with the feedback "checker not available".
`supported_instructions()` lists the ids that have one. Null kwargs count as absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gepa_cli.engine.types import Example, Prompts
from gepa_cli.lm.base import LM
from gepa_cli.tasks.base import Score, TaskOutput
from gepa_cli.tasks.chat import ask, check_option_names, choice_option, single_module
from gepa_cli.tasks.instruction_specs import present
from gepa_cli.tasks.instructions import CHECKERS, instruction_problem

OPTIONS = ("mode",)
MODES = ("strict", "loose")
UNAVAILABLE = "checker not available"
_MAX_PARAMETER = 80


def supported_instructions() -> tuple[str, ...]:
    """The instruction ids this task can check, sorted."""
    return tuple(sorted(CHECKERS))


def loose_variants(response: str) -> list[str]:
    """The reply as IFEval's loose mode sees it: as is, without '*', minus first/last lines."""
    variants: list[str] = []
    for text in (response, response.replace("*", "")):
        lines = text.split("\n")
        variants += [text, "\n".join(lines[1:]), "\n".join(lines[:-1]), "\n".join(lines[1:-1])]
    return [variant.strip() for variant in variants if variant.strip()]


def check_instruction(
    instruction_id: str, kwargs: Mapping[str, Any], response: str, loose: bool = False
) -> str | None:
    """None when `response` follows the instruction, else what is wrong."""
    checker = CHECKERS.get(instruction_id)
    if checker is None:
        return UNAVAILABLE
    problem: str | None = "the response is empty"  # both benchmarks fail an empty reply
    kwargs = present(kwargs)
    variants = loose_variants(response) if loose else [response] if response.strip() else []
    for variant in variants:
        try:
            problem = checker(variant, kwargs)
        except (KeyError, TypeError, ValueError) as exc:
            return f"the instruction's parameters are unusable ({type(exc).__name__}: {exc})"
        if problem is None:
            return None
    return problem


@dataclass(frozen=True)
class InstructionResult:
    """One instruction of an example and the verdict on the reply (None = followed)."""

    instruction_id: str
    kwargs: Mapping[str, Any]
    problem: str | None

    def describe(self) -> str:
        shown = []
        for key, value in self.kwargs.items():
            text = repr(value)
            shown.append(
                f"{key}={text if len(text) <= _MAX_PARAMETER else text[:_MAX_PARAMETER] + '...'}"
            )
        return f"{self.instruction_id} ({', '.join(shown)})" if shown else self.instruction_id


def example_instructions(example: Example) -> list[tuple[str, Mapping[str, Any]]]:
    """(instruction id, kwargs) pairs of an example; malformed data raises ValueError."""
    ids = example.data.get("instruction_id_list")
    kwargs = example.data.get("kwargs")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ValueError(f"example '{example.id}': 'instruction_id_list' must list instruction ids")
    if kwargs is None:
        kwargs = [{} for _ in ids]
    if not isinstance(kwargs, list) or len(kwargs) != len(ids):
        raise ValueError(f"example '{example.id}': 'kwargs' needs one dict per instruction")
    if not all(isinstance(k, Mapping) for k in kwargs):
        raise ValueError(f"example '{example.id}': each 'kwargs' item must be an object")
    return list(zip(ids, kwargs, strict=True))


class IFEvalTask:
    """A single module whose reply must follow every verifiable instruction in the prompt."""

    required_fields: tuple[str, ...] = ("input", "instruction_id_list", "kwargs")

    def __init__(self, module: str, mode: str = "strict") -> None:
        self.module = module
        self.modules: tuple[str, ...] = (module,)
        self.mode = mode

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        return ask(self.module, example, prompts, lm)

    def results(self, example: Example, response: str) -> list[InstructionResult]:
        """The verdict on every instruction of `example`, in order."""
        loose = self.mode == "loose"
        return [
            InstructionResult(name, kwargs, check_instruction(name, kwargs, response, loose))
            for name, kwargs in example_instructions(example)
        ]

    def check_example(self, example: Example) -> str | None:
        """None when every instruction of `example` has a checker that fits its kwargs."""
        try:
            instructions = example_instructions(example)
        except ValueError as exc:
            return str(exc)
        for name, kwargs in instructions:
            problem = instruction_problem(name, kwargs)
            if problem is not None:
                return problem
        return None

    def score(self, example: Example, output: TaskOutput) -> Score:
        results = self.results(example, output.output)
        failed = [result for result in results if result.problem is not None]
        followed = len(results) - len(failed)
        summary = f"Followed {followed} of {len(results)} instructions."
        if not failed:
            return Score(1.0, f"{summary} Every instruction is satisfied.")
        lines = [summary, "Failed:"]
        lines += [f"- {result.describe()}: {result.problem}" for result in failed]
        return Score(followed / len(results), "\n".join(lines))


def build_ifeval_task(options: Mapping[str, Any], module_names: Sequence[str]) -> IFEvalTask:
    """Factory for `task.type: ifeval`."""
    check_option_names(options, OPTIONS)
    return IFEvalTask(
        single_module("ifeval", module_names), choice_option(options, "mode", MODES, "strict")
    )
