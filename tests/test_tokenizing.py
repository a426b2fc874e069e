"""Truncation as trained: head keeps the first tokens, head_tail the first and the last ones."""

from __future__ import annotations

import pytest

from bertdemo.tokenizing import bundled_tokenizer, encode


@pytest.fixture(scope="module")
def tok():
    return bundled_tokenizer()


def test_head_tail_keeps_the_opening_and_the_ending(tok) -> None:
    text = "opening " + "middle " * 400 + "ending"
    ids = encode(tok, [text], 32, "head_tail")["input_ids"][0]
    words = tok.convert_ids_to_tokens(ids)
    assert len(ids) == 32 and words[0] == "[CLS]" and words[-1] == "[SEP]"
    assert words[1] == "opening" and words[-2] == "ending"
    head = tok.convert_ids_to_tokens(encode(tok, [text], 32, "head")["input_ids"][0])
    assert head[1] == "opening" and "ending" not in head


def test_short_texts_are_the_same_either_way(tok) -> None:
    texts = ["a short review", "fine"]
    a = encode(tok, texts, 64, "head", padding=True, return_tensors="np")
    b = encode(tok, texts, 64, "head_tail", padding=True, return_tensors="np")
    assert set(a) == set(b)
    for key in a:
        assert (a[key] == b[key]).all(), key


def test_unknown_truncation_is_refused(tok) -> None:
    with pytest.raises(ValueError, match="unknown truncation"):
        encode(tok, ["x"], 16, "middle")
