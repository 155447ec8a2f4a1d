"""Reading a streamed reply: text, cut and close, and token accounting from usage or timings."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

from gepa_cli.lm.reply_cut import ReplyCut
from gepa_cli.lm.streamed import read_stream


def chunk(text: str | None = None, finish: str | None = None, **extra: Any) -> NS:
    choices = (
        [NS(delta=NS(content=text), finish_reason=finish)] if text is not None or finish else []
    )
    return NS(choices=choices, usage=extra.pop("usage", None), model_extra=extra)


class Stream:
    """A fake stream that records how far it was read and whether it was closed."""

    def __init__(self, chunks: list[NS]) -> None:
        self.chunks, self.read, self.closed = chunks, 0, False

    def __iter__(self):
        for c in self.chunks:
            self.read += 1
            yield c

    def close(self) -> None:
        self.closed = True


def test_a_whole_reply_with_final_usage() -> None:
    usage = NS(prompt_tokens=50, completion_tokens=3, prompt_tokens_details=NS(cached_tokens=40))
    stream = Stream([chunk("bill"), chunk("ing"), chunk(finish="stop"), chunk(usage=usage)])
    reply = read_stream(stream, ReplyCut(), stream.close)
    assert (reply.text, reply.finish_reason) == ("billing", "stop")
    assert (reply.input_tokens, reply.output_tokens, reply.cached_input_tokens) == (50, 3, 40)
    assert not stream.closed and stream.read == 4


def test_a_runaway_is_cut_closed_and_counted_from_llama_timings() -> None:
    pieces = [chunk("Labels: ")] + [
        chunk("'unsupported_transaction_type', ",
              timings={"prompt_n": 30, "cache_n": 70, "predicted_n": 2 + 7 * i,
                       "prompt_ms": 900.4, "predicted_ms": 100.0 * i})
        for i in range(100)
    ]  # fmt: skip
    stream = Stream(pieces)
    reply = read_stream(stream, ReplyCut(), stream.close)
    assert stream.closed and stream.read < 20
    assert reply.finish_reason == "cut_runaway"
    assert reply.text.startswith("Labels: 'unsupported_transaction_type'")
    assert reply.text.count("unsupported") <= 2
    assert (reply.input_tokens, reply.cached_input_tokens) == (100, 70)
    assert reply.output_tokens == 2 + 7 * (stream.read - 2) and reply.prefill_ms == 900


def test_without_usage_or_timings_the_text_chunks_are_the_output_count() -> None:
    stream = Stream([chunk("a"), chunk("b"), chunk(""), chunk(finish="length")])
    reply = read_stream(stream, ReplyCut(), stream.close)
    assert (reply.text, reply.finish_reason, reply.output_tokens) == ("ab", "length", 2)
    assert reply.input_tokens == 0


def test_the_client_streams_cuts_a_runaway_and_stops_the_server_early(tmp_path) -> None:
    from openai_stub_server import StubServer

    from gepa_cli.lm.openai_client import OpenAIChatLM
    from gepa_cli.lm.usage import UsageMeter

    runaway = "Labels: " + "'unsupported_transaction_type', " * 300
    with StubServer(lambda body: runaway) as server:
        meter = UsageMeter()
        lm = OpenAIChatLM("stub", server.base_url, "sk-test", "reflection", meter,
                          stream_cut=True, cut_at_fence=True)  # fmt: skip
        completion = lm.complete([{"role": "user", "content": "write labels"}])
        sent = server.chunks_sent
        body = server.requests[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert "timings_per_token" not in body  # only asked of the embedded llama.cpp server
    assert completion.finish_reason == "cut_runaway"
    assert completion.text.startswith("Labels: 'unsupported_transaction_type'")
    assert completion.text.count("unsupported") <= 2
    assert sent < 100  # the server was stopped well before its 300 copies
    usage = meter.role_usage("reflection")
    assert usage["replies_cut"] == 1 and usage["calls"] == 1 and usage["output_tokens"] > 0


def test_a_streamed_reply_that_ends_by_itself_is_whole_and_counted_from_usage() -> None:
    from openai_stub_server import StubServer

    from gepa_cli.lm.openai_client import OpenAIChatLM
    from gepa_cli.lm.usage import UsageMeter

    reply = "```\nRoute the message to billing when it mentions an invoice.\n```"
    with StubServer(lambda body: reply) as server:
        meter = UsageMeter()
        lm = OpenAIChatLM("stub", server.base_url, "sk-test", "reflection", meter,
                          stream_cut=True, server_timings=True)  # fmt: skip
        completion = lm.complete([{"role": "user", "content": "one two three"}])
        body = server.requests[0].body
    assert body["timings_per_token"] is True
    assert completion.text.strip() == reply and completion.finish_reason == "stop"
    assert (completion.input_tokens, completion.output_tokens) == (3, 12)  # usage, not chunks
    assert meter.role_usage("reflection")["replies_cut"] == 0


def test_the_client_cuts_a_long_sentence_loop_in_reflections_only() -> None:
    from openai_stub_server import StubServer

    from gepa_cli.lm.openai_client import OpenAIChatLM
    from gepa_cli.lm.usage import UsageMeter

    cycle = (
        "If the message is about deleting personal data, it should go to the legal team. "
        "If the message is about a refund or payment, it should go to the billing team. "
    )
    loop = "```\nRoute the message to one team. " + cycle * 12
    texts = {}
    for role, reflection in (("reflection", True), ("task", False)):
        with StubServer(lambda body: loop) as server:
            lm = OpenAIChatLM("stub", server.base_url, "sk-test", role, UsageMeter(),
                              stream_cut=True, cut_at_fence=reflection)  # fmt: skip
            completion = lm.complete([{"role": "user", "content": "improve it"}])
        texts[role] = (completion.text, completion.finish_reason)
    assert texts["reflection"] == ("```\nRoute the message to one team. " + cycle.rstrip(),
                                   "cut_runaway")  # fmt: skip
    assert texts["task"][0].strip() == loop.strip() and texts["task"][1] != "cut_runaway"
