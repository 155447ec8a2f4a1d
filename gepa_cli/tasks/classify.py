"""The `classify` task: one module that answers with one label from a fixed set.

Options: `labels` (a list of label strings) or `labels_file` (a JSON list or one
label per line; relative to the config file). When an example has a `rationale`
field (why its label is right), the feedback quotes it, as math feedback quotes
the reference solution: that is what lets reflection write the policy down. A reply counts as the
label it names: the whole reply after normalization (case, quotes, spaces vs
underscores), or the single label it mentions. Feedback names the gold label and
what the reply said, which is what lets reflection write the labelling policy down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gepa_cli.engine.types import Example, Prompts
from gepa_cli.lm.base import LM
from gepa_cli.tasks.base import Score, TaskConfigError, TaskOutput
from gepa_cli.tasks.chat import ask, check_option_names, single_module

OPTIONS = ("labels", "labels_file")


def normalize_label(text: str) -> str:
    """Lowercase, drop quotes and trailing punctuation, spaces and hyphens as underscores."""
    text = text.strip().strip("`'\"*.:;,!").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def predicted_label(reply: str, labels: Sequence[str]) -> str | None:
    """The label a reply names, or None when it names none or several."""
    normalized = normalize_label(reply)
    by_norm = {normalize_label(label): label for label in labels}
    if normalized in by_norm:
        return by_norm[normalized]
    flat = normalize_label(re.sub(r"[^\w\s\-]", " ", reply))
    found = [
        label
        for norm, label in by_norm.items()
        if re.search(rf"(?<![a-z0-9]){re.escape(norm)}(?![a-z0-9])", flat)
    ]
    return found[0] if len(found) == 1 else None


class ClassifyTask:
    """Single-module classification into a fixed label set."""

    required_fields: tuple[str, ...] = ("input", "answer")

    def __init__(self, module: str, labels: Sequence[str]) -> None:
        self.module = module
        self.modules: tuple[str, ...] = (module,)
        self.labels = tuple(labels)

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        return ask(self.module, example, prompts, lm)

    def score(self, example: Example, output: TaskOutput) -> Score:
        gold = str(example.data["answer"])
        predicted = predicted_label(output.output, self.labels)
        shown = output.output.strip()[:200] or "(empty)"
        rationale = str(example.data.get("rationale") or "").strip()
        why = f" Why: {rationale}" if rationale else ""
        if predicted is not None and normalize_label(predicted) == normalize_label(gold):
            return Score(1.0, f"Correct: the label is '{gold}'.{why}")
        if predicted is None:
            return Score(
                0.0,
                f"Wrong: the correct label is '{gold}'. The response '{shown}' did not name "
                f"exactly one of the labels ({', '.join(self.labels)}); reply with the label "
                f"only.{why}",
            )
        return Score(
            0.0, f"Wrong: the correct label is '{gold}', but the response chose '{predicted}'.{why}"
        )


def read_labels_file(path: str) -> list[str]:
    """Labels from a JSON list or a text file with one label per line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskConfigError(f"[task.options.labels_file] cannot read {path}: {exc}") from None
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        return [line.strip() for line in text.splitlines() if line.strip()]
    if not isinstance(loaded, list):
        raise TaskConfigError(f"[task.options.labels_file] {path} must hold a JSON list")
    return [str(label) for label in loaded]


def build_classify_task(options: Mapping[str, Any], module_names: Sequence[str]) -> ClassifyTask:
    check_option_names(options, OPTIONS)
    labels = options.get("labels")
    if "labels_file" in options:
        if labels is not None:
            raise TaskConfigError("[task.options] give labels or labels_file, not both")
        labels = read_labels_file(str(options["labels_file"]))
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise TaskConfigError(
            "[task.options.labels] the classify task needs a non-empty list of labels"
        )
    return ClassifyTask(single_module("classify", module_names), labels)
