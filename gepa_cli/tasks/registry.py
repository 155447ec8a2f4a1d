"""Turning `task.type` into a Task: the built-in adapters and user `python:` tasks.

Owns `BUILTIN_TASKS` (name -> factory; other modules add entries), `build_task`,
loading a user's task class from a file by path, `required_fields` and `example_checker`.
Every failure is a one-line TaskConfigError naming the config key.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from gepa_cli.engine.types import Example
from gepa_cli.tasks.base import Task, TaskConfigError
from gepa_cli.tasks.chat import did_you_mean
from gepa_cli.tasks.classify import build_classify_task
from gepa_cli.tasks.ifeval import build_ifeval_task
from gepa_cli.tasks.judge import build_judge_task
from gepa_cli.tasks.math import build_math_task
from gepa_cli.tasks.multihop import build_multihop_task
from gepa_cli.tasks.pupa import build_pupa_task
from gepa_cli.tasks.qa import build_qa_task

BuiltinFactory = Callable[[Mapping[str, Any], Sequence[str]], Task]
"""`(options, module_names) -> Task` for a built-in task type."""

BUILTIN_TASKS: dict[str, BuiltinFactory] = {
    "qa": build_qa_task,
    "math": build_math_task,
    "classify": build_classify_task,
    "multihop": build_multihop_task,
    "judge": build_judge_task,
    "pupa": build_pupa_task,
    "ifeval": build_ifeval_task,
}

PYTHON_PREFIX = "python:"
USER_MODULE_PREFIX = "gepa_cli_user_task_"
"""The name of every module loaded from a `python:` file starts so (no other process can
import it by that name; the Ray executor pickles such modules by value)."""
_module_counter = itertools.count(1)


def build_task(
    type: str, options: Mapping[str, Any], module_names: Sequence[str], base_dir: Path
) -> Task:
    """The Task named by `task.type`: a built-in name or `python:path/to/file.py:ClassName`.

    `module_names` are the keys of the user's `task.prompts`; they must match the task's
    modules. Relative `python:` paths are resolved against `base_dir` (the config's folder).
    """
    if type.startswith(PYTHON_PREFIX):
        task = _build_python_task(type[len(PYTHON_PREFIX) :], options, base_dir)
    elif type in BUILTIN_TASKS:
        task = BUILTIN_TASKS[type](options, module_names)
    else:
        choices = sorted(BUILTIN_TASKS)
        raise TaskConfigError(
            f"[task.type] unknown task type '{type}'{did_you_mean(type, choices)} "
            f"(built-ins: {', '.join(choices)}; or python:path/to/file.py:ClassName)"
        )
    _check_prompts_match(task, module_names)
    return task


def required_fields(task: Task | Any) -> tuple[str, ...]:
    """The task's field names every example must have; ("input",) if the task does not say."""
    return tuple(getattr(task, "required_fields", ("input",)))


def example_checker(task: Task | Any) -> Callable[[Example], str | None] | None:
    """The task's `check_example(example) -> problem or None`, if it has one (for load_split)."""
    check = getattr(task, "check_example", None)
    return check if callable(check) else None


def _build_python_task(spec: str, options: Mapping[str, Any], base_dir: Path) -> Task:
    file_text, sep, class_name = spec.rpartition(":")
    if not sep or not file_text or not class_name.isidentifier():
        raise TaskConfigError(
            f"[task.type] expected python:path/to/file.py:ClassName, got 'python:{spec}'"
        )
    module = _import_file(file_text, base_dir)
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        classes = [
            name
            for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == module.__name__
        ]
        hint = did_you_mean(class_name, classes) if classes else ""
        raise TaskConfigError(f"[task.type] {file_text} has no class '{class_name}'{hint}")
    task = _instantiate(cls, options, f"{file_text}:{class_name}")
    missing = [name for name in ("run", "score") if not callable(getattr(task, name, None))]
    if not hasattr(task, "modules"):
        missing.insert(0, "modules")
    if missing:
        raise TaskConfigError(
            f"[task.type] {class_name} is not a task: it lacks {', '.join(missing)} "
            "(a task needs modules, run(example, prompts, lm) and score(example, output))"
        )
    return task


def _import_file(file_text: str, base_dir: Path) -> ModuleType:
    """Execute a Python file as a fresh module with a unique name."""
    path = Path(file_text)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise TaskConfigError(f"[task.type] no such file: {file_text} (looked for {path})")
    module_name = f"{USER_MODULE_PREFIX}{next(_module_counter)}_{_identifier(path.stem)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise TaskConfigError(f"[task.type] could not import {file_text}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[module_name]
        raise TaskConfigError(
            f"[task.type] could not import {file_text}: {_one_line(exc)}"
        ) from exc
    return module


def _instantiate(cls: type, options: Mapping[str, Any], where: str) -> Any:
    """`cls(options)`, or `cls()` when its constructor takes no arguments."""
    try:
        takes_none = not inspect.signature(cls).parameters
    except (TypeError, ValueError):
        takes_none = False
    if takes_none and options:
        raise TaskConfigError(f"[task.options] {where} takes no options")
    try:
        return cls() if takes_none else cls(options)
    except TaskConfigError:
        raise
    except (Exception, SystemExit) as exc:
        raise TaskConfigError(f"[task.type] {where} failed to start: {_one_line(exc)}") from exc


def _check_prompts_match(task: Task, module_names: Sequence[str]) -> None:
    """Every module of the task needs a prompt, and every prompt must name a module."""
    modules = task.modules
    if isinstance(modules, str) or not modules or not all(isinstance(m, str) for m in modules):
        raise TaskConfigError(f"[task.type] the task's modules must be names, got {modules!r}")
    problems = []
    missing = [name for name in modules if name not in module_names]
    if missing:
        problems.append(f"no prompt for {', '.join(missing)}")
    extra = [name for name in module_names if name not in modules]
    if extra:
        problems.append(f"not a module of the task: {', '.join(extra)}")
    if problems:
        raise TaskConfigError(
            f"[task.prompts] the task's modules are {', '.join(modules)}; {'; '.join(problems)}"
        )


def _identifier(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())
