"""The one registry of verifiable-instruction checkers: IFEval's 25 ids and IFBench's 58.

Owns `CHECKERS` and `SPECS` (instruction id -> checker, and -> kwarg spec), the id sets
`IFEVAL_IDS` and `IFBENCH_IDS`, and `instruction_problem`, which says why an (id, kwargs)
pair taken from a data row cannot be checked: an id no checker knows, or kwargs that do not
fit the checker. The `ifeval` task looks ids up here, so the data's `instruction_id_list`
alone decides which benchmark's rules apply.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from gepa_cli.tasks import (
    ifbench_checks_count,
    ifbench_checks_custom,
    ifbench_checks_format,
    ifbench_checks_words,
)
from gepa_cli.tasks.ifeval_checks import CHECKERS as IFEVAL_CHECKERS
from gepa_cli.tasks.ifeval_checks import Checker
from gepa_cli.tasks.instruction_specs import IFEVAL_SPECS, KwargSpec

_IFBENCH: dict[str, tuple[Checker, KwargSpec]] = {
    **ifbench_checks_count.CHECKS,
    **ifbench_checks_words.CHECKS,
    **ifbench_checks_format.CHECKS,
    **ifbench_checks_custom.CHECKS,
}

IFEVAL_IDS = frozenset(IFEVAL_CHECKERS)
IFBENCH_IDS = frozenset(_IFBENCH)

CHECKERS: Mapping[str, Checker] = {
    **IFEVAL_CHECKERS,
    **{name: checker for name, (checker, _) in _IFBENCH.items()},
}
"""Instruction id -> checker, for every IFEval and IFBench id."""

SPECS: Mapping[str, KwargSpec] = {
    **IFEVAL_SPECS,
    **{name: spec for name, (_, spec) in _IFBENCH.items()},
}
"""Instruction id -> the kwargs its checker takes."""


def unknown_id_message(instruction_id: str) -> str:
    """The message for an unknown id: the closest known ids, or the ids of its group."""
    close = difflib.get_close_matches(instruction_id, sorted(CHECKERS), n=2, cutoff=0.6)
    group = instruction_id.partition(":")[0]
    same_group = sorted(name for name in CHECKERS if name.partition(":")[0] == group)
    if close:
        hint = "did you mean " + " or ".join(f"'{name}'" for name in close) + "?"
    elif same_group:
        hint = f"the '{group}:' ids are {', '.join(same_group)}"
    else:
        groups = sorted({name.partition(":")[0] for name in CHECKERS})
        hint = f"known ids start with {', '.join(group + ':' for group in groups)}"
    return (
        f"unknown instruction id '{instruction_id}' "
        f"(known: {len(IFEVAL_IDS)} IFEval and {len(IFBENCH_IDS)} IFBench ids; {hint})"
    )


def instruction_problem(instruction_id: str, kwargs: Mapping[str, Any]) -> str | None:
    """None when `instruction_id` has a checker and `kwargs` fit it, else what is wrong."""
    spec = SPECS.get(instruction_id)
    if spec is None:
        return unknown_id_message(instruction_id)
    problem = spec.problem(kwargs)
    return None if problem is None else f"instruction '{instruction_id}': {problem}"
