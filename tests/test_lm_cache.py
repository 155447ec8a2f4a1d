"""Tests for the response cache, CachedLM and ScriptedLM."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from openai_stub_server import StubServer

from gepa_cli.lm.base import Completion, LMError
from gepa_cli.lm.cache import CachedLM, ResponseCache, key_for
from gepa_cli.lm.openai_client import OpenAIChatLM
from gepa_cli.lm.scripted import ScriptedLM, ScriptExhaustedError
from gepa_cli.lm.usage import UsageMeter

SECRET = "sk-cache-test-SECRETVALUE-42"
MESSAGES = [{"role": "user", "content": "name a colour"}]


def counting_responder() -> Any:
    """Replies "reply 1", "reply 2", ... in arrival order."""
    counter = itertools.count(1)
    lock = threading.Lock()

    def respond(body: dict[str, Any]) -> str:
        with lock:
            return f"reply {next(counter)}"

    return respond


def client(server: StubServer, meter: UsageMeter, **kwargs: Any) -> OpenAIChatLM:
    return OpenAIChatLM("stub-model", server.base_url, SECRET, "task", meter, **kwargs)


def test_key_is_canonical_and_sensitive_to_what_matters() -> None:
    params = {"model": "m", "temperature": 0.0, "max_tokens": 10}
    key = key_for("m", MESSAGES, params, 0)
    assert len(key) == 64
    assert key == key_for("m", MESSAGES, dict(reversed(list(params.items()))), 0)
    assert key != key_for("m", MESSAGES, {**params, "temperature": 0.7}, 0)
    assert key != key_for("m", MESSAGES, params, 1)
    assert key != key_for("other", MESSAGES, params, 0)
    assert key != key_for("m", [{"role": "user", "content": "name a color"}], params, 0)


def test_key_ignores_api_key_and_timeouts() -> None:
    params = {"model": "m", "temperature": 0.0}
    noisy = {**params, "api_key": SECRET, "timeout": 5, "request_timeout": 9, "max_retries": 2}
    assert key_for("m", MESSAGES, noisy, 0) == key_for("m", MESSAGES, params, 0)


def test_cache_round_trip_persists_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with ResponseCache(path) as cache:
        assert cache.get("k") is None
        cache.put("k", Completion("hello", 3, 1, True, "stop"))
        assert len(cache) == 1
    with ResponseCache(path) as reopened:
        assert reopened.get("k") == Completion("hello", 3, 1, False, "stop")
    (mode,) = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_hit_returns_cached_without_http_request(tmp_path: Path) -> None:
    meter = UsageMeter()
    with StubServer(counting_responder()) as server, ResponseCache(tmp_path / "c.db") as cache:
        inner = client(server, meter)
        first = CachedLM(inner, cache, meter).complete(MESSAGES)
        again = CachedLM(inner, cache, meter).complete(MESSAGES)  # fresh counters: index 0 again
        assert len(server.requests) == 1
    assert (first.text, first.cached) == ("reply 1", False)
    assert again == Completion("reply 1", first.input_tokens, first.output_tokens, True, "stop")
    usage = meter.role_usage("task")
    assert (usage["calls"], usage["cached_calls"]) == (1, 1)
    assert usage["output_tokens"] == 2  # the hit spent no tokens


def test_different_temperature_is_a_different_entry(tmp_path: Path) -> None:
    meter = UsageMeter()
    with StubServer(counting_responder()) as server, ResponseCache(tmp_path / "c.db") as cache:
        cold = CachedLM(client(server, meter, temperature=0.0), cache, meter)
        warm = CachedLM(client(server, meter, temperature=0.7), cache, meter)
        assert cold.complete(MESSAGES).text == "reply 1"
        assert warm.complete(MESSAGES).text == "reply 2"
        assert len(server.requests) == 2
        assert len(cache) == 2


def test_repeated_calls_get_sample_indexes_and_replay_in_order(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    meter = UsageMeter()
    with StubServer(counting_responder()) as server:
        with ResponseCache(path) as cache:
            lm = CachedLM(client(server, meter, temperature=1.0), cache, meter)
            first_run = [lm.complete(MESSAGES).text for _ in range(3)]
            assert lm.snapshot() == {key_for("stub-model", MESSAGES, lm.cache_identity(), 0): 3}
        with ResponseCache(path) as cache:
            params = client(server, meter, temperature=1.0).cache_identity()
            for index, text in enumerate(first_run):
                stored = cache.get(key_for("stub-model", MESSAGES, params, index))
                assert stored is not None and stored.text == text
            replay = CachedLM(client(server, meter, temperature=1.0), cache, meter)
            replayed = [replay.complete(MESSAGES) for _ in range(3)]
            assert len(server.requests) == 3
            fourth = replay.complete(MESSAGES)
            assert len(server.requests) == 4
    assert first_run == ["reply 1", "reply 2", "reply 3"]
    assert [c.text for c in replayed] == first_run
    assert all(c.cached for c in replayed)
    assert (fourth.text, fourth.cached) == ("reply 4", False)


def test_restored_counters_continue_after_resume(tmp_path: Path) -> None:
    inner = ScriptedLM(["a", "b", "c"])
    meter = UsageMeter()
    with ResponseCache(tmp_path / "c.db") as cache:
        before = CachedLM(inner, cache, meter)
        assert before.complete(MESSAGES).text == "a"
        assert before.complete(MESSAGES).text == "b"
        resumed = CachedLM(inner, cache, meter)
        resumed.restore(before.snapshot())
        assert resumed.complete(MESSAGES) == Completion("c", 3, 1, False, "stop")
    assert len(inner.calls) == 3


def test_api_key_sent_but_never_stored(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    meter = UsageMeter()
    with StubServer(lambda body: "the sky is blue") as server:
        cache = ResponseCache(path)
        lm = CachedLM(client(server, meter), cache, meter)
        lm.complete(MESSAGES)
        on_disk_before_close = b"".join(p.read_bytes() for p in tmp_path.iterdir())
        cache.close()
        (request,) = server.requests
    assert request.authorization == f"Bearer {SECRET}"
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"the sky is blue" in on_disk  # the scan does see stored content
    assert SECRET.encode() not in on_disk
    assert SECRET.encode() not in on_disk_before_close


def test_failures_are_not_cached(tmp_path: Path) -> None:
    inner = ScriptedLM(lambda messages: "fine", fail_calls=[0])
    with ResponseCache(tmp_path / "c.db") as cache:
        lm = CachedLM(inner, cache, UsageMeter())
        with pytest.raises(LMError):
            lm.complete(MESSAGES)
        assert len(cache) == 0
        assert lm.complete(MESSAGES).text == "fine"
        assert len(cache) == 1


def test_concurrent_use_from_many_threads(tmp_path: Path) -> None:
    inner = ScriptedLM(lambda messages: messages[-1]["content"].upper())
    meter = UsageMeter()
    prompts = [[{"role": "user", "content": f"q{i % 10}"}] for i in range(60)]
    with ResponseCache(tmp_path / "c.db") as cache:
        lm = CachedLM(inner, cache, meter)
        with ThreadPoolExecutor(max_workers=8) as pool:
            texts = list(pool.map(lambda m: lm.complete(m).text, prompts))
        assert len(cache) == 60  # ten prompts, six sample indexes each
    assert texts == [f"Q{i % 10}" for i in range(60)]
    assert len(inner.calls) == 60


def test_scripted_lm_list_replies_fifo_and_exhaustion() -> None:
    meter = UsageMeter()
    lm = ScriptedLM(["one", "two words"], name="fake", role="reflection", meter=meter)
    assert lm.complete(MESSAGES).text == "one"
    assert lm.complete([{"role": "user", "content": "x"}]).text == "two words"
    assert lm.remaining == 0
    with pytest.raises(ScriptExhaustedError, match="call 2"):
        lm.complete(MESSAGES)
    assert lm.calls == [MESSAGES, [{"role": "user", "content": "x"}], MESSAGES]
    usage = meter.role_usage("reflection")
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (2, 4, 3)


def test_scripted_lm_fails_chosen_calls_without_consuming_replies() -> None:
    lm = ScriptedLM(["first", "second"], fail_calls=[1])
    lm.fail_call(3)
    assert lm.complete(MESSAGES).text == "first"
    with pytest.raises(LMError, match="scripted failure on call 1"):
        lm.complete(MESSAGES)
    assert lm.complete(MESSAGES).text == "second"
    with pytest.raises(LMError, match="call 3"):
        lm.complete(MESSAGES)
    assert len(lm.calls) == 4


def test_scripted_lm_function_sees_messages_and_may_raise() -> None:
    def respond(messages: Any) -> str:
        if "boom" in messages[-1]["content"]:
            raise LMError("simulated outage")
        return f"echo {messages[-1]['content']}"

    meter = UsageMeter()
    lm = ScriptedLM(respond, meter=meter)
    assert lm.complete(MESSAGES).text == "echo name a colour"
    with pytest.raises(LMError, match="simulated outage"):
        lm.complete([{"role": "user", "content": "boom"}])
    assert meter.role_usage("task")["errors"] == 1
    with pytest.raises(TypeError):
        ScriptedLM("a single string")
