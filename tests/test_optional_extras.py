"""The keys of issue 15 without their extras: `runtime.executor`, `runtime.ray` and
`tracking.mlflow` are read and checked like every key, a missing extra is a one-line
error naming it, and the tracker's redaction and guard hold without MLflow or Ray."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from gepa_cli.config import ConfigError, load_config_dict
from gepa_cli.display.plain import NullDisplay, RunInfo
from gepa_cli.errors import BadInputError
from gepa_cli.run.executors import check_extras
from gepa_cli.tracking.observer import TrackedDisplay
from gepa_cli.tracking.redact import Redactor, flatten

BASE: dict[str, Any] = {
    "name": "x",
    "task": {"type": "qa", "data": {"train": "t", "val": "v"}, "prompts": {"answer": "x"}},
    "models": {"task": {"model": "openai/m", "api_key_env": "EXTRAS_KEY"}},
}


def load(tmp_path: Path, **sections: Any) -> Any:
    return load_config_dict({**BASE, **sections}, tmp_path, "x.yaml")


def test_defaults_are_threads_and_no_tracking(tmp_path: Path) -> None:
    cfg = load(tmp_path)
    assert cfg.runtime.executor == "threads" and cfg.tracking.mlflow is None
    assert (cfg.runtime.ray.address, cfg.runtime.ray.num_cpus_per_rollout) == ("auto", 1.0)


@pytest.mark.parametrize("address", ["auto", "local", "ray://head:10001", "10.0.0.5:6379"])
def test_ray_addresses(tmp_path: Path, address: str) -> None:
    cfg = load(tmp_path, runtime={"executor": "ray", "ray": {"address": address}})
    assert cfg.runtime.ray.address == address


@pytest.mark.parametrize(
    ("runtime", "key"),
    [
        ({"executor": "dask"}, r"\[runtime.executor\]"),
        ({"ray": {"address": "http://head"}}, r"\[runtime.ray.address\] expected auto, local"),
        ({"ray": {"num_cpus_per_rollout": 0}}, r"\[runtime.ray.num_cpus_per_rollout\]"),
        ({"ray": {"adress": "auto"}}, r"\[runtime.ray.adress\] unknown key; did you mean"),
    ],
)
def test_bad_ray_settings_name_their_key(tmp_path: Path, runtime: Any, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load(tmp_path, runtime=runtime)


def test_tracking_section(tmp_path: Path) -> None:
    cfg = load(tmp_path, tracking={"mlflow": {}})
    assert cfg.tracking.mlflow is not None and cfg.tracking.mlflow.experiment is None
    with pytest.raises(ConfigError, match=r"\[tracking.mlflow.tracking_uri\].*PASSWORD"):
        load(tmp_path, tracking={"mlflow": {"tracking_uri": "https://u:p@mlflow.example/"}})


@pytest.mark.parametrize(
    ("module", "section", "extra"),
    [
        ("ray", {"runtime": {"executor": "ray"}}, "gepa-cli[ray]"),
        ("mlflow", {"tracking": {"mlflow": {}}}, "gepa-cli[mlflow]"),
    ],
)
def test_a_missing_extra_is_a_one_line_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, section: Any, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails
    cfg = load(tmp_path, **section)
    with pytest.raises(BadInputError) as caught:
        check_extras(cfg, task=object())  # type: ignore[arg-type]
    message = str(caught.value)
    assert extra in message and "\n" not in message and caught.value.exit_code == 2


def test_redactor_masks_keys_and_url_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRAS_KEY", "sk-extras-secret")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "hunter22")
    redact = Redactor.for_config(load(tmp_path))
    text = "key sk-extras-secret at https://me:pw@host/x, hunter22"
    assert redact.text(text) == "key *** at https://host/x, ***"
    assert flatten({"a": {"b": 1, "c": {}}, "d": [1]}) == {"a.b": 1, "a.c": {}, "d": [1]}


class Broken:
    def start(self, info: Any) -> None:
        raise ConnectionError("http://u:pw-x@tracker down")

    handle = facts = finish = start


class Recording(NullDisplay):
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def test_a_failing_tracker_warns_once_and_never_raises() -> None:
    console = Recording()
    tracked = TrackedDisplay(console, Broken(), "MLflow tracking")
    tracked.start(RunInfo("r", "n", "m", "m", None, 1, 1))
    tracked.finish({})
    assert console.warnings == [
        "MLflow tracking failed (ConnectionError: http://tracker down); the run goes on"
    ]
