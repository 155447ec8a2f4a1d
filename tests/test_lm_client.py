"""Tests for OpenAIChatLM (against the stub server) and UsageMeter."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from openai_stub_server import StubServer, chat_completion

from gepa_cli.lm.base import LMError
from gepa_cli.lm.openai_client import OpenAIChatLM, endpoint_semaphore
from gepa_cli.lm.usage import UsageMeter

SECRET = "sk-test-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "what is two plus two"},
]


class MaxRandom(random.Random):
    """An RNG whose random() is always 1.0: backoff delays become their un-jittered maximum."""

    def random(self) -> float:
        return 1.0


class Sleeps:
    """A fake sleep that records the requested durations."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.values.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_lm(server: StubServer, sleeps: Sleeps, **kwargs: Any) -> OpenAIChatLM:
    options: dict[str, Any] = {"meter": UsageMeter(), "sleep": sleeps, "max_retries": 6}
    options.update(kwargs)
    return OpenAIChatLM("stub-model", server.base_url, SECRET, "task", **options)


def scripted(*replies: Any) -> Any:
    """A responder that returns `replies` in order (the last one repeats)."""
    lock = threading.Lock()
    queue = list(replies)

    def respond(body: dict[str, Any]) -> Any:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    return (status, headers or {}, {"error": {"message": message}})


@pytest.fixture
def closed_port_url() -> Iterator[str]:
    server = StubServer().start()
    url = server.base_url
    server.shutdown()
    yield url


def test_plain_answer_counts_tokens(sleeps: Sleeps) -> None:
    with StubServer(lambda body: "four is the answer") as server:
        lm = make_lm(server, sleeps)
        completion = lm.complete(MESSAGES)
    assert completion.text == "four is the answer"
    assert (completion.input_tokens, completion.output_tokens) == (7, 4)
    assert completion.cached is False
    assert completion.finish_reason == "stop"
    assert lm.meter.role_usage("task") == {
        "calls": 1,
        "cached_calls": 0,
        "input_tokens": 7,
        "output_tokens": 4,
        "errors": 0,
        "retries": 0,
        "prompt_tokens_computed": 7,  # the stub reports no prompt-cache reuse
        "prefill_ms": 0,
        "decode_ms": 0,
        "replies_cut": 0,
    }
    assert lm.meter.total_tokens() == 11
    assert sleeps.values == []


def test_request_carries_model_sampling_params_and_key(sleeps: Sleeps) -> None:
    with StubServer(lambda body: "ok") as server:
        lm = make_lm(
            server, sleeps, temperature=0.7, max_tokens=32, top_p=0.9, seed=3, extra={"top_k": 5}
        )
        lm.complete(MESSAGES)
        (request,) = server.requests
    assert request.authorization == f"Bearer {SECRET}"
    body = request.body
    assert body["model"] == "stub-model"
    assert body["messages"] == MESSAGES
    assert (body["temperature"], body["max_tokens"], body["top_p"], body["seed"]) == (
        0.7,
        32,
        0.9,
        3,
    )
    assert body["top_k"] == 5


def test_concurrency_never_exceeds_limit(sleeps: Sleeps) -> None:
    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def slow(body: dict[str, Any]) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.1)
        with lock:
            in_flight -= 1
        return "done"

    with StubServer(slow) as server:
        first = make_lm(server, sleeps, max_concurrency=2)
        second = make_lm(server, sleeps, max_concurrency=2)  # same endpoint: shares the limit
        with ThreadPoolExecutor(max_workers=8) as pool:
            lms = [first, second] * 4
            texts = list(pool.map(lambda lm: lm.complete(MESSAGES).text, lms))
    assert texts == ["done"] * 8
    assert peak == 2


def test_endpoint_semaphore_is_shared_per_url_and_limit() -> None:
    a = endpoint_semaphore("http://127.0.0.1:9/v1", 3)
    assert endpoint_semaphore("http://127.0.0.1:9/v1/", 3) is a
    assert endpoint_semaphore("http://127.0.0.1:9/v1", 4) is not a
    assert endpoint_semaphore("http://127.0.0.1:10/v1", 3) is not a
    with pytest.raises(ValueError):
        endpoint_semaphore("http://127.0.0.1:9/v1", 0)


def test_server_error_then_success_is_retried(sleeps: Sleeps) -> None:
    with StubServer(scripted(error(500, "boom"), "recovered")) as server:
        lm = make_lm(server, sleeps)
        completion = lm.complete(MESSAGES)
        assert len(server.requests) == 2
    assert completion.text == "recovered"
    assert len(sleeps.values) == 1
    assert 0.25 <= sleeps.values[0] <= 0.5
    usage = lm.meter.role_usage("task")
    assert (usage["calls"], usage["retries"], usage["errors"]) == (1, 1, 0)


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("600", 60.0), ("1.5", 1.5)])
def test_rate_limit_honours_retry_after(sleeps: Sleeps, header: str, expected: float) -> None:
    reply = scripted(error(429, "slow down", {"Retry-After": header}), "ok")
    with StubServer(reply) as server:
        assert make_lm(server, sleeps).complete(MESSAGES).text == "ok"
    assert sleeps.values == [expected]


