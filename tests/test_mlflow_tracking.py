"""`tracking.mlflow`, read back with MLflow's own client from a local SQLite store: one
MLflow run per gepa run (a resume continues it) with params, per-iteration metrics,
tags and artifacts, and no API key or URL password anywhere in them; an unreachable
tracking server is a warning, never a failed optimization."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_harness import SECRET, gepa, idea_responder, write_experiment
from openai_stub_server import StubServer

pytestmark = [
    pytest.mark.mlflow,
    # MLflow 3.18's SQLite store on SQLAlchemy 2.1 (harmless)
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy"),
]
mlflow = pytest.importorskip("mlflow", reason="MLflow is not installed (gepa-cli[mlflow])")
pytest.importorskip("sqlalchemy", reason="the SQLite store needs sqlalchemy (gepa-cli[mlflow])")

URL_PASSWORD = "pw-DO-NOT-LEAK-77"
CREDENTIALS = {"MLFLOW_TRACKING_USERNAME": "gepa", "MLFLOW_TRACKING_PASSWORD": URL_PASSWORD}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite store for the module (creating its tables takes seconds)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    mlflow.MlflowClient(tracking_uri=uri).search_experiments()
    return uri


def tracked_run(root: Path, uri: str, experiment: str, *extra: str, **overrides: Any) -> Any:
    with StubServer(idea_responder) as server:
        config = write_experiment(
            root, server.base_url,
            tracking={"mlflow": {"tracking_uri": uri, "experiment": experiment}},
            **overrides,
        )  # fmt: skip
        run = gepa("run", str(config), "--display", "plain", *extra, cwd=root, env=CREDENTIALS)
        assert run.returncode == 0, run.stderr
        return run


def only_run(uri: str, experiment: str) -> Any:
    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id])
    assert len(runs) == 1
    return client, runs[0]


def test_params_metrics_tags_and_artifacts_without_secrets(store: str, tmp_path: Path) -> None:
    tracked_run(tmp_path, store, "full")
    client, run = only_run(store, "full")
    params, tags = run.data.params, run.data.tags
    assert params["models.task.model"] == "openai/stub-model"
    assert params["budget.max_metric_calls"] == "60"
    assert params["runtime.executor"] == "threads"
    assert "task.prompts.label" not in params
    assert tags["gepa.task_type"] == "classify"
    assert tags["gepa.reflection_model"] == "openai/stub-model"
    assert run.info.status == "FINISHED"
    best = client.get_metric_history(run.info.run_id, "best_val_score")
    assert [m.step for m in best][0] == 0 and len(best) >= 2
    assert best[-1].value == 1.0 and best[0].value < 1.0
    calls = client.get_metric_history(run.info.run_id, "metric_calls")
    assert [m.value for m in calls] == sorted(m.value for m in calls)
    assert {"frontier_size", "mean_val_score", "candidates"} <= set(run.data.metrics)
    local = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "got")))
    names = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file())
    assert names == ["best/label.txt", "candidates.jsonl", "report.html", "summary.json"]
    texts = [repr(params), repr(tags), repr(run.data.metrics)]
    texts += [p.read_text() for p in local.rglob("*") if p.is_file()]
    assert params["models.task.api_key_env"] == "E2E_KEY"
    for text in texts:
        assert SECRET not in text and URL_PASSWORD not in text


def test_a_resumed_run_continues_the_same_mlflow_run(store: str, tmp_path: Path) -> None:
    first = tracked_run(tmp_path, store, "resumed", budget__max_metric_calls=10)
    run_dir = first.stdout.strip().splitlines()[-1]
    _, before = only_run(store, "resumed")
    with StubServer(idea_responder) as server:
        resumed = gepa(
            "resume", run_dir, "--set", "budget.max_metric_calls=60",
            "--set", f"models.task.base_url={server.base_url}",
            "--set", f"models.reflection.base_url={server.base_url}",
            "--display", "none", cwd=tmp_path, env=CREDENTIALS,
        )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    client, after = only_run(store, "resumed")
    assert after.info.run_id == before.info.run_id
    assert after.data.tags["gepa.resumed_with.budget.max_metric_calls"] == "60"
    assert after.data.params["budget.max_metric_calls"] == "10"
    steps = [m.step for m in client.get_metric_history(after.info.run_id, "metric_calls")]
    assert max(steps) > 0 and after.data.metrics["metric_calls"] > 10


def test_an_unreachable_tracking_server_is_only_a_warning(tmp_path: Path) -> None:
    with StubServer(idea_responder) as server:
        config = write_experiment(
            tmp_path, server.base_url,
            tracking={"mlflow": {"tracking_uri": "http://127.0.0.1:9"}},
        )  # fmt: skip
        run = gepa(
            "run", str(config), "--display", "plain", cwd=tmp_path,
            env={**CREDENTIALS, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "MLflow tracking failed" in run.stderr
    assert URL_PASSWORD not in run.stderr
    assert (Path(run.stdout.strip().splitlines()[-1]) / "summary.json").is_file()
