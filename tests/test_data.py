"""Tests for gepa_cli.tasks.data: loading JSONL splits and the located errors."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from gepa_cli.tasks.data import DataError, load_split

REQUIRED = ("input", "answer")


def write_lines(tmp_path: Path, lines: list[str], name: str = "train.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows_file(tmp_path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    return write_lines(tmp_path, [json.dumps(row, ensure_ascii=False) for row in rows])


def load(path: Path, **kwargs: object) -> list:
    fields = kwargs.pop("fields", {"input": "input", "answer": "answer"})
    return load_split("train", path, fields, REQUIRED, **kwargs)  # type: ignore[arg-type]


def test_happy_path_keeps_every_field_and_ids(tmp_path: Path) -> None:
    path = rows_file(
        tmp_path,
        [
            {"id": "q1", "input": "2+2?", "answer": "4", "extra": [1, 2]},
            {"id": 7, "input": "3+3?", "answer": "6"},
        ],
    )
    examples = load(path)
    assert [e.id for e in examples] == ["q1", "7"]
    assert examples[0].data == {"id": "q1", "input": "2+2?", "answer": "4", "extra": [1, 2]}


def test_ids_default_to_split_and_line_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path,
        ['{"input": "a", "answer": "1"}', "", "   ", '{"input": "b", "answer": "2"}'],
    )
    assert [e.id for e in load(path)] == ["train-1", "train-4"]


def test_field_mapping_adds_task_names(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"question": "who?", "gold": "me"}])
    (example,) = load(path, fields={"input": "question", "answer": "gold"})
    assert example.data["input"] == "who?"
    assert example.data["answer"] == "me"
    assert example.data["question"] == "who?"


def test_unicode_line_separator_inside_a_string_is_not_a_line_break(tmp_path: Path) -> None:
    path = rows_file(
        tmp_path, [{"input": "a\u2028b", "answer": "x"}, {"input": "c", "answer": "y"}]
    )
    examples = load(path)
    assert examples[0].data["input"] == "a\u2028b"
    assert examples[1].id == "train-2"


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"input": "a", "answer": "1"}\r\n{"input": "b", "answer": "2"}\r\n'
    )
    assert [e.data["input"] for e in load(path)] == ["a", "b"]


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path, ['{"input": "a", "answer": "1"}', "", '{"input": oops}'])
    with pytest.raises(DataError, match=r"train\.jsonl:3: not valid JSON \(") as info:
        load(path)
    assert "\n" not in str(info.value)


def test_row_that_is_not_an_object(tmp_path: Path) -> None:
    path = write_lines(tmp_path, ['{"input": "a", "answer": "1"}', '["input", "answer"]'])
    with pytest.raises(DataError, match=r"train\.jsonl:2: expected a JSON object, got list"):
        load(path)


def test_missing_mapped_field_names_both_names(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"question": "q", "gold": "g"}, {"question": "q2"}])
    with pytest.raises(
        DataError,
        match=r"train\.jsonl:2: missing field 'gold' \(mapped from task field 'answer'\)",
    ):
        load(path, fields={"input": "question", "answer": "gold"})


def test_missing_unmapped_field_and_null_field(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"input": "q"}])
    with pytest.raises(DataError, match=r"train\.jsonl:1: missing field 'answer' \(required"):
        load(path)
    path = rows_file(tmp_path, [{"input": "q", "answer": None}])
    with pytest.raises(DataError, match=r"train\.jsonl:1: field 'answer' is null"):
        load(path)


def test_offset_and_limit_select_after_reading(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"id": f"r{i}", "input": str(i), "answer": "x"} for i in range(6)])
    assert [e.id for e in load(path, offset=2, limit=3)] == ["r2", "r3", "r4"]
    assert [e.id for e in load(path, offset=4)] == ["r4", "r5"]
    assert [e.id for e in load(path, limit=1)] == ["r0"]
    assert [e.id for e in load(path, limit=100)] == [f"r{i}" for i in range(6)]


def test_line_ids_use_file_lines_even_with_offset(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"input": str(i), "answer": "x"} for i in range(3)])
    assert [e.id for e in load(path, offset=1)] == ["train-2", "train-3"]


def test_empty_after_offset_names_split_and_file(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"input": "a", "answer": "1"}])
    with pytest.raises(DataError, match=r"train\.jsonl: split 'train' is empty after offset=5"):
        load(path, offset=5)
    with pytest.raises(DataError, match=r"split 'train' is empty"):
        load(path, limit=0)


def test_empty_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path, ["", ""])
    with pytest.raises(DataError, match=r"train\.jsonl: split 'train' has no examples"):
        load(path)


def test_negative_offset_is_rejected(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"input": "a", "answer": "1"}])
    with pytest.raises(DataError, match="offset"):
        load(path, offset=-1)


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path,
        [
            '{"id": "x", "input": "a", "answer": "1"}',
            '{"id": "y", "input": "b", "answer": "2"}',
            "",
            '{"id": "x", "input": "c", "answer": "3"}',
        ],
    )
    with pytest.raises(DataError, match=r"train\.jsonl:4: duplicate id 'x' \(first on line 1\)"):
        load(path)


def test_duplicates_outside_the_selection_do_not_matter(tmp_path: Path) -> None:
    rows = [{"id": "x", "input": "a", "answer": "1"}, {"id": "x", "input": "b", "answer": "2"}]
    path = rows_file(tmp_path, rows)
    assert [e.data["input"] for e in load(path, offset=1)] == ["b"]


def test_non_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b'{"input": "a", "answer": "1"}\n{"input": "caf\xe9", "answer": "2"}\n')
    with pytest.raises(DataError, match=r"latin\.jsonl:2: not valid UTF-8"):
        load(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.jsonl: no such file"):
        load(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="is a directory"):
        load(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_file(tmp_path: Path) -> None:
    path = rows_file(tmp_path, [{"input": "a", "answer": "1"}])
    path.chmod(0)
    try:
        with pytest.raises(DataError, match=r"train\.jsonl: cannot read"):
            load(path)
    finally:
        path.chmod(0o644)


def test_real_gsm8k_shape_if_available() -> None:
    path = Path("/work/shared/data/gsm8k/gsm8k_test.jsonl")
    if not path.is_file():
        pytest.skip("shared data not present")
    examples = load_split("val", path, {"input": "input", "answer": "answer"}, REQUIRED, limit=5)
    assert len(examples) == 5
    assert examples[0].id == "gsm8k-test-0"
    assert "solution" in examples[0].data


def test_stride_spreads_a_split_over_a_sorted_file(tmp_path: Path) -> None:
    path = tmp_path / "sorted.jsonl"
    rows = [{"id": f"r{i}", "input": f"x{i}", "answer": f"label{i // 10}"} for i in range(30)]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    train = load_split("train", path, {}, ("input",), offset=0, stride=10)
    val = load_split("val", path, {}, ("input",), offset=1, limit=2, stride=10)
    assert [ex.id for ex in train] == ["r0", "r10", "r20"]
    assert [ex.id for ex in val] == ["r1", "r11"]
    assert {ex.data["answer"] for ex in train} == {"label0", "label1", "label2"}
    with pytest.raises(DataError, match="stride of split 'train' must be >= 1"):
        load_split("train", path, {}, ("input",), stride=0)