def test_rate_limit_without_retry_after_uses_backoff(sleeps: Sleeps) -> None:
    with StubServer(scripted(error(429, "slow down"), "ok")) as server:
        make_lm(server, sleeps, rng=MaxRandom()).complete(MESSAGES)
    assert sleeps.values == [0.5]


def test_backoff_doubles_up_to_cap_then_fails_naming_model(sleeps: Sleeps) -> None:
    with StubServer(lambda body: error(503, "overloaded")) as server:
        lm = make_lm(server, sleeps, max_retries=8, rng=MaxRandom())
        with pytest.raises(LMError) as raised:
            lm.complete(MESSAGES)
        assert len(server.requests) == 9
    assert sleeps.values == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert str(raised.value) == (
        f"openai/stub-model at {server.base_url}: HTTP 503 (overloaded) after 8 retries"
    )
    usage = lm.meter.role_usage("task")
    assert (usage["calls"], usage["retries"], usage["errors"]) == (0, 8, 1)


def test_after_max_retries_error_is_one_line_and_names_model(sleeps: Sleeps) -> None:
    with StubServer(lambda body: error(500, "internal\nfailure")) as server:
        lm = make_lm(server, sleeps, max_retries=2)
        with pytest.raises(LMError) as raised:
            lm.complete(MESSAGES)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"openai/stub-model at {server.base_url}: HTTP 500")
    assert message.endswith("after 2 retries")
    assert len(sleeps.values) == 2


def test_hang_past_timeout_is_retried(sleeps: Sleeps) -> None:
    calls = 0

    def hang_once(body: dict[str, Any]) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(3.0)
        return "on time"

    with StubServer(hang_once) as server:
        lm = make_lm(server, sleeps, request_timeout=0.5)
        started = time.monotonic()
        assert lm.complete(MESSAGES).text == "on time"
        elapsed = time.monotonic() - started
    assert calls == 2
    assert len(sleeps.values) == 1
    assert elapsed < 2.5  # did not wait for the 3 s hang


def test_timeout_on_every_attempt_reports_timeout(sleeps: Sleeps) -> None:
    with StubServer(lambda body: "late", delay_s=0.6) as server:
        lm = make_lm(server, sleeps, request_timeout=0.2, max_retries=1)
        with pytest.raises(LMError, match=r"timed out after 0\.2 s after 1 retries"):
            lm.complete(MESSAGES)


def test_client_error_is_not_retried(sleeps: Sleeps) -> None:
    with StubServer(lambda body: error(400, "context length exceeded")) as server:
        lm = make_lm(server, sleeps)
        with pytest.raises(LMError) as raised:
            lm.complete(MESSAGES)
        assert len(server.requests) == 1
    assert str(raised.value) == (
        f"openai/stub-model at {server.base_url}: HTTP 400 (context length exceeded)"
    )
    assert sleeps.values == []
    assert lm.meter.role_usage("task")["errors"] == 1


@pytest.mark.parametrize("status", [408, 409])
def test_request_timeout_and_conflict_statuses_are_retried(sleeps: Sleeps, status: int) -> None:
    with StubServer(scripted(error(status, "again"), "ok")) as server:
        assert make_lm(server, sleeps).complete(MESSAGES).text == "ok"
    assert len(sleeps.values) == 1


@pytest.mark.parametrize(
    "empty",
    [chat_completion(None, finish_reason="length"), chat_completion(""), chat_completion("  \n")],
)
def test_empty_reply_is_retried(sleeps: Sleeps, empty: dict[str, Any]) -> None:
    with StubServer(scripted((200, {}, empty), "finally")) as server:
        completion = make_lm(server, sleeps).complete(MESSAGES)
    assert completion.text == "finally"
    assert len(sleeps.values) == 1


def test_empty_reply_every_time_fails(sleeps: Sleeps) -> None:
    body = chat_completion(None, finish_reason="length")
    with StubServer(lambda b: (200, {}, body)) as server:
        lm = make_lm(server, sleeps, max_retries=1)
        with pytest.raises(LMError, match=r"empty reply \(finish_reason=length\) after 1 retries"):
            lm.complete(MESSAGES)


def test_missing_usage_counts_zero_tokens(sleeps: Sleeps) -> None:
    body = chat_completion("no usage here")
    del body["usage"]
    with StubServer(lambda b: (200, {}, body)) as server:
        completion = make_lm(server, sleeps).complete(MESSAGES)
    assert (completion.text, completion.input_tokens, completion.output_tokens) == (
        "no usage here",
        0,
        0,
    )


def test_connection_refused_is_retried_then_fails(sleeps: Sleeps, closed_port_url: str) -> None:
    lm = OpenAIChatLM(
        "m", closed_port_url, SECRET, "task", UsageMeter(), max_retries=2, sleep=sleeps
    )
    with pytest.raises(LMError, match=r"^openai/m at .*: connection error .* after 2 retries$"):
        lm.complete(MESSAGES)
    assert len(sleeps.values) == 2


