"""Every file in tests/data/bad/ is accepted with the expected rows/classes, or refused with a one-line DataError."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bertdemo import config
from bertdemo.data.labeled import read_labeled_csv
from bertdemo.data.splits import split_data
from bertdemo.errors import DataError

BAD_DIR = Path(__file__).resolve().parent / "data" / "bad"
CASES = json.loads((BAD_DIR / "cases.json").read_text(encoding="utf-8"))


def assert_one_line(exc: DataError) -> str:
    """The refusal message, checked to be a short single line."""
    message = str(exc)
    assert "\n" not in message and "\r" not in message, message
    assert 0 < len(message) < 300, message
    return message


def test_manifest_lists_every_corpus_file():
    listed = [case["file"] for case in CASES]
    on_disk = sorted(p.name for p in BAD_DIR.iterdir() if p.name != "cases.json")
    assert sorted(listed) == on_disk
    assert len(listed) == len(set(listed)) >= 30
    for case in CASES:
        assert case["expect"] in ("accept", "refuse")
        if case["expect"] == "accept":
            assert isinstance(case["rows"], int) and isinstance(case["classes"], int)
        else:
            assert case["message"]


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_corpus_case(case):
    path = BAD_DIR / case["file"]
    if case["expect"] == "accept":
        data = read_labeled_csv(path)
        split = split_data(data)
        assert len(data.texts) == case["rows"]
        assert len(split.labels) == case["classes"]
        assert len(split.train_texts) + len(split.val_texts) == case["rows"]
        assert all("\n" not in line for line in data.notes + data.warnings)
    else:
        with pytest.raises(DataError) as info:
            split_data(read_labeled_csv(path))
        assert case["message"] in assert_one_line(info.value)


def test_file_over_upload_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as fh:  # sparse: no disk used, and reading it would take a while
        fh.truncate(config.MAX_UPLOAD_MB * 1024 * 1024 + 1)
    with pytest.raises(DataError) as info:
        read_labeled_csv(path)
    assert f"over the {config.MAX_UPLOAD_MB} MB limit" in assert_one_line(info.value)


def test_more_rows_than_limit_are_sampled(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("text,label\n" + "".join(f"review number {i},{'ab'[i % 2]}\n" for i in range(5000)))
    data = read_labeled_csv(path, max_rows=1000)
    assert len(data.texts) == 1000 and data.rows_read == 5000
    assert "Sampled 1,000 of 5,000 rows (the max rows setting)." in data.notes


@pytest.mark.parametrize("name", ["missing.csv", "folder"])
def test_missing_file_and_folder(tmp_path, name):
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError) as info:
        read_labeled_csv(tmp_path / name)
    assert_one_line(info.value)


def _mutations(data: bytes, count: int, seed: int = 0):
    """Damaged copies of a good file: flipped bytes, cuts, inserted quotes/delimiters/NULs."""
    rng = random.Random(seed)
    for _ in range(count):
        buf = bytearray(data)
        kind = rng.randrange(4)
        if kind == 0:
            for _ in range(rng.randint(1, 20)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif kind == 1:
            buf = buf[: rng.randrange(len(buf))]
        elif kind == 2:
            for _ in range(rng.randint(1, 5)):
                buf.insert(rng.randrange(len(buf)), ord(rng.choice('",;\t|\n\r\x00')))
        else:
            start = rng.randrange(len(buf))
            buf[start : start + rng.randint(1, 50)] = b""
        yield bytes(buf)


def test_damaged_files_never_raise_anything_but_data_error(tmp_path):
    good = (BAD_DIR / "quoted_newlines.csv").read_bytes() + (BAD_DIR / "cp1252.csv").read_bytes()
    for i, variant in enumerate(_mutations(good, 300)):
        path = tmp_path / f"m{i}.csv"
        path.write_bytes(variant)
        try:
            split_data(read_labeled_csv(path))
        except DataError as exc:
            assert_one_line(exc)
