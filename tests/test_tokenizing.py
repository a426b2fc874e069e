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


def test_models_loaded_in_threads_never_leave_later_models_on_the_meta_device(tmp_path) -> None:
    """from_pretrained patches nn.Module process-wide while it loads: concurrent loads must not leak the patch."""
    import threading

    from transformers import BertConfig, BertModel

    from bertdemo.tokenizing import load_classifier
    from tests.helpers import make_tiny_model_dir

    path = make_tiny_model_dir(tmp_path / "tiny")
    errors: list[BaseException] = []

    def load() -> None:
        try:
            for _ in range(8):
                load_classifier(path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    fresh = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64))
    assert not any(p.is_meta for p in fresh.parameters())
