"""Shared pieces of the single-module chat tasks (qa, math, ...).

Owns: resolving the one module name from the user's prompts, checking task options
with did-you-mean messages, and the single system+user LM call recorded in the trace.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from gepa_cli.engine.types import Example, ModuleCall, Prompts
from gepa_cli.lm.base import LM, Message
from gepa_cli.tasks.base import TaskConfigError, TaskOutput


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """'; did you mean 'x'?' for the closest choice, else '; expected one of: a, b'."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(sorted(choices))}"


def single_module(task_type: str, module_names: Sequence[str]) -> str:
    """The module name of a single-module task, taken from the user's `task.prompts`."""
    if len(module_names) != 1:
        given = ", ".join(module_names) if module_names else "none"
        raise TaskConfigError(
            f"[task.prompts] the {task_type} task has exactly one module; "
            f"give one prompt (got {len(module_names)}: {given})"
        )
    return module_names[0]


def check_option_names(options: Mapping[str, Any], known: Collection[str]) -> None:
    """Reject any option key not in `known`, naming it as `[task.options.<key>]`."""
    for key in options:
        if key not in known:
            raise TaskConfigError(f"[task.options.{key}] unknown option{did_you_mean(key, known)}")


def choice_option(
    options: Mapping[str, Any], key: str, choices: Sequence[str], default: str
) -> str:
    value = options.get(key, default)
    if value not in choices:
        raise TaskConfigError(
            f"[task.options.{key}] must be one of {', '.join(choices)}; got {value!r}"
        )
    return str(value)


def text_option(options: Mapping[str, Any], key: str, default: str) -> str:
    value = options.get(key, default)
    if not isinstance(value, str):
        raise TaskConfigError(f"[task.options.{key}] must be a string; got {value!r}")
    return value


def number_option(options: Mapping[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise TaskConfigError(f"[task.options.{key}] must be a number >= 0; got {value!r}")
    return float(value)


def example_input(example: Example, field: str = "input") -> str:
    """The example's input as message text: strings as they are, anything else as JSON."""
    value = example.data[field]
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def ask(module: str, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
    """Send the module's instruction and the example's input; trace the one call."""
    instruction = prompts[module]
    user_text = example_input(example)
    messages: list[Message] = [
        {"role": "system", "content": instruction},
        {"role": "user", "content": user_text},
    ]
    reply = lm.complete(messages).text
    return TaskOutput(output=reply, trace=(ModuleCall(module, user_text, reply),))
