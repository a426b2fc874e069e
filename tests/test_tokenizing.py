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


@pytest.mark.parametrize("kwargs", [{}, {"padding": True, "return_tensors": "np"}, {"return_tensors": "np"}])
def test_head_tail_cuts_only_the_long_texts_of_a_batch(tok, kwargs) -> None:
    """A batch with one long text takes the cutting path; its short texts come out as a plain call makes them."""
    short, long = "a short review", "opening " + "middle " * 400 + "ending"
    texts = [short, long] if kwargs else [short, long, "fine"]
    got = encode(tok, texts, 32, "head_tail", **kwargs)
    ids = [list(x) for x in got["input_ids"]]
    plain = tok([short], truncation=False)["input_ids"][0]
    assert ids[0][: len(plain)] == plain
    assert len([t for t in ids[1] if t != tok.pad_token_id]) == 32
    assert tok.convert_ids_to_tokens(ids[1])[-2] == "ending"
    one = encode(tok, [short], 32, "head_tail", **{k: v for k, v in kwargs.items() if k != "padding"})
    assert [list(x) for x in one["input_ids"]] == [plain]  # one short text: one plain tokenizer call's answer