def test_no_base_url_and_no_key_fails_at_first_call(
    sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-must-not-be-used")
    meter = UsageMeter()
    lm = OpenAIChatLM("gpt-x", None, None, "reflection", meter, sleep=sleeps)
    with pytest.raises(LMError, match=r"^openai/gpt-x at https://api\.openai\.com/v1: no API key"):
        lm.complete(MESSAGES)
    assert meter.role_usage("reflection")["errors"] == 1
    assert sleeps.values == []


def test_custom_base_url_without_key_never_sends_env_key(
    sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-must-not-be-used")
    with StubServer(lambda body: "local") as server:
        lm = OpenAIChatLM("m", server.base_url, None, "task", UsageMeter(), sleep=sleeps)
        assert lm.complete(MESSAGES).text == "local"
        (request,) = server.requests
    assert request.authorization is not None
    assert "sk-from-env" not in request.authorization


def test_api_key_never_shown(sleeps: Sleeps) -> None:
    with StubServer(lambda body: error(401, f"bad key {SECRET}")) as server:
        lm = make_lm(server, sleeps)
        with pytest.raises(LMError) as raised:
            lm.complete(MESSAGES)
    assert SECRET not in str(raised.value)
    assert "HTTP 401 (bad key ***)" in str(raised.value)
    assert SECRET not in repr(lm)
    assert SECRET not in repr(lm.cache_identity())


def test_cache_identity_holds_the_endpoint_but_no_runtime_settings(sleeps: Sleeps) -> None:
    a = OpenAIChatLM("m", "http://127.0.0.1:1/v1", "k1", "task", UsageMeter(), temperature=0.5)
    b = OpenAIChatLM(
        "m",
        "HTTP://127.0.0.1:1/v1/",
        "k2",
        "task",
        UsageMeter(),
        temperature=0.5,
        request_timeout=5,
        max_retries=1,
        max_concurrency=3,
    )
    other = OpenAIChatLM("m", "http://127.0.0.1:2/v1", "k1", "task", UsageMeter(), temperature=0.5)
    assert a.cache_identity() == b.cache_identity() != other.cache_identity()
    assert a.cache_identity() == {
        "endpoint": "http://127.0.0.1:1/v1",
        "model": "m",
        "temperature": 0.5,
        "max_tokens": None,
        "top_p": None,
        "seed": None,
        "extra": {},
    }
    moved = OpenAIChatLM("m", "http://10.0.0.9/v1", "k", "task", UsageMeter(), temperature=0.5,
                         cache_endpoint="http://127.0.0.1:1/v1")  # fmt: skip
    assert moved.cache_identity() == a.cache_identity()  # an explicit key survives a move


def test_usage_meter_counts_per_role_across_threads() -> None:
    meter = UsageMeter()

    def work(i: int) -> None:
        meter.add("task" if i % 2 else "reflection", calls=1, input_tokens=3, output_tokens=1)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(200)))
    assert meter.total_calls() == 200
    assert meter.total_tokens() == 800
    assert meter.role_usage("task")["calls"] == 100
    with pytest.raises(ValueError, match="unknown usage field"):
        meter.add("task", tokens=1)


def test_usage_meter_snapshot_restore_continues_counts() -> None:
    meter = UsageMeter()
    meter.add("task", calls=2, input_tokens=10, output_tokens=4, retries=1)
    meter.add("reflection", cached_calls=1)
    snapshot = meter.snapshot()
    snapshot["task"]["calls"] = 999  # a copy: editing it must not touch the meter
    assert meter.role_usage("task")["calls"] == 2

    resumed = UsageMeter()
    resumed.restore(meter.snapshot())
    resumed.add("task", calls=1, output_tokens=1)
    assert resumed.role_usage("task") == {
        "calls": 3,
        "cached_calls": 0,
        "input_tokens": 10,
        "output_tokens": 5,
        "errors": 0,
        "retries": 1,
        "prompt_tokens_computed": 0,
        "prefill_ms": 0,
        "decode_ms": 0,
        "replies_cut": 0,
    }
    assert resumed.total_cached_calls() == 1
    assert resumed.total_calls() == 3


def test_prompt_cache_reuse_and_server_timings_are_metered(sleeps: Sleeps) -> None:
    def llama_like(body: dict) -> tuple[int, dict, dict]:
        return 200, {}, {
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "billing"}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 2, "total_tokens": 102,
                      "prompt_tokens_details": {"cached_tokens": 70}},
            "timings": {"prompt_n": 30, "prompt_ms": 250.4, "predicted_ms": 40.2, "cache_n": 70},
        }  # fmt: skip

    with StubServer(llama_like) as server:
        lm = make_lm(server, sleeps)
        completion = lm.complete(MESSAGES)
    assert completion.cached_input_tokens == 70
    usage = lm.meter.role_usage("task")
    assert usage["input_tokens"] == 100 and usage["prompt_tokens_computed"] == 30
    assert (usage["prefill_ms"], usage["decode_ms"]) == (250, 40)
