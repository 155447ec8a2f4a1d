"""The house's structure, checked from the source: layers, no import cycles, a pure engine,
short files, and displays that cannot end a run."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import idea_responder, write_experiment
from openai_stub_server import StubServer

from gepa_cli.config import load_config
from gepa_cli.display.guard import GuardedDisplay
from gepa_cli.engine import events as ev
from gepa_cli.run import runner

PACKAGE = Path(__file__).resolve().parents[1] / "gepa_cli"
ENGINE_BANNED = (
    "threading", "concurrent", "time", "os", "io", "sqlite3", "openai", "rich", "typer",
    "subprocess", "socket", "asyncio", "yaml", "pathlib", "multiprocessing", "signal",
)  # fmt: skip
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_names(path: Path) -> Iterator[str]:
    """Every module `path` imports anywhere: top level, in functions, under TYPE_CHECKING."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def project_imports(path: Path) -> set[str]:
    """The project modules `path` imports (a `from pkg import name` counts as pkg.name when
    that is a module, else as pkg)."""
    return {name for name in imported_names(path) if name in MODULES} - {module_name(path)}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_walker_sees_type_checking_and_function_level_imports(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    deps = project_imports(PACKAGE / "cli" / "config_commands.py")
    assert "gepa_cli.config" in deps  # imported inside a function


def test_no_import_cycle_in_gepa_cli() -> None:
    graph = {name: project_imports(path) for name, path in MODULES.items()}
    assert find_cycle(graph) is None


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("gepa_cli.engine")))
def test_the_engine_does_no_io_and_starts_no_threads(name: str) -> None:
    roots = {imported.split(".")[0] for imported in imported_names(MODULES[name])}
    assert not roots & set(ENGINE_BANNED), f"{name} imports {sorted(roots & set(ENGINE_BANNED))}"


def test_the_engine_uses_only_its_own_package_and_the_lm_protocol() -> None:
    for name, path in MODULES.items():
        if name.startswith("gepa_cli.engine"):
            allowed = ("gepa_cli.lm.base", "gepa_cli.errors")
            deps = project_imports(path)
            outside = {d for d in deps if not d.startswith("gepa_cli.engine") and d not in allowed}
            assert not outside, f"{name} reaches {outside}"


def test_only_cli_exits_or_imports_typer() -> None:
    for name, path in MODULES.items():
        if name.startswith("gepa_cli.cli") or name == "gepa_cli.__main__":
            continue
        roots = {imported.split(".")[0] for imported in imported_names(path)}
        assert "typer" not in roots, name
        assert "sys.exit(" not in path.read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_file_is_longer_than_the_limit(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


class BrokenDisplay:
    """A display whose every method raises."""

    def __init__(self) -> None:
        self.calls = 0

    def _boom(self, *args: object) -> None:
        self.calls += 1
        raise RuntimeError("the terminal went away")

    start = handle = facts = warning = finish = _boom


def test_a_failing_display_is_reported_once_and_then_muted() -> None:
    broken, stream = BrokenDisplay(), io.StringIO()
    guarded = GuardedDisplay(broken, stream)  # type: ignore[arg-type]
    guarded.handle(ev.ExampleFailed("c", "e", "boom"))
    guarded.warning("still here")
    guarded.finish({})
    assert broken.calls == 1
    assert stream.getvalue().count("\n") == 1
    assert "RuntimeError: the terminal went away" in stream.getvalue()


def test_a_run_whose_display_fails_still_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = BrokenDisplay()
    monkeypatch.setattr(runner, "make_display", lambda kind, stats=None: broken)
    monkeypatch.setenv("E2E_KEY", "sk-test")
    with StubServer(idea_responder) as server:
        config = write_experiment(tmp_path, server.base_url)
        result = runner.start_run(load_config(config), tmp_path, None, "plain")
    assert broken.calls == 1
    assert not result.interrupted and result.summary["iterations"] >= 1
    assert (result.run_dir / "summary.json").is_file() and (result.run_dir / "best").is_dir()
    assert "the display failed (RuntimeError: the terminal went away)" in capsys.readouterr().err
