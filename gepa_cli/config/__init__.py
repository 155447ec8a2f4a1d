"""The experiment config (DESIGN §3): YAML -> checked, frozen dataclasses, and back.

Precedence is defaults < YAML < `--set` overrides. Errors are `ConfigError`s with a
one-line message naming the file, line or key; nothing here prints or exits.
"""

from gepa_cli.config.errors import ConfigError
from gepa_cli.config.loader import load_config, load_config_dict, read_config_file
from gepa_cli.config.overrides import apply_overrides
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
    "MergeSpec",
    "ModelSpec",
    "ModelsSpec",
    "OutputSpec",
    "RuntimeSpec",
    "SearchSpec",
    "SplitSpec",
    "TaskSpec",
    "apply_overrides",
    "config_to_dict",
    "load_config",
    "load_config_dict",
    "read_config_file",
]
