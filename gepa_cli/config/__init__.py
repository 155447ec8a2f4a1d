"""The experiment config (DESIGN §3): YAML -> checked, frozen dataclasses, and back.

Precedence is defaults < YAML < `--set` overrides. Errors are `ConfigError`s with a
one-line message naming the file, line or key; nothing here prints or exits. Every
key is declared once, in `schema`; parsing (`build`), the resolved `config.yaml`
(`serialize`), the JSON Schema (`json_schema`) and the key reference (`reference`)
are all derived from that declaration.
"""

from gepa_cli.config.errors import ConfigError
from gepa_cli.config.json_schema import config_json_schema
from gepa_cli.config.loader import load_config, load_config_dict, read_config_file
from gepa_cli.config.overrides import apply_overrides
from gepa_cli.config.reference import KeyHelp, key_help, reference_markdown
from gepa_cli.config.schema import (
    BudgetSpec,
    DataSpec,
    ExperimentConfig,
    MergeSpec,
    ModelSpec,
    ModelsSpec,
    OutputSpec,
    RuntimeSpec,
    SearchSpec,
    SplitSpec,
    TaskSpec,
)
from gepa_cli.config.serialize import config_to_dict

__all__ = [
    "BudgetSpec",
    "ConfigError",
    "DataSpec",
    "ExperimentConfig",
    "KeyHelp",
    "MergeSpec",
    "ModelSpec",
    "ModelsSpec",
    "OutputSpec",
    "RuntimeSpec",
    "SearchSpec",
    "SplitSpec",
    "TaskSpec",
    "apply_overrides",
    "config_json_schema",
    "config_to_dict",
    "key_help",
    "load_config",
    "load_config_dict",
    "read_config_file",
    "reference_markdown",
]
